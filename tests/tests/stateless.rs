//! The stateless revision (2026-07-28) beside the session era on one
//! endpoint, through real sockets on 127.0.0.1, on smol and on tokio: how
//! each request's era is told, the routing headers, the revision's errors,
//! multi round-trip requests, `subscriptions/listen`, and a closed response
//! cancelling its handler.

use std::time::Duration;

use serde_json::{Value, json};
use switchboard_core::stateless::RequestStateKeys;
use switchboard_core::{HttpConfig, ServerConfig};
use tests::client::Conn;
use tests::server::{POST_HEADERS, Rt, TestServer, stateless, stateless_headers, stateless_meta};

tests::on_both_runtimes!(
    each_request_is_told_its_era,
    routing_headers_must_match_the_body,
    the_revision_errors_carry_their_data,
    multi_round_trip_requests_resume_and_refuse_bad_state,
    request_state_over_its_limit_is_refused_at_once,
    expired_state_is_refused,
    a_retry_finishes_on_another_replica_across_a_key_rotation,
    a_listen_stream_hears_a_change_made_in_the_other_era,
    a_closed_stream_cancels_its_handler,
    a_stateless_only_endpoint_refuses_the_session_era,
    a_session_only_endpoint_reads_no_stateless_meta,
);

/// A change to a request's headers.
type Change = Box<dyn Fn(&mut Vec<(String, String)>)>;

/// POSTs `body` with `headers` and returns the status and the JSON body.
fn post(server: &TestServer, headers: &[(&str, &str)], body: &Value) -> (u16, Value) {
    let reply = server
        .conn()
        .request("POST", "/mcp", headers, &body.to_string());
    let json = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    (reply.status(), json)
}

/// The error code of a reply (0 for none).
fn code(json: &Value) -> i64 {
    json["error"]["code"].as_i64().unwrap_or_default()
}

fn each_request_is_told_its_era(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    // server/discover, the probe every auto-mode client sends first.
    let reply = stateless(server.addr, 1, "server/discover", json!({}));
    assert_eq!(reply.status(), 200);
    assert!(
        reply.head.header("mcp-session-id").is_none(),
        "no session minted"
    );
    let found = reply.json();
    let result = &found["result"];
    assert_eq!(result["resultType"], "complete");
    assert_eq!(result["supportedVersions"][0], "2026-07-28");
    assert!(
        result["supportedVersions"]
            .as_array()
            .unwrap()
            .contains(&json!("2025-11-25"))
    );
    assert_eq!(
        result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"],
        "http-test"
    );
    assert_eq!(
        (result["ttlMs"].clone(), result["cacheScope"].clone()),
        (json!(0), json!("private"))
    );
    assert!(result["capabilities"]["tools"].is_object());

    // A stateless call, and the same in a session: resultType only in the first.
    let call = json!({"name": "echo", "arguments": {"text": "hi"}});
    let reply = stateless(server.addr, 2, "tools/call", call.clone()).json();
    assert_eq!(reply["result"]["resultType"], "complete");
    assert_eq!(reply["result"]["content"][0]["text"], "hi");
    let session = server.session();
    let legacy = session.call(3, "tools/call", call);
    assert!(
        legacy[0]["result"].get("resultType").is_none(),
        "{legacy:?}"
    );

    let tools_list = |meta: Value| json!({"jsonrpc": "2.0", "id": 4, "method": "tools/list", "params": {"_meta": meta}});
    let headers = stateless_headers("tools/list", None);
    let headers = tests::server::header_refs(&headers);
    // The version key present but the rest of _meta incomplete: 400, never a fall-back.
    let (status, json) = post(
        &server,
        &headers,
        &tools_list(json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28"})),
    );
    assert_eq!(
        (status, code(&json), json["id"].clone()),
        (400, -32602, json!(4))
    );
    // A stateless header on a body without stateless _meta: 400/-32602.
    let (status, json) = post(&server, &headers, &tools_list(json!({"progressToken": 1})));
    assert_eq!((status, code(&json)), (400, -32602));
    // initialize under a stateless header: 400/-32020.
    let init = json!({"jsonrpc": "2.0", "id": 5, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let mut init_headers = POST_HEADERS.to_vec();
    init_headers.push(("mcp-protocol-version", "2026-07-28"));
    let (status, json) = post(&server, &init_headers, &init);
    assert_eq!((status, code(&json)), (400, -32020));
    // Without it, initialize opens a session as ever.
    let (status, _) = post(&server, &POST_HEADERS, &init);
    assert_eq!(status, 200);
    // Methods the revision removed: 404/-32601.
    for method in [
        "initialize",
        "ping",
        "logging/setLevel",
        "resources/subscribe",
    ] {
        let reply = stateless(server.addr, 6, method, json!({"uri": "test://a"}));
        assert_eq!(
            (reply.status(), code(&reply.json())),
            (404, -32601),
            "{method}"
        );
    }
    // A client that takes only SSE: an error still has its status (as JSON,
    // like every refusal); a result streams, and the stream ends with it.
    let sse_only = |method: &str, params: Value| {
        let mut h = stateless_headers(method, params["name"].as_str());
        h.retain(|(k, _)| k != "accept");
        h.push(("accept".into(), "text/event-stream".into()));
        let h = tests::server::header_refs(&h);
        let mut params = params;
        params["_meta"] = stateless_meta(json!({}));
        let body = json!({"jsonrpc": "2.0", "id": 10, "method": method, "params": params});
        server.conn().request("POST", "/mcp", &h, &body.to_string())
    };
    let reply = sse_only("unknown/method", json!({}));
    assert_eq!((reply.status(), code(&reply.json())), (404, -32601));
    let reply = sse_only(
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "s"}}),
    );
    assert_eq!(reply.head.header("content-type"), Some("text/event-stream"));
    let messages = reply.messages();
    assert_eq!(
        messages.last().unwrap()["result"]["content"][0]["text"],
        "s"
    );
    // GET stays on the session era: no session, 400 as before.
    let mut conn = server.conn();
    let reply = conn.request("GET", "/mcp", &[("accept", "text/event-stream")], "");
    assert_eq!(reply.status(), 400);
    // A missing resource is -32602 with its URI, in both eras.
    let missing = stateless(
        server.addr,
        7,
        "resources/read",
        json!({"uri": "test://none"}),
    )
    .json();
    assert_eq!(
        (code(&missing), missing["error"]["data"]["uri"].clone()),
        (-32602, json!("test://none"))
    );
    let missing = session.call(8, "resources/read", json!({"uri": "test://none"}));
    assert_eq!(code(&missing[0]), -32602);
}

fn routing_headers_must_match_the_body(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "x"}, "_meta": stateless_meta(json!({}))}});
    let base = stateless_headers("tools/call", Some("echo"));
    let with = |change: &Change| {
        let mut h = base.clone();
        change(&mut h);
        let h = tests::server::header_refs(&h);
        post(&server, &h, &body)
    };
    let set = |name: &'static str, value: &'static str| {
        move |h: &mut Vec<(String, String)>| {
            h.retain(|(k, _)| k != name);
            if !value.is_empty() {
                h.push((name.into(), value.into()));
            }
        }
    };
    let cases: [(&str, Change, u16, i64); 9] = [
        ("as sent", Box::new(|_| {}), 200, 0),
        (
            "name case-insensitive, value trimmed",
            Box::new(set("mcp-name", "  echo  ")),
            200,
            0,
        ),
        (
            "base64 value",
            Box::new(set("mcp-name", "=?base64?ZWNobw==?=")),
            200,
            0,
        ),
        (
            "missing method",
            Box::new(set("mcp-method", "")),
            400,
            -32020,
        ),
        (
            "method case matters",
            Box::new(set("mcp-method", "TOOLS/CALL")),
            400,
            -32020,
        ),
        (
            "wrong name",
            Box::new(set("mcp-name", "other")),
            400,
            -32020,
        ),
        ("missing name", Box::new(set("mcp-name", "")), 400, -32020),
        (
            "bad base64",
            Box::new(set("mcp-name", "=?base64?ZWNobw?=")),
            400,
            -32020,
        ),
        (
            "version mismatch",
            Box::new(set("mcp-protocol-version", "2025-11-25")),
            400,
            -32020,
        ),
    ];
    for (what, change, status, want) in cases {
        let (got, json) = with(&change);
        assert_eq!((got, code(&json)), (status, want), "{what}: {json}");
        if status != 200 {
            assert_eq!(json["id"], 1, "{what}: the id is echoed");
        }
    }
    a_read_is_named_by_its_uri(&server);
}

/// `resources/read` is routed by its `uri`: a decoy `name` that matches
/// `Mcp-Name` must not pass (a balancer routing by the header would
/// disagree with the read).
fn a_read_is_named_by_its_uri(server: &TestServer) {
    let body = json!({"jsonrpc": "2.0", "id": 9, "method": "resources/read",
        "params": {"uri": "test://a", "name": "decoy", "_meta": stateless_meta(json!({}))}});
    for (name, status, want) in [("decoy", 400, -32020), ("test://a", 200, 0)] {
        let h = stateless_headers("resources/read", Some(name));
        let h = tests::server::header_refs(&h);
        let (got, json) = post(server, &h, &body);
        assert_eq!(
            (got, code(&json)),
            (status, want),
            "Mcp-Name {name}: {json}"
        );
    }
}

fn the_revision_errors_carry_their_data(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    // Unsupported: header and _meta agree on a revision we do not serve.
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "server/discover", "params": {"_meta": {
        "io.modelcontextprotocol/protocolVersion": "v999.0.0",
        "io.modelcontextprotocol/clientCapabilities": {}}}});
    let mut headers = stateless_headers("server/discover", None);
    headers.retain(|(k, _)| k != "mcp-protocol-version");
    headers.push(("mcp-protocol-version".into(), "v999.0.0".into()));
    let h = tests::server::header_refs(&headers);
    let (status, json) = post(&server, &h, &body);
    assert_eq!((status, code(&json)), (400, -32022));
    assert_eq!(
        json["error"]["data"],
        json!({"supported": ["2026-07-28"], "requested": "v999.0.0"})
    );
    // The header says 2026-07-28, _meta another: a mismatch, checked first.
    let h = stateless_headers("server/discover", None);
    let h = tests::server::header_refs(&h);
    let (status, json) = post(&server, &h, &body);
    assert_eq!((status, code(&json)), (400, -32020));
    // A tool that needs sampling, from a client that declared none: -32021.
    let params =
        json!({"name": "sample", "arguments": {"text": "x"}, "_meta": stateless_meta(json!({}))});
    let reply = stateless(server.addr, 2, "tools/call", params);
    let json = reply.json();
    // The sample tool reports the failure as a tool error; ask's input does not.
    assert_eq!(reply.status(), 200, "{json}");
    let params = json!({"name": "ask", "_meta": stateless_meta(json!({"sampling": {}}))});
    let reply = stateless(server.addr, 3, "tools/call", params);
    let json = reply.json();
    assert_eq!((reply.status(), code(&json)), (400, -32021), "{json}");
    assert_eq!(
        json["error"]["data"]["requiredCapabilities"],
        json!({"elicitation": {}})
    );
    assert_eq!(json["id"], 3);
}

/// Calls `ask` statelessly with `extra` params; returns status and JSON.
fn ask(server: &TestServer, id: i64, extra: Value) -> (u16, Value) {
    let mut params = json!({"name": "ask"});
    for (k, v) in extra.as_object().unwrap() {
        params[k] = v.clone();
    }
    let reply = stateless(server.addr, id, "tools/call", params);
    (reply.status(), reply.json())
}

fn multi_round_trip_requests_resume_and_refuse_bad_state(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let (status, first) = ask(&server, 1, json!({}));
    assert_eq!(status, 200);
    let result = &first["result"];
    assert_eq!(result["resultType"], "input_required", "{first}");
    assert_eq!(
        result["inputRequests"]["name"]["method"],
        "elicitation/create"
    );
    assert!(
        result.get("ttlMs").is_none(),
        "no caching hints on input_required"
    );
    let state = result["requestState"].as_str().unwrap().to_owned();
    let answer = json!({"name": {"action": "accept", "content": {"name": "Ada"}}});
    // The retry: a new id, the answer and the state echoed.
    let (_, done) = ask(
        &server,
        2,
        json!({"inputResponses": answer, "requestState": state}),
    );
    assert_eq!(done["result"]["resultType"], "complete", "{done}");
    assert_eq!(done["result"]["content"][0]["text"], "hello Ada");
    // Tampered: one character more.
    let (_, tampered) = ask(
        &server,
        3,
        json!({"inputResponses": answer, "requestState": format!("{state}x")}),
    );
    assert_eq!(code(&tampered), -32602, "{tampered}");
    // Foreign: state sealed for another tool's params.
    let other = stateless(
        server.addr,
        4,
        "tools/call",
        json!({"name": "ask", "arguments": {"x": 1}}),
    )
    .json();
    let foreign = other["result"]["requestState"].as_str().unwrap().to_owned();
    let (_, refused) = ask(
        &server,
        5,
        json!({"inputResponses": answer, "requestState": foreign}),
    );
    assert_eq!(code(&refused), -32602, "{refused}");
    // Sealed by a server with other keys (a replica not sharing the keyring).
    let elsewhere = TestServer::start_with(
        rt,
        HttpConfig::default(),
        ServerConfig::default().request_state_keys(RequestStateKeys::new([9u8; 32]).unwrap()),
    );
    let (_, refused) = ask(
        &elsewhere,
        6,
        json!({"inputResponses": answer, "requestState": state}),
    );
    assert_eq!(code(&refused), -32602, "{refused}");
    // A missing answer is asked again; an extra one is ignored; a malformed one is refused.
    let (_, again) = ask(
        &server,
        7,
        json!({"inputResponses": {"other": {"action": "accept"}}}),
    );
    assert_eq!(again["result"]["resultType"], "input_required");
    let (_, malformed) = ask(&server, 8, json!({"inputResponses": {"name": 5}}));
    assert_eq!(code(&malformed), -32602);
    // The same handler in a session: a real elicitation on the call's stream.
    let session = tests::server::Session::initialize_with(
        server.addr,
        "2025-11-25",
        json!({"elicitation": {}}),
    );
    let mut call = server.conn();
    let msg = json!({"jsonrpc": "2.0", "id": 9, "method": "tools/call", "params": {"name": "ask"}});
    call.send("POST", "/mcp", &session.headers(), &msg.to_string());
    let head = call.read_head();
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    let request = loop {
        let e = call.next_event().expect("the elicitation");
        if !e.data.is_empty() {
            break e.json();
        }
    };
    assert_eq!(request["method"], "elicitation/create");
    let reply = json!({"jsonrpc": "2.0", "id": request["id"], "result": {"action": "accept", "content": {"name": "Bo"}}});
    assert_eq!(session.post(&mut server.conn(), &reply).status(), 202);
    assert_eq!(
        call.next_event().unwrap().json()["result"]["content"][0]["text"],
        "hello Bo"
    );
}

/// The rule for state that could not come back: a round whose answers so
/// far would seal into a `requestState` longer than the limit fails at once
/// with `-32602` naming it; one just under the limit goes round and
/// finishes.
fn request_state_over_its_limit_is_refused_at_once(rt: Rt) {
    let limit = 4096;
    let server = TestServer::start_with(
        rt,
        HttpConfig::default(),
        ServerConfig::default().max_request_state_bytes(limit),
    );
    let call = |id: i64, extra: Value| {
        let mut params = json!({"name": "ask_twice"});
        for (k, v) in extra.as_object().unwrap() {
            params[k] = v.clone();
        }
        stateless(server.addr, id, "tools/call", params).json()
    };
    let first = call(1, json!({}));
    assert_eq!(
        first["result"]["inputRequests"]["name"]["method"],
        "elicitation/create"
    );
    // 2,500 characters of name seal into about 3,400 bytes: under the limit.
    let name = "n".repeat(2500);
    let answer = json!({"name": {"action": "accept", "content": {"name": name}}});
    let second = call(2, json!({"inputResponses": answer}));
    let state = second["result"]["requestState"]
        .as_str()
        .expect("a state")
        .to_owned();
    assert!(state.len() <= limit, "{}", state.len());
    let city = json!({"city": {"action": "accept", "content": {"city": "Oslo"}}});
    let done = call(3, json!({"inputResponses": city, "requestState": state}));
    assert_eq!(
        done["result"]["content"][0]["text"],
        format!("{name} from Oslo"),
        "{done}"
    );
    // 3,200 characters seal into more than 4,096 bytes: refused, not sealed.
    let name = "n".repeat(3200);
    let answer = json!({"name": {"action": "accept", "content": {"name": name}}});
    let over = call(4, json!({"inputResponses": answer}));
    assert_eq!(code(&over), -32602, "{over}");
    let message = over["error"]["message"].as_str().unwrap();
    assert!(message.contains("4096-byte limit"), "{message}");
    assert!(over.get("result").is_none());
}

/// Replicas sharing a keyring: a first leg served by one is finished by
/// another, also in the middle of a rotation (the second already has a new
/// current key and the old one as previous), and a third whose keyring no
/// longer holds the old key refuses it.
fn a_retry_finishes_on_another_replica_across_a_key_rotation(rt: Rt) {
    let keys = |current: u8, previous: Option<u8>| {
        let keys = RequestStateKeys::new([current; 32]).unwrap();
        let keys = match previous {
            Some(p) => keys.with_previous([p; 32]).unwrap(),
            None => keys,
        };
        ServerConfig::default().request_state_keys(keys)
    };
    let replica = |config| TestServer::start_with(rt, HttpConfig::default(), config);
    let (a, b, rotated, done) = (
        replica(keys(1, None)),
        replica(keys(1, None)),
        replica(keys(2, Some(1))),
        replica(keys(3, Some(2))),
    );
    let answer = json!({"name": {"action": "accept", "content": {"name": "Ada"}}});
    let state = |server: &TestServer, id| {
        let (_, first) = ask(server, id, json!({}));
        first["result"]["requestState"].as_str().unwrap().to_owned()
    };
    for (finisher, id) in [(&b, 2), (&rotated, 4)] {
        let sealed = state(&a, id - 1);
        let (_, finished) = ask(
            finisher,
            id,
            json!({"inputResponses": answer, "requestState": sealed}),
        );
        assert_eq!(
            finished["result"]["content"][0]["text"], "hello Ada",
            "{finished}"
        );
    }
    // Sealed with the rotated replica's new key: the old replicas cannot
    // open it, the next rotation still can.
    let sealed = state(&rotated, 5);
    let (_, refused) = ask(
        &a,
        6,
        json!({"inputResponses": answer, "requestState": sealed}),
    );
    assert_eq!(code(&refused), -32602, "{refused}");
    let (_, finished) = ask(
        &done,
        7,
        json!({"inputResponses": answer, "requestState": sealed}),
    );
    assert_eq!(
        finished["result"]["content"][0]["text"], "hello Ada",
        "{finished}"
    );
    // Two rotations on, the first key is gone.
    let sealed = state(&a, 8);
    let (_, refused) = ask(
        &done,
        9,
        json!({"inputResponses": answer, "requestState": sealed}),
    );
    assert_eq!(code(&refused), -32602, "{refused}");
}

fn expired_state_is_refused(rt: Rt) {
    let server = TestServer::start_with(
        rt,
        HttpConfig::default(),
        ServerConfig::default().request_state_ttl(Duration::from_secs(1)),
    );
    let (_, first) = ask(&server, 1, json!({}));
    let state = first["result"]["requestState"].clone();
    // Expiry is kept in whole seconds of the wall clock: two and a bit is past it.
    std::thread::sleep(Duration::from_millis(2_100));
    let answer = json!({"name": {"action": "accept", "content": {"name": "Ada"}}});
    let (_, late) = ask(
        &server,
        2,
        json!({"inputResponses": answer, "requestState": state}),
    );
    assert_eq!(code(&late), -32602, "{late}");
    assert!(
        late["error"]["message"]
            .as_str()
            .unwrap()
            .contains("expired")
    );
}

/// Opens a listen stream with `filter`; returns the connection, positioned
/// after the acknowledgement, and the acknowledgement.
fn listen(server: &TestServer, id: i64, filter: Value) -> (Conn, Value) {
    let mut conn = server.conn();
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "subscriptions/listen",
        "params": {"notifications": filter, "_meta": stateless_meta(json!({}))}});
    let h = stateless_headers("subscriptions/listen", None);
    let h = tests::server::header_refs(&h);
    conn.send("POST", "/mcp", &h, &body.to_string());
    let head = conn.read_head();
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    assert_eq!(head.header("x-accel-buffering"), Some("no"));
    let ack = conn.next_event().expect("the acknowledgement").json();
    (conn, ack)
}

fn a_listen_stream_hears_a_change_made_in_the_other_era(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let (mut tools, ack) = listen(
        &server,
        70,
        json!({"toolsListChanged": true, "unknown": true}),
    );
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    assert_eq!(
        ack["params"]["notifications"],
        json!({"toolsListChanged": true})
    );
    assert_eq!(
        ack["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        70
    );
    let (mut prompts, _) = listen(&server, 71, json!({"promptsListChanged": true}));
    // A client that takes only JSON could never hear anything: 406.
    let body = json!({"jsonrpc": "2.0", "id": 72, "method": "subscriptions/listen",
        "params": {"notifications": {"toolsListChanged": true}, "_meta": stateless_meta(json!({}))}});
    let mut h = stateless_headers("subscriptions/listen", None);
    h.retain(|(k, _)| k != "accept");
    h.push(("accept".into(), "application/json".into()));
    let h = tests::server::header_refs(&h);
    let (status, json) = post(&server, &h, &body);
    assert_eq!((status, code(&json)), (406, -32600));
    // More resource subscriptions than a session may hold: refused.
    let uris: Vec<String> = (0..1_025).map(|i| format!("test://r/{i}")).collect();
    let body = json!({"jsonrpc": "2.0", "id": 73, "method": "subscriptions/listen",
        "params": {"notifications": {"resourceSubscriptions": uris}, "_meta": stateless_meta(json!({}))}});
    let h = stateless_headers("subscriptions/listen", None);
    let h = tests::server::header_refs(&h);
    let (_, json) = post(&server, &h, &body);
    assert_eq!(code(&json), -32602, "{json}");
    // A session-era client's tool call announces the change.
    let session = server.session();
    assert_eq!(session.tool_text(1, "announce", json!({})), "announced");
    let heard = tools.next_event().expect("the change").json();
    assert_eq!(heard["method"], "notifications/tools/list_changed");
    assert_eq!(
        heard["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        70
    );
    // The prompts listener heard nothing; a graceful close ends both with
    // their complete result.
    server.shut_down();
    let end = prompts.next_event().expect("the complete result").json();
    assert_eq!(end["id"], 71);
    assert_eq!(end["result"]["resultType"], "complete");
    assert_eq!(
        end["result"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        71
    );
    let end = tools.next_event().expect("the complete result").json();
    assert_eq!(end["id"], 70);
}

fn a_closed_stream_cancels_its_handler(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let mut conn = server.conn();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
        "name": "guarded", "arguments": {"gate": "g"},
        "_meta": {"progressToken": 1, "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                  "io.modelcontextprotocol/clientCapabilities": {}}}});
    let h = stateless_headers("tools/call", Some("guarded"));
    let h = tests::server::header_refs(&h);
    conn.send("POST", "/mcp", &h, &body.to_string());
    let head = conn.read_head();
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    let progress = conn.next_event().expect("progress").json();
    assert_eq!(progress["method"], "notifications/progress");
    assert!(!server.gates.is_open("dropped:g"), "still running");
    drop(conn);
    assert!(
        tests::eventually(|| server.gates.is_open("dropped:g")),
        "the handler is dropped when its stream closes"
    );
}

fn a_stateless_only_endpoint_refuses_the_session_era(rt: Rt) {
    let server = TestServer::start_with(
        rt,
        HttpConfig::default(),
        ServerConfig::default().eras(switchboard_core::stateless::Eras::StatelessOnly),
    );
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let (status, json) = post(&server, &POST_HEADERS, &init);
    assert_eq!((status, code(&json)), (400, -32022));
    assert_eq!(json["error"]["data"]["supported"], json!(["2026-07-28"]));
    let reply = server
        .conn()
        .request("GET", "/mcp", &[("accept", "text/event-stream")], "");
    assert_eq!(reply.status(), 405);
    let reply = server
        .conn()
        .request("DELETE", "/mcp", &[("mcp-session-id", "x")], "");
    assert_eq!(reply.status(), 405);
    let discover = stateless(server.addr, 2, "server/discover", json!({})).json();
    assert_eq!(
        discover["result"]["supportedVersions"],
        json!(["2026-07-28"])
    );
}

fn a_session_only_endpoint_reads_no_stateless_meta(rt: Rt) {
    let server = TestServer::start_with(
        rt,
        HttpConfig::default(),
        ServerConfig::default().eras(switchboard_core::stateless::Eras::SessionOnly),
    );
    // The stateless header names no revision this endpoint serves: 400, as
    // any unsupported version is; no discover, no stateless call.
    let reply = stateless(server.addr, 1, "server/discover", json!({}));
    assert_eq!((reply.status(), code(&reply.json())), (400, -32600));
    let reply = stateless(
        server.addr,
        2,
        "tools/call",
        json!({"name": "echo", "arguments": {"text": "x"}}),
    );
    assert_eq!(reply.status(), 400);
    // Sessions serve as ever, and a session-era body's `_meta` is not read.
    let session = server.session();
    let call =
        json!({"name": "echo", "arguments": {"text": "y"}, "_meta": stateless_meta(json!({}))});
    let reply = session.call(3, "tools/call", call);
    assert_eq!(reply[0]["result"]["content"][0]["text"], "y");
    assert!(reply[0]["result"].get("resultType").is_none());
}
