//! The `tiny` example, on each runtime: it prints the `listening on` line,
//! opens a session, lists its one tool and echoes; `--stdio` is refused.
//! The server runs as a child process on 127.0.0.1; every wait is bounded.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use serde_json::{Value, json};

/// Posts `body` and returns the status, the session header and the JSON body.
fn post(addr: SocketAddr, session: Option<&str>, body: &Value) -> (u16, Option<String>, Value) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let body = body.to_string();
    let sid = session.map_or(String::new(), |s| format!("mcp-session-id: {s}\r\n"));
    write!(
        s,
        "POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: application/json\r\ncontent-type: application/json\r\nmcp-protocol-version: 2025-06-18\r\n{sid}connection: close\r\ncontent-length: {}\r\n\r\n{body}",
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

#[test]
fn tiny_serves_its_one_tool_on_each_runtime() {
    for runtime in ["smol", "tokio"] {
        let (mut child, addr) = tests::spawn_example(
            env!("CARGO_BIN_EXE_tiny-under-test"),
            &["--runtime", runtime, "--addr", "127.0.0.1:0"],
        );
        let (status, session, init) = post(
            addr,
            None,
            &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2025-06-18", "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"}}}),
        );
        assert_eq!(status, 200, "{runtime}: {init}");
        assert_eq!(init["result"]["serverInfo"]["name"], "tiny", "{runtime}");
        let session = session.expect("a session id");
        let (status, _, _) = post(
            addr,
            Some(&session),
            &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        );
        assert_eq!(status, 202, "{runtime}");
        let (_, _, list) = post(
            addr,
            Some(&session),
            &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        );
        let tools = list["result"]["tools"].as_array().expect("tools");
        assert_eq!(tools.len(), 1, "{runtime}: {list}");
        assert_eq!(tools[0]["inputSchema"]["required"], json!(["text"]));
        let (_, _, call) = post(
            addr,
            Some(&session),
            &json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
                "params": {"name": "echo", "arguments": {"text": "hi"}}}),
        );
        assert_eq!(
            call["result"]["content"],
            json!([{"type": "text", "text": "hi"}]),
            "{runtime}: {call}"
        );
        let _ = child.kill();
        let _ = child.wait();
    }
}

#[test]
fn tiny_refuses_stdio() {
    let out = Command::new(env!("CARGO_BIN_EXE_tiny-under-test"))
        .arg("--stdio")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("HTTP only"));
}
