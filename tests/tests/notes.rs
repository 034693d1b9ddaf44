//! The `notes` example over stdio, on both runtimes: typed tools with
//! structured results, a resource per note announced as it comes and goes,
//! the template's answer for a note that is gone, and the prompt.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

/// Runs the example, sends `requests` one at a time and returns every
/// message it wrote, in order (each read bounded by a timeout).
fn session(runtime: &str, requests: &[Value]) -> Vec<Value> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_notes-under-test"))
        .args(["--stdio", "--runtime", runtime])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("notes starts");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(serde_json::from_str::<Value>(&line).expect("JSON lines"));
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    let mut seen = Vec::new();
    for request in requests {
        writeln!(stdin, "{request}").unwrap();
        let Some(id) = request.get("id") else {
            continue;
        };
        // Read up to this request's answer.
        loop {
            let message = rx
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("no answer to {request}; saw {seen:?}"));
            let done = message.get("id") == Some(id);
            seen.push(message);
            if done {
                break;
            }
        }
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
    seen
}

fn request(id: u64, method: &str, params: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params})
}

fn answer(seen: &[Value], id: u64) -> &Value {
    seen.iter().find(|m| m["id"] == id).unwrap()
}

#[test]
fn notes_come_and_go_on_both_runtimes() {
    for runtime in ["smol", "tokio"] {
        let seen = session(
            runtime,
            &[
                request(
                    1,
                    "initialize",
                    json!({"protocolVersion": "2025-11-25", "capabilities": {},
                    "clientInfo": {"name": "t", "version": "1"}}),
                ),
                json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
                request(
                    2,
                    "tools/call",
                    json!({"name": "add_note",
                    "arguments": {"title": "Groceries", "body": "eggs, coffee", "tags": ["home"]}}),
                ),
                request(
                    3,
                    "tools/call",
                    json!({"name": "search_notes", "arguments": {"query": "COFFEE"}}),
                ),
                request(4, "resources/read", json!({"uri": "notes://1"})),
                request(
                    5,
                    "prompts/get",
                    json!({"name": "summarise", "arguments": {"tag": "home"}}),
                ),
                request(
                    6,
                    "tools/call",
                    json!({"name": "delete_note", "arguments": {"id": 1}}),
                ),
                request(7, "resources/read", json!({"uri": "notes://1"})),
                request(
                    8,
                    "tools/call",
                    json!({"name": "add_note", "arguments": {"title": "x"}}),
                ),
            ],
        );
        let added = &answer(&seen, 2)["result"]["structuredContent"];
        assert_eq!(added["id"], 1, "{runtime}");
        assert_eq!(added["tags"], json!(["home"]));
        let found = &answer(&seen, 3)["result"]["structuredContent"]["result"];
        assert_eq!(found[0]["title"], "Groceries", "{runtime}: {found}");
        let read = answer(&seen, 4)["result"]["contents"][0]["text"]
            .as_str()
            .unwrap();
        assert!(read.contains("eggs, coffee"), "{read}");
        let prompt = answer(&seen, 5)["result"]["messages"][0]["content"]["text"]
            .as_str()
            .unwrap();
        assert!(prompt.contains("Groceries"), "{prompt}");
        let gone = &answer(&seen, 7)["error"];
        assert_eq!(
            (gone["code"].clone(), gone["data"]["uri"].clone()),
            (json!(-32602), json!("notes://1"))
        );
        // A missing required argument: refused before the handler, as a tool error.
        assert_eq!(answer(&seen, 8)["result"]["isError"], true, "{runtime}");
        // The list changed twice (added, deleted), each announced.
        let changes = seen
            .iter()
            .filter(|m| m["method"] == "notifications/resources/list_changed")
            .count();
        assert_eq!(changes, 2, "{runtime}: {seen:?}");
    }
}
