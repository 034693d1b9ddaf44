//! Tests of the Streamable HTTP rules, through the one entry.
use crate::http::config::HttpConfig;
use crate::http::replies::response::Body;
use crate::http::wire::RequestHead;
use crate::http::wire::testing::head;

/// A transport with a server over it (no runtime: every answer here is
/// produced on the caller's task), and a way to ask it.
struct Endpoint {
    transport: crate::HttpServerTransport,
    _server: crate::McpServer,
}

impl Endpoint {
    fn new(limits: crate::ServerConfig) -> Self {
        let transport = crate::HttpServerTransport::new(HttpConfig::default());
        let server = crate::McpServerBuilder::new()
            .config(limits)
            .tool(
                crate::Tool::new("ok", "answers ok"),
                |_: serde_json::Value, _ctx| async { Ok(crate::CallToolResult::text("ok")) },
            )
            .tool(
                crate::Tool::new("poll", "ends its connection, then answers"),
                |_: serde_json::Value, ctx| async move {
                    ctx.close_sse_stream()
                        .await
                        .map_err(|e| crate::RpcError::internal(e.to_string()))?;
                    Ok(crate::CallToolResult::text("polled"))
                },
            )
            .build(transport.clone());
        Self {
            transport,
            _server: server,
        }
    }

    /// Answers `raw` (a head) with `body`; only complete bodies.
    fn ask(&self, raw: &str, body: &str) -> (u16, Vec<(String, String)>, serde_json::Value) {
        let head = lines(raw);
        let response = futures::executor::block_on(self.transport.handle(&head, body.into()));
        let headers = response
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        let json = response
            .body
            .full()
            .and_then(|b| serde_json::from_slice(b).ok())
            .unwrap_or(serde_json::Value::Null);
        (response.status.as_u16(), headers, json)
    }

    /// Opens a session at `version`; returns its header line.
    fn session(&self, version: &str) -> String {
        let init = format!(
            r#"{{"jsonrpc":"2.0","id":0,"method":"initialize","params":{{"protocolVersion":"{version}","capabilities":{{}},"clientInfo":{{"name":"t","version":"1"}}}}}}"#
        );
        let (status, headers, _) = self.ask(&format!("{POST}|"), &init);
        assert_eq!(status, 200);
        let id = headers
            .iter()
            .find(|(n, _)| n == "mcp-session-id")
            .map(|(_, v)| v.clone())
            .unwrap();
        format!("mcp-session-id: {id}|")
    }
}

/// A head from `|`-separated lines (the blank line is added).
fn lines(raw: &str) -> RequestHead {
    head(&format!(
        "{}\r\n\r\n",
        raw.trim_end_matches('|').replace('|', "\r\n")
    ))
}

const POST: &str = "POST /mcp HTTP/1.1|host: localhost|accept: application/json, text/event-stream|content-type: application/json";
const PING: &str = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;
const INIT: &str =
    r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#;

fn code(json: &serde_json::Value) -> i64 {
    json["error"]["code"].as_i64().unwrap_or_default()
}

#[test]
fn refusals_have_their_status_and_code() {
    let e = Endpoint::new(crate::ServerConfig::default());
    let sid = e.session("2025-11-25");
    let cases: [(String, &str, u16, i64); 11] = [
        (
            "POST /other HTTP/1.1|host: localhost||".into(),
            PING,
            404,
            0,
        ),
        (
            "POST /mcp HTTP/1.1|host: evil.example||".into(),
            PING,
            403,
            -32600,
        ),
        (
            format!("{POST}|origin: http://evil.example|{sid}|"),
            PING,
            403,
            -32600,
        ),
        ("PUT /mcp HTTP/1.1|host: localhost||".into(), "", 405, 0),
        (
            format!("{POST}|{sid}|").replace("application/json, text/event-stream", "text/html"),
            PING,
            406,
            -32600,
        ),
        (
            format!("{POST}|{sid}|")
                .replace("content-type: application/json", "content-type: text/plain"),
            PING,
            415,
            -32600,
        ),
        (format!("{POST}||"), PING, 400, -32600),
        (
            format!("{POST}|mcp-session-id: unknown||"),
            PING,
            404,
            -32001,
        ),
        (
            format!("{POST}|{sid}mcp-protocol-version: 1999-01-01||"),
            PING,
            400,
            -32600,
        ),
        (format!("{POST}|{sid}|"), "{nope", 400, -32700),
        (format!("{POST}|{sid}|"), &format!("[{PING}]"), 400, -32600),
    ];
    for (raw, body, status, want) in cases {
        let (got, _, json) = e.ask(&raw, body);
        assert_eq!((got, code(&json)), (status, want), "{raw} {body}");
    }
    let (status, headers, _) = e.ask("PUT /mcp HTTP/1.1|host: localhost||", "");
    assert_eq!(status, 405);
    assert!(headers.contains(&("allow".into(), "GET, POST, DELETE".into())));
    // After every refusal the session still serves.
    let (status, _, json) = e.ask(&format!("{POST}|{sid}|"), PING);
    assert_eq!(
        (status, json["result"].clone()),
        (200, serde_json::json!({}))
    );
}

#[test]
fn get_streams_delete_and_the_session_cap() {
    let e = Endpoint::new(crate::ServerConfig::default().max_sessions(1));
    let sid = e.session("2025-03-26");
    let get = format!("GET /mcp HTTP/1.1|host: localhost|accept: text/event-stream|{sid}|");
    let first = futures::executor::block_on(e.transport.handle(&lines(&get), Vec::new()));
    assert!(
        matches!(first.body, Body::Sse(_)),
        "the standalone stream opens"
    );
    let (status, _, json) = e.ask(&get, "");
    assert_eq!((status, code(&json)), (409, -32600), "only one at a time");
    drop(first);
    let (status, _, _) = e.ask(&format!("{POST}||"), INIT);
    assert_eq!(status, 503, "one session at most");
    // A batch is fine at 2025-03-26.
    let (status, _, json) = e.ask(&format!("{POST}|{sid}|"), &format!("[{PING}]"));
    assert_eq!((status, json[0]["id"].clone()), (200, serde_json::json!(1)));
    let delete = format!("DELETE /mcp HTTP/1.1|host: localhost|{sid}|");
    assert_eq!(e.ask(&delete, "").0, 200);
    assert_eq!(e.ask(&delete, "").0, 404, "gone");
    assert_eq!(e.ask(&format!("{POST}|{sid}|"), PING).0, 404);
    assert_eq!(e.ask(&format!("{POST}||"), INIT).0, 200, "room again");
}

#[test]
fn a_json_only_client_gets_the_reply_of_a_handler_that_ends_its_connection() {
    // SSE polling means nothing to a client that takes only JSON: it
    // waits for the reply (it used to get 202, and the request id stayed
    // taken for the rest of the session).
    let e = Endpoint::new(crate::ServerConfig::default());
    let sid = e.session("2025-11-25");
    let json_only =
        format!("{POST}|{sid}|").replace("application/json, text/event-stream", "application/json");
    let call = r#"{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"poll"}}"#;
    for _ in 0..2 {
        let (status, _, json) = e.ask(&json_only, call);
        assert_eq!(status, 200, "{json}");
        assert_eq!(json["result"]["content"][0]["text"], "polled");
    }
}

#[test]
fn resuming_the_standalone_stream_takes_it_over_from_its_listener() {
    // The client lost its GET and resumes before the server noticed:
    // the old connection still listens, and must not stand in the way.
    let e = Endpoint::new(crate::ServerConfig::default());
    let sid = e.session("2025-11-25");
    // `sid` ends its line.
    let get = format!("GET /mcp HTTP/1.1|host: localhost|accept: text/event-stream|{sid}");
    let first = futures::executor::block_on(e.transport.handle(&lines(&get), Vec::new()));
    let Body::Sse(mut first) = first.body else {
        panic!("the standalone stream opens");
    };
    assert_eq!(e.ask(&get, "").0, 409, "a plain GET waits its turn");
    let resume = format!("{get}last-event-id: 0-0|");
    let again = futures::executor::block_on(e.transport.handle(&lines(&resume), Vec::new()));
    assert!(matches!(again.body, Body::Sse(_)), "taken over");
    let mut old = first.events.take().expect("a live stream");
    let ended = futures::executor::block_on(futures::future::poll_fn(|cx| old.poll_event(cx)));
    assert_eq!(ended, None, "the old response ends");
    drop(old);
    assert_eq!(e.ask(&get, "").0, 409, "the new listener stays");
}

#[test]
fn ambiguous_or_missing_heads_are_refused_and_absolute_targets_served() {
    let e = Endpoint::new(crate::ServerConfig::default());
    let sid = e.session("2025-11-25");
    let base = "POST /mcp HTTP/1.1|accept: application/json|content-type: application/json";
    let cases = [
        // Two Host headers, the second one foreign: it used to be 200.
        (
            format!("{base}|host: localhost|host: evil.example|{sid}|"),
            400,
        ),
        (
            format!(
                "{base}|host: localhost|origin: http://localhost|origin: http://evil.example|{sid}|"
            ),
            400,
        ),
        (format!("{base}|host: localhost|{sid}{sid}|"), 400),
        // No Host at all: 400 (it used to be 403).
        (format!("{base}|{sid}|"), 400),
        // Absolute form is served, its authority checked as Host.
        (
            format!("{base}|{sid}|").replace("POST /mcp", "POST http://127.0.0.1:9/mcp"),
            200,
        ),
        (
            format!("{base}|host: localhost|{sid}|")
                .replace("POST /mcp", "POST http://evil.example/mcp"),
            403,
        ),
    ];
    for (raw, status) in cases {
        let (got, _, json) = e.ask(&raw, PING);
        assert_eq!(got, status, "{raw}: {json}");
    }
}
