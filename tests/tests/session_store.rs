//! Sessions in a shared store (`McpServerBuilder::session_store`): two HTTP
//! servers (replicas) on 127.0.0.1 sharing a Redis store (a real
//! `redis-server`, started here on a free port) serve each other's
//! sessions, see each other's `DELETE`s, keep sessions bound to their
//! party, and answer 503 (never hang) while Redis is down, coming back
//! when it is; two servers of one process share a `MemorySessionStore` the
//! same way.
//!
//! `redis-server` must be on PATH (Debian: `apt-get install -y
//! redis-server`); these tests fail, not skip, without it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchboard_core::session_store::{MemorySessionStore, SessionStore};
use switchboard_core::{HttpConfig, ServerConfig};
use tests::client::{Conn, Reply};
use tests::redis::{Exec, Redis};
use tests::server::{Gates, Rt, Session, TestServer, test_builder};

tests::on_both_runtimes!(
    a_session_opened_on_one_replica_is_served_and_ended_on_another,
    a_session_id_stays_bound_to_its_party_on_every_replica,
    redis_down_is_a_clear_503_and_service_comes_back,
);

/// A replica of the test server keeping its sessions in `store`.
fn replica(rt: Rt, store: Arc<dyn SessionStore>, config: HttpConfig) -> TestServer {
    let builder = test_builder(&Gates::default())
        .config(ServerConfig::default())
        .session_store(store);
    TestServer::start_builder(rt, builder, config)
}

/// `s` as seen through the replica at `addr`.
fn on(s: &Session, addr: SocketAddr) -> Session {
    Session {
        addr,
        id: s.id.clone(),
        version: s.version.clone(),
    }
}

/// POSTs `message` in session `s` on a fresh connection.
fn post(s: &Session, message: &Value) -> Reply {
    let mut conn = Conn::connect(s.addr);
    s.post(&mut conn, message)
}

/// An `echo` call with id `id`.
fn echo(id: i64, text: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": text}}})
}

/// DELETEs session `s` on a fresh connection; returns the status.
fn delete(s: &Session) -> u16 {
    let mut conn = Conn::connect(s.addr);
    let headers = [
        ("mcp-session-id", s.id.as_str()),
        ("mcp-protocol-version", s.version.as_str()),
    ];
    conn.request("DELETE", "/mcp", &headers, "").status()
}

/// Asserts a 404 with the JSON-RPC `-32001` body.
fn assert_not_found(reply: &Reply) {
    assert_eq!(reply.status(), 404, "{reply:?}");
    assert_eq!(reply.json()["error"]["code"], -32001, "{reply:?}");
}

fn a_session_opened_on_one_replica_is_served_and_ended_on_another(rt: Rt) {
    let redis = Redis::start();
    let exec = Exec::new(rt);
    let a = replica(rt, exec.session_store(&redis), HttpConfig::default());
    let b = replica(rt, exec.session_store(&redis), HttpConfig::default());
    let on_a = Session::initialize(a.addr, "2025-06-18");
    let on_b = on(&on_a, b.addr);
    assert_eq!(b.server.session_count(), 0);
    assert_eq!(
        on_b.tool_text(1, "echo", json!({"text": "from b"})),
        "from b"
    );
    assert_eq!(b.server.session_count(), 1, "B adopted the session");
    // A change made through B is in the store for A (and every replica).
    let set = on_b.call(2, "logging/setLevel", json!({"level": "error"}));
    assert_eq!(set[0]["result"], json!({}), "{set:?}");
    let held = redis.command(&format!("GET switchboard:session:{}", on_a.id));
    assert!(held.contains(r#""logLevel":"error""#), "{held}");
    assert!(held.contains(r#""protocolVersion":"2025-06-18""#), "{held}");
    assert!(held.contains(r#""clientInfo":{"name":"t""#), "{held}");
    assert_eq!(
        on_a.tool_text(3, "echo", json!({"text": "back on a"})),
        "back on a"
    );
    // A GET stream opens on either replica.
    let mut get = Conn::connect(b.addr);
    get.send(
        "GET",
        "/mcp",
        &[
            ("accept", "text/event-stream"),
            ("mcp-session-id", on_a.id.as_str()),
            ("mcp-protocol-version", on_a.version.as_str()),
        ],
        "",
    );
    assert_eq!(get.read_head().status, 200);
    drop(get);
    // DELETE on B ends it on A too.
    assert_eq!(delete(&on_b), 200);
    assert_not_found(&post(&on_a, &echo(4, "gone")));
    assert_not_found(&post(&on_b, &echo(5, "gone")));
    assert_eq!(delete(&on_a), 404);
    assert!(
        redis
            .command(&format!("EXISTS switchboard:session:{}", on_a.id))
            .starts_with(":0")
    );
    // A session nobody opened is 404 everywhere.
    let guessed = Session {
        addr: b.addr,
        id: "0123456789abcdef0123456789abcdef".into(),
        version: "2025-11-25".into(),
    };
    assert_not_found(&post(&guessed, &echo(6, "guess")));
}

fn a_session_id_stays_bound_to_its_party_on_every_replica(rt: Rt) {
    use switchboard_core::http::{AuthConfig, Principal, verifier_fn};
    let redis = Redis::start();
    let exec = Exec::new(rt);
    let config = || {
        // The token is the subject.
        let verifier =
            verifier_fn(
                |token: String| async move { Ok(Principal::new(token).with_issuer("as1")) },
            );
        HttpConfig::default().auth(AuthConfig::new("http://127.0.0.1/mcp", verifier))
    };
    let a = replica(rt, exec.session_store(&redis), config());
    let b = replica(rt, exec.session_store(&redis), config());
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "t", "version": "1"}}});
    let mut conn = Conn::connect(a.addr);
    let headers = [
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("authorization", "Bearer alice"),
    ];
    let reply = conn.request("POST", "/mcp", &headers, &init.to_string());
    assert_eq!(reply.status(), 200, "{reply:?}");
    let id = reply.head.header("mcp-session-id").unwrap().to_owned();
    let held = redis.command(&format!("GET switchboard:session:{id}"));
    assert!(held.contains(r#""subject":"alice""#), "{held}");
    let call = |addr: SocketAddr, token: &str, n: i64| {
        let mut conn = Conn::connect(addr);
        let bearer = format!("Bearer {token}");
        let headers = [
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("authorization", bearer.as_str()),
            ("mcp-session-id", id.as_str()),
            ("mcp-protocol-version", "2025-11-25"),
        ];
        conn.request("POST", "/mcp", &headers, &echo(n, "x").to_string())
    };
    // Bob's token on B learns nothing of Alice's session, not even that it
    // exists; Alice's is served there.
    assert_not_found(&call(b.addr, "bob", 1));
    assert_eq!(call(b.addr, "alice", 2).status(), 200);
    assert_not_found(&call(a.addr, "bob", 3));
}

fn redis_down_is_a_clear_503_and_service_comes_back(rt: Rt) {
    let mut redis = Redis::start();
    let exec = Exec::new(rt);
    let a = replica(rt, exec.session_store(&redis), HttpConfig::default());
    let b = replica(rt, exec.session_store(&redis), HttpConfig::default());
    let s = Session::initialize(a.addr, "2025-11-25");
    redis.stop();
    let started = Instant::now();
    for (n, target) in [(1, &a), (2, &b)] {
        let reply = post(&on(&s, target.addr), &echo(n, "x"));
        assert_eq!(reply.status(), 503, "{reply:?}");
        let body = reply.json();
        assert_eq!(body["jsonrpc"], "2.0");
        assert_eq!(body["error"]["code"], -32000, "{body}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("session store unavailable"),
            "{message}"
        );
    }
    let mut conn = Conn::connect(b.addr);
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "t", "version": "1"}}});
    let refused = conn.request(
        "POST",
        "/mcp",
        &tests::server::POST_HEADERS,
        &init.to_string(),
    );
    assert_eq!(refused.status(), 503, "{refused:?}");
    assert_eq!(b.server.session_count(), 0, "nothing half-opened");
    assert!(started.elapsed() < Duration::from_secs(15), "no hang");
    // Redis back (empty: it kept nothing): the old session is gone
    // everywhere, and new ones open and move again.
    redis.spawn();
    assert_not_found(&post(&s, &echo(3, "x")));
    let fresh = Session::initialize(b.addr, "2025-11-25");
    assert_eq!(
        on(&fresh, a.addr).tool_text(4, "echo", json!({"text": "ok"})),
        "ok"
    );
}

/// Two servers of one process sharing a `MemorySessionStore` serve each
/// other's sessions, and a DELETE through one ends it in the other.
#[test]
fn servers_sharing_a_memory_store_share_sessions() {
    let store: Arc<dyn SessionStore> = Arc::new(MemorySessionStore::new());
    let a = replica(Rt::Smol, Arc::clone(&store), HttpConfig::default());
    let b = replica(Rt::Tokio, store, HttpConfig::default());
    let on_a = Session::initialize(a.addr, "2025-11-25");
    let on_b = on(&on_a, b.addr);
    assert_eq!(on_b.tool_text(1, "echo", json!({"text": "b"})), "b");
    assert_eq!(delete(&on_a), 200);
    assert_not_found(&post(&on_b, &echo(2, "gone")));
}

/// Without a store (the default) a session stays on the server that
/// opened it: another one answers 404.
#[test]
fn without_a_store_sessions_stay_where_they_were_opened() {
    let a = TestServer::start(Rt::Smol, HttpConfig::default());
    let b = TestServer::start(Rt::Smol, HttpConfig::default());
    let s = a.session();
    assert_not_found(&post(&on(&s, b.addr), &echo(1, "x")));
    assert_eq!(s.tool_text(2, "echo", json!({"text": "a"})), "a");
}

/// An example process killed on drop.
struct Example(std::process::Child);

impl Drop for Example {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `hello --redis URL` twice (one on each runtime): a session opened
/// through one is served through the other, and a DELETE through either
/// ends it in both.
#[test]
fn two_hello_processes_with_redis_share_sessions() {
    let redis = Redis::start();
    let url = redis.url();
    let key = "5a".repeat(32);
    let exe = env!("CARGO_BIN_EXE_hello-under-test");
    let start = |runtime: &str| {
        let args = [
            "--runtime",
            runtime,
            "--addr",
            "127.0.0.1:0",
            "--redis",
            &url,
            "--state-key",
            &key,
        ];
        let (child, addr) = tests::spawn_example(exe, &args);
        (Example(child), addr)
    };
    let (_a, a) = start("smol");
    let (_b, b) = start("tokio");
    let on_a = Session::initialize(a, "2025-11-25");
    let on_b = on(&on_a, b);
    assert_eq!(on_b.tool_text(1, "echo", json!({"text": "hi"})), "hi");
    assert_eq!(delete(&on_b), 200);
    assert_not_found(&post(&on_a, &echo(2, "gone")));
}

/// With `session_cache_for`, a replica serves a copy it confirmed lately
/// without asking the store: a record gone from the store without a word
/// (its letter lost) reaches it only once that time has passed. A DELETE
/// through another replica reaches it at once, by its `closed` letter.
#[test]
fn a_cached_copy_is_served_until_its_time_is_up() {
    let store: Arc<dyn SessionStore> = Arc::new(MemorySessionStore::new());
    let window = Duration::from_secs(2);
    let cached = |store: Arc<dyn SessionStore>| {
        let builder = test_builder(&Gates::default())
            .config(ServerConfig::default().session_cache_for(window))
            .session_store(store);
        TestServer::start_builder(Rt::Smol, builder, HttpConfig::default())
    };
    let a = cached(Arc::clone(&store));
    let b = cached(Arc::clone(&store));
    let on_a = Session::initialize(a.addr, "2025-11-25");
    let confirmed = Instant::now();
    assert_eq!(on_a.tool_text(1, "echo", json!({"text": "a"})), "a");
    let id = switchboard_core::SessionId::new(on_a.id.clone());
    let removed = futures::executor::block_on(store.remove(&id));
    assert_eq!(removed, Ok(true));
    let within = post(&on_a, &echo(2, "cached"));
    if confirmed.elapsed() < window {
        assert_eq!(within.status(), 200, "{within:?}");
    }
    std::thread::sleep(window + Duration::from_millis(100));
    assert_not_found(&post(&on_a, &echo(3, "gone")));
    // A DELETE through B ends A's cached copy at once.
    let other = Session::initialize(a.addr, "2025-11-25");
    assert_eq!(other.tool_text(4, "echo", json!({"text": "a"})), "a");
    assert_eq!(
        on(&other, b.addr).tool_text(5, "echo", json!({"text": "b"})),
        "b"
    );
    assert_eq!(delete(&on(&other, b.addr)), 200);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let reply = post(&other, &echo(6, "gone"));
        if reply.status() == 404 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "A still serves a deleted session: {reply:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `McpServer::close_session` on one replica removes the record too, so
/// the session ends on the others.
#[test]
fn a_session_closed_by_the_application_ends_everywhere() {
    let store: Arc<dyn SessionStore> = Arc::new(MemorySessionStore::new());
    let a = replica(Rt::Tokio, Arc::clone(&store), HttpConfig::default());
    let b = replica(Rt::Tokio, store, HttpConfig::default());
    let on_a = Session::initialize(a.addr, "2025-11-25");
    let on_b = on(&on_a, b.addr);
    assert_eq!(on_b.tool_text(1, "echo", json!({"text": "b"})), "b");
    assert!(
        a.server
            .close_session(&switchboard_core::SessionId::new(&on_a.id))
    );
    assert!(tests::eventually(
        || post(&on_b, &echo(2, "gone")).status() == 404
    ));
}

/// A replica at its session cap does not adopt another replica's session:
/// 503 with a JSON-RPC body saying so, and the session goes on elsewhere.
#[test]
fn a_full_replica_refuses_to_adopt_with_a_503() {
    let store: Arc<dyn SessionStore> = Arc::new(MemorySessionStore::new());
    let capped = |store: Arc<dyn SessionStore>| {
        let builder = test_builder(&Gates::default())
            .config(ServerConfig::default().max_sessions(1))
            .session_store(store);
        TestServer::start_builder(Rt::Smol, builder, HttpConfig::default())
    };
    let a = capped(Arc::clone(&store));
    let b = capped(store);
    let on_a = Session::initialize(a.addr, "2025-11-25");
    let _fills_b = Session::initialize(b.addr, "2025-11-25");
    let refused = post(&on(&on_a, b.addr), &echo(1, "x"));
    assert_eq!(refused.status(), 503, "{refused:?}");
    assert_eq!(refused.json()["error"]["code"], -32000);
    assert_eq!(
        refused.json()["error"]["message"],
        "too many sessions on this replica"
    );
    assert_eq!(on_a.tool_text(2, "echo", json!({"text": "a"})), "a");
}
