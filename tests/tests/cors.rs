//! CORS through every front door, over real sockets on 127.0.0.1: our own
//! listener (smol and tokio), `McpService` in hyper (HTTP/1.1 and h2c) and
//! in an axum router. A page on a loopback origin (allowed by default) is
//! granted every step of a session and of a session-less call; a page on a
//! foreign origin is granted nothing.

use serde_json::{Value, json};
use switchboard_core::HttpConfig;
use switchboard_core::http::{AuthConfig, AuthError, CorsPolicy, Principal, verifier_fn};
use tests::hyper_client::{Answer, HyperClient, HyperServer, Mount, Proto, Streaming};
use tests::server::{Gates, Rt, TestServer};

/// The page's origin: loopback, so the default allow-list takes it.
const PAGE: &str = "http://127.0.0.1:5555";
/// A foreign page's origin.
const FOREIGN: &str = "https://evil.example.com";
const EXPOSED: &str = "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate";

/// A server under test and a client of it.
struct Target {
    client: HyperClient,
    gates: Gates,
    _server: Box<dyn std::any::Any>,
}

/// The front doors.
#[derive(Clone, Copy, Debug)]
enum Kind {
    OwnSmol,
    OwnTokio,
    Hyper1,
    Hyper2,
    Axum,
}

impl Target {
    fn start(kind: Kind, config: HttpConfig) -> Self {
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
            Kind::Hyper1 | Kind::Hyper2 | Kind::Axum => {
                let mount = if matches!(kind, Kind::Axum) {
                    Mount::Axum
                } else {
                    Mount::Hyper
                };
                let s = HyperServer::start(mount, config);
                let proto = if matches!(kind, Kind::Hyper2) {
                    Proto::Http2
                } else {
                    Proto::Http1
                };
                (s.addr, s.gates.clone(), Box::new(s), proto)
            }
        };
        Self {
            client: HyperClient::new(addr, proto),
            gates,
            _server: server,
        }
    }

    /// A preflight from `origin` for `method` asking for `headers`.
    fn preflight(&self, origin: &str, method: &str, headers: &str) -> Answer {
        let mut h = vec![
            ("origin", origin),
            ("access-control-request-method", method),
        ];
        if !headers.is_empty() {
            h.push(("access-control-request-headers", headers));
        }
        self.client.request("OPTIONS", "/mcp", &h, "")
    }

    /// Sends what a page on `origin` sends, plus `extra` headers.
    fn open(&self, origin: &str, method: &str, extra: &[(&str, &str)], body: &Value) -> Streaming {
        let mut h = vec![
            ("origin", origin),
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
        ];
        if method == "GET" {
            h = vec![("origin", origin), ("accept", "text/event-stream")];
        }
        h.extend_from_slice(extra);
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        self.client.open(method, "/mcp", &h, &body)
    }
}

/// The grant a reply to the page carries.
fn readable(status: u16, header: impl Fn(&str) -> Option<String>) {
    assert_eq!(
        header("access-control-allow-origin").as_deref(),
        Some(PAGE),
        "{status}"
    );
    assert_eq!(
        header("access-control-expose-headers").as_deref(),
        Some(EXPOSED)
    );
    assert_eq!(header("vary").as_deref(), Some("Origin"));
    assert_eq!(header("access-control-allow-credentials"), None);
}

fn answer_readable(a: &Answer) {
    readable(a.status, |n| a.header(n).map(str::to_owned));
}

fn stream_readable(s: &Streaming) {
    readable(s.status, |n| s.header(n).map(str::to_owned));
}

fn call(id: i64, tool: &str, args: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": args, "_meta": {"progressToken": id}}})
}

macro_rules! on_every_front_door {
    ($($name:ident),* $(,)?) => {
        mod own_listener_smol {
            $( #[test] fn $name() { super::$name(super::Kind::OwnSmol) } )*
        }
        mod own_listener_tokio {
            $( #[test] fn $name() { super::$name(super::Kind::OwnTokio) } )*
        }
        mod hyper_http1 {
            $( #[test] fn $name() { super::$name(super::Kind::Hyper1) } )*
        }
        mod hyper_http2 {
            $( #[test] fn $name() { super::$name(super::Kind::Hyper2) } )*
        }
        mod axum_router {
            $( #[test] fn $name() { super::$name(super::Kind::Axum) } )*
        }
    };
}

on_every_front_door!(
    preflight_is_granted_to_an_allowed_origin,
    preflight_is_refused_to_a_foreign_origin_or_an_unknown_header,
    a_whole_session_is_readable_by_the_page,
    a_sessionless_call_is_readable_by_the_page,
    a_foreign_page_gets_no_grant_and_no_origin_gets_none,
    challenges_and_metadata_are_readable,
    credentials_when_configured,
    disabled_cors_answers_options_405,
    a_body_too_large_is_refused_readably,
);

fn a_body_too_large_is_refused_readably(kind: Kind) {
    let t = Target::start(kind, HttpConfig::default().max_body_bytes(64));
    let big =
        json!({"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"pad": "x".repeat(200)}});
    let r = t.open(PAGE, "POST", &[], &big).finish();
    assert_eq!(r.status, 413, "{r:?}");
    answer_readable(&r);
}

fn preflight_is_granted_to_an_allowed_origin(kind: Kind) {
    let t = Target::start(kind, HttpConfig::default());
    let asked = "content-type,mcp-session-id,mcp-protocol-version,last-event-id,authorization,\
                 mcp-method,mcp-name,mcp-param-region";
    for method in ["POST", "GET", "DELETE"] {
        let r = t.preflight(PAGE, method, asked);
        assert_eq!(r.status, 204, "{method}: {r:?}");
        assert_eq!(r.header("access-control-allow-origin"), Some(PAGE));
        assert_eq!(r.header("vary"), Some("Origin"));
        assert_eq!(
            r.header("access-control-allow-methods"),
            Some("GET, POST, DELETE")
        );
        let allowed = r
            .header("access-control-allow-headers")
            .unwrap()
            .to_ascii_lowercase();
        for name in asked.split(',') {
            assert!(
                allowed.split(", ").any(|a| a == name),
                "{name} in {allowed}"
            );
        }
        assert_eq!(r.header("access-control-max-age"), Some("7200"));
        assert!(r.body.is_empty());
    }
    // With no headers asked for, and from localhost rather than 127.0.0.1.
    let r = t.preflight("http://localhost:3000", "POST", "");
    assert_eq!(r.status, 204);
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
}

fn preflight_is_refused_to_a_foreign_origin_or_an_unknown_header(kind: Kind) {
    let t = Target::start(kind, HttpConfig::default());
    for (origin, method, headers) in [
        (FOREIGN, "POST", "content-type"),
        (PAGE, "PUT", ""),
        (PAGE, "POST", "content-type, x-custom"),
    ] {
        let r = t.preflight(origin, method, headers);
        assert_eq!(r.status, 403, "{origin} {method} {headers}: {r:?}");
        assert_eq!(r.header("access-control-allow-origin"), None);
        assert_eq!(r.header("access-control-allow-methods"), None);
    }
}

fn a_whole_session_is_readable_by_the_page(kind: Kind) {
    let t = Target::start(kind, HttpConfig::default());
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "page", "version": "1"}}});
    let r = t.open(PAGE, "POST", &[], &init).finish();
    assert_eq!(r.status, 200, "{r:?}");
    answer_readable(&r);
    let id = r.header("mcp-session-id").expect("a session").to_owned();
    let s = [
        ("mcp-session-id", id.as_str()),
        ("mcp-protocol-version", "2025-11-25"),
    ];
    let done = t
        .open(
            PAGE,
            "POST",
            &s,
            &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        )
        .finish();
    assert_eq!(done.status, 202);
    answer_readable(&done);
    // A progress-reporting call is answered as SSE, its head granted.
    let mut stream = t.open(PAGE, "POST", &s, &call(2, "steps", json!({"gate": "g"})));
    assert_eq!(stream.status, 200);
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    stream_readable(&stream);
    let (_, first) = stream.next_message().expect("progress 1");
    assert_eq!(first["params"]["progress"], 1.0);
    t.gates.open("g");
    let rest = stream.finish();
    assert_eq!(
        rest.messages().last().unwrap()["result"]["content"][0]["text"],
        "steps done"
    );
    // The standalone stream.
    let mut get = t.open(PAGE, "GET", &s, &Value::Null);
    assert_eq!(get.status, 200);
    stream_readable(&get);
    let r = t
        .open(PAGE, "POST", &s, &call(3, "announce", json!({})))
        .finish();
    answer_readable(&r);
    let (_, event) = get.next_message().expect("a list change");
    assert_eq!(event["method"], "notifications/tools/list_changed");
    drop(get);
    // An error reply.
    let unknown = [("mcp-session-id", "nope")];
    let r = t
        .open(
            PAGE,
            "POST",
            &unknown,
            &json!({"jsonrpc": "2.0", "id": 4, "method": "ping"}),
        )
        .finish();
    assert_eq!(r.status, 404);
    answer_readable(&r);
    let r = t.open(PAGE, "DELETE", &s, &Value::Null).finish();
    assert_eq!(r.status, 200);
    answer_readable(&r);
}

fn a_sessionless_call_is_readable_by_the_page(kind: Kind) {
    let t = Target::start(kind, HttpConfig::default());
    let body = json!({"jsonrpc": "2.0", "id": 6, "method": "tools/call",
        "params": {"name": "echo", "arguments": {"text": "modern"},
                   "_meta": tests::server::stateless_meta(json!({}))}});
    let headers = tests::server::stateless_headers("tools/call", Some("echo"));
    let extra: Vec<(&str, &str)> = headers
        .iter()
        .filter(|(k, _)| k != "content-type" && k != "accept")
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let asked: Vec<&str> = extra.iter().map(|(k, _)| *k).collect();
    let pre = t.preflight(PAGE, "POST", &format!("content-type,{}", asked.join(",")));
    assert_eq!(pre.status, 204, "{pre:?}");
    let r = t.open(PAGE, "POST", &extra, &body).finish();
    assert_eq!(r.status, 200, "{r:?}");
    answer_readable(&r);
    assert_eq!(
        r.messages().last().unwrap()["result"]["content"][0]["text"],
        "modern"
    );
}

fn a_foreign_page_gets_no_grant_and_no_origin_gets_none(kind: Kind) {
    let t = Target::start(kind, HttpConfig::default());
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let r = t.open(FOREIGN, "POST", &[], &ping).finish();
    assert_eq!(r.status, 403);
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(r.header("access-control-expose-headers"), None);
    // No Origin: not a cross-origin page, no grant, but the reply varies.
    let h = [
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
    ];
    let r = t.client.request("POST", "/mcp", &h, &ping.to_string());
    assert_eq!(r.status, 400);
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert_eq!(r.header("vary"), Some("Origin"));
    // An OPTIONS that is no preflight is a method the endpoint does not serve.
    let r = t.client.request("OPTIONS", "/mcp", &[("origin", PAGE)], "");
    assert_eq!(r.status, 405);
    answer_readable(&r);
}

fn auth() -> AuthConfig {
    let verifier = verifier_fn(|token: String| async move {
        match token.as_str() {
            "good" => Ok(Principal::new("alice")),
            _ => Err(AuthError::InvalidToken("unknown token".into())),
        }
    });
    AuthConfig::new("http://127.0.0.1/mcp", verifier)
        .authorization_server("https://auth.example.com")
}

fn challenges_and_metadata_are_readable(kind: Kind) {
    let t = Target::start(kind, HttpConfig::default().auth(auth()));
    // The preflight goes without a token.
    let pre = t.preflight(PAGE, "POST", "content-type,authorization");
    assert_eq!(pre.status, 204, "{pre:?}");
    let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let r = t.open(PAGE, "POST", &[], &ping).finish();
    assert_eq!(r.status, 401);
    answer_readable(&r);
    assert!(
        r.header("www-authenticate")
            .unwrap()
            .contains("resource_metadata=")
    );
    if matches!(kind, Kind::Axum) {
        // The router sends only /mcp to the service.
        return;
    }
    let path = "/.well-known/oauth-protected-resource/mcp";
    let pre = t.client.request(
        "OPTIONS",
        path,
        &[("origin", PAGE), ("access-control-request-method", "GET")],
        "",
    );
    assert_eq!(pre.status, 204);
    assert_eq!(pre.header("access-control-allow-methods"), Some("GET"));
    let r = t.client.request("GET", path, &[("origin", PAGE)], "");
    assert_eq!(r.status, 200);
    answer_readable(&r);
    assert_eq!(r.json()["resource"], "http://127.0.0.1/mcp");
}

fn credentials_when_configured(kind: Kind) {
    let config = HttpConfig::default().cors(CorsPolicy::default().credentials(true));
    let t = Target::start(kind, config);
    let pre = t.preflight(PAGE, "POST", "content-type");
    assert_eq!(pre.header("access-control-allow-credentials"), Some("true"));
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": "page", "version": "1"}}});
    let r = t.open(PAGE, "POST", &[], &init).finish();
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), Some(PAGE));
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
}

fn disabled_cors_answers_options_405(kind: Kind) {
    let t = Target::start(kind, HttpConfig::default().cors(CorsPolicy::disabled()));
    let pre = t.preflight(PAGE, "POST", "content-type");
    assert_eq!(pre.status, 405);
    assert_eq!(pre.header("access-control-allow-origin"), None);
    assert_eq!(pre.header("vary"), None);
}

/// The `hello` example with `--allow-origin`, on each runtime: the named
/// origin is granted besides loopback ones, others are not.
#[test]
fn the_examples_allow_origin_flag_adds_an_origin() {
    for runtime in ["smol", "tokio"] {
        let (mut child, addr) = tests::spawn_example(
            env!("CARGO_BIN_EXE_hello-under-test"),
            &[
                "--runtime",
                runtime,
                "--addr",
                "127.0.0.1:0",
                "--allow-origin",
                "https://app.example.com",
            ],
        );
        let client = HyperClient::new(addr, Proto::Http1);
        for (origin, status) in [
            ("https://app.example.com", 204),
            (PAGE, 204),
            (FOREIGN, 403),
        ] {
            let r = client.request(
                "OPTIONS",
                "/mcp",
                &[
                    ("origin", origin),
                    ("access-control-request-method", "POST"),
                    ("access-control-request-headers", "content-type"),
                ],
                "",
            );
            assert_eq!(r.status, status, "{runtime} {origin}");
            let granted = (status == 204).then_some(origin);
            assert_eq!(r.header("access-control-allow-origin"), granted);
        }
        child.kill().unwrap();
        child.wait().unwrap();
    }
}
