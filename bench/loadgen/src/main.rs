//! A load generator that speaks Streamable HTTP to an MCP server and checks
//! every reply (status, JSON-RPC id, content; JSON or SSE bodies).
//!
//! ```text
//! loadgen --url http://127.0.0.1:8080/mcp --mode one|many|churn|stateless|sessions|slow
//!         [--concurrency 64] [--duration 10] [--warmup 2] [--sessions N] [--pid PID]
//!         [--calls-per-session N]
//! loadgen --url URL --mode one|stateless --calls N
//! loadgen --url URL --mode soak --pid PID --secs N [--runtime LABEL]
//! ```
//!
//! With `--calls N` it makes exactly N `tools/call echo` calls, one after
//! another on one keep-alive connection (`one`: after initialize and
//! initialized on a session of its own), checks each reply, and exits
//! non-zero at the first bad one: for instruction counts (`instructions.sh`).
//!
//! `soak` is mixed load for N seconds with the server's RSS every minute:
//! see `soak.rs`.
//!
//! Modes: `stateless` calls `tools/call echo` at the 2026-07-28 revision,
//! no session: every request carries its revision and capabilities in
//! `_meta` and the routing headers (`Mcp-Method`, `Mcp-Name`), and every
//! reply must be a `complete` result. `slow` opens `--concurrency` connections that each pipeline four
//! 3 MiB `echo` calls and never read, and reports the server's RSS idle,
//! while they hang, after `--duration` seconds (past the server's write
//! timeout), and once they are gone. `one` calls `tools/call echo` on one session; `many` spreads the
//! calls over `--sessions` sessions (default 1000); `churn` does initialize +
//! initialized + call + DELETE per operation; `sessions` only creates
//! `--sessions` sessions and reports the server's memory per session (each
//! session first makes `--calls-per-session` calls, default 0).
//! Given `--pid`, it reads the server's CPU time (`/proc/PID/stat`) and
//! memory (`VmRSS`, `VmHWM`). Every run is bounded by `--duration`.
//! Output is one line of `key=value` pairs, for scripts.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

mod soak;

#[derive(Clone, Debug)]
struct Args {
    addr: SocketAddr,
    path: String,
    mode: String,
    concurrency: usize,
    duration: Duration,
    warmup: Duration,
    sessions: usize,
    pid: Option<u32>,
    calls_per_session: u64,
    /// A label for the summary line (`--runtime`).
    runtime: String,
    /// `--calls N`: exactly N calls on one connection, then exit.
    calls: Option<u64>,
}

fn parse_args() -> Args {
    let mut a = Args {
        addr: "127.0.0.1:8080".parse().unwrap(),
        path: "/mcp".into(),
        mode: "one".into(),
        concurrency: 64,
        duration: Duration::from_secs(10),
        warmup: Duration::from_secs(2),
        sessions: 1000,
        pid: None,
        calls_per_session: 0,
        runtime: String::new(),
        calls: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--url" => {
                let rest = value.strip_prefix("http://").expect("an http:// URL");
                let (host, path) = rest.split_once('/').unwrap_or((rest, "mcp"));
                a.addr = host.parse().expect("URL host must be IP:PORT");
                a.path = format!("/{path}");
            }
            "--mode" => a.mode = value,
            "--concurrency" => a.concurrency = value.parse().unwrap(),
            "--duration" | "--secs" => a.duration = Duration::from_secs_f64(value.parse().unwrap()),
            "--warmup" => a.warmup = Duration::from_secs_f64(value.parse().unwrap()),
            "--sessions" => a.sessions = value.parse().unwrap(),
            "--pid" => a.pid = Some(value.parse().unwrap()),
            "--calls-per-session" => a.calls_per_session = value.parse().unwrap(),
            "--runtime" => a.runtime = value,
            "--calls" => a.calls = Some(value.parse().unwrap()),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// A response: status, the session header, and the JSON-RPC messages.
struct Reply {
    status: u16,
    session: Option<String>,
    messages: Vec<Value>,
}

/// One keep-alive HTTP/1.1 connection.
struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    host: String,
    path: String,
}

impl Conn {
    async fn open(args: &Args) -> std::io::Result<Self> {
        let stream = TcpStream::connect(args.addr).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(8192),
            host: args.addr.to_string(),
            path: args.path.clone(),
        })
    }

    async fn fill(&mut self) -> Result<(), String> {
        let mut chunk = [0u8; 16384];
        let n = self
            .stream
            .read(&mut chunk)
            .await
            .map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed".into());
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }

    async fn request(
        &mut self,
        method: &str,
        session: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Reply, String> {
        self.request_at(method, session, body, "2025-11-25", "")
            .await
    }

    /// A request at `version`, with `extra` header lines (each ending in CRLF).
    async fn request_at(
        &mut self,
        method: &str,
        session: Option<&str>,
        body: Option<&Value>,
        version: &str,
        extra: &str,
    ) -> Result<Reply, String> {
        let mut req = format!(
            "{method} {} HTTP/1.1\r\nhost: {}\r\naccept: application/json, text/event-stream\r\nmcp-protocol-version: {version}\r\n{extra}",
            self.path, self.host
        );
        if let Some(s) = session {
            req.push_str(&format!("mcp-session-id: {s}\r\n"));
        }
        let body = body.map(Value::to_string).unwrap_or_default();
        if method == "POST" {
            req.push_str(&format!(
                "content-type: application/json\r\ncontent-length: {}\r\n",
                body.len()
            ));
        }
        req.push_str("\r\n");
        req.push_str(&body);
        self.stream
            .write_all(req.as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        self.read_reply().await
    }

    async fn read_reply(&mut self) -> Result<Reply, String> {
        let (status, session, len, chunked, sse, head_len) = loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&self.buf).map_err(|e| e.to_string())? {
                httparse::Status::Complete(n) => {
                    let get = |name: &str| {
                        resp.headers
                            .iter()
                            .find(|h| h.name.eq_ignore_ascii_case(name))
                            .map(|h| String::from_utf8_lossy(h.value).into_owned())
                    };
                    let len = get("content-length").map(|v| v.parse::<usize>().unwrap_or(0));
                    let chunked =
                        get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
                    let sse =
                        get("content-type").is_some_and(|v| v.starts_with("text/event-stream"));
                    break (
                        resp.code.unwrap_or(0),
                        get("mcp-session-id"),
                        len,
                        chunked,
                        sse,
                        n,
                    );
                }
                httparse::Status::Partial => self.fill().await?,
            }
        };
        self.buf.drain(..head_len);
        let body = if chunked {
            let mut body = Vec::new();
            loop {
                let Some(line) = self.buf.windows(2).position(|w| w == b"\r\n") else {
                    self.fill().await?;
                    continue;
                };
                let size = usize::from_str_radix(
                    std::str::from_utf8(&self.buf[..line]).unwrap_or("").trim(),
                    16,
                )
                .map_err(|e| e.to_string())?;
                if self.buf.len() < line + 2 + size + 2 {
                    self.fill().await?;
                    continue;
                }
                body.extend_from_slice(&self.buf[line + 2..line + 2 + size]);
                self.buf.drain(..line + 2 + size + 2);
                if size == 0 {
                    break body;
                }
            }
        } else {
            let len = len.unwrap_or(0);
            while self.buf.len() < len {
                self.fill().await?;
            }
            self.buf.drain(..len).collect()
        };
        let messages = if body.is_empty() {
            Vec::new()
        } else if sse {
            String::from_utf8_lossy(&body)
                .split("\n\n")
                .flat_map(|event| {
                    event
                        .lines()
                        .filter_map(|l| l.strip_prefix("data:"))
                        .map(str::trim)
                        .filter(|d| !d.is_empty())
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .map(|d| serde_json::from_str(&d).map_err(|e| e.to_string()))
                .collect::<Result<_, _>>()?
        } else {
            vec![serde_json::from_slice(&body).map_err(|e| e.to_string())?]
        };
        Ok(Reply {
            status,
            session,
            messages,
        })
    }

    async fn initialize(&mut self) -> Result<String, String> {
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "loadgen", "version": "1"}}});
        let r = self.request("POST", None, Some(&init)).await?;
        check(&r, 200, 0, None)?;
        let session = r.session.ok_or("no session id")?;
        let r = self
            .request(
                "POST",
                Some(&session),
                Some(&json!({"jsonrpc": "2.0", "method": "notifications/initialized"})),
            )
            .await?;
        if r.status != 202 {
            return Err(format!("initialized: status {}", r.status));
        }
        Ok(session)
    }

    /// A stateless `tools/call echo` (2026-07-28): no session.
    async fn stateless_call(&mut self, id: u64, text: &str) -> Result<(), String> {
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
            "name": "echo", "arguments": {"text": text},
            "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                      "io.modelcontextprotocol/clientCapabilities": {},
                      "io.modelcontextprotocol/clientInfo": {"name": "loadgen", "version": "1"}}}});
        let extra = "mcp-method: tools/call\r\nmcp-name: echo\r\n";
        let r = self
            .request_at("POST", None, Some(&msg), "2026-07-28", extra)
            .await?;
        check(&r, 200, id, Some(text))?;
        if r.session.is_some() {
            return Err("a stateless call got a session id".into());
        }
        match r.messages.last() {
            Some(last) if last["result"]["resultType"] == "complete" => Ok(()),
            other => Err(format!("not a complete result: {other:?}")),
        }
    }

    async fn call(&mut self, session: &str, id: u64, text: &str) -> Result<(), String> {
        let msg = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": text}}});
        let r = self.request("POST", Some(session), Some(&msg)).await?;
        check(&r, 200, id, Some(text))
    }
}

/// Checks status, the final message's id and (for calls) its text.
fn check(r: &Reply, status: u16, id: u64, text: Option<&str>) -> Result<(), String> {
    if r.status != status {
        return Err(format!("status {} (wanted {status})", r.status));
    }
    let last = r.messages.last().ok_or("no message")?;
    if last["id"] != json!(id) {
        return Err(format!("id {} (wanted {id})", last["id"]));
    }
    if let Some(text) = text
        && last["result"]["content"][0]["text"] != json!(text)
    {
        return Err(format!("wrong content: {last}"));
    }
    Ok(())
}

/// The server's CPU time (user + system) in seconds, from /proc/PID/stat.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Fields 14 and 15 (utime, stime) are 11 and 12 after the command name.
    (ticks(11) + ticks(12)) / clock_ticks()
}

fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// `VmRSS` and `VmHWM` in KiB.
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

struct Totals {
    ops: u64,
    errors: u64,
    first_error: Option<String>,
    hist: Histogram<u64>,
}

/// One worker: its own connection, operations until `end`; records after `record_from`.
async fn worker(
    args: Args,
    index: usize,
    sessions: std::sync::Arc<Vec<String>>,
    record_from: Instant,
    end: Instant,
) -> Totals {
    let mut t = Totals {
        ops: 0,
        errors: 0,
        first_error: None,
        hist: Histogram::new_with_bounds(1, 60_000_000, 3).unwrap(),
    };
    let mut conn = match Conn::open(&args).await {
        Ok(c) => Some(c),
        Err(e) => {
            t.errors += 1;
            t.first_error = Some(e.to_string());
            None
        }
    };
    let mut k: u64 = 0;
    while Instant::now() < end {
        let Some(c) = conn.as_mut() else { break };
        k += 1;
        let start = Instant::now();
        let outcome = match args.mode.as_str() {
            "churn" => churn(c, k).await,
            "stateless" => {
                let id = k * args.concurrency as u64 + index as u64;
                c.stateless_call(id, &format!("w{index} k{k}")).await
            }
            _ => {
                let session = &sessions[(index + k as usize * args.concurrency) % sessions.len()];
                // Ids are unique among the session's requests in flight.
                let id = k * args.concurrency as u64 + index as u64;
                c.call(session, id, &format!("w{index} k{k}")).await
            }
        };
        let elapsed = start.elapsed();
        if start >= record_from {
            match outcome {
                Ok(()) => {
                    t.ops += 1;
                    t.hist.record(elapsed.as_micros().max(1) as u64).ok();
                }
                Err(e) => {
                    t.errors += 1;
                    t.first_error.get_or_insert(e);
                    conn = Conn::open(&args).await.ok();
                }
            }
        } else if outcome.is_err() {
            conn = Conn::open(&args).await.ok();
        }
    }
    t
}

/// `--calls N`: N checked calls in a row on one connection.
async fn fixed_calls(args: &Args, calls: u64) -> Result<(), String> {
    let mut c = Conn::open(args).await.map_err(|e| e.to_string())?;
    let session = match args.mode.as_str() {
        "one" => Some(c.initialize().await?),
        "stateless" => None,
        other => return Err(format!("--calls takes --mode one or stateless: {other}")),
    };
    for id in 1..=calls {
        let text = format!("call {id:08}"); // every request the same size
        match &session {
            Some(s) => c.call(s, id, &text).await,
            None => c.stateless_call(id, &text).await,
        }
        .map_err(|e| format!("call {id}: {e}"))?;
    }
    Ok(())
}

async fn churn(c: &mut Conn, k: u64) -> Result<(), String> {
    let session = c.initialize().await?;
    c.call(&session, k, "churn").await?;
    let r = c.request("DELETE", Some(&session), None).await?;
    if !(200..300).contains(&r.status) {
        return Err(format!("DELETE: status {}", r.status));
    }
    Ok(())
}

async fn create_sessions(args: &Args, n: usize) -> Result<Vec<String>, String> {
    let per = n.div_ceil(args.concurrency.max(1));
    let mut tasks = Vec::new();
    for w in 0..args.concurrency.min(n.max(1)) {
        let args = args.clone();
        let count = per.min(n.saturating_sub(w * per));
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(&args).await.map_err(|e| e.to_string())?;
            let mut out = Vec::with_capacity(count);
            for _ in 0..count {
                let session = conn.initialize().await?;
                for id in 1..=args.calls_per_session {
                    conn.call(&session, id, "warm").await?;
                }
                out.push(session);
            }
            Ok::<_, String>(out)
        }));
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await.map_err(|e| e.to_string())??);
    }
    Ok(all)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = parse_args();
    if let Some(calls) = args.calls {
        if let Err(e) = fixed_calls(&args, calls).await {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
        println!("mode={} calls={calls} errors=0", args.mode);
        return;
    }
    if args.mode == "soak" {
        std::process::exit(soak::run(&args).await);
    }
    if args.mode == "slow" {
        slow_readers(&args).await;
        return;
    }
    if args.mode == "sessions" {
        let pid = args.pid.expect("--mode sessions needs --pid");
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (idle, _) = memory_kib(pid);
        let sessions = create_sessions(&args, args.sessions)
            .await
            .expect("sessions created");
        let calls = args.calls_per_session;
        // Let the server settle (lazy frees, background tasks).
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (after, hwm) = memory_kib(pid);
        let per = (after.saturating_sub(idle) * 1024) as f64 / sessions.len() as f64;
        println!(
            "mode=sessions sessions={} calls_per_session={calls} idle_rss_kib={idle} rss_kib={after} hwm_kib={hwm} bytes_per_session={per:.0}",
            sessions.len()
        );
        return;
    }
    let sessions = match args.mode.as_str() {
        "one" => create_sessions(&args, 1).await.expect("a session"),
        "many" => create_sessions(&args, args.sessions)
            .await
            .expect("sessions"),
        "churn" | "stateless" => vec![String::new()],
        other => panic!("unknown mode {other}"),
    };
    let sessions = std::sync::Arc::new(sessions);
    let start = Instant::now();
    let record_from = start + args.warmup;
    let end = record_from + args.duration;
    let cpu_at = |pid: Option<u32>| pid.map(cpu_seconds).unwrap_or(0.0);
    let mut workers = Vec::new();
    for i in 0..args.concurrency {
        workers.push(tokio::spawn(worker(
            args.clone(),
            i,
            sessions.clone(),
            record_from,
            end,
        )));
    }
    tokio::time::sleep_until(record_from.into()).await;
    let cpu_start = cpu_at(args.pid);
    let mut total = Totals {
        ops: 0,
        errors: 0,
        first_error: None,
        hist: Histogram::new_with_bounds(1, 60_000_000, 3).unwrap(),
    };
    for w in workers {
        let t = w.await.expect("worker");
        total.ops += t.ops;
        total.errors += t.errors;
        total.hist.add(&t.hist).ok();
        if total.first_error.is_none() {
            total.first_error = t.first_error;
        }
    }
    let cpu = cpu_at(args.pid) - cpu_start;
    let secs = args.duration.as_secs_f64();
    let (rss, hwm) = args.pid.map(memory_kib).unwrap_or((0, 0));
    let cpu_us = if total.ops > 0 {
        cpu * 1e6 / total.ops as f64
    } else {
        0.0
    };
    println!(
        "mode={} ops={} rps={:.0} p50_us={} p99_us={} max_us={} errors={} cpu_us_per_op={cpu_us:.1} rss_kib={rss} hwm_kib={hwm}",
        args.mode,
        total.ops,
        total.ops as f64 / secs,
        total.hist.value_at_quantile(0.5),
        total.hist.value_at_quantile(0.99),
        total.hist.max(),
        total.errors,
    );
    if let Some(e) = total.first_error {
        eprintln!("first error: {e}");
    }
}

/// Clients that stop reading: each connection pipelines four 3 MiB echo
/// calls and never reads a byte. Prints the server's RSS at each stage.
async fn slow_readers(args: &Args) {
    let pid = args.pid.expect("--mode slow needs --pid");
    let session = create_sessions(args, 1).await.expect("a session").remove(0);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (idle, _) = memory_kib(pid);
    let text = "x".repeat(3 * 1024 * 1024);
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": text}}})
    .to_string();
    let request = format!(
        "POST {} HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\naccept: application/json\r\nmcp-session-id: {session}\r\ncontent-length: {}\r\n\r\n{body}",
        args.path,
        args.addr,
        body.len()
    );
    let request = std::sync::Arc::new(request.into_bytes());
    let mut held = Vec::new();
    for _ in 0..args.concurrency {
        let stream = TcpStream::connect(args.addr).await.expect("connect");
        let (reader, mut writer) = stream.into_split();
        let request = std::sync::Arc::clone(&request);
        // Writes until the server stops reading; never reads.
        let task = tokio::spawn(async move {
            for _ in 0..4 {
                if writer.write_all(&request).await.is_err() {
                    break;
                }
            }
            writer
        });
        held.push((reader, task));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (during, _) = memory_kib(pid);
    tokio::time::sleep(args.duration).await;
    let (after_timeout, hwm) = memory_kib(pid);
    for (_, task) in &held {
        task.abort();
    }
    drop(held);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (after_close, _) = memory_kib(pid);
    println!(
        "mode=slow connections={} requests_each=4 reply_bytes={} idle_rss_kib={idle} during_rss_kib={during} after_{}s_rss_kib={after_timeout} after_close_rss_kib={after_close} hwm_kib={hwm}",
        args.concurrency,
        text.len(),
        args.duration.as_secs()
    );
}
