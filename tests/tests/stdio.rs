//! The `hello` example as a child process, driven over its stdin and stdout
//! on each runtime.

use futures::{AsyncBufReadExt, AsyncWriteExt, StreamExt};
use serde_json::{Value, json};
use smol::process::{Command, Stdio};
use tests::deadline;

fn round_trip(runtime: &str) {
    smol::block_on(async {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hello-under-test"))
            .args(["--stdio", "--runtime", runtime])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("hello starts");
        let mut stdin = child.stdin.take().unwrap();
        let mut lines = futures::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut next = async || -> Value {
            let line = deadline("a line from hello", lines.next())
                .await
                .expect("a line")
                .unwrap();
            serde_json::from_str(&line).expect("hello writes JSON lines")
        };
        let messages = [
            json!({"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}),
            json!({"jsonrpc":"2.0","method":"notifications/initialized"}),
            json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":50},"_meta":{"progressToken":"p"}}}),
        ];
        for m in messages {
            stdin.write_all(format!("{m}\n").as_bytes()).await.unwrap();
        }
        stdin.flush().await.unwrap();
        let init = next().await;
        assert_eq!(init["id"], 1);
        assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
        assert_eq!(init["result"]["serverInfo"]["name"], "hello");
        let mut progress = Vec::new();
        loop {
            let m = next().await;
            if m["method"] == "notifications/progress" {
                assert_eq!(m["params"]["progressToken"], "p");
                progress.push(m["params"]["progress"].as_f64().unwrap());
            } else {
                assert_eq!(m["id"], 2);
                assert_eq!(m["result"]["content"][0]["text"], "slept 50 ms");
                break;
            }
        }
        assert_eq!(progress, (1..=10).map(f64::from).collect::<Vec<_>>());

        stdin.write_all(b"{not json\n").await.unwrap();
        stdin.write_all(format!("{}\n", json!({"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"}}})).as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
        // Two independent replies: on a multi-threaded runtime either may
        // be written first.
        let (a, b) = (next().await, next().await);
        let (parse_error, echo) = if a["id"].is_null() { (a, b) } else { (b, a) };
        assert_eq!(parse_error["error"]["code"], -32700);
        assert_eq!(parse_error["id"], Value::Null);
        assert_eq!(echo["id"], 3);
        assert_eq!(echo["result"]["content"][0]["text"], "hi");

        // A sum past f64 is the tool's error, not `{"sum": null}`.
        let add = json!({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"add","arguments":{"a":1e308,"b":1e308}}});
        stdin
            .write_all(format!("{add}\n").as_bytes())
            .await
            .unwrap();
        stdin.flush().await.unwrap();
        let sum = next().await;
        assert_eq!(sum["result"]["isError"], true, "{sum}");
        assert!(sum["result"].get("structuredContent").is_none(), "{sum}");

        drop(stdin);
        let status = deadline("hello to exit", child.status()).await.unwrap();
        assert!(status.success(), "{status}");
    });
}

#[test]
fn stdio_round_trip_on_smol() {
    round_trip("smol");
}

#[test]
fn stdio_round_trip_on_tokio() {
    round_trip("tokio");
}

/// The stateless revision over stdio: the `server/discover` probe, a call
/// carrying its facts in `_meta` (progress on stdout before its result), a
/// removed method, and `notifications/cancelled` ending a stateless call.
fn stateless_round_trip(runtime: &str) {
    smol::block_on(async {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hello-under-test"))
            .args(["--stdio", "--runtime", runtime])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("hello starts");
        let mut stdin = child.stdin.take().unwrap();
        let mut lines = futures::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut next = async || -> Value {
            let line = deadline("a line from hello", lines.next())
                .await
                .expect("a line")
                .unwrap();
            serde_json::from_str(&line).expect("hello writes JSON lines")
        };
        let meta = json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {}});
        let messages = [
            json!({"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta": meta}}),
            json!({"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":400},"_meta": meta}}),
            json!({"jsonrpc":"2.0","id":3,"method":"ping","params":{"_meta": meta}}),
            json!({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId": 2}}),
            json!({"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hi"},
                "_meta": {"progressToken": "p", "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                          "io.modelcontextprotocol/clientCapabilities": {}}}}),
            // Long after the cancelled sleep would have answered.
            json!({"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"sleep","arguments":{"ms":1_500},"_meta": meta}}),
        ];
        for m in messages {
            stdin.write_all(format!("{m}\n").as_bytes()).await.unwrap();
        }
        stdin.flush().await.unwrap();
        // Replies to independent requests may come in any order; the sleep
        // (1.5 s) comes last, long after the cancelled one would have.
        let mut seen = Vec::new();
        loop {
            let m = next().await;
            if m["method"] == "notifications/progress" {
                continue;
            }
            seen.push(m["id"].as_i64().unwrap_or(-1));
            match m["id"].as_i64() {
                Some(1) => {
                    assert_eq!(m["result"]["supportedVersions"][0], "2026-07-28");
                    assert_eq!(m["result"]["resultType"], "complete");
                }
                Some(3) => assert_eq!(m["error"]["code"], -32601, "{m}"),
                Some(4) => {
                    assert_eq!(m["result"]["content"][0]["text"], "hi");
                    assert_eq!(m["result"]["resultType"], "complete");
                }
                Some(5) => break,
                _ => panic!("unexpected {m}"),
            }
        }
        seen.sort_unstable();
        assert_eq!(seen, [1, 3, 4, 5], "the cancelled sleep sends nothing");
        drop(stdin);
        let status = deadline("hello to exit", child.status()).await.unwrap();
        assert!(status.success(), "{status}");
    });
}

#[test]
fn stdio_stateless_on_smol() {
    stateless_round_trip("smol");
}

#[test]
fn stdio_stateless_on_tokio() {
    stateless_round_trip("tokio");
}
