//! What crosses replicas that share sessions (`McpServerBuilder::session_store`):
//! a client's answer to a server→client request posted to another replica
//! than the one whose tool waits, `notifications/cancelled` posted to
//! another replica than the one running the request, a notification for a
//! GET stream held by another replica, a reply stream resumed with
//! `Last-Event-ID` on another replica (replayed from the shared log, then
//! live), a `DELETE` ending a GET stream held elsewhere, and a GET stream
//! resumed with an event id another replica gave out (opened fresh, never
//! replayed under the other replica's numbering).
//!
//! Two HTTP servers on 127.0.0.1 share a Redis store (a real
//! `redis-server`, started here; these tests fail, not skip, without it),
//! on both runtimes; one case shares a `MemorySessionStore` in-process.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_core::session_store::{MemorySessionStore, SessionStore};
use switchboard_core::{HttpConfig, ServerConfig};
use tests::client::{Conn, Event};
use tests::redis::{Exec, Redis};
use tests::server::{Gates, Rt, Session, TestServer, test_builder, test_builder_with};

tests::on_both_runtimes!(
    an_answer_posted_to_another_replica_reaches_the_waiting_tool,
    a_cancel_posted_to_another_replica_aborts_the_request,
    a_notification_reaches_the_get_stream_on_another_replica,
    a_reply_stream_resumes_on_another_replica,
    a_delete_on_one_replica_ends_the_get_stream_on_another,
    what_a_stopped_replica_wrote_is_replayed_on_another,
    a_polled_stream_resumes_on_another_replica,
    a_get_stream_resumed_with_another_replicas_id_opens_fresh,
);

/// Two replicas of the test server sharing `redis`, with `gates`, and
/// the runtime their Redis connections live on (keep it while they serve).
fn pair(rt: Rt, redis: &Redis, gates: &Gates) -> (Exec, TestServer, TestServer) {
    let exec = Exec::new(rt);
    let start = |store| {
        let server = Arc::new(std::sync::OnceLock::new());
        let builder = test_builder_with(gates, Arc::clone(&server))
            .config(ServerConfig::default().list_changed(true))
            .session_store(store);
        let started = TestServer::start_builder(rt, builder, quiet());
        let _ = server.set(started.server.clone());
        started
    };
    let a = start(exec.session_store(redis));
    let b = start(exec.session_store(redis));
    // Letters are at most once: a replica hears them only once its
    // subscription is made, which its serve loop starts on its own time.
    eventually("both replicas subscribed to the letters", || {
        redis.subscribers("switchboard:session:letters") == 2
    });
    (exec, a, b)
}

/// The HTTP config of these tests' replicas: no keep-alive comment within
/// the test client's read deadline, so that a stream missing its event
/// fails the test there instead of idling on.
fn quiet() -> HttpConfig {
    HttpConfig::default().sse_keep_alive(Duration::from_secs(120))
}

/// `s` as seen through the replica at `addr`.
fn on(s: &Session, addr: std::net::SocketAddr) -> Session {
    Session {
        addr,
        id: s.id.clone(),
        version: s.version.clone(),
    }
}

/// Starts a `tools/call` of `name` in `s` (asking for progress) as SSE on
/// a connection of its own; returns the connection with the response's
/// head read.
fn start_call(s: &Session, id: i64, name: &str, args: Value) -> Conn {
    let mut conn = Conn::connect(s.addr);
    let msg = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": name, "arguments": args, "_meta": {"progressToken": id}}});
    conn.send("POST", "/mcp", &s.headers(), &msg.to_string());
    let head = conn.read_head();
    assert_eq!(head.status, 200, "{head:?}");
    assert!(head.is_sse(), "{head:?}");
    conn
}

/// The next event on `conn` that carries a message (priming events skipped).
fn next_message(conn: &mut Conn) -> Event {
    loop {
        let event = conn.next_event().expect("a message before the stream ends");
        if !event.data.is_empty() {
            return event;
        }
    }
}

/// POSTs `message` in `s` on a fresh connection; returns the status.
fn post_status(s: &Session, message: &Value) -> u16 {
    let mut conn = Conn::connect(s.addr);
    s.post(&mut conn, message).status()
}

/// The answer to the elicitation request `request`, naming `name`.
fn answer(request: &Value, name: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": request["id"].clone(),
        "result": {"action": "accept", "content": {"name": name}}})
}

/// Waits up to 5 s for `done`.
fn eventually(what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(5);
    while !done() {
        assert!(Instant::now() < deadline, "{what}: not within 5 s");
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn an_answer_posted_to_another_replica_reaches_the_waiting_tool(rt: Rt) {
    let redis = Redis::start();
    let (_exec, a, b) = pair(rt, &redis, &Gates::default());
    let s = Session::initialize_with(a.addr, "2025-11-25", json!({"elicitation": {}}));
    let mut call = start_call(&s, 1, "ask", json!({}));
    let request = next_message(&mut call).json();
    assert_eq!(request["method"], "elicitation/create", "{request}");
    // The answer goes to B, where no handler waits: it is passed on to A.
    assert_eq!(post_status(&on(&s, b.addr), &answer(&request, "Ann")), 202);
    let result = next_message(&mut call).json();
    assert_eq!(result["id"], 1, "{result}");
    assert_eq!(
        result["result"]["content"][0]["text"], "hello Ann",
        "{result}"
    );
}

fn a_cancel_posted_to_another_replica_aborts_the_request(rt: Rt) {
    let redis = Redis::start();
    let gates = Gates::default();
    let (_exec, a, b) = pair(rt, &redis, &gates);
    let s = Session::initialize(a.addr, "2025-11-25");
    let mut call = start_call(&s, 7, "guarded", json!({"gate": "g", "text": ""}));
    // Its progress says the handler runs.
    let progress = next_message(&mut call).json();
    assert_eq!(progress["method"], "notifications/progress", "{progress}");
    assert!(!gates.is_open("dropped:g"));
    let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
        "params": {"requestId": 7, "reason": "changed my mind"}});
    assert_eq!(post_status(&on(&s, b.addr), &cancel), 202);
    // The handler on A was dropped (its guard opens the gate).
    eventually("the handler on A dropped", || gates.is_open("dropped:g"));
}

fn a_notification_reaches_the_get_stream_on_another_replica(rt: Rt) {
    let redis = Redis::start();
    let (_exec, a, b) = pair(rt, &redis, &Gates::default());
    let s = Session::initialize(a.addr, "2025-11-25");
    let (mut get, head) = on(&s, b.addr).open_get(None);
    assert_eq!(head.status, 200, "{head:?}");
    // A tells its sessions (this one among them) of a tool list change; it
    // holds no GET stream of the session, B does.
    assert_eq!(s.tool_text(2, "announce", json!({})), "announced");
    let note = next_message(&mut get).json();
    assert_eq!(note["method"], "notifications/tools/list_changed", "{note}");
}

fn a_reply_stream_resumes_on_another_replica(rt: Rt) {
    let redis = Redis::start();
    let (_exec, a, b) = pair(rt, &redis, &Gates::default());
    let s = Session::initialize_with(a.addr, "2025-11-25", json!({"elicitation": {}}));
    let mut call = start_call(&s, 3, "ask", json!({}));
    let asked = next_message(&mut call);
    let request = asked.json();
    let id = asked.id.expect("an event id");
    let (stream, seq) = id.split_once('-').unwrap();
    assert_eq!(seq, "1", "{id}");
    // The client loses the connection to A.
    drop(call);
    let on_b = on(&s, b.addr);
    // Resumed on B from before the request: replayed from the shared log.
    let (mut again, head) = on_b.open_get(Some(&format!("{stream}-0")));
    assert_eq!(head.status, 200, "{head:?}");
    let replayed = next_message(&mut again);
    assert_eq!(replayed.id.as_deref(), Some(id.as_str()));
    assert_eq!(replayed.json(), request);
    drop(again);
    // Resumed on B after it, then answered through B: the tool on A ends,
    // and its result reaches the stream on B live.
    let (mut resumed, head) = on_b.open_get(Some(&id));
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(post_status(&on_b, &answer(&request, "Bo")), 202);
    let result = next_message(&mut resumed);
    assert_eq!(result.id, Some(format!("{stream}-2")));
    let result = result.json();
    assert_eq!(result["id"], 3, "{result}");
    assert_eq!(
        result["result"]["content"][0]["text"], "hello Bo",
        "{result}"
    );
    assert!(resumed.next_event().is_none(), "the stream ends after it");
}

fn a_delete_on_one_replica_ends_the_get_stream_on_another(rt: Rt) {
    let redis = Redis::start();
    let (_exec, a, b) = pair(rt, &redis, &Gates::default());
    let s = Session::initialize(a.addr, "2025-11-25");
    let (mut get, head) = s.open_get(None);
    assert_eq!(head.status, 200, "{head:?}");
    let priming = get.next_event().expect("the priming event");
    assert_eq!(priming.data, "");
    let on_b = on(&s, b.addr);
    let mut conn = Conn::connect(b.addr);
    let headers = [
        ("mcp-session-id", s.id.as_str()),
        ("mcp-protocol-version", s.version.as_str()),
    ];
    assert_eq!(conn.request("DELETE", "/mcp", &headers, "").status(), 200);
    // A's copy closed, and its GET stream with it.
    assert_eq!(get.next_event(), None, "the GET stream on A ends");
    eventually("A's copy closed", || a.server.session_count() == 0);
    drop(on_b);
}

fn what_a_stopped_replica_wrote_is_replayed_on_another(rt: Rt) {
    let redis = Redis::start();
    let (_exec, a, b) = pair(rt, &redis, &Gates::default());
    let s = Session::initialize_with(a.addr, "2025-11-25", json!({"elicitation": {}}));
    let mut call = start_call(&s, 4, "ask", json!({}));
    let asked = next_message(&mut call);
    let id = asked.id.clone().expect("an event id");
    let (stream, _) = id.split_once('-').unwrap();
    // A stops: its waiting tool fails (nobody can answer any more) and the
    // call's error is the stream's last event.
    a.shut_down();
    drop(call);
    let (mut again, head) = on(&s, b.addr).open_get(Some(&format!("{stream}-0")));
    assert_eq!(head.status, 200, "{head:?}");
    let replayed = next_message(&mut again);
    assert_eq!(replayed.json(), asked.json());
    let last = next_message(&mut again).json();
    assert_eq!(last["id"], 4, "{last}");
    assert!(last.get("error").is_some(), "{last}");
    assert!(again.next_event().is_none(), "the stream ends after it");
    // The session goes on on B without a new initialize.
    assert_eq!(
        on(&s, b.addr).tool_text(5, "echo", json!({"text": "still here"})),
        "still here"
    );
}

/// SSE polling (SEP-1699): the tool ends the connection before anything
/// but the priming event went out, then answers; the client resumes from
/// the priming event's id on another replica and gets the answer there.
fn a_polled_stream_resumes_on_another_replica(rt: Rt) {
    let redis = Redis::start();
    let (_exec, a, b) = pair(rt, &redis, &Gates::default());
    let s = Session::initialize(a.addr, "2025-11-25");
    let mut call = start_call(&s, 9, "poll", json!({}));
    let priming = call.next_event().expect("the priming event");
    assert_eq!(priming.data, "");
    let id = priming.id.expect("an event id to resume from");
    assert!(id.ends_with("-0"), "{id}");
    assert!(
        call.next_event().is_none(),
        "the server ends the connection"
    );
    let (mut resumed, head) = on(&s, b.addr).open_get(Some(&id));
    assert_eq!(head.status, 200, "{head:?}");
    let result = next_message(&mut resumed).json();
    assert_eq!(result["id"], 9, "{result}");
    assert_eq!(result["result"]["content"][0]["text"], "polled", "{result}");
}

/// Two servers of one process sharing a `MemorySessionStore`: an answer
/// posted to the other one reaches the waiting tool, as with Redis.
#[test]
fn servers_sharing_a_memory_store_pass_answers_on() {
    let store: Arc<dyn SessionStore> = Arc::new(MemorySessionStore::new());
    let replica = |rt, store| {
        let builder = test_builder(&Gates::default())
            .config(ServerConfig::default())
            .session_store(store);
        TestServer::start_builder(rt, builder, quiet())
    };
    let a = replica(Rt::Smol, Arc::clone(&store));
    let b = replica(Rt::Tokio, store);
    let s = Session::initialize(a.addr, "2025-11-25");
    let mut call = start_call(&s, 1, "sample", json!({"text": "hi"}));
    let request = next_message(&mut call).json();
    assert_eq!(request["method"], "sampling/createMessage", "{request}");
    let reply = json!({"jsonrpc": "2.0", "id": request["id"].clone(),
        "result": {"role": "assistant", "content": {"type": "text", "text": "hey"},
                   "model": "m"}});
    assert_eq!(post_status(&on(&s, b.addr), &reply), 202);
    let result = next_message(&mut call).json();
    assert_eq!(
        result["result"]["content"][0]["text"], "LLM response: hey",
        "{result}"
    );
}

/// Each replica numbers a shared session's GET stream itself (the stream
/// is not in the shared log): resumed with an id another replica gave out,
/// the stream opens fresh, and nothing the client already had is
/// replayed; resumed with one of its own ids, it replays what followed.
fn a_get_stream_resumed_with_another_replicas_id_opens_fresh(rt: Rt) {
    let redis = Redis::start();
    let (_exec, a, b) = pair(rt, &redis, &Gates::default());
    let s = Session::initialize(a.addr, "2025-11-25");
    let on_b = on(&s, b.addr);
    // The GET stream on B hears two changes made through B.
    let (mut get, head) = on_b.open_get(None);
    assert_eq!(head.status, 200, "{head:?}");
    let mut seen = Vec::new();
    for id in [2, 3] {
        assert_eq!(on_b.tool_text(id, "announce", json!({})), "announced");
        seen.push(next_message(&mut get).id.expect("an event id"));
    }
    drop(get);
    // Then the client's GET stream is on A, and hears one there.
    let (mut get, head) = s.open_get(None);
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(s.tool_text(4, "announce", json!({})), "announced");
    let from_a = next_message(&mut get).id.expect("an event id");
    drop(get);
    // Resumed on B with A's id: a fresh stream, not B's old events.
    let (mut get, head) = on_b.open_get(Some(&from_a));
    assert_eq!(head.status, 200, "{head:?}");
    assert_eq!(on_b.tool_text(5, "announce", json!({})), "announced");
    let fresh = next_message(&mut get).id.expect("an event id");
    assert!(
        !seen.contains(&fresh),
        "{fresh} replayed, already seen as one of {seen:?}"
    );
    drop(get);
    // Resumed on B with B's own id: what followed it is replayed.
    assert_eq!(on_b.tool_text(6, "announce", json!({})), "announced");
    let (mut get, head) = on_b.open_get(Some(&fresh));
    assert_eq!(head.status, 200, "{head:?}");
    let replayed = next_message(&mut get);
    let (_, after) = fresh.split_once('-').unwrap();
    let (_, seq) = replayed.id.as_deref().unwrap().split_once('-').unwrap();
    assert_eq!(
        seq.parse::<u64>().unwrap(),
        after.parse::<u64>().unwrap() + 1,
        "{replayed:?} after {fresh}"
    );
}
