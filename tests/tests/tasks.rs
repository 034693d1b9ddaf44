//! Tasks (the 2026-07-28 `io.modelcontextprotocol/tasks` extension)
//! through real sockets on 127.0.0.1, on smol and on tokio: creation,
//! polling, input through `tasks/update`, cancellation, the gate and the
//! header checks, the caps, the time to live, owners, and
//! `notifications/tasks` on a listen stream.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use switchboard_core::http::{AuthConfig, Principal, verifier_fn};
use switchboard_core::tasks::{MemoryTaskStore, TaskConfig, TaskSupport};
use switchboard_core::{HttpConfig, McpServerBuilder, ServerConfig, Tool};
use tests::client::Conn;
use tests::server::{Rt, TestServer, header_refs, stateless_headers, stateless_meta};
use tests::tasks::{Dropped, common_tools};

tests::on_both_runtimes!(
    a_task_is_created_polled_and_completed,
    input_waits_for_tasks_update,
    a_cancel_is_final_and_drops_the_handler,
    the_gate_and_the_headers_come_first,
    tasks_past_the_cap_are_refused,
    a_result_over_the_limit_fails_its_task,
    an_expired_task_is_gone_and_frees_its_place,
    another_subject_cannot_see_a_task,
    a_listener_hears_the_tasks_it_asked_for,
);

/// The `hello` example's `count_to`, as a task and not, on each runtime.
#[test]
fn hello_counts_to_two_as_a_task_and_not() {
    for runtime in ["smol", "tokio"] {
        hello_counts(runtime);
    }
}

fn hello_counts(runtime: &str) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_hello-under-test"))
        .args(["--runtime", runtime, "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("hello starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|a| a.strip_suffix("/mcp"))
        .expect("the URL line")
        .parse()
        .unwrap();
    let server = Hello(child);
    let created = send_to(
        addr,
        "tools/call",
        json!({"name": "count_to", "arguments": {"to": 2}}),
        Send::default(),
    )
    .1;
    let id = created["result"]["taskId"]
        .as_str()
        .expect("a task")
        .to_owned();
    let start = std::time::Instant::now();
    let mut messages = Vec::new();
    let done = loop {
        let task =
            send_to(addr, "tasks/get", json!({"taskId": id}), Send::default()).1["result"].clone();
        let message = task["statusMessage"].as_str();
        if message.is_some() && messages.last().map(String::as_str) != message {
            messages.extend(message.map(str::to_owned));
        }
        if task["status"] == "completed" {
            break task;
        }
        assert!(start.elapsed() < tests::DEADLINE, "{task}");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(done["result"]["content"][0]["text"], "counted to 2");
    assert_eq!(
        messages.last().map(String::as_str),
        Some("counted to 2 of 2"),
        "{messages:?}"
    );
    // A client without the extension waits for the answer.
    let plain = Send {
        undeclared: true,
        ..Send::default()
    };
    let (_, direct) = send_to(
        addr,
        "tools/call",
        json!({"name": "count_to", "arguments": {"to": 1}}),
        plain,
    );
    assert_eq!(direct["result"]["content"][0]["text"], "counted to 1");
    drop(server);
}

/// A child process, killed when dropped.
struct Hello(std::process::Child);

impl Drop for Hello {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A server with the common task tools (`count`, `forever`, `plain`: see
/// `tests::tasks`), `confirm` (required; asks one question through
/// `tasks/update`) and `big` (optional; answers 10,000 bytes).
fn builder(dropped: &Dropped) -> McpServerBuilder {
    common_tools(
        McpServerBuilder::new().server_info("tasks-test", "1"),
        dropped,
    )
    .task_tool(
        Tool::new("confirm", "Asks first"),
        TaskSupport::Required,
        |_: Value, ctx| async move {
            let ask = json!({"message": "Sure?", "requestedSchema": {"type": "object",
                    "properties": {"ok": {"type": "boolean"}}}});
            let answer = ctx.input("ok", "elicitation/create", ask).await?;
            Ok(format!("ok = {}", answer["content"]["ok"]))
        },
    )
    .task_tool(
        Tool::new("big", "Answers 10,000 bytes"),
        TaskSupport::Optional,
        |_: Value, _ctx| async move { Ok("x".repeat(10_000)) },
    )
}

fn start(rt: Rt, dropped: &Dropped, tasks: TaskConfig) -> TestServer {
    let builder = builder(dropped).config(ServerConfig::default().tasks(tasks));
    TestServer::start_builder(rt, builder, HttpConfig::default())
}

/// How a request is sent.
#[derive(Clone, Copy, Default)]
struct Send<'a> {
    /// Without the extension in `_meta`.
    undeclared: bool,
    /// A bearer token.
    token: Option<&'a str>,
    /// An `Mcp-Name` other than the body's.
    name: Option<&'a str>,
}

/// POSTs stateless request `method` with `params` as `how` says; returns
/// the status and the JSON body.
fn send(server: &TestServer, method: &str, params: Value, how: Send<'_>) -> (u16, Value) {
    send_to(server.addr, method, params, how)
}

/// [`send`] to the server at `addr`.
fn send_to(
    addr: std::net::SocketAddr,
    method: &str,
    mut params: Value,
    how: Send<'_>,
) -> (u16, Value) {
    let caps = if how.undeclared {
        json!({"elicitation": {}})
    } else {
        json!({"elicitation": {}, "extensions": {"io.modelcontextprotocol/tasks": {}}})
    };
    params["_meta"] = stateless_meta(caps);
    let body_name = params
        .get("name")
        .or_else(|| params.get("taskId"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let mut headers = stateless_headers(method, how.name.or(body_name.as_deref()));
    if let Some(token) = how.token {
        headers.push(("authorization".into(), format!("Bearer {token}")));
    }
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let reply =
        Conn::connect(addr).request("POST", "/mcp", &header_refs(&headers), &body.to_string());
    let json = match reply.messages().pop() {
        Some(message) => message,
        None => serde_json::from_slice(&reply.body).unwrap_or(Value::Null),
    };
    (reply.status(), json)
}

/// Calls tool `name` declaring the extension; returns the result.
fn call(server: &TestServer, name: &str, args: Value) -> Value {
    let (status, reply) = send(
        server,
        "tools/call",
        json!({"name": name, "arguments": args}),
        Send::default(),
    );
    assert_eq!(status, 200, "{reply}");
    reply["result"].clone()
}

/// `tasks/get` of `id`; returns the result.
fn get(server: &TestServer, id: &str) -> Value {
    let (status, reply) = send(server, "tasks/get", json!({"taskId": id}), Send::default());
    assert_eq!(status, 200, "{reply}");
    reply["result"].clone()
}

/// Polls task `id` until `done` holds of it.
fn wait_for(server: &TestServer, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = std::time::Instant::now();
    loop {
        let task = get(server, id);
        if done(&task) {
            return task;
        }
        assert!(
            start.elapsed() < tests::DEADLINE,
            "task never got there: {task}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn code(reply: &Value) -> i64 {
    reply["error"]["code"].as_i64().unwrap_or_default()
}

fn a_task_is_created_polled_and_completed(rt: Rt) {
    let server = start(rt, &Dropped::default(), TaskConfig::default());
    let created = call(&server, "count", json!({"to": 5}));
    assert_eq!(created["resultType"], "task", "{created}");
    let id = created["taskId"].as_str().unwrap().to_owned();
    assert_eq!(id.len(), 32, "128 bits in hex");
    assert_eq!(created["status"], "working");
    assert_eq!(created["ttlMs"], 3_600_000);
    assert_eq!(created["pollIntervalMs"], 1_000);
    for absent in ["result", "error", "inputRequests", "requestState", "task"] {
        assert!(created.get(absent).is_none(), "{absent} in {created}");
    }
    // Readable at once (durable create).
    let first = get(&server, &id);
    assert_eq!(
        (first["resultType"].clone(), first["taskId"].clone()),
        (json!("complete"), json!(id))
    );
    let done = wait_for(&server, &id, |t| t["status"] == "completed");
    assert_eq!(done["result"]["content"][0]["text"], "counted to 5");
    assert_eq!(
        done["statusMessage"], "5/5",
        "progress is the status message"
    );
    assert!(done.get("error").is_none() && done.get("inputRequests").is_none());
    // The same tool without the extension answers directly.
    let (status, direct) = send(
        &server,
        "tools/call",
        json!({"name": "count", "arguments": {"to": 1}}),
        Send {
            undeclared: true,
            ..Send::default()
        },
    );
    assert_eq!(status, 200);
    assert_eq!(direct["result"]["content"][0]["text"], "counted to 1");
    assert!(direct["result"].get("taskId").is_none());
    // A sync-only tool stays sync, even declared and with the legacy hint.
    let (_, plain) = send(
        &server,
        "tools/call",
        json!({"name": "plain", "task": {"ttl": 1000}}),
        Send::default(),
    );
    assert_eq!(plain["result"]["resultType"], "complete");
    assert_eq!(plain["result"]["content"][0]["text"], "plain");
}

fn input_waits_for_tasks_update(rt: Rt) {
    let server = start(rt, &Dropped::default(), TaskConfig::default());
    let id = call(&server, "confirm", json!({}))["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    let parked = wait_for(&server, &id, |t| t["status"] == "input_required");
    assert_eq!(
        parked["inputRequests"]["ok"]["method"],
        "elicitation/create"
    );
    assert_eq!(parked["inputRequests"]["ok"]["params"]["message"], "Sure?");
    // A key never asked: acknowledged, ignored.
    let (status, ack) = send(
        &server,
        "tasks/update",
        json!({"taskId": id, "inputResponses": {"nope": {"x": 1}}}),
        Send::default(),
    );
    assert_eq!(
        (status, ack["result"].clone()),
        (200, json!({"resultType": "complete"}))
    );
    assert_eq!(get(&server, &id)["status"], "input_required");
    // Not an object: -32602.
    let (_, bad) = send(
        &server,
        "tasks/update",
        json!({"taskId": id, "inputResponses": 5}),
        Send::default(),
    );
    assert_eq!(code(&bad), -32602);
    let answer = json!({"ok": {"action": "accept", "content": {"ok": true}}});
    let (_, ack) = send(
        &server,
        "tasks/update",
        json!({"taskId": id, "inputResponses": answer}),
        Send::default(),
    );
    assert_eq!(ack["result"], json!({"resultType": "complete"}));
    let done = wait_for(&server, &id, |t| t["status"] == "completed");
    assert_eq!(done["result"]["content"][0]["text"], "ok = true");
}

fn a_cancel_is_final_and_drops_the_handler(rt: Rt) {
    let dropped = Dropped::default();
    let server = start(rt, &dropped, TaskConfig::default());
    let id = call(&server, "forever", json!({}))["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(!dropped.is_set(), "the task outlives its exchange");
    let (_, ack) = send(
        &server,
        "tasks/cancel",
        json!({"taskId": id}),
        Send::default(),
    );
    assert_eq!(ack["result"], json!({"resultType": "complete"}));
    assert_eq!(get(&server, &id)["status"], "cancelled");
    assert!(tests::eventually(|| dropped.is_set()), "handler dropped");
    // Again, on a terminal task: the same ack, the same status.
    let (_, again) = send(
        &server,
        "tasks/cancel",
        json!({"taskId": id}),
        Send::default(),
    );
    assert_eq!(again["result"], json!({"resultType": "complete"}));
    assert_eq!(get(&server, &id)["status"], "cancelled");
}

fn the_gate_and_the_headers_come_first(rt: Rt) {
    let server = start(rt, &Dropped::default(), TaskConfig::default());
    let undeclared = Send {
        undeclared: true,
        ..Send::default()
    };
    for method in ["tasks/get", "tasks/update", "tasks/cancel"] {
        let (status, reply) = send(
            &server,
            method,
            json!({"taskId": "gate-test", "inputResponses": {}}),
            undeclared,
        );
        assert_eq!((status, code(&reply)), (400, -32021), "{method}: {reply}");
    }
    // A task-required tool without the extension: -32021 naming it.
    let (status, reply) = send(
        &server,
        "tools/call",
        json!({"name": "confirm"}),
        undeclared,
    );
    assert_eq!((status, code(&reply)), (400, -32021));
    assert!(reply["error"]["data"]["requiredCapabilities"]["extensions"]["io.modelcontextprotocol/tasks"].is_object());
    // Unknown id: -32602; removed methods: 404/-32601.
    let (status, reply) = send(
        &server,
        "tasks/get",
        json!({"taskId": "nope"}),
        Send::default(),
    );
    assert_eq!((status, code(&reply)), (200, -32602));
    for method in ["tasks/result", "tasks/list"] {
        let (status, reply) = send(&server, method, json!({"taskId": "nope"}), Send::default());
        assert_eq!((status, code(&reply)), (404, -32601), "{method}");
    }
    // Mcp-Name must be the task id.
    let id = call(&server, "forever", json!({}))["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    let wrong = Send {
        name: Some("someone-else"),
        ..Send::default()
    };
    let (status, reply) = send(&server, "tasks/get", json!({"taskId": id}), wrong);
    assert_eq!((status, code(&reply)), (400, -32020));
    // Discover advertises the extension, and no `tasks` capability.
    let (_, found) = send(&server, "server/discover", json!({}), Send::default());
    let caps = &found["result"]["capabilities"];
    assert!(
        caps["extensions"]["io.modelcontextprotocol/tasks"].is_object(),
        "{caps}"
    );
    assert!(caps.get("tasks").is_none());
    send(
        &server,
        "tasks/cancel",
        json!({"taskId": id}),
        Send::default(),
    );
}

fn tasks_past_the_cap_are_refused(rt: Rt) {
    let server = start(
        rt,
        &Dropped::default(),
        TaskConfig::default().max_tasks_per_owner(3),
    );
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            call(&server, "forever", json!({}))["taskId"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let (status, over) = send(
        &server,
        "tools/call",
        json!({"name": "forever"}),
        Send::default(),
    );
    assert_eq!((status, code(&over)), (200, -32000), "{over}");
    assert_eq!(
        over["error"]["message"],
        "too many tasks: at most 3 per client"
    );
    // The three are untouched.
    for id in &ids {
        assert_eq!(get(&server, id)["status"], "working");
        send(
            &server,
            "tasks/cancel",
            json!({"taskId": id}),
            Send::default(),
        );
    }
}

fn a_result_over_the_limit_fails_its_task(rt: Rt) {
    let config = TaskConfig::default().max_result_bytes(5_000);
    let server = start(rt, &Dropped::default(), config);
    let id = call(&server, "big", json!({}))["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    let failed = wait_for(&server, &id, |t| t["status"] == "failed");
    assert_eq!(failed["error"]["code"], -32603);
    let message = failed["error"]["message"].as_str().unwrap();
    assert!(message.contains("over the 5000-byte limit"), "{message}");
    assert!(failed.get("result").is_none());
    // Within the limit, the same result completes.
    let server = start(rt, &Dropped::default(), TaskConfig::default());
    let id = call(&server, "big", json!({}))["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    let done = wait_for(&server, &id, |t| t["status"] == "completed");
    assert_eq!(
        done["result"]["content"][0]["text"].as_str().unwrap().len(),
        10_000
    );
}

fn an_expired_task_is_gone_and_frees_its_place(rt: Rt) {
    let store = Arc::new(MemoryTaskStore::new());
    let config = TaskConfig::default()
        .ttl(Duration::from_secs(1))
        .max_tasks(1)
        .store(store.clone());
    let server = start(rt, &Dropped::default(), config);
    let created = call(&server, "count", json!({"to": 1}));
    assert_eq!(created["ttlMs"], 1_000);
    let id = created["taskId"].as_str().unwrap().to_owned();
    let (_, full) = send(
        &server,
        "tools/call",
        json!({"name": "count", "arguments": {"to": 1}}),
        Send::default(),
    );
    assert_eq!(code(&full), -32000, "{full}");
    assert_eq!(store.len(), 1);
    std::thread::sleep(Duration::from_millis(1_100));
    let (_, gone) = send(&server, "tasks/get", json!({"taskId": id}), Send::default());
    assert_eq!(code(&gone), -32602, "expired: as if unknown");
    // The sweeper purges it with no request to prompt it: back to empty.
    assert!(tests::eventually(|| store.is_empty() && store.owners() == 0));
    assert_eq!(
        call(&server, "count", json!({"to": 1}))["resultType"],
        "task",
        "its place is free"
    );
}

fn another_subject_cannot_see_a_task(rt: Rt) {
    let verifier =
        verifier_fn(|token: String| async move { Ok(Principal::new(token).with_issuer("as1")) });
    let auth = AuthConfig::new("http://127.0.0.1/mcp", verifier);
    let server = TestServer::start_builder(
        rt,
        builder(&Dropped::default()),
        HttpConfig::default().auth(auth),
    );
    let alice = Send {
        token: Some("alice"),
        ..Send::default()
    };
    let bob = Send {
        token: Some("bob"),
        ..Send::default()
    };
    let (_, created) = send(&server, "tools/call", json!({"name": "forever"}), alice);
    let id = created["result"]["taskId"].as_str().unwrap().to_owned();
    for method in ["tasks/get", "tasks/update", "tasks/cancel"] {
        let (status, reply) = send(
            &server,
            method,
            json!({"taskId": id, "inputResponses": {}}),
            bob,
        );
        assert_eq!(
            (status, code(&reply)),
            (200, -32602),
            "{method}: as if unknown"
        );
    }
    let (_, own) = send(&server, "tasks/get", json!({"taskId": id}), alice);
    assert_eq!(
        own["result"]["status"], "working",
        "bob's cancel did nothing"
    );
    send(&server, "tasks/cancel", json!({"taskId": id}), alice);
}

fn a_listener_hears_the_tasks_it_asked_for(rt: Rt) {
    let server = start(rt, &Dropped::default(), TaskConfig::default());
    let id = call(&server, "confirm", json!({}))["taskId"]
        .as_str()
        .unwrap()
        .to_owned();
    wait_for(&server, &id, |t| t["status"] == "input_required");
    let mut params = json!({"notifications": {"taskIds": [id, "not-a-task"]}});
    params["_meta"] = stateless_meta(json!({"extensions": {"io.modelcontextprotocol/tasks": {}}}));
    let body =
        json!({"jsonrpc": "2.0", "id": 9, "method": "subscriptions/listen", "params": params});
    let headers = stateless_headers("subscriptions/listen", None);
    let mut conn = Conn::connect(server.addr);
    conn.send("POST", "/mcp", &header_refs(&headers), &body.to_string());
    let head = conn.read_head();
    assert!(head.is_sse());
    let ack = conn.next_event().expect("the acknowledgement").json();
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["notifications"]["taskIds"],
        json!([id]),
        "only a task of its own"
    );
    let answer = json!({"ok": {"action": "accept", "content": {"ok": false}}});
    send(
        &server,
        "tasks/update",
        json!({"taskId": id, "inputResponses": answer}),
        Send::default(),
    );
    let mut statuses = Vec::new();
    while statuses.last() != Some(&json!("completed")) {
        let note = conn.next_event().expect("a notification").json();
        assert_eq!(note["method"], "notifications/tasks");
        assert_eq!(note["params"]["taskId"], json!(id));
        assert!(note["params"].get("resultType").is_none());
        statuses.push(note["params"]["status"].clone());
        if note["params"]["status"] == "completed" {
            assert_eq!(note["params"]["result"]["content"][0]["text"], "ok = false");
        }
    }
    assert_eq!(statuses, [json!("working"), json!("completed")]);
    // Without the extension, asking for tasks is refused.
    let mut params = json!({"notifications": {"taskIds": [id]}});
    params["_meta"] = stateless_meta(json!({}));
    let body =
        json!({"jsonrpc": "2.0", "id": 10, "method": "subscriptions/listen", "params": params});
    let reply = Conn::connect(server.addr).request(
        "POST",
        "/mcp",
        &header_refs(&headers),
        &body.to_string(),
    );
    assert_eq!(reply.status(), 400);
    assert_eq!(reply.json()["error"]["code"], -32021);
}
