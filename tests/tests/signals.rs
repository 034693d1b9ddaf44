//! SIGTERM on the example servers, on each runtime: the requests in flight
//! are answered before the process exits 0; a second signal exits at once.
//! The servers run as child processes on 127.0.0.1; every wait is bounded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, ExitStatus};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The `hello` example on `runtime`, and the address it printed.
fn start(runtime: &str) -> (Child, SocketAddr) {
    tests::spawn_example(
        env!("CARGO_BIN_EXE_hello-under-test"),
        &["--runtime", runtime, "--addr", "127.0.0.1:0"],
    )
}

/// Posts `body` (JSON replies only) and returns the status, the session
/// header and the JSON body.
fn post(addr: SocketAddr, session: Option<&str>, body: &Value) -> (u16, Option<String>, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = body.to_string();
    let sid = session.map_or(String::new(), |s| format!("mcp-session-id: {s}\r\n"));
    write!(
        s,
        "POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: application/json\r\ncontent-type: application/json\r\n{sid}connection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let session = head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .strip_prefix("mcp-session-id: ")
            .map(str::to_owned)
    });
    (
        status,
        session,
        serde_json::from_str(body).unwrap_or(Value::Null),
    )
}

fn signal(child: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_with_deadline(child: &mut Child, limit: Duration) -> ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("the server did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn session(addr: SocketAddr) -> String {
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let (status, session, _) = post(addr, None, &init);
    assert_eq!(status, 200);
    let session = session.expect("a session");
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    assert_eq!(post(addr, Some(&session), &initialized).0, 202);
    session
}

fn sleep_call(id: u64, ms: u64) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": "sleep", "arguments": {"ms": ms}}})
}

fn sigterm_finishes_requests_in_flight(runtime: &str) {
    let (mut child, addr) = start(runtime);
    let session = session(addr);
    let calls: Vec<_> = (1..=5)
        .map(|id| {
            let session = session.clone();
            std::thread::spawn(move || post(addr, Some(&session), &sleep_call(id, 1500)))
        })
        .collect();
    // The calls are in (they take 1.5 s); then the signal.
    std::thread::sleep(Duration::from_millis(400));
    signal(&child, "TERM");
    for (i, call) in calls.into_iter().enumerate() {
        let (status, _, reply) = call.join().unwrap();
        assert_eq!(status, 200, "call {} on {runtime}: {reply}", i + 1);
        assert!(reply["result"]["content"][0]["text"].is_string(), "{reply}");
    }
    let status = wait_with_deadline(&mut child, Duration::from_secs(15));
    assert!(status.success(), "{runtime}: exit {status:?}");
}

fn a_second_signal_exits_at_once(runtime: &str) {
    let (mut child, addr) = start(runtime);
    let session = session(addr);
    let long = std::thread::spawn(move || post(addr, Some(&session), &sleep_call(1, 20_000)));
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "TERM");
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, "INT");
    let started = Instant::now();
    let status = wait_with_deadline(&mut child, Duration::from_secs(5));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(status.code(), Some(130), "{runtime}: 128 + SIGINT");
    // The call in flight did not get its answer.
    assert_ne!(long.join().unwrap().0, 200);
}

#[test]
fn sigterm_finishes_requests_in_flight_on_smol() {
    sigterm_finishes_requests_in_flight("smol");
}

#[test]
fn sigterm_finishes_requests_in_flight_on_tokio() {
    sigterm_finishes_requests_in_flight("tokio");
}

#[test]
fn a_second_signal_exits_at_once_on_smol() {
    a_second_signal_exits_at_once("smol");
}

#[test]
fn a_second_signal_exits_at_once_on_tokio() {
    a_second_signal_exits_at_once("tokio");
}
