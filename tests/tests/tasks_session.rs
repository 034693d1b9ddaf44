//! The 2025-11-25 experimental tasks, for sessions of that revision,
//! through real sockets on 127.0.0.1 on every runtime: `capabilities.tasks`
//! and `execution.taskSupport`, task-augmented `tools/call`, `tasks/get`,
//! `tasks/result` (blocking, and carrying the task's elicitation as a real
//! server→client request), `tasks/list`, `tasks/cancel`,
//! `notifications/tasks/status`, the errors, and that neither era ever sees
//! the other's shapes or tasks.

use std::time::Duration;

use serde_json::{Value, json};
use switchboard_core::tasks::{TaskBegins, TaskConfig, TaskSupport};
use switchboard_core::{
    CallToolResult, HttpConfig, McpServerBuilder, RpcError, ServerConfig, Tool,
};
use tests::client::Conn;
use tests::server::{Rt, Session, TestServer, header_refs, stateless_headers, stateless_meta};
use tests::tasks::{Dropped, common_tools, nap};

tests::on_both_runtimes!(
    a_task_is_created_polled_and_its_result_fetched,
    input_is_a_server_request_on_the_tasks_result_stream,
    a_cancel_answers_the_task_and_refuses_a_terminal_one,
    errors_follow_the_2025_11_25_text,
    tasks_are_listed_a_page_at_a_time_per_session,
    status_changes_reach_the_standalone_stream,
    the_eras_never_mix,
    a_waiting_tasks_result_ends_with_the_time_to_live,
);

/// The common task tools (`count`, `forever`, `plain`: see `tests::tasks`),
/// `confirm` (required; one elicitation, a server→client request), `oops`
/// (optional; an `isError` result) and `broken` (optional; a JSON-RPC
/// error).
fn start(rt: Rt, dropped: &Dropped, config: ServerConfig) -> TestServer {
    let builder = common_tools(
        McpServerBuilder::new().server_info("tasks-session-test", "1"),
        dropped,
    )
    .task_tool(
        Tool::new("confirm", "Asks first"),
        TaskSupport::Required,
        |_: Value, ctx| async move {
            let ask = json!({"message": "Sure?", "requestedSchema": {"type": "object",
                "properties": {"ok": {"type": "boolean"}}}});
            let answer = ctx.request("elicitation/create", ask).await?;
            Ok(format!("ok = {}", answer["content"]["ok"]))
        },
    )
    .task_tool_beginning(
        Tool::new("quick", "Returns before starting a task"),
        TaskSupport::Optional,
        TaskBegins::WhenHandlerStarts,
        |_: Value, _ctx| async move { Ok(CallToolResult::text("quick")) },
    )
    .task_tool(
        Tool::new("impatient", "Asks, gives up after 300 ms, then works on"),
        TaskSupport::Optional,
        |_: Value, ctx| async move {
            let ask = json!({"message": "Quick?", "requestedSchema": {"type": "object",
                "properties": {}}});
            // Boxed, so the question is dropped when the timeout wins.
            let asked = Box::pin(ctx.request("elicitation/create", ask));
            let timeout = Box::pin(nap(&ctx, 300));
            drop(futures::future::select(asked, timeout).await);
            nap(&ctx, 60_000).await;
            Ok(CallToolResult::text("done"))
        },
    )
    .task_tool(
        Tool::new("oops", "Returns a tool error"),
        TaskSupport::Optional,
        |_: Value, _ctx| async move { Ok(CallToolResult::error("no such city")) },
    )
    .task_tool(
        Tool::new("broken", "Fails with a JSON-RPC error"),
        TaskSupport::Optional,
        |_: Value, _ctx| async move {
            Err::<CallToolResult, _>(RpcError::internal("the backend is down").into())
        },
    )
    .config(config);
    TestServer::start_builder(rt, builder, HttpConfig::default())
}

/// A 2025-11-25 session that declared elicitation.
fn session(server: &TestServer) -> Session {
    Session::initialize_with(server.addr, "2025-11-25", json!({"elicitation": {}}))
}

/// Sends request `method` in `s`; returns its reply (the last message).
fn rpc(s: &Session, method: &str, params: Value) -> Value {
    let mut messages = s.call(7, method, params);
    messages.pop().expect("a reply")
}

/// Calls `name` with `arguments` as a task; returns the created task.
fn create(s: &Session, name: &str, arguments: Value) -> Value {
    let reply = rpc(
        s,
        "tools/call",
        json!({"name": name, "arguments": arguments, "task": {"ttl": 60_000}}),
    );
    let task = reply["result"]["task"].clone();
    assert!(task["taskId"].is_string(), "{reply}");
    task
}

/// Polls task `id` in `s` until `done` holds of it.
fn wait_for(s: &Session, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let start = std::time::Instant::now();
    loop {
        let task = rpc(s, "tasks/get", json!({"taskId": id}))["result"].clone();
        if done(&task) {
            return task;
        }
        assert!(start.elapsed() < tests::DEADLINE, "never got there: {task}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn code(reply: &Value) -> i64 {
    reply["error"]["code"].as_i64().unwrap_or_default()
}

/// The next SSE event on `conn` that carries a message.
fn next_message(conn: &mut Conn) -> Value {
    loop {
        let event = conn.next_event().expect("an event");
        if !event.data.is_empty() {
            return event.json();
        }
    }
}

/// POSTs stateless request `method` (2026-07-28) declaring the tasks
/// extension, with `Mcp-Name` set from `name` or `taskId`; returns the reply.
fn stateless(addr: std::net::SocketAddr, method: &str, mut params: Value) -> Value {
    let caps = json!({"extensions": {"io.modelcontextprotocol/tasks": {}}});
    params["_meta"] = stateless_meta(caps);
    let name = params
        .get("name")
        .or_else(|| params.get("taskId"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let headers = stateless_headers(method, name.as_deref());
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let reply =
        Conn::connect(addr).request("POST", "/mcp", &header_refs(&headers), &body.to_string());
    reply.messages().pop().expect("a reply")
}

/// The id of the task `created` names.
fn id_of(created: &Value) -> String {
    created["taskId"].as_str().unwrap().to_owned()
}

fn a_task_is_created_polled_and_its_result_fetched(rt: Rt) {
    let server = start(rt, &Dropped::default(), ServerConfig::default());
    let mut conn = Conn::connect(server.addr);
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "t", "version": "1"}}});
    let reply = conn.request(
        "POST",
        "/mcp",
        &tests::server::POST_HEADERS,
        &init.to_string(),
    );
    assert_eq!(
        reply.json()["result"]["capabilities"]["tasks"],
        json!({"list": {}, "cancel": {}, "requests": {"tools": {"call": {}}}})
    );
    let s = session(&server);
    let tools = rpc(&s, "tools/list", json!({}))["result"]["tools"].clone();
    let support = |name: &str| {
        let tool = tools
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["name"] == name)
            .unwrap();
        tool["execution"]["taskSupport"].clone()
    };
    assert_eq!(support("count"), "optional");
    assert_eq!(support("confirm"), "required");
    assert_eq!(support("plain"), Value::Null, "forbidden is the default");

    let reply = rpc(
        &s,
        "tools/call",
        json!({"name": "count", "arguments": {"to": 3}, "task": {"ttl": 60_000}}),
    );
    let result = &reply["result"];
    let created = &result["task"];
    assert_eq!(created["status"], "working", "{reply}");
    assert_eq!(created["ttl"], 60_000);
    assert_eq!(created["pollInterval"], 1_000);
    assert!(created["createdAt"].is_string() && created["lastUpdatedAt"].is_string());
    for absent in ["resultType", "taskId", "content"] {
        assert!(result.get(absent).is_none(), "{absent} in {result}");
    }
    for absent in [
        "resultType",
        "ttlMs",
        "pollIntervalMs",
        "result",
        "inputRequests",
    ] {
        assert!(created.get(absent).is_none(), "{absent} in {created}");
    }
    let id = id_of(created);
    // tasks/result blocks until the task is terminal.
    let result = rpc(&s, "tasks/result", json!({"taskId": id}));
    assert_eq!(result["result"]["content"][0]["text"], "counted to 3");
    assert_eq!(
        result["result"]["_meta"]["io.modelcontextprotocol/related-task"],
        json!({"taskId": id})
    );
    let done = rpc(&s, "tasks/get", json!({"taskId": id}))["result"].clone();
    assert_eq!(done["status"], "completed");
    assert_eq!(done["statusMessage"], "3/3");
    for absent in ["resultType", "result", "ttlMs", "_meta"] {
        assert!(done.get(absent).is_none(), "{absent} in {done}");
    }
    // Without `task`, the optional tool answers directly.
    assert_eq!(s.tool_text(8, "count", json!({"to": 1})), "counted to 1");
    // A tool that would begin its task when its handler starts one (the
    // 2026 extension's rounds first) still answers a task here: the client
    // asked for one and must get one, even from a handler that returns
    // without `start_task`.
    let quick = id_of(&create(&s, "quick", json!({})));
    let result = rpc(&s, "tasks/result", json!({"taskId": quick}));
    assert_eq!(result["result"]["content"][0]["text"], "quick", "{result}");
    assert_eq!(s.tool_text(9, "quick", json!({})), "quick");
    // A tool result with isError is `failed`, its result still the answer.
    let oops = id_of(&create(&s, "oops", json!({})));
    let failed = wait_for(&s, &oops, |t| t["status"] != "working");
    assert_eq!(failed["status"], "failed");
    assert!(failed["statusMessage"].is_string());
    let result = rpc(&s, "tasks/result", json!({"taskId": oops}));
    assert_eq!(result["result"]["isError"], true);
    // A JSON-RPC error is `failed` too, and tasks/result answers with it.
    let broken = id_of(&create(&s, "broken", json!({})));
    let result = rpc(&s, "tasks/result", json!({"taskId": broken}));
    assert_eq!(code(&result), -32603, "{result}");
    assert_eq!(result["error"]["message"], "the backend is down");
    let failed = rpc(&s, "tasks/get", json!({"taskId": broken}))["result"].clone();
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["statusMessage"], "the backend is down");
}

fn input_is_a_server_request_on_the_tasks_result_stream(rt: Rt) {
    let server = start(rt, &Dropped::default(), ServerConfig::default());
    let s = session(&server);
    let id = id_of(&create(&s, "confirm", json!({})));
    wait_for(&s, &id, |t| t["status"] == "input_required");
    // tasks/result delivers the question on its own stream.
    let mut conn = Conn::connect(server.addr);
    let body = json!({"jsonrpc": "2.0", "id": 9, "method": "tasks/result",
        "params": {"taskId": id}});
    conn.send("POST", "/mcp", &s.headers(), &body.to_string());
    let head = conn.read_head();
    assert!(head.is_sse(), "{head:?}");
    let asked = next_message(&mut conn);
    assert_eq!(asked["method"], "elicitation/create", "{asked}");
    assert_eq!(asked["params"]["message"], "Sure?");
    assert_eq!(
        asked["params"]["_meta"]["io.modelcontextprotocol/related-task"],
        json!({"taskId": id})
    );
    // The client answers it as any request.
    let answer = json!({"jsonrpc": "2.0", "id": asked["id"],
        "result": {"action": "accept", "content": {"ok": true}}});
    let ack = s.post(&mut Conn::connect(server.addr), &answer);
    assert_eq!(ack.status(), 202);
    let result = next_message(&mut conn);
    assert_eq!(result["id"], 9);
    assert_eq!(
        result["result"]["content"][0]["text"], "ok = true",
        "{result}"
    );
    assert_eq!(
        result["result"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
        json!(id)
    );
    let done = rpc(&s, "tasks/get", json!({"taskId": id}))["result"].clone();
    assert_eq!(done["status"], "completed");

    // A question its handler gave up on (a timeout) leaves the task: it
    // is `working` again, not `input_required` for nobody.
    let id = id_of(&create(&s, "impatient", json!({})));
    wait_for(&s, &id, |t| t["status"] == "input_required");
    wait_for(&s, &id, |t| t["status"] == "working");
    assert_eq!(
        rpc(&s, "tasks/cancel", json!({"taskId": id}))["result"]["status"],
        "cancelled"
    );
}

fn a_cancel_answers_the_task_and_refuses_a_terminal_one(rt: Rt) {
    let dropped = Dropped::default();
    let server = start(rt, &dropped, ServerConfig::default());
    let s = session(&server);
    let id = id_of(&create(&s, "forever", json!({})));
    assert!(!dropped.is_set(), "it outlives the call");
    let cancelled = rpc(&s, "tasks/cancel", json!({"taskId": id}));
    assert_eq!(cancelled["result"]["status"], "cancelled", "{cancelled}");
    assert_eq!(cancelled["result"]["taskId"], json!(id));
    assert!(cancelled["result"].get("resultType").is_none());
    assert!(tests::eventually(|| dropped.is_set()), "handler dropped");
    let again = rpc(&s, "tasks/cancel", json!({"taskId": id}));
    assert_eq!(code(&again), -32602, "{again}");
    assert!(
        again["error"]["message"]
            .as_str()
            .unwrap()
            .contains("cancelled")
    );
    // A cancelled task has no result.
    let result = rpc(&s, "tasks/result", json!({"taskId": id}));
    assert_eq!(code(&result), -32603, "{result}");
    let done = id_of(&create(&s, "count", json!({"to": 1})));
    wait_for(&s, &done, |t| t["status"] == "completed");
    let late = rpc(&s, "tasks/cancel", json!({"taskId": done}));
    assert_eq!(code(&late), -32602);
    assert_eq!(
        rpc(&s, "tasks/get", json!({"taskId": done}))["result"]["status"],
        "completed"
    );

    // A session's end (DELETE) cancels the tasks it can no longer reach.
    let dropped = Dropped::default();
    let server = start(rt, &dropped, ServerConfig::default());
    let s = session(&server);
    id_of(&create(&s, "forever", json!({})));
    assert!(!dropped.is_set());
    let deleted = Conn::connect(server.addr).request(
        "DELETE",
        "/mcp",
        &[
            ("mcp-session-id", &s.id),
            ("mcp-protocol-version", "2025-11-25"),
        ],
        "",
    );
    assert_eq!(deleted.status(), 200);
    assert!(
        tests::eventually(|| dropped.is_set()),
        "the ended session's task handler is dropped"
    );
}

fn errors_follow_the_2025_11_25_text(rt: Rt) {
    let server = start(rt, &Dropped::default(), ServerConfig::default());
    let s = session(&server);
    for method in ["tasks/get", "tasks/result", "tasks/cancel"] {
        let reply = rpc(&s, method, json!({"taskId": "nope"}));
        assert_eq!(code(&reply), -32602, "{method}: {reply}");
        let reply = rpc(&s, method, json!({}));
        assert_eq!(code(&reply), -32602, "{method} without an id: {reply}");
    }
    // A required tool without `task`, a forbidden one with it: -32601.
    let reply = rpc(&s, "tools/call", json!({"name": "confirm"}));
    assert_eq!(code(&reply), -32601, "{reply}");
    let reply = rpc(
        &s,
        "tools/call",
        json!({"name": "plain", "task": {"ttl": 1000}}),
    );
    assert_eq!(code(&reply), -32601, "{reply}");
    let reply = rpc(&s, "tools/call", json!({"name": "count", "task": 5}));
    assert_eq!(code(&reply), -32602, "{reply}");
    let reply = rpc(&s, "tasks/list", json!({"cursor": "not one of ours"}));
    assert_eq!(code(&reply), -32602, "{reply}");
    // The requested time to live is granted within the server's bounds.
    let reply = rpc(
        &s,
        "tools/call",
        json!({"name": "count", "arguments": {"to": 1}, "task": {"ttl": 1}}),
    );
    assert_eq!(reply["result"]["task"]["ttl"], 1_000);
    let reply = rpc(
        &s,
        "tools/call",
        json!({"name": "count", "arguments": {"to": 1}, "task": {}}),
    );
    assert_eq!(reply["result"]["task"]["ttl"], 3_600_000, "the default");
}

fn tasks_are_listed_a_page_at_a_time_per_session(rt: Rt) {
    let config = ServerConfig::default()
        .page_size(2)
        .tasks(TaskConfig::default());
    let server = start(rt, &Dropped::default(), config);
    let s = session(&server);
    let ids: Vec<String> = (0..3)
        .map(|_| id_of(&create(&s, "count", json!({"to": 1}))))
        .collect();
    let first = rpc(&s, "tasks/list", json!({}))["result"].clone();
    let cursor = first["nextCursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let second = rpc(&s, "tasks/list", json!({"cursor": cursor}))["result"].clone();
    assert!(second.get("nextCursor").is_none(), "{second}");
    let mut listed: Vec<String> = first["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .chain(second["tasks"].as_array().unwrap())
        .map(|t| {
            assert!(t["ttl"].is_number() && t.get("resultType").is_none(), "{t}");
            t["taskId"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(first["tasks"].as_array().unwrap().len(), 2);
    listed.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(listed, expected);
    // Another session sees none of them.
    let other = session(&server);
    let theirs = rpc(&other, "tasks/list", json!({}))["result"].clone();
    assert_eq!(theirs["tasks"], json!([]), "{theirs}");
    let reply = rpc(&other, "tasks/get", json!({"taskId": ids[0]}));
    assert_eq!(code(&reply), -32602);
}

fn status_changes_reach_the_standalone_stream(rt: Rt) {
    let server = start(rt, &Dropped::default(), ServerConfig::default());
    let s = session(&server);
    let mut stream = Conn::connect(server.addr);
    let headers = [
        ("accept", "text/event-stream"),
        ("mcp-session-id", s.id.as_str()),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    stream.send("GET", "/mcp", &headers, "");
    assert!(stream.read_head().is_sse());
    // The call's progress token stays valid for the task's life.
    let reply = rpc(
        &s,
        "tools/call",
        json!({"name": "count", "arguments": {"to": 2}, "task": {},
               "_meta": {"progressToken": "p"}}),
    );
    let id = id_of(&reply["result"]["task"]);
    let start = std::time::Instant::now();
    let mut progress = Vec::new();
    loop {
        let note = next_message(&mut stream);
        if note["method"] == "notifications/progress" {
            assert_eq!(note["params"]["progressToken"], "p", "{note}");
            assert_eq!(
                note["params"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"],
                json!(id),
                "{note}"
            );
            progress.push(note["params"]["progress"].clone());
            continue;
        }
        assert_eq!(note["method"], "notifications/tasks/status", "{note}");
        assert_eq!(note["params"]["taskId"], json!(id));
        assert!(note["params"].get("_meta").is_none(), "{note}");
        assert!(note["params"]["ttl"].is_number());
        if note["params"]["status"] == "completed" {
            break;
        }
        assert!(start.elapsed() < tests::DEADLINE);
    }
    assert_eq!(progress, [json!(1.0), json!(2.0)]);
}

fn the_eras_never_mix(rt: Rt) {
    let server = start(rt, &Dropped::default(), ServerConfig::default());
    let s = session(&server);
    let id = id_of(&create(&s, "forever", json!({})));
    // A stateless request declaring the extension cannot reach it.
    let reply = stateless(server.addr, "tasks/get", json!({"taskId": id}));
    assert_eq!(code(&reply), -32602, "{reply}");
    // Its tools/call is the extension's flat shape, `task` ignored; its
    // tools/list has no execution; its discover no `capabilities.tasks`.
    let call = json!({"name": "count", "arguments": {"to": 1}, "task": {"ttl": 1000}});
    let created = stateless(server.addr, "tools/call", call);
    assert_eq!(created["result"]["resultType"], "task", "{created}");
    assert!(created["result"].get("task").is_none());
    assert!(created["result"]["ttlMs"].is_number());
    let flat = created["result"]["taskId"].as_str().unwrap().to_owned();
    let tools = stateless(server.addr, "tools/list", json!({}));
    for tool in tools["result"]["tools"].as_array().unwrap() {
        assert!(tool.get("execution").is_none(), "{tool}");
    }
    let discovered = stateless(server.addr, "server/discover", json!({}));
    assert!(discovered["result"]["capabilities"].get("tasks").is_none());
    for method in ["tasks/list", "tasks/result"] {
        let reply = stateless(server.addr, method, json!({"taskId": flat}));
        assert_eq!(code(&reply), -32601, "{method}: {reply}");
    }
    // And the session cannot reach the extension's task, nor list it.
    let reply = rpc(&s, "tasks/get", json!({"taskId": flat}));
    assert_eq!(code(&reply), -32602, "{reply}");
    let listed = rpc(&s, "tasks/list", json!({}))["result"]["tasks"].clone();
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["taskId"], json!(id));
    // An older session has no tasks at all: no capability, no flag, the
    // methods unknown, `task` ignored.
    let old = Session::initialize_with(server.addr, "2025-06-18", json!({}));
    let tools = rpc(&old, "tools/list", json!({}))["result"]["tools"].clone();
    for tool in tools.as_array().unwrap() {
        assert!(tool.get("execution").is_none(), "{tool}");
    }
    let reply = rpc(&old, "tasks/get", json!({"taskId": id}));
    assert_eq!(code(&reply), -32601, "{reply}");
    let direct = rpc(
        &old,
        "tools/call",
        json!({"name": "count", "arguments": {"to": 1}, "task": {"ttl": 1000}}),
    );
    assert_eq!(direct["result"]["content"][0]["text"], "counted to 1");
    let reply = rpc(&old, "tools/call", json!({"name": "confirm"}));
    assert_eq!(code(&reply), -32601, "{reply}");
    assert!(
        reply["error"].get("data").is_none(),
        "no extension named: {reply}"
    );
}

fn a_waiting_tasks_result_ends_with_the_time_to_live(rt: Rt) {
    let server = start(rt, &Dropped::default(), ServerConfig::default());
    let s = session(&server);
    // The shortest time to live granted: a second.
    let reply = rpc(
        &s,
        "tools/call",
        json!({"name": "forever", "task": {"ttl": 1}}),
    );
    let id = id_of(&reply["result"]["task"]);
    let started = std::time::Instant::now();
    let result = rpc(&s, "tasks/result", json!({"taskId": id}));
    assert_eq!(code(&result), -32602, "{result}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by the TTL"
    );
    let reply = rpc(&s, "tasks/get", json!({"taskId": id}));
    assert_eq!(code(&reply), -32602, "gone: {reply}");
}
