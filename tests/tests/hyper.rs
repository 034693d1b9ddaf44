//! The endpoint through every front door, over real sockets on 127.0.0.1:
//! our own listener (smol and tokio) and `McpService` in hyper, on
//! HTTP/1.1 and HTTP/2 (h2c), plus an axum router and the body limit
//! through hyper. Every case runs once per server/protocol combination.

use serde_json::{Value, json};
use switchboard_core::HttpConfig;
use tests::hyper_client::{HyperClient, HyperServer, Mount, Proto, Streaming};
use tests::server::{Gates, POST_HEADERS, Rt, TestServer};

/// A server under test and a client of it.
struct Target {
    client: HyperClient,
    gates: Gates,
    /// Set for the hyper servers.
    hyper: Option<std::rc::Rc<HyperServer>>,
    _server: Box<dyn std::any::Any>,
}

/// The server/protocol combinations.
#[derive(Clone, Copy, Debug)]
enum Kind {
    OwnSmol,
    OwnTokio,
    Hyper1,
    Hyper2,
}

impl Target {
    fn start(kind: Kind) -> Self {
        Self::start_with(kind, HttpConfig::default())
    }

    fn start_with(kind: Kind, config: HttpConfig) -> Self {
        let mut hyper = None;
        let (addr, gates, server, proto): (_, _, Box<dyn std::any::Any>, _) = match kind {
            Kind::OwnSmol | Kind::OwnTokio => {
                let rt = if matches!(kind, Kind::OwnSmol) {
                    Rt::Smol
                } else {
                    Rt::Tokio
                };
                let s = TestServer::start(rt, config);
                (s.addr, s.gates.clone(), Box::new(s), Proto::Http1)
            }
            Kind::Hyper1 | Kind::Hyper2 => {
                let s = std::rc::Rc::new(HyperServer::start(Mount::Hyper, config));
                hyper = Some(std::rc::Rc::clone(&s));
                let proto = if matches!(kind, Kind::Hyper1) {
                    Proto::Http1
                } else {
                    Proto::Http2
                };
                (s.addr, s.gates.clone(), Box::new(s), proto)
            }
        };
        Self {
            client: HyperClient::new(addr, proto),
            gates,
            hyper,
            _server: server,
        }
    }

    /// Opens a session at 2025-11-25 and returns its headers.
    fn session(&self) -> Vec<(String, String)> {
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "t", "version": "1"}}});
        let reply = self
            .client
            .request("POST", "/mcp", &POST_HEADERS, &init.to_string());
        assert_eq!(reply.status, 200, "{reply:?}");
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.json()["result"]["protocolVersion"], "2025-11-25");
        let id = reply
            .header("mcp-session-id")
            .expect("a session")
            .to_owned();
        let headers = vec![
            ("mcp-session-id".to_owned(), id),
            ("mcp-protocol-version".to_owned(), "2025-11-25".to_owned()),
        ];
        let done = self.post(
            &headers,
            &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        );
        assert_eq!(done.status, 202);
        headers
    }

    /// POSTs `message` with `extra` headers and reads its whole reply.
    fn post(&self, extra: &[(String, String)], message: &Value) -> tests::hyper_client::Answer {
        self.open("POST", extra, &message.to_string()).finish()
    }

    /// Sends a request with the POST headers plus `extra` and reads its head.
    fn open(&self, method: &str, extra: &[(String, String)], body: &str) -> Streaming {
        let mut headers = POST_HEADERS.to_vec();
        headers.extend(extra.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        self.client.open(method, "/mcp", &headers, body)
    }

    /// Opens the session's GET stream, resuming after `last` if given.
    fn get(&self, session: &[(String, String)], last: Option<&str>) -> Streaming {
        let mut headers: Vec<(&str, &str)> = vec![("accept", "text/event-stream")];
        headers.extend(session.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        if let Some(last) = last {
            headers.push(("last-event-id", last));
        }
        self.client.open("GET", "/mcp", &headers, "")
    }
}

fn call(id: i64, tool: &str, args: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": args, "_meta": {"progressToken": id}}})
}

macro_rules! on_every_server {
    ($($name:ident),* $(,)?) => {
        mod own_listener_smol_http1 {
            $( #[test] fn $name() { super::$name(super::Target::start(super::Kind::OwnSmol)) } )*
        }
        mod own_listener_tokio_http1 {
            $( #[test] fn $name() { super::$name(super::Target::start(super::Kind::OwnTokio)) } )*
        }
        mod hyper_http1 {
            $( #[test] fn $name() { super::$name(super::Target::start(super::Kind::Hyper1)) } )*
        }
        mod hyper_http2 {
            $( #[test] fn $name() { super::$name(super::Target::start(super::Kind::Hyper2)) } )*
        }
    };
}

on_every_server!(
    statuses,
    session_json_call,
    progress_is_answered_as_sse,
    get_standalone_stream,
    resumption_after_a_dropped_stream,
    delete_ends_the_session,
    stateless_call,
);

/// Runs `$name(kind)` once per server/protocol combination.
macro_rules! on_every_kind {
    ($($name:ident),* $(,)?) => {
        mod every_kind {
            $(
                mod $name {
                    #[test] fn own_listener_smol_http1() { super::super::$name(super::super::Kind::OwnSmol) }
                    #[test] fn own_listener_tokio_http1() { super::super::$name(super::super::Kind::OwnTokio) }
                    #[test] fn hyper_http1() { super::super::$name(super::super::Kind::Hyper1) }
                    #[test] fn hyper_http2() { super::super::$name(super::super::Kind::Hyper2) }
                }
            )*
        }
    };
}

on_every_kind!(a_client_past_its_stream_share_gets_429_until_one_ends);

/// One client address (127.0.0.1) holds at most its share of GET streams,
/// through our listener and through hyper (`McpService::for_client`):
/// past it a GET is answered 429 with `Retry-After`, POSTs are still
/// served, and a stream that ends makes room again.
fn a_client_past_its_stream_share_gets_429_until_one_ends(kind: Kind) {
    let config = HttpConfig::default().max_streams_per_client(2);
    let t = Target::start_with(kind, config);
    let sessions: Vec<_> = (0..3).map(|_| t.session()).collect();
    let mut first = t.get(&sessions[0], None);
    assert_eq!(first.status, 200);
    assert!(first.next_event().is_some(), "primed");
    let second = t.get(&sessions[1], None);
    assert_eq!(second.status, 200);
    let refused = t.get(&sessions[2], None);
    assert_eq!(
        refused.status, 429,
        "the head first: a stream would never end"
    );
    let refused = refused.finish();
    assert_eq!(refused.header("retry-after"), Some("5"));
    assert_eq!(
        refused.json()["error"]["message"],
        "too many open streams from this client"
    );
    // Its calls are still answered.
    let reply = t.post(
        &sessions[2],
        &call(1, "echo", json!({"text": "still here"})),
    );
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.messages().last().unwrap()["result"]["content"][0]["text"],
        "still here"
    );
    drop(first);
    assert!(tests::eventually(|| t.get(&sessions[2], None).status == 200));
    drop(second);
}

fn statuses(t: Target) {
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string();
    let c = &t.client;
    assert_eq!(
        c.request("POST", "/other", &POST_HEADERS, &ping).status,
        404
    );
    assert_eq!(c.request("PUT", "/mcp", &POST_HEADERS, &ping).status, 405);
    let html = [
        ("content-type", "application/json"),
        ("accept", "text/html"),
    ];
    assert_eq!(c.request("POST", "/mcp", &html, &ping).status, 406);
    let text = [
        ("content-type", "text/plain"),
        ("accept", "application/json, text/event-stream"),
    ];
    assert_eq!(c.request("POST", "/mcp", &text, &ping).status, 415);
    let missing = c.request("POST", "/mcp", &POST_HEADERS, &ping);
    assert_eq!(missing.status, 400);
    assert_eq!(missing.json()["error"]["code"], -32600);
    let unknown = [("mcp-session-id".to_owned(), "nope".to_owned())];
    let r = t.post(
        &unknown,
        &json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}),
    );
    assert_eq!(r.status, 404);
    assert_eq!(r.json()["error"]["code"], -32001);
}

fn session_json_call(t: Target) {
    let s = t.session();
    let r = t.post(&s, &call(1, "echo", json!({"text": "hi"})));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/json"));
    assert_eq!(r.json()["result"]["content"][0]["text"], "hi");
}

fn progress_is_answered_as_sse(t: Target) {
    let s = t.session();
    let mut stream = t.open(
        "POST",
        &s,
        &call(2, "steps", json!({"gate": "g"})).to_string(),
    );
    assert_eq!(stream.status, 200);
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    let (_, first) = stream.next_message().expect("progress 1");
    assert_eq!(first["params"]["progress"], 1.0);
    t.gates.open("g");
    let rest = stream.finish();
    let messages = rest.messages();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert_eq!(messages[2]["result"]["content"][0]["text"], "steps done");
}

fn get_standalone_stream(t: Target) {
    let s = t.session();
    let mut get = t.get(&s, None);
    assert_eq!(get.status, 200);
    assert_eq!(get.header("content-type"), Some("text/event-stream"));
    let r = t.post(&s, &call(3, "announce", json!({})));
    assert_eq!(r.json()["result"]["content"][0]["text"], "announced");
    let (_, event) = get.next_message().expect("a list change");
    assert_eq!(event["method"], "notifications/tools/list_changed");
}

fn resumption_after_a_dropped_stream(t: Target) {
    let s = t.session();
    let mut stream = t.open(
        "POST",
        &s,
        &call(4, "steps", json!({"gate": "r"})).to_string(),
    );
    let (id, first) = stream.next_message().expect("progress 1");
    assert_eq!(first["params"]["progress"], 1.0);
    let id = id.expect("an event id");
    // The client goes away; the tool goes on and its events are kept.
    // Our listener sees the close before the next event (it reads first);
    // hyper learns of it on its own time, so wait for it to drop the body.
    stream.hang_up_until(|| t.hyper.as_ref().is_none_or(|s| s.no_open_response()));
    t.gates.open("r");
    let resumed = t.get(&s, Some(&id)).finish();
    assert_eq!(resumed.status, 200);
    let messages = resumed.messages();
    let progress: Vec<&Value> = messages
        .iter()
        .map(|m| &m["params"]["progress"])
        .filter(|p| !p.is_null())
        .collect();
    assert_eq!(progress, [&json!(2.0), &json!(3.0)], "{messages:?}");
    assert_eq!(
        messages.last().unwrap()["result"]["content"][0]["text"],
        "steps done"
    );
}

fn delete_ends_the_session(t: Target) {
    let s = t.session();
    assert_eq!(t.open("DELETE", &s, "").finish().status, 200);
    let r = t.post(&s, &json!({"jsonrpc": "2.0", "id": 5, "method": "ping"}));
    assert_eq!(r.status, 404);
}

fn stateless_call(t: Target) {
    let body = json!({"jsonrpc": "2.0", "id": 6, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "modern"},
                   "_meta": tests::server::stateless_meta(json!({}))}});
    let headers = tests::server::stateless_headers("tools/call", Some("echo"));
    let r = t.post(&headers[POST_HEADERS.len()..], &body);
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.header("mcp-session-id").is_none());
    let messages = r.messages();
    assert_eq!(
        messages.last().unwrap()["result"]["content"][0]["text"],
        "modern"
    );
}

#[test]
fn axum_serves_mcp_beside_an_ordinary_route() {
    let server = HyperServer::start(Mount::Axum, HttpConfig::default());
    for proto in [Proto::Http1, Proto::Http2] {
        let c = HyperClient::new(server.addr, proto);
        let health = c.request("GET", "/health", &[], "");
        assert_eq!((health.status, health.body.as_slice()), (200, &b"ok"[..]));
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": "t", "version": "1"}}});
        let r = c.request("POST", "/mcp", &POST_HEADERS, &init.to_string());
        assert_eq!(r.status, 200, "{proto:?}");
        assert!(r.header("mcp-session-id").is_some());
        assert_eq!(c.request("GET", "/elsewhere", &[], "").status, 404);
    }
}

#[test]
fn a_body_over_the_limit_is_413_through_hyper() {
    let server = HyperServer::start(Mount::Hyper, HttpConfig::default().max_body_bytes(64));
    for proto in [Proto::Http1, Proto::Http2] {
        let c = HyperClient::new(server.addr, proto);
        let big = "x".repeat(100);
        let r = c.request("POST", "/mcp", &POST_HEADERS, &big);
        assert_eq!(r.status, 413, "{proto:?}");
        // Within the limit, the same server answers.
        let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"}).to_string();
        assert_eq!(c.request("POST", "/mcp", &POST_HEADERS, &ping).status, 400);
    }
}

/// A client that trickles its head one byte at a time, never finishing it
/// (slowloris): the connection must be cut once the request timeout has
/// passed, through the hyper mount and the axum router alike. Returns how
/// long the server held it.
fn trickled_head_is_cut(mount: Mount) -> std::time::Duration {
    use std::io::{ErrorKind, Read, Write};
    use std::time::{Duration, Instant};
    let timeout = Duration::from_millis(800);
    let server = HyperServer::start(mount, HttpConfig::default().request_timeout(timeout));
    let mut conn = std::net::TcpStream::connect(server.addr).unwrap();
    conn.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    conn.write_all(b"POST /mcp HTTP/1.1\r\nhost: localhost\r\n")
        .unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 1024];
    // Bounded: 60 rounds of 100 ms, well past the timeout.
    for _ in 0..60 {
        if conn.write_all(b"x").is_err() {
            return start.elapsed();
        }
        match conn.read(&mut buf) {
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            // Closed or reset: cut.
            Ok(0) | Err(_) => return start.elapsed(),
            Ok(n) => {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                assert!(text.starts_with("HTTP/1.1 408"), "{mount:?}: {text}");
                return start.elapsed();
            }
        }
    }
    panic!("{mount:?}: a head trickled for 6 s was never cut");
}

#[test]
fn a_trickled_head_is_cut_through_hyper_and_axum() {
    for mount in [Mount::Hyper, Mount::Axum] {
        let held = trickled_head_is_cut(mount);
        assert!(
            held >= std::time::Duration::from_millis(500),
            "{mount:?}: cut after {held:?}, before the timeout"
        );
    }
}

/// Through the hyper mount as through our listener: a call waiting on the
/// client (sampling) when shutdown begins ends with its response on its
/// stream, since no answer can come any more.
#[test]
fn a_call_waiting_on_the_client_is_answered_at_shutdown_through_hyper() {
    let server = HyperServer::start(Mount::Hyper, HttpConfig::default());
    let client = HyperClient::new(server.addr, Proto::Http1);
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {"sampling": {}},
                   "clientInfo": {"name": "t", "version": "1"}}});
    let opened = client.request("POST", "/mcp", &POST_HEADERS, &init.to_string());
    let id = opened
        .header("mcp-session-id")
        .expect("a session")
        .to_owned();
    let mut headers = POST_HEADERS.to_vec();
    headers.push(("mcp-session-id", &id));
    headers.push(("mcp-protocol-version", "2025-11-25"));
    let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let done = client.request("POST", "/mcp", &headers, &initialized.to_string());
    assert_eq!(done.status, 202);
    let mut stream = client.open(
        "POST",
        "/mcp",
        &headers,
        &call(8, "sample", json!({"text": "hi"})).to_string(),
    );
    let (_, request) = stream.next_message().expect("the sampling request");
    assert_eq!(request["method"], "sampling/createMessage");
    server.service.shutdown_signal().trigger();
    let (_, last) = stream.next_message().expect("the call's response");
    assert_eq!(last["id"], 8, "{last}");
    assert_eq!(last["result"]["isError"], true, "{last}");
    assert!(
        last["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("shutting down"),
        "{last}"
    );
}
