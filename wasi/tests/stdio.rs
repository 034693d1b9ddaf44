//! `hello-wasi` built for the host, driven over pipes as an interactive
//! client drives it: each line sent once the reply to the one before came
//! back. (The same module under wasmtime: `wasi/test.py`.)
#![forbid(unsafe_code)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

#[test]
fn a_sleep_is_answered_while_stdin_stays_open_and_the_end_of_input_exits_0() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hello-wasi"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // A server that stops answering is killed, so a hang fails the test.
    let pid = child.id().to_string();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(30));
        let _ = Command::new("kill").arg(pid).status();
    });
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut call = |message: Value| -> Value {
        writeln!(stdin, "{message}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
    };
    let init = call(
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2025-11-25", "capabilities": {},
        "clientInfo": {"name": "c", "version": "1"}}}),
    );
    assert_eq!(init["result"]["serverInfo"]["name"], "hello");
    // The timer fires although the pool's thread would otherwise block on
    // stdin, where nothing comes until this reply is read.
    let started = Instant::now();
    let slept = call(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "sleep", "arguments": {"ms": 100}}}));
    assert_eq!(slept["result"]["content"][0]["text"], "slept 100 ms");
    assert!(started.elapsed() >= Duration::from_millis(100));
    let added = call(json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "add", "arguments": {"a": 1, "b": 2}}}));
    assert_eq!(added["result"]["structuredContent"]["sum"], 3.0);
    drop(stdin);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest, "", "nothing after the last reply");
}
