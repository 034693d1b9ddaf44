//! Servers on one thread: the `counter` example (its state in an `Rc`) on
//! every runtime, and how many threads the local runtimes use.

use std::collections::BTreeSet;
use std::process::Child;

use serde_json::json;
use tests::client::Conn;
use tests::server::Session;

/// Kills the example when the test ends, however it ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start(exe: &str, runtime: &str) -> (Running, std::net::SocketAddr) {
    let (child, addr) = tests::spawn_example(exe, &["--runtime", runtime, "--addr", "127.0.0.1:0"]);
    (Running(child), addr)
}

/// 200 calls of `count`, 16 keep-alive connections of one session at once
/// (each sends its next call when its last is answered): every value from 1
/// to 200 comes back exactly once.
fn counter_counts_exactly(runtime: &str) {
    let (_server, addr) = start(env!("CARGO_BIN_EXE_counter-under-test"), runtime);
    let session = Session::initialize(addr, "2025-11-25");
    let answers: Vec<u64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..16)
            .map(|worker| {
                let session = &session;
                scope.spawn(move || {
                    let mut conn = Conn::connect(addr);
                    let mut got = Vec::new();
                    // Calls worker, worker + 16, …: 200 in all.
                    for id in (worker..200).step_by(16) {
                        let call = json!({"jsonrpc": "2.0", "id": id + 1, "method": "tools/call",
                            "params": {"name": "count", "arguments": {}}});
                        let reply = session.post(&mut conn, &call);
                        assert_eq!(reply.status(), 200, "{reply:?}");
                        let message = reply.messages().pop().expect("a reply");
                        let text = message["result"]["content"][0]["text"].as_str().unwrap();
                        got.push(text.parse::<u64>().unwrap());
                    }
                    got
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap())
            .collect()
    });
    assert_eq!(answers.len(), 200);
    let distinct: BTreeSet<u64> = answers.iter().copied().collect();
    assert_eq!(distinct, (1..=200).collect(), "each of 1..=200 once");
}

#[test]
fn counter_on_smol_local() {
    counter_counts_exactly("smol-local");
}

#[test]
fn counter_on_tokio_local() {
    counter_counts_exactly("tokio-local");
}

/// On the multi-threaded runtimes too: the handler stays on the main thread.
#[test]
fn counter_on_tokio() {
    counter_counts_exactly("tokio");
}

#[test]
fn counter_on_smol() {
    counter_counts_exactly("smol");
}

/// The threads of process `pid`, from `/proc`.
fn threads(pid: u32) -> usize {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// `hello` on a local runtime serves calls (with a sleep and progress) on
/// at most two threads: its own, and async-io's reactor helper on smol.
fn hello_stays_on(runtime: &str, most: usize) {
    let (server, addr) = start(env!("CARGO_BIN_EXE_hello-under-test"), runtime);
    let session = Session::initialize(addr, "2025-11-25");
    for id in 1..=5 {
        assert_eq!(session.tool_text(id, "echo", json!({"text": "hi"})), "hi");
    }
    let slept = session.call(
        9,
        "tools/call",
        json!({"name": "sleep", "arguments": {"ms": 20},
        "_meta": {"progressToken": "p"}}),
    );
    assert!(slept.last().unwrap()["result"].is_object(), "{slept:?}");
    let n = threads(server.0.id());
    assert!(n <= most, "{runtime}: {n} threads");
}

#[test]
fn hello_on_smol_local_uses_two_threads_at_most() {
    hello_stays_on("smol-local", 2);
}

#[test]
fn hello_on_tokio_local_uses_one_thread() {
    hello_stays_on("tokio-local", 1);
}
