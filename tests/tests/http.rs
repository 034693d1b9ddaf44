//! Streamable HTTP through real sockets on 127.0.0.1. Every test body runs
//! on smol and on tokio.

use std::thread;
use std::time::Duration;

use serde_json::{Value, json};
use switchboard_core::http::DEFAULT_MAX_CONNECTIONS;
use switchboard_core::{CallToolResult, HttpConfig, ServerConfig, Tool};
use tests::client::Conn;
use tests::server::{POST_HEADERS, Rt, Session, TestServer};

tests::on_both_runtimes!(
    lifecycle,
    fifty_sessions_twenty_concurrent_calls_same_ids,
    slow_tool_holds_nobody,
    progress_before_result_on_sse,
    a_stream_written_out_whole_can_still_be_resumed,
    sampling_round_trip_on_the_call_stream,
    get_stream_receives_list_changed,
    last_event_id_replays_exactly_the_missed_events,
    sse_polling_resumes_with_the_result,
    cancellation_ends_the_call_and_frees_its_id,
    batches_only_at_2025_03_26,
    connection_cap_answers_503,
    a_client_past_its_connection_share_gets_429_until_one_closes,
    idle_streams_get_keep_alive_comments,
    graceful_shutdown_finishes_requests_and_ends_streams,
    a_call_waiting_on_the_client_is_answered_at_shutdown,
    delete_ends_streams_then_404,
    raw_statuses_then_still_serving,
    keep_alive_pipelining_and_chunked_bodies,
    session_expiry_and_cap,
    a_client_that_stops_reading_is_closed_after_the_write_timeout,
);

fn ping_works(server: &TestServer) {
    let s = server.session();
    assert_eq!(s.call(99, "ping", json!({}))[0]["result"], json!({}));
}

fn lifecycle(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let mut conn = server.conn();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let reply = conn.request("POST", "/mcp", &POST_HEADERS, &init.to_string());
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.head.header("content-type"), Some("application/json"));
    let id = reply.head.header("mcp-session-id").unwrap().to_owned();
    assert!(
        id.len() >= 32 && id.bytes().all(|b| (0x21..=0x7e).contains(&b)),
        "{id}"
    );
    let result = &reply.json()["result"];
    assert_eq!(result["protocolVersion"], "2025-06-18");
    assert_eq!(result["serverInfo"]["name"], "http-test");
    let s = Session {
        addr: server.addr,
        id,
        version: "2025-06-18".into(),
    };
    // The same keep-alive connection carries the rest.
    let r = s.post(
        &mut conn,
        &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    assert_eq!((r.status(), r.body.len()), (202, 0));
    let r = s.post(
        &mut conn,
        &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    );
    let names: Vec<Value> = r.json()["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].clone())
        .collect();
    assert_eq!(
        names,
        vec![
            json!("echo"),
            json!("gated"),
            json!("steps"),
            json!("sample"),
            json!("poll"),
            json!("ask"),
            json!("ask_twice"),
            json!("guarded"),
            json!("announce")
        ]
    );
    let r = s.post(&mut conn, &json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "hey"}}}));
    assert_eq!(r.json()["result"]["content"][0]["text"], "hey");
    let r = s.post(
        &mut conn,
        &json!({"jsonrpc": "2.0", "id": "p", "method": "ping"}),
    );
    assert_eq!(r.json(), json!({"jsonrpc": "2.0", "id": "p", "result": {}}));
    let r = conn.request("DELETE", "/mcp", &[("mcp-session-id", &s.id)], "");
    assert_eq!(r.status(), 200);
    let r = s.post(
        &mut conn,
        &json!({"jsonrpc": "2.0", "id": 4, "method": "ping"}),
    );
    assert_eq!(r.status(), 404);
    assert_eq!(r.json()["error"]["code"], -32001);
    assert!(
        tests::eventually(|| server.server.session_count() == 0),
        "the engine ends the session too"
    );
    // A failed initialize answers the error and opens no session.
    let bad =
        json!({"jsonrpc": "2.0", "id": 9, "method": "initialize", "params": {"capabilities": {}}});
    let r = conn.request("POST", "/mcp", &POST_HEADERS, &bad.to_string());
    assert_eq!(r.status(), 200);
    assert_eq!(r.json()["error"]["code"], -32602);
    assert!(r.head.header("mcp-session-id").is_none());
    assert_eq!(server.server.session_count(), 0);
}

fn fifty_sessions_twenty_concurrent_calls_same_ids(rt: Rt) {
    // A thousand connections at once, all from 127.0.0.1: this one client
    // is given the whole connection cap.
    let config = HttpConfig::default().max_connections_per_client(DEFAULT_MAX_CONNECTIONS);
    let server = TestServer::start(rt, config);
    let sessions: Vec<Session> = (0..50).map(|_| server.session()).collect();
    let workers: Vec<_> = sessions
        .into_iter()
        .enumerate()
        .map(|(si, s)| {
            thread::spawn(move || {
                // Twenty connections, all requests written before any reply is read.
                let mut conns: Vec<Conn> = (0..20).map(|_| Conn::connect(s.addr)).collect();
                for (i, conn) in conns.iter_mut().enumerate() {
                    let text = format!("session {si} call {i}");
                    let msg = json!({"jsonrpc": "2.0", "id": i, "method": "tools/call",
                        "params": {"name": "echo", "arguments": {"text": text, "ms": 20}}});
                    conn.send("POST", "/mcp", &s.headers(), &msg.to_string());
                }
                for (i, conn) in conns.iter_mut().enumerate() {
                    let reply = conn.read_reply();
                    assert_eq!(reply.status(), 200);
                    let m = reply.messages().pop().unwrap();
                    assert_eq!(m["id"], i);
                    assert_eq!(
                        m["result"]["content"][0]["text"],
                        format!("session {si} call {i}")
                    );
                }
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
}

fn slow_tool_holds_nobody(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let a = server.session();
    let b = server.session();
    let mut slow = server.conn();
    let msg = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "gated", "arguments": {"text": "slow", "gate": "g"}}});
    slow.send("POST", "/mcp", &a.headers(), &msg.to_string());
    for i in 0..20 {
        let s = if i % 2 == 0 { &a } else { &b };
        assert_eq!(
            s.tool_text(100 + i, "echo", json!({"text": format!("fast {i}")})),
            format!("fast {i}")
        );
    }
    server.gates.open("g");
    let reply = slow.read_reply();
    assert_eq!(
        reply.messages().pop().unwrap()["result"]["content"][0]["text"],
        "slow"
    );
}

fn progress_before_result_on_sse(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let s = server.session();
    server.gates.open("p");
    let mut conn = server.conn();
    let msg = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
        "params": {"name": "steps", "arguments": {"gate": "p"}, "_meta": {"progressToken": 77}}});
    let reply = s.post(&mut conn, &msg);
    assert_eq!(reply.head.header("content-type"), Some("text/event-stream"));
    let events = tests::client::parse_events(&reply.body);
    // Priming event: an id, a retry hint, empty data.
    assert_eq!(events[0].data, "");
    assert!(events[0].id.is_some() && events[0].retry.is_some());
    let messages = reply.messages();
    assert_eq!(messages.len(), 4);
    for (i, m) in messages[..3].iter().enumerate() {
        assert_eq!(m["method"], "notifications/progress");
        assert_eq!(m["params"]["progressToken"], 77);
        assert_eq!(m["params"]["progress"], json!((i + 1) as f64));
    }
    assert_eq!(messages[3]["id"], 5);
    assert_eq!(messages[3]["result"]["content"][0]["text"], "steps done");
    // Event ids are unique and name their stream.
    let ids: Vec<String> = events.iter().map(|e| e.id.clone().unwrap()).collect();
    let stream = ids[0].split('-').next().unwrap().to_owned();
    assert!(ids.iter().all(|id| id.starts_with(&format!("{stream}-"))));
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), ids.len());
}

/// A proxy between server and client may take a whole stream for a client
/// that has left: the stream is kept, and its events replay after the
/// `Last-Event-ID` the client did see.
fn a_stream_written_out_whole_can_still_be_resumed(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let s = server.session();
    server.gates.open("w");
    let msg = json!({"jsonrpc": "2.0", "id": 6, "method": "tools/call",
        "params": {"name": "steps", "arguments": {"gate": "w"}, "_meta": {"progressToken": 1}}});
    let reply = s.post(&mut server.conn(), &msg);
    let events = tests::client::parse_events(&reply.body);
    // The client saw the priming event and the first progress only.
    let seen = events[1].id.clone().expect("an event id");
    let (mut conn, head) = s.open_get(Some(&seen));
    assert_eq!(head.status, 200);
    let mut replayed = Vec::new();
    while let Some(event) = conn.next_event() {
        if !event.data.is_empty() {
            replayed.push(event.json());
        }
    }
    assert_eq!(
        replayed.len(),
        3,
        "two progress events and the result: {replayed:?}"
    );
    assert_eq!(replayed[2]["id"], 6);
    assert_eq!(replayed[2]["result"]["content"][0]["text"], "steps done");
}

fn sampling_round_trip_on_the_call_stream(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let s = server.session();
    let mut call = server.conn();
    let msg = json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "sample", "arguments": {"text": "hi"}}});
    call.send("POST", "/mcp", &s.headers(), &msg.to_string());
    let head = call.read_head();
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    let request = loop {
        let e = call
            .next_event()
            .expect("sampling request on the call's stream");
        if !e.data.is_empty() {
            break e.json();
        }
    };
    assert_eq!(request["method"], "sampling/createMessage");
    assert_eq!(request["params"]["messages"][0]["content"]["text"], "hi");
    let answer = json!({"jsonrpc": "2.0", "id": request["id"],
        "result": {"role": "assistant", "content": {"type": "text", "text": "hello back"}, "model": "m", "stopReason": "endTurn"}});
    let mut other = server.conn();
    let r = s.post(&mut other, &answer);
    assert_eq!((r.status(), r.body.len()), (202, 0));
    let result = call.next_event().expect("the result").json();
    assert_eq!(result["id"], 8);
    assert_eq!(
        result["result"]["content"][0]["text"],
        "LLM response: hello back"
    );
    assert!(
        call.next_event().is_none(),
        "the stream ends after the result"
    );
}

/// A call whose tool waits on a server→client request (sampling) when the
/// server is told to shut down: the client cannot answer any more (new
/// connections are refused), so the request fails at once and the call
/// ends with its JSON-RPC response on its stream, before the grace period
/// runs out, instead of a stream that ends without one.
fn a_call_waiting_on_the_client_is_answered_at_shutdown(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let s = server.session();
    let mut call = server.conn();
    let msg = json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "sample", "arguments": {"text": "hi"}}});
    call.send("POST", "/mcp", &s.headers(), &msg.to_string());
    let head = call.read_head();
    assert_eq!(head.header("content-type"), Some("text/event-stream"));
    let request = loop {
        let e = call.next_event().expect("the sampling request");
        if !e.data.is_empty() {
            break e.json();
        }
    };
    assert_eq!(request["method"], "sampling/createMessage");
    server.shut_down();
    let last = call
        .next_event()
        .expect("the call's response before its stream ends")
        .json();
    assert_eq!(last["id"], 8, "{last}");
    // The tool turns the failed request into an error result saying why.
    assert_eq!(last["result"]["isError"], true, "{last}");
    assert!(
        last["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("shutting down"),
        "{last}"
    );
    assert!(call.next_event().is_none(), "the stream ends after it");
}

fn get_stream_receives_list_changed(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let s = server.session();
    let (mut get, head) = s.open_get(None);
    assert_eq!(head.status, 200);
    let priming = get.next_event().unwrap();
    assert_eq!(priming.data, "");
    // Only one GET stream at a time.
    let (_, second) = s.open_get(None);
    assert_eq!(second.status, 409);
    let handle = server.server.clone();
    smol::block_on(
        handle.add_tool(Tool::new("late", "added later"), |_: Value, _ctx| async {
            Ok(CallToolResult::text("late"))
        }),
    );
    let event = get.next_event().unwrap();
    assert_eq!(event.json()["method"], "notifications/tools/list_changed");
    // Replies never go on the GET stream: a call's result comes on its own POST.
    assert_eq!(s.tool_text(1, "late", json!({})), "late");
    // Removed at run time: announced too, and gone from the list.
    assert!(smol::block_on(handle.remove_tool("late")));
    let event = get.next_event().unwrap();
    assert_eq!(event.json()["method"], "notifications/tools/list_changed");
    let listed = s.call(2, "tools/list", json!({})).pop().unwrap();
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert!(
        !names.contains(&"late") && names.contains(&"echo"),
        "{names:?}"
    );
}

fn last_event_id_replays_exactly_the_missed_events(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let s = server.session();
    let mut call = server.conn();
    let msg = json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "steps", "arguments": {"gate": "r"}, "_meta": {"progressToken": "t"}}});
    call.send("POST", "/mcp", &s.headers(), &msg.to_string());
    assert_eq!(call.read_head().status, 200);
    let _priming = call.next_event().unwrap();
    let first = call.next_event().unwrap();
    assert_eq!(first.json()["params"]["progress"], 1.0);
    let last_seen = first.id.unwrap();
    // The client goes away: not a cancellation. The handler goes on.
    drop(call);
    server.gates.open("r");
    let (mut resumed, head) = s.open_get(Some(&last_seen));
    assert_eq!(head.status, 200);
    let stream = last_seen.split('-').next().unwrap();
    let mut got = Vec::new();
    while let Some(e) = resumed.next_event() {
        // Checked as they come: another stream in its place (the standalone
        // one, had the call's been forgotten) would not end.
        assert!(
            e.id.as_deref()
                .is_some_and(|id| id.starts_with(&format!("{stream}-"))),
            "not the call's stream: {e:?}"
        );
        got.push(e);
    }
    let datas: Vec<Value> = got.iter().map(Event::json).collect();
    assert_eq!(datas.len(), 3, "{got:?}");
    assert_eq!(datas[0]["params"]["progress"], 2.0);
    assert_eq!(datas[1]["params"]["progress"], 3.0);
    assert_eq!(datas[2]["id"], 3);
    assert_eq!(datas[2]["result"]["content"][0]["text"], "steps done");
    // The standalone stream replays too: unrelated events after a given id.
    let (mut get, _) = s.open_get(None);
    let priming = get.next_event().unwrap();
    let handle = server.server.clone();
    smol::block_on(
        handle.add_tool(Tool::new("x1", "x"), |_: Value, _ctx| async {
            Ok(CallToolResult::text(""))
        }),
    );
    let e1 = get.next_event().unwrap();
    drop(get);
    smol::block_on(
        handle.add_tool(Tool::new("x2", "x"), |_: Value, _ctx| async {
            Ok(CallToolResult::text(""))
        }),
    );
    let (mut again, head) = s.open_get(e1.id.as_deref());
    assert_eq!(head.status, 200, "resuming the standalone stream");
    let e2 = again.next_event().unwrap();
    assert_eq!(e2.json()["method"], "notifications/tools/list_changed");
    assert_ne!(e2.id, e1.id);
    assert_ne!(e2.id, priming.id);
}

use tests::client::Event;

fn cancellation_ends_the_call_and_frees_its_id(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let s = server.session();
    let mut call = server.conn();
    let msg = json!({"jsonrpc": "2.0", "id": 6, "method": "tools/call",
        "params": {"name": "steps", "arguments": {"gate": "never"}, "_meta": {"progressToken": 1}}});
    call.send("POST", "/mcp", &s.headers(), &msg.to_string());
    assert_eq!(call.read_head().status, 200);
    let _priming = call.next_event().unwrap();
    // The first progress event shows the handler is running.
    assert_eq!(call.next_event().unwrap().json()["params"]["progress"], 1.0);
    let cancel =
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 6}});
    assert_eq!(s.post(&mut server.conn(), &cancel).status(), 202);
    // The stream ends with no response.
    assert!(call.next_event().is_none());
    // The id can be used again.
    assert_eq!(s.tool_text(6, "echo", json!({"text": "again"})), "again");
}

fn batches_only_at_2025_03_26(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let old = Session::initialize(server.addr, "2025-03-26");
    let batch = json!([
        {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "echo", "arguments": {"text": "a"}}},
        {"jsonrpc": "2.0", "method": "notifications/roots/list_changed"},
        {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    ]);
    let r = old.post(&mut server.conn(), &batch);
    assert_eq!(r.status(), 200);
    let replies = r.json();
    assert_eq!(replies.as_array().map(Vec::len), Some(2), "{replies}");
    assert_eq!(replies[0]["result"]["content"][0]["text"], "a");
    assert_eq!(replies[1], json!({"jsonrpc": "2.0", "id": 2, "result": {}}));
    let new = server.session();
    let r = new.post(&mut server.conn(), &batch);
    assert_eq!(r.status(), 400);
    assert_eq!(r.json()["error"]["code"], -32600);
}

fn connection_cap_answers_503(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default().max_connections(1));
    let mut first = server.conn();
    let r = first.request(
        "POST",
        "/mcp",
        &POST_HEADERS,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string(),
    );
    assert_eq!(r.status(), 400, "no session: refused, but served");
    let mut second = server.conn();
    second.send("GET", "/mcp", &[], "");
    let busy = second.read_reply();
    assert_eq!(busy.status(), 503);
    assert_eq!(busy.head.header("retry-after"), Some("5"));
    assert!(second.is_closed_by_server());
    drop(first);
    // Once the first connection is gone there is room again.
    assert!(tests::eventually(|| {
        let mut c = server.conn();
        c.send("GET", "/other", &[], "");
        c.read_reply().status() == 404
    }));
}

/// One client address (127.0.0.1, the only one a test uses) holds at most
/// its share of connections; past it a connection is answered 429 with
/// `Retry-After` and closed, however far the server is from its own cap,
/// and a connection that closes makes room again. (That another address
/// is still served is `shares.rs`'s unit test.)
fn a_client_past_its_connection_share_gets_429_until_one_closes(rt: Rt) {
    let config = HttpConfig::default()
        .max_connections_per_client(2)
        .retry_after(Duration::from_millis(1500));
    let server = TestServer::start(rt, config);
    let served = |conn: &mut Conn| {
        conn.send("GET", "/other", &[], "");
        conn.read_reply().status() == 404
    };
    // Each answered once, so both are counted before the third comes.
    let mut held: Vec<Conn> = (0..2)
        .map(|_| {
            let mut conn = server.conn();
            assert!(served(&mut conn));
            conn
        })
        .collect();
    let mut third = server.conn();
    third.send("GET", "/other", &[], "");
    let refused = third.read_reply();
    assert_eq!(refused.status(), 429);
    assert_eq!(
        refused.head.header("retry-after"),
        Some("2"),
        "whole seconds, rounded up"
    );
    assert_eq!(refused.json()["error"]["code"], -32000);
    assert_eq!(
        refused.json()["error"]["message"],
        "too many connections from this client"
    );
    assert!(third.is_closed_by_server());
    // The two held are still served.
    for conn in &mut held {
        assert!(served(conn));
    }
    drop(held.pop());
    assert!(tests::eventually(|| served(&mut server.conn())));
}

fn idle_streams_get_keep_alive_comments(rt: Rt) {
    let server = TestServer::start(
        rt,
        HttpConfig::default().sse_keep_alive(Duration::from_millis(50)),
    );
    let s = server.session();
    let (mut get, head) = s.open_get(None);
    assert_eq!(head.status, 200);
    let mut seen = String::new();
    while !seen.contains(": keepalive") {
        let chunk = get.next_chunk();
        assert!(!chunk.is_empty(), "the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

fn graceful_shutdown_finishes_requests_and_ends_streams(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let s = server.session();
    let (mut get, _) = s.open_get(None);
    get.next_event().unwrap();
    let mut call = server.conn();
    let msg = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "steps", "arguments": {"gate": "late"}, "_meta": {"progressToken": 1}}});
    call.send("POST", "/mcp", &s.headers(), &msg.to_string());
    call.read_head();
    call.next_event().unwrap();
    assert_eq!(call.next_event().unwrap().json()["params"]["progress"], 1.0);
    server.shut_down();
    // Streams end at once; the request in flight still gets its answer.
    assert!(get.next_event().is_none(), "the GET stream ends");
    server.gates.open("late");
    let mut last = None;
    while let Some(e) = call.next_event() {
        last = Some(e.json());
    }
    let last = last.expect("events after shutdown began");
    assert_eq!(last["id"], 1, "{last}");
    assert_eq!(last["result"]["content"][0]["text"], "steps done");
    // New connections are refused or not accepted at all.
    let refused = std::net::TcpStream::connect(server.addr).map_or(true, |mut c| {
        use std::io::{Read, Write};
        let _ = c.write_all(b"GET /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n");
        c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let mut buf = [0u8; 64];
        matches!(c.read(&mut buf), Ok(0) | Err(_)) || buf.starts_with(b"HTTP/1.1 503")
    });
    assert!(refused);
}

fn sse_polling_resumes_with_the_result(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let s = server.session();
    let mut conn = server.conn();
    let r = s.post(&mut conn, &json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "poll", "arguments": {}}}));
    // The server ended the stream after the priming event.
    let events = tests::client::parse_events(&r.body);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].data, "");
    assert!(events[0].retry.is_some());
    let (mut resumed, head) = s.open_get(events[0].id.as_deref());
    assert_eq!(head.status, 200);
    let result = resumed.next_event().unwrap().json();
    assert_eq!(result["id"], 4);
    assert_eq!(result["result"]["content"][0]["text"], "polled");
    assert!(resumed.next_event().is_none());
}

fn delete_ends_streams_then_404(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let s = server.session();
    let (mut get, _) = s.open_get(None);
    get.next_event().unwrap();
    let mut conn = server.conn();
    let r = conn.request("DELETE", "/mcp", &[("mcp-session-id", &s.id)], "");
    assert_eq!(r.status(), 200);
    assert!(
        get.next_event().is_none(),
        "the GET stream ends with its session"
    );
    for method in ["GET", "DELETE"] {
        let r = conn.request(
            method,
            "/mcp",
            &[("mcp-session-id", &s.id), ("accept", "text/event-stream")],
            "",
        );
        assert_eq!(r.status(), 404, "{method}");
    }
    let r = s.post(
        &mut conn,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
    );
    assert_eq!(r.status(), 404);
}

/// Sends raw bytes on a new connection and returns the status line's code
/// and whether the server closed the connection afterwards.
fn raw(server: &TestServer, bytes: &[u8]) -> (u16, Value) {
    let mut conn = server.conn();
    conn.send_raw(bytes);
    let reply = conn.read_reply();
    let body = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
    (reply.status(), body)
}

fn raw_statuses_then_still_serving(rt: Rt) {
    let config = HttpConfig::default().request_timeout(Duration::from_millis(300));
    let server = TestServer::start(rt, config);
    let s = server.session();
    let host = format!("host: {}\r\n", server.addr);
    let post = |extra: &str, body: &str| {
        format!(
            "POST /mcp HTTP/1.1\r\n{host}content-type: application/json\r\naccept: application/json, text/event-stream\r\n{extra}content-length: {}\r\n\r\n{body}",
            body.len()
        )
    };
    let ping = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
    let sid = format!("mcp-session-id: {}\r\n", s.id);

    // Ambiguous or missing heads: 400 (a second Host or Origin used to be
    // ignored, a missing Host was 403); a chunk size with a sign: 400.
    for extra in [
        format!("{sid}host: evil.example\r\n"),
        format!("{sid}origin: http://localhost\r\norigin: http://evil.example\r\n"),
        format!("{sid}{sid}"),
    ] {
        assert_eq!(
            raw(&server, post(&extra, ping).as_bytes()).0,
            400,
            "{extra}"
        );
    }
    let no_host = post(&sid, ping).replace(&host, "");
    assert_eq!(raw(&server, no_host.as_bytes()).0, 400);
    let signed = format!(
        "POST /mcp HTTP/1.1\r\n{host}content-type: application/json\r\naccept: application/json\r\n{sid}transfer-encoding: chunked\r\n\r\n+{:x}\r\n{ping}\r\n0\r\n\r\n",
        ping.len()
    );
    assert_eq!(raw(&server, signed.as_bytes()).0, 400);
    // Duplicate envelope keys: -32600 (the last one used to win).
    let twice = r#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/list"}"#;
    let (status, body) = raw(&server, post(&sid, twice).as_bytes());
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!(-32600))
    );
    // Ids that could not be echoed exactly: -32600 (1.5 used to be taken,
    // 2^64 came back as 1.8446744073709552e19).
    for id in ["1.5", "18446744073709551616"] {
        let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#);
        let (status, reply) = raw(&server, post(&sid, &body).as_bytes());
        assert_eq!(
            (status, reply["error"]["code"].clone()),
            (400, json!(-32600)),
            "{id}"
        );
    }
    // An absolute-form target is served.
    let absolute =
        post(&sid, ping).replace("POST /mcp", &format!("POST http://{}/mcp", server.addr));
    assert_eq!(raw(&server, absolute.as_bytes()).0, 200);

    // 400: malformed request line; missing session; unparsable JSON; unsupported version.
    let mut c = server.conn();
    c.send_raw(b"GARBAGE\x01\r\n\r\n");
    assert_eq!(c.read_reply().status(), 400);
    assert!(c.is_closed_by_server());
    assert_eq!(raw(&server, post("", ping).as_bytes()).0, 400);
    let (status, body) = raw(&server, post(&sid, "{nope").as_bytes());
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!(-32700))
    );
    let (status, body) = raw(
        &server,
        post(&format!("{sid}mcp-protocol-version: 1999-01-01\r\n"), ping).as_bytes(),
    );
    // A request the transport cannot take is an invalid request (-32600);
    // -32000 is kept for limits.
    assert_eq!(
        (status, body["error"]["code"].clone()),
        (400, json!(-32600))
    );
    // The Python SDK 2.x probe: a 4xx JSON-RPC error, so it falls back to initialize.
    let discover = r#"{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{}}"#;
    let (status, body) = raw(
        &server,
        post(
            "mcp-protocol-version: 2026-07-28\r\nmcp-method: server/discover\r\n",
            discover,
        )
        .as_bytes(),
    );
    assert_eq!(status, 400);
    assert!(body["error"]["code"].is_i64());
    // 403: DNS rebinding.
    let evil = format!(
        "POST /mcp HTTP/1.1\r\nhost: evil.example.com\r\norigin: http://evil.example.com\r\ncontent-type: application/json\r\naccept: application/json, text/event-stream\r\ncontent-length: {}\r\n\r\n{ping}",
        ping.len()
    );
    let (status, body) = raw(&server, evil.as_bytes());
    assert_eq!(status, 403);
    assert!(body["error"]["code"].is_i64() && body["id"].is_null());
    assert_eq!(
        raw(
            &server,
            post("origin: http://evil.example.com\r\n", ping).as_bytes()
        )
        .0,
        403
    );
    // 404: other path; unknown session.
    assert_eq!(
        raw(
            &server,
            format!("GET /other HTTP/1.1\r\n{host}\r\n").as_bytes()
        )
        .0,
        404
    );
    assert_eq!(
        raw(&server, post("mcp-session-id: nope\r\n", ping).as_bytes()).0,
        404
    );
    // 405 with Allow.
    let mut c = server.conn();
    c.send_raw(format!("PUT /mcp HTTP/1.1\r\n{host}content-length: 0\r\n\r\n").as_bytes());
    let r = c.read_reply();
    assert_eq!(r.status(), 405);
    assert_eq!(r.head.header("allow"), Some("GET, POST, DELETE"));
    // 406: neither JSON nor SSE accepted.
    let bad_accept = format!(
        "POST /mcp HTTP/1.1\r\n{host}{sid}content-type: application/json\r\naccept: text/html\r\ncontent-length: {}\r\n\r\n{ping}",
        ping.len()
    );
    assert_eq!(raw(&server, bad_accept.as_bytes()).0, 406);
    // 408: a head that never completes.
    let mut c = server.conn();
    c.send_raw(format!("POST /mcp HTTP/1.1\r\n{host}").as_bytes());
    assert_eq!(c.read_reply().status(), 408);
    assert!(c.is_closed_by_server());
    // 409: a second GET stream (checked in its own test too).
    let (_get, head) = s.open_get(None);
    assert_eq!(head.status, 200);
    let (_, head) = s.open_get(None);
    assert_eq!(head.status, 409);
    // 413: a body over the limit, refused from its Content-Length.
    let huge = format!(
        "POST /mcp HTTP/1.1\r\n{host}{sid}content-type: application/json\r\naccept: application/json\r\ncontent-length: 999999999\r\n\r\n"
    );
    let mut c = server.conn();
    c.send_raw(huge.as_bytes());
    assert_eq!(c.read_reply().status(), 413);
    assert!(c.is_closed_by_server());
    // 415: not JSON.
    let text = format!(
        "POST /mcp HTTP/1.1\r\n{host}{sid}content-type: text/plain\r\naccept: application/json\r\ncontent-length: {}\r\n\r\n{ping}",
        ping.len()
    );
    assert_eq!(raw(&server, text.as_bytes()).0, 415);
    // 431: a head over 16 KiB.
    let big = format!(
        "GET /mcp HTTP/1.1\r\n{host}x-big: {}\r\n\r\n",
        "a".repeat(20_000)
    );
    assert_eq!(raw(&server, big.as_bytes()).0, 431);
    // And the server still serves.
    ping_works(&server);
    assert_eq!(s.call(7, "ping", json!({}))[0]["result"], json!({}));
}

fn keep_alive_pipelining_and_chunked_bodies(rt: Rt) {
    let server = TestServer::start(rt, HttpConfig::default());
    let s = server.session();
    let host = format!("host: {}\r\n", server.addr);
    let sid = format!("mcp-session-id: {}\r\n", s.id);
    // Two pipelined requests in one write: replies in order.
    let one = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"text":"first","ms":50}}}"#;
    let two = r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"echo","arguments":{"text":"second"}}}"#;
    let req = |b: &str| {
        format!(
            "POST /mcp HTTP/1.1\r\n{host}{sid}content-type: application/json\r\naccept: application/json\r\ncontent-length: {}\r\n\r\n{b}",
            b.len()
        )
    };
    let mut c = server.conn();
    c.send_raw(format!("{}{}", req(one), req(two)).as_bytes());
    assert_eq!(
        c.read_reply().json()["result"]["content"][0]["text"],
        "first"
    );
    assert_eq!(
        c.read_reply().json()["result"]["content"][0]["text"],
        "second"
    );
    // A chunked body, with Expect: 100-continue.
    let body = r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#;
    let (a, b) = body.split_at(10);
    let chunked = format!(
        "POST /mcp HTTP/1.1\r\n{host}{sid}content-type: application/json\r\naccept: application/json\r\ntransfer-encoding: chunked\r\nexpect: 100-continue\r\n\r\n"
    );
    c.send_raw(chunked.as_bytes());
    assert_eq!(
        c.read_any_head().status,
        100,
        "100 Continue before the body is sent"
    );
    c.send_raw(format!("{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n", a.len(), b.len()).as_bytes());
    let r = c.read_reply();
    assert_eq!(r.json(), json!({"jsonrpc": "2.0", "id": 3, "result": {}}));
    // HTTP/1.0 gets its answer and the connection closes.
    let mut c = server.conn();
    c.send_raw(format!("POST /mcp HTTP/1.0\r\n{host}{sid}content-type: application/json\r\naccept: application/json\r\ncontent-length: {}\r\n\r\n{}", body.len(), body).as_bytes());
    assert_eq!(c.read_reply().status(), 200);
    assert!(c.is_closed_by_server());
    // Connection: close is honoured.
    let mut c = server.conn();
    c.send_raw(format!("POST /mcp HTTP/1.1\r\n{host}{sid}connection: close\r\ncontent-type: application/json\r\naccept: application/json\r\ncontent-length: {}\r\n\r\n{}", body.len(), body).as_bytes());
    let r = c.read_reply();
    assert_eq!(r.head.header("connection"), Some("close"));
    assert!(c.is_closed_by_server());
}

fn session_expiry_and_cap(rt: Rt) {
    let config = HttpConfig::default().session_idle_timeout(Duration::from_millis(200));
    let server = TestServer::start_with(rt, config, ServerConfig::default().max_sessions(2));
    let a = server.session();
    let _b = server.session();
    // Past the cap: a clear 503.
    let mut c = server.conn();
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let r = c.request("POST", "/mcp", &POST_HEADERS, &init.to_string());
    assert_eq!(r.status(), 503);
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("too many sessions")
    );
    // Idle sessions expire (bounded wait), freeing room; the engine is told too.
    assert!(
        tests::eventually(|| server.server.session_count() == 0),
        "idle sessions expired"
    );
    let r = a.post(
        &mut server.conn(),
        &json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
    );
    assert_eq!(r.status(), 404);
    assert_eq!(
        c.request("POST", "/mcp", &POST_HEADERS, &init.to_string())
            .status(),
        200
    );
}

fn a_client_that_stops_reading_is_closed_after_the_write_timeout(rt: Rt) {
    use std::io::{Read, Write};
    // Eight pipelined 3 MiB echoes (more than any loopback socket buffers
    // hold), and a client that never reads: a reply fills the buffers and
    // its write makes no progress. It used to wait (holding its buffers)
    // for as long as the client did.
    let config = HttpConfig::default().write_timeout(Duration::from_millis(300));
    let server = TestServer::start(rt, config);
    let s = server.session();
    let text = "x".repeat(3 * 1024 * 1024);
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": text}}})
    .to_string();
    let request = format!(
        "POST /mcp HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\naccept: application/json\r\nmcp-session-id: {}\r\ncontent-length: {}\r\n\r\n{body}",
        server.addr,
        s.id,
        body.len()
    );
    const REQUESTS: usize = 8;
    let mut stream = std::net::TcpStream::connect(server.addr).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    let sender = thread::spawn(move || {
        for _ in 0..REQUESTS {
            // Once the server stops reading this blocks; once it closes, it fails.
            if writer.write_all(request.as_bytes()).is_err() {
                let _ = done_tx.send(false);
                return;
            }
        }
        let _ = done_tx.send(true);
    });
    // However slow the machine, the writes end only when the server closes
    // the connection (or, were it to take everything, when all are sent).
    let all_sent = done_rx
        .recv_timeout(tests::DEADLINE)
        .expect("the server closes the connection, failing the writes");
    assert!(
        !all_sent,
        "the server took every request of a client that never reads"
    );
    // Now read: a closed connection ends (EOF or reset).
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut received = 0usize;
    let mut chunk = vec![0u8; 64 * 1024];
    let closed = loop {
        match stream.read(&mut chunk) {
            Ok(0) => break true,
            Ok(n) => received += n,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break true,
            Err(_) => break false,
        }
    };
    assert!(closed, "the connection stayed open ({received} bytes read)");
    assert!(
        received < REQUESTS * 3 * 1024 * 1024,
        "not every reply was written: {received} bytes"
    );
    drop(stream);
    let _ = sender.join();
    // The server goes on serving.
    let r = s.post(
        &mut server.conn(),
        &json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}),
    );
    assert_eq!(r.status(), 200);
}
