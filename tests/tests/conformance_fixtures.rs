//! The `conformance` example server checked strictly, where the official
//! suite's checks are weak: exact texts, exact counts of log and progress
//! notifications, `isError`, exactly `{}`, elicitation schemas verbatim.
//! The server runs as a child process on each runtime.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};
use tests::client::Conn;
use tests::server::Session;

const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(runtime: &str) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_conformance-under-test"))
        .args(["--runtime", runtime, "--addr", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("the conformance server starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("listening on http://")
        .expect("the URL line");
    let addr = url.strip_suffix("/mcp").unwrap().parse().unwrap();
    Server { child, addr }
}

fn session(server: &Server) -> Session {
    Session::initialize_with(
        server.addr,
        "2025-11-25",
        json!({"sampling": {}, "elicitation": {}}),
    )
}

fn result(messages: &[Value]) -> &Value {
    &messages.last().expect("a reply")["result"]
}

fn tool(s: &Session, name: &str, args: Value) -> Value {
    result(&s.call(1, "tools/call", json!({"name": name, "arguments": args}))).clone()
}

fn tools_are_exact(s: &Session) {
    let listed = result(&s.call(1, "tools/list", json!({}))).clone();
    let tools = listed["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "test_simple_text",
            "test_image_content",
            "test_audio_content",
            "test_embedded_resource",
            "test_multiple_content_types",
            "test_error_handling",
            "test_reconnection",
            "test_tool_with_logging",
            "test_tool_with_progress",
            "test_sampling",
            "test_elicitation",
            "test_elicitation_sep1034_defaults",
            "test_elicitation_sep1330_enums",
            "json_schema_2020_12_tool",
            "test_missing_capability",
            "test_streaming_elicitation",
            "test_logging_tool",
            "test_trigger_tool_change",
            "test_trigger_prompt_change",
            "test_input_required_result_elicitation",
            "test_input_required_result_sampling",
            "test_input_required_result_list_roots",
            "test_input_required_result_request_state",
            "test_input_required_result_multiple_inputs",
            "test_input_required_result_multi_round",
            "test_input_required_result_tampered_state",
            "test_input_required_result_capabilities",
            "test_custom_headers",
            "greet",
            "slow_compute",
            "failing_job",
            "protocol_error_job",
            "confirm_delete",
            "multi_input",
            "test_tool_with_task"
        ]
    );
    for t in tools {
        assert!(!t["description"].as_str().unwrap().is_empty(), "{t}");
        assert_eq!(t["inputSchema"]["type"], "object");
    }
    let schema = tools
        .iter()
        .find(|t| t["name"] == "json_schema_2020_12_tool")
        .unwrap();
    assert_eq!(
        schema["inputSchema"],
        json!({"$schema":"https://json-schema.org/draft/2020-12/schema","type":"object",
            "$defs":{"address":{"$anchor":"addressDef","type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"}}}},
            "properties":{"name":{"type":"string"},"address":{"$ref":"#/$defs/address"},
                "contactMethod":{"type":"string","enum":["phone","email"]},"phone":{"type":"string"},"email":{"type":"string"}},
            "allOf":[{"anyOf":[{"required":["phone"]},{"required":["email"]}]}],
            "if":{"properties":{"contactMethod":{"const":"phone"}},"required":["contactMethod"]},
            "then":{"required":["phone"]},"else":{"required":["email"]},
            "additionalProperties":false})
    );
    // Called with no `arguments` key at all, as the suite does.
    let r = s.call(2, "tools/call", json!({"name": "test_simple_text"}));
    assert_eq!(
        result(&r),
        &json!({"content": [{"type": "text", "text": "This is a simple text response for testing."}]})
    );
    assert_eq!(
        tool(s, "test_image_content", json!({})),
        json!({"content": [{"type": "image", "data": PNG, "mimeType": "image/png"}]})
    );
    assert_eq!(
        tool(s, "test_audio_content", json!({}))["content"][0]["mimeType"],
        "audio/wav"
    );
    assert_eq!(
        tool(s, "test_embedded_resource", json!({})),
        json!({"content": [{"type": "resource", "resource": {"uri": "test://embedded-resource", "mimeType": "text/plain", "text": "This is an embedded resource content."}}]})
    );
    let mixed = tool(s, "test_multiple_content_types", json!({}));
    let kinds: Vec<&str> = mixed["content"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["text", "image", "resource"]);
    assert_eq!(
        tool(s, "test_error_handling", json!({})),
        json!({"isError": true, "content": [{"type": "text", "text": "This tool intentionally returns an error for testing"}]})
    );
}

fn empty_results_are_exactly_empty(s: &Session) {
    assert_eq!(result(&s.call(1, "ping", json!({}))), &json!({}));
    assert_eq!(
        result(&s.call(2, "logging/setLevel", json!({"level": "debug"}))),
        &json!({})
    );
    assert_eq!(
        result(&s.call(
            3,
            "resources/subscribe",
            json!({"uri": "test://watched-resource"})
        )),
        &json!({})
    );
    assert_eq!(
        result(&s.call(
            4,
            "resources/unsubscribe",
            json!({"uri": "test://watched-resource"})
        )),
        &json!({})
    );
}

fn logs_and_progress_are_counted(s: &Session) {
    s.call(1, "logging/setLevel", json!({"level": "debug"}));
    let messages = s.call(
        2,
        "tools/call",
        json!({"name": "test_tool_with_logging", "arguments": {}}),
    );
    let logs: Vec<&Value> = messages
        .iter()
        .filter(|m| m["method"] == "notifications/message")
        .collect();
    let texts: Vec<&Value> = logs.iter().map(|m| &m["params"]["data"]).collect();
    assert_eq!(
        texts,
        [
            &json!("Tool execution started"),
            &json!("Tool processing data"),
            &json!("Tool execution completed")
        ]
    );
    assert!(logs.iter().all(|m| m["params"]["level"] == "info"));
    assert_eq!(messages.len(), 4, "three logs, then the result");
    assert_eq!(
        result(&messages)["content"][0]["text"],
        "Tool with logging executed successfully"
    );

    let messages = s.call(
        3,
        "tools/call",
        json!({"name": "test_tool_with_progress", "arguments": {}, "_meta": {"progressToken": 3}}),
    );
    assert_eq!(
        messages.len(),
        4,
        "three progress notifications, then the result"
    );
    for (m, p) in messages.iter().zip([0.0, 50.0, 100.0]) {
        assert_eq!(m["method"], "notifications/progress");
        assert_eq!(
            m["params"],
            json!({"progressToken": 3, "progress": p, "total": 100.0})
        );
    }
    assert!(result(&messages)["isError"].is_null());
}

/// Calls `tool`, checks the elicitation request's schema verbatim, accepts
/// with `content`, and returns the tool's text.
fn elicit(s: &Session, tool: &str, args: Value, schema: Value, content: Value) -> String {
    let mut call = Conn::connect(s.addr);
    let msg = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": tool, "arguments": args}});
    call.send("POST", "/mcp", &s.headers(), &msg.to_string());
    assert_eq!(call.read_head().status, 200);
    let request = loop {
        let e = call.next_event().expect("an elicitation request");
        if !e.data.is_empty() {
            break e.json();
        }
    };
    assert_eq!(request["method"], "elicitation/create");
    assert_eq!(request["params"]["requestedSchema"], schema);
    let answer = json!({"jsonrpc": "2.0", "id": request["id"], "result": {"action": "accept", "content": content}});
    assert_eq!(s.post(&mut Conn::connect(s.addr), &answer).status(), 202);
    let reply = call.next_event().unwrap().json();
    assert_eq!(reply["result"]["isError"], Value::Null);
    reply["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn elicitation_schemas_are_verbatim(s: &Session) {
    let schema = json!({"type":"object","properties":{"username":{"type":"string","description":"User's response"},"email":{"type":"string","description":"User's email address"}},"required":["username","email"]});
    let content = json!({"username": "testuser", "email": "test@example.com"});
    let text = elicit(
        s,
        "test_elicitation",
        json!({"message": "Who are you?"}),
        schema,
        content.clone(),
    );
    assert_eq!(
        text,
        format!("User response: action=accept, content={content}")
    );

    let schema = json!({"type":"object","properties":{"name":{"type":"string","description":"User name","default":"John Doe"},"age":{"type":"integer","description":"User age","default":30},"score":{"type":"number","description":"User score","default":95.5},"status":{"type":"string","description":"User status","enum":["active","inactive","pending"],"default":"active"},"verified":{"type":"boolean","description":"Verification status","default":true}},"required":[]});
    let content = json!({"name": "Jane", "age": 25});
    let text = elicit(
        s,
        "test_elicitation_sep1034_defaults",
        json!({}),
        schema,
        content.clone(),
    );
    assert_eq!(
        text,
        format!("Elicitation completed: action=accept, content={content}")
    );

    let text = {
        let mut call = Conn::connect(s.addr);
        let msg = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "test_elicitation_sep1330_enums", "arguments": {}}});
        call.send("POST", "/mcp", &s.headers(), &msg.to_string());
        call.read_head();
        let request = loop {
            let e = call.next_event().unwrap();
            if !e.data.is_empty() {
                break e.json();
            }
        };
        let props = &request["params"]["requestedSchema"]["properties"];
        assert_eq!(
            props["untitledSingle"]["enum"],
            json!(["option1", "option2", "option3"])
        );
        assert!(
            props["untitledSingle"].get("oneOf").is_none()
                && props["untitledSingle"].get("enumNames").is_none()
        );
        assert_eq!(
            props["titledSingle"]["oneOf"][1],
            json!({"const": "value2", "title": "Second Option"})
        );
        assert!(props["titledSingle"].get("enum").is_none());
        assert_eq!(
            props["legacyEnum"]["enumNames"],
            json!(["Option One", "Option Two", "Option Three"])
        );
        assert_eq!(
            props["untitledMulti"]["items"],
            json!({"type": "string", "enum": ["option1", "option2", "option3"]})
        );
        assert_eq!(
            props["titledMulti"]["items"]["anyOf"][2],
            json!({"const": "value3", "title": "Third Choice"})
        );
        assert!(props["titledMulti"]["items"].get("enum").is_none());
        let answer =
            json!({"jsonrpc": "2.0", "id": request["id"], "result": {"action": "decline"}});
        s.post(&mut Conn::connect(s.addr), &answer);
        call.next_event().unwrap().json()["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    assert_eq!(text, "Elicitation completed: action=decline, content={}");
}

fn resources_and_prompts_are_exact(s: &Session) {
    let listed = result(&s.call(1, "resources/list", json!({}))).clone();
    let uris: Vec<&str> = listed["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["uri"].as_str().unwrap())
        .collect();
    assert_eq!(
        uris,
        [
            "test://static-text",
            "test://static-binary",
            "test://watched-resource"
        ]
    );
    assert_eq!(
        result(&s.call(2, "resources/read", json!({"uri": "test://static-text"}))),
        &json!({"contents": [{"uri": "test://static-text", "mimeType": "text/plain", "text": "This is the content of the static text resource."}]})
    );
    assert_eq!(
        result(&s.call(3, "resources/read", json!({"uri": "test://static-binary"}))),
        &json!({"contents": [{"uri": "test://static-binary", "mimeType": "image/png", "blob": PNG}]})
    );
    let t = result(&s.call(
        4,
        "resources/read",
        json!({"uri": "test://template/123/data"}),
    ))
    .clone();
    assert_eq!(t["contents"][0]["uri"], "test://template/123/data");
    assert!(t["contents"][0]["text"].as_str().unwrap().contains("123"));
    let missing = s.call(5, "resources/read", json!({"uri": "test://nope"}));
    assert_eq!(missing[0]["error"]["code"], -32602);

    let p = result(&s.call(6, "prompts/get", json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "testValue1", "arg2": "testValue2"}}))).clone();
    assert_eq!(
        p["messages"][0]["content"]["text"],
        "Prompt with arguments: arg1='testValue1', arg2='testValue2'"
    );
    let missing = s.call(
        7,
        "prompts/get",
        json!({"name": "test_prompt_with_arguments", "arguments": {"arg1": "x"}}),
    );
    assert_eq!(missing[0]["error"]["code"], -32602);
    let p = result(&s.call(8, "prompts/get", json!({"name": "test_prompt_with_embedded_resource", "arguments": {"resourceUri": "test://x"}}))).clone();
    assert_eq!(
        p["messages"][0]["content"]["resource"],
        json!({"uri": "test://x", "mimeType": "text/plain", "text": "Embedded resource content for testing."})
    );
    let p = result(&s.call(9, "prompts/get", json!({"name": "test_prompt_with_image"}))).clone();
    assert_eq!(
        p["messages"][0]["content"],
        json!({"type": "image", "data": PNG, "mimeType": "image/png"})
    );
    let c = result(&s.call(10, "completion/complete", json!({"ref": {"type": "ref/prompt", "name": "test_prompt_with_arguments"}, "argument": {"name": "arg1", "value": "testV"}}))).clone();
    assert_eq!(
        c,
        json!({"completion": {"values": ["testValue1", "testValue2"], "total": 2, "hasMore": false}})
    );
}

/// A stateless request of the tasks extension's fixtures, declaring the
/// extension unless `undeclared`; returns the status and the reply.
fn task_rpc(server: &Server, method: &str, mut params: Value, undeclared: bool) -> (u16, Value) {
    let mut caps = json!({"elicitation": {}});
    if !undeclared {
        caps["extensions"] = json!({"io.modelcontextprotocol/tasks": {}});
    }
    params["_meta"] = tests::server::stateless_meta(caps);
    let name = params
        .get("name")
        .or_else(|| params.get("taskId"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let headers = tests::server::stateless_headers(method, name.as_deref());
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let reply = Conn::connect(server.addr).request(
        "POST",
        "/mcp",
        &tests::server::header_refs(&headers),
        &body.to_string(),
    );
    (
        reply.status(),
        reply.messages().pop().unwrap_or(Value::Null),
    )
}

/// Polls task `id` until it is terminal.
fn settled(server: &Server, id: &str) -> Value {
    let start = std::time::Instant::now();
    loop {
        let task = task_rpc(server, "tasks/get", json!({"taskId": id}), false).1["result"].clone();
        if ["completed", "failed", "cancelled"].contains(&task["status"].as_str().unwrap_or("")) {
            return task;
        }
        assert!(start.elapsed() < tests::DEADLINE, "{task}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

fn task_fixtures_are_exact(server: &Server) {
    let call = |name: &str, args: Value, undeclared: bool| {
        task_rpc(
            server,
            "tools/call",
            json!({"name": name, "arguments": args}),
            undeclared,
        )
    };
    let (_, greet) = call("greet", json!({"name": "World"}), false);
    assert_eq!(greet["result"]["content"][0]["text"], "Hello, World!");
    let (_, sync) = call("slow_compute", json!({"seconds": 0, "label": "x"}), true);
    assert_eq!(
        sync["result"]["content"][0]["text"],
        "slow_compute(x) done after 0s"
    );
    let (_, created) = call("slow_compute", json!({"seconds": 0, "label": "y"}), false);
    let id = created["result"]["taskId"].as_str().unwrap().to_owned();
    let done = settled(server, &id);
    assert_eq!(
        done["result"]["content"][0]["text"],
        "slow_compute(y) done after 0s"
    );
    let (_, failing) = call("failing_job", json!({}), false);
    let failed = settled(server, failing["result"]["taskId"].as_str().unwrap());
    assert_eq!(
        (
            failed["status"].clone(),
            failed["result"]["isError"].clone()
        ),
        (json!("completed"), json!(true))
    );
    let (_, protocol) = call("protocol_error_job", json!({}), false);
    let failed = settled(server, protocol["result"]["taskId"].as_str().unwrap());
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["code"], -32603);
    assert_eq!(
        failed["statusMessage"],
        "protocol_error_job: intentional protocol-level failure"
    );
    let (status, refused) = call("failing_job", json!({}), true);
    assert_eq!(
        (status, refused["error"]["code"].clone()),
        (400, json!(-32021))
    );
    // MRTR, then a task: the name gathered in round 1 reaches the task's result.
    let (_, round1) = call("test_tool_with_task", json!({}), false);
    let round1 = &round1["result"];
    assert_eq!(round1["resultType"], "input_required");
    assert!(round1.get("taskId").is_none());
    assert_eq!(
        round1["inputRequests"]["user_name"]["method"],
        "elicitation/create"
    );
    let retry = json!({"name": "test_tool_with_task", "arguments": {},
        "inputResponses": {"user_name": {"action": "accept", "content": {"name": "Alice"}}},
        "requestState": round1["requestState"]});
    let (_, round2) = task_rpc(server, "tools/call", retry, false);
    let round2 = &round2["result"];
    assert_eq!(round2["resultType"], "task", "{round2}");
    assert!(round2.get("requestState").is_none() && round2.get("inputRequests").is_none());
    let done = settled(server, round2["taskId"].as_str().unwrap());
    assert_eq!(
        done["result"]["content"][0]["text"],
        "Hello, Alice! (async)"
    );
    // Two questions at once, answered one by one.
    let (_, multi) = call("multi_input", json!({}), false);
    let id = multi["result"]["taskId"].as_str().unwrap().to_owned();
    let start = std::time::Instant::now();
    let asked = loop {
        let task = task_rpc(server, "tasks/get", json!({"taskId": id}), false).1["result"].clone();
        if task["inputRequests"]
            .as_object()
            .is_some_and(|m| m.len() == 2)
        {
            break task;
        }
        assert!(start.elapsed() < tests::DEADLINE, "{task}");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(asked["status"], "input_required");
    let answer = |key: &str, value: &str| {
        let responses = json!({ key: {"action": "accept", "content": {"value": value}} });
        task_rpc(
            server,
            "tasks/update",
            json!({"taskId": id, "inputResponses": responses}),
            false,
        )
    };
    answer("input-a", "one");
    let half = task_rpc(server, "tasks/get", json!({"taskId": id}), false).1["result"].clone();
    let left: Vec<&String> = half["inputRequests"].as_object().unwrap().keys().collect();
    assert_eq!(left, ["input-b"]);
    answer("input-b", "two");
    let done = settled(server, &id);
    assert_eq!(
        done["result"]["content"][0]["text"],
        "multi_input: a = one, b = two"
    );
}

fn all(runtime: &str) {
    let server = start(runtime);
    let init = session(&server);
    assert_eq!(init.version, "2025-11-25");
    tools_are_exact(&session(&server));
    empty_results_are_exactly_empty(&session(&server));
    logs_and_progress_are_counted(&session(&server));
    elicitation_schemas_are_verbatim(&session(&server));
    resources_and_prompts_are_exact(&session(&server));
    task_fixtures_are_exact(&server);
}

#[test]
fn fixtures_are_exact_on_smol() {
    all("smol");
}

#[test]
fn fixtures_are_exact_on_tokio() {
    all("tokio");
}
