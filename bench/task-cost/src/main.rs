//! What one task costs the server: CPU time and bytes per task for the
//! whole of its life as a client sees it (a `tools/call` that creates it,
//! a `tasks/get` that finds it completed), through the endpoint's
//! request→response entry (`HttpServerTransport::handle`: head checks,
//! `_meta`, engine, store, JSON reply), with no socket. Everything runs on
//! one thread (a smol executor of its own), so the process's CPU time is
//! the server's.
//!
//! ```text
//! cargo run --release -p task-cost [-- TASKS]      # default 20000
//! cargo run --release -p task-cost -- TASKS --redis redis://127.0.0.1:6379/
//! ```
//!
//! With `--redis URL` the tasks are kept in Redis (`RedisTaskStore`): the
//! CPU is this process's (the server's, with the Redis client's threads)
//! and, apart, redis-server's (`INFO cpu`, read with `redis-cli`); the bytes
//! held are Redis's (`INFO memory`), not this process's.
//!
//! Prints CPU µs per task, bytes allocated per task (all allocations,
//! freed or not), and bytes still held per completed task (what a finished
//! task costs until its time to live ends).

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::{Value, json};
use switchboard_core::http::Body;
use switchboard_core::http::wire::parse_head;
use switchboard_core::tasks::{TaskConfig, TaskSupport};
use switchboard_core::{HttpConfig, HttpServerTransport, McpServerBuilder, ServerConfig, Tool};

/// Counts bytes allocated, and bytes live.
struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static LIVE: AtomicUsize = AtomicUsize::new(0);
/// `tasks/get` requests sent.
static GETS: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is passed to the system allocator unchanged; the
// counters are plain atomics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new, Ordering::Relaxed);
        LIVE.fetch_add(new, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// This process's CPU time (user + system) in microseconds, from
/// `/proc/self/stat` (Linux).
fn cpu_us() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the `)` that closes the command name: utime is the 12th, stime the 13th.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields
        .get(11)
        .and_then(|f| f.parse::<u64>().ok())
        .unwrap_or(0)
        + fields
            .get(12)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0);
    // Linux's USER_HZ is 100 on every platform it runs on.
    ticks * 10_000
}

/// The body and headers of stateless request `method`, declaring tasks.
fn request(id: u64, method: &str, params: Value, name: &str, declare: bool) -> (String, Vec<u8>) {
    let mut params = params;
    let caps = if declare {
        json!({"extensions": {"io.modelcontextprotocol/tasks": {}}})
    } else {
        json!({})
    };
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": caps,
    });
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let head = format!(
        "POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n\
         Content-Type: application/json\r\nMCP-Protocol-Version: 2026-07-28\r\n\
         Mcp-Method: {method}\r\nMcp-Name: {name}\r\n\r\n"
    );
    (head, body.to_string().into_bytes())
}

/// `redis-cli -u URL info SECTION` as `field → value`.
fn redis_info(url: &str, section: &str) -> std::collections::HashMap<String, String> {
    let out = std::process::Command::new("redis-cli")
        .args(["-u", url, "info", section])
        .output()
        .expect("redis-cli on PATH");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().split_once(':'))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// redis-server's CPU time (user + system), µs.
fn redis_cpu_us(url: &str) -> u64 {
    let info = redis_info(url, "cpu");
    let secs = |k: &str| {
        info.get(k)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    ((secs("used_cpu_user") + secs("used_cpu_sys")) * 1e6) as u64
}

/// redis-server's memory in use, bytes.
fn redis_memory(url: &str) -> u64 {
    let info = redis_info(url, "memory");
    info.get("used_memory")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// The JSON of a complete reply body.
fn json_of(body: Body) -> Value {
    match body {
        Body::Full(bytes) => serde_json::from_slice(&bytes).expect("JSON"),
        Body::Shared(bytes) => serde_json::from_slice(&bytes).expect("JSON"),
        _ => panic!("a complete JSON reply"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let tasks: u64 = args.first().and_then(|n| n.parse().ok()).unwrap_or(20_000);
    let redis = args
        .iter()
        .position(|a| a == "--redis")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let ex = Arc::new(smol::Executor::new());
    let runtime = Arc::new(switchboard_smol::SmolRuntime::with_executor(Arc::clone(
        &ex,
    )));
    let config = HttpConfig::default();
    let transport = HttpServerTransport::new(config.clone());
    // A task that finishes at once: what is measured is the task, not the work.
    // Caps above the run, so every finished task stays held until its TTL
    // (what the last figure measures).
    let mut limits = TaskConfig::default()
        .max_tasks(10_000_000)
        .max_tasks_per_owner(10_000_000);
    if let Some(url) = &redis {
        let store = smol::block_on(switchboard_smol::redis_task_store(url))
            .unwrap_or_else(|e| panic!("--redis {url}: {e}"))
            .prefix(format!("task-cost:{}", std::process::id()));
        limits = limits.store(Arc::new(store));
        println!("store: redis at {url}");
    } else {
        println!("store: memory");
    }
    let _server = McpServerBuilder::new()
        .runtime(runtime)
        .config(ServerConfig::default().tasks(limits))
        .task_tool(
            Tool::new("noop", "Returns at once"),
            TaskSupport::Optional,
            |_: Value, _ctx| async move { Ok("done") },
        )
        .build(transport.clone());

    let run = |first: u64, n: u64| {
        let transport = transport.clone();
        let config = config.clone();
        let ex2 = Arc::clone(&ex);
        smol::block_on(ex2.run(async move {
            for i in first..first + n {
                let (head, body) = request(i, "tools/call", json!({"name": "noop"}), "noop", true);
                let (parsed, _) = parse_head(head.as_bytes(), &config).unwrap().unwrap();
                let created = transport.handle(&parsed, body).await;
                let created = json_of(created.body);
                let id = created["result"]["taskId"]
                    .as_str()
                    .unwrap_or_else(|| panic!("a task: {created}"))
                    .to_owned();
                // Let the task's handler run, as a client's poll interval would.
                smol::future::yield_now().await;
                loop {
                    let (head, body) = request(i, "tasks/get", json!({"taskId": id}), &id, true);
                    GETS.fetch_add(1, Ordering::Relaxed);
                    let (parsed, _) = parse_head(head.as_bytes(), &config).unwrap().unwrap();
                    let got = transport.handle(&parsed, body).await;
                    let got = json_of(got.body);
                    if got["result"]["status"] == "completed" {
                        assert_eq!(got["result"]["result"]["content"][0]["text"], "done");
                        break;
                    }
                    smol::future::yield_now().await;
                }
            }
        }));
    };

    // The same tool called without the extension: an ordinary call, for scale.
    let sync = |n: u64| {
        let transport = transport.clone();
        let config = config.clone();
        let ex2 = Arc::clone(&ex);
        smol::block_on(ex2.run(async move {
            for i in 0..n {
                let (head, body) = request(i, "tools/call", json!({"name": "noop"}), "noop", false);
                let (parsed, _) = parse_head(head.as_bytes(), &config).unwrap().unwrap();
                let reply = json_of(transport.handle(&parsed, body).await.body);
                assert_eq!(reply["result"]["content"][0]["text"], "done");
            }
        }));
    };
    sync(1_000);
    let (cpu0, alloc0) = (cpu_us(), ALLOCATED.load(Ordering::Relaxed));
    sync(tasks);
    let (cpu1, alloc1) = (cpu_us(), ALLOCATED.load(Ordering::Relaxed));
    let n = tasks as f64;
    println!(
        "plain tools/call (no task), for scale: {:.1} µs CPU, {:.0} bytes allocated per call",
        (cpu1 - cpu0) as f64 / n,
        (alloc1 - alloc0) as f64 / n
    );

    // Warm-up (also grows the tables once), then the measured run.
    run(0, 1_000);
    let (cpu0, alloc0, live0, t0) = (
        cpu_us(),
        ALLOCATED.load(Ordering::Relaxed),
        LIVE.load(Ordering::Relaxed),
        Instant::now(),
    );
    let gets0 = GETS.load(Ordering::Relaxed);
    let redis0 = redis.as_deref().map(|u| (redis_cpu_us(u), redis_memory(u)));
    run(1_000, tasks);
    let redis1 = redis.as_deref().map(|u| (redis_cpu_us(u), redis_memory(u)));
    let gets = GETS.load(Ordering::Relaxed) - gets0;
    let (cpu1, alloc1, live1, wall) = (
        cpu_us(),
        ALLOCATED.load(Ordering::Relaxed),
        LIVE.load(Ordering::Relaxed),
        t0.elapsed(),
    );
    println!(
        "tasks: {tasks} (create → get → completed), one thread, no socket; {:.2} tasks/get per task",
        gets as f64 / n
    );
    println!("cpu per task: {:.1} µs", (cpu1 - cpu0) as f64 / n);
    println!("wall per task: {:.1} µs", wall.as_micros() as f64 / n);
    println!(
        "bytes allocated per task: {:.0}",
        (alloc1 - alloc0) as f64 / n
    );
    println!(
        "bytes held per completed task (until its TTL): {:.0}",
        (live1 as f64 - live0 as f64) / n
    );
    if let (Some((c0, m0)), Some((c1, m1))) = (redis0, redis1) {
        println!("redis-server cpu per task: {:.1} µs", (c1 - c0) as f64 / n);
        println!(
            "redis-server bytes held per completed task (until its TTL): {:.0}",
            (m1 as f64 - m0 as f64) / n
        );
    }
}
