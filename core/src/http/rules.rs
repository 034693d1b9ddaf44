//! The Streamable HTTP rules: from one request (head and body) to its
//! response. Path, method, Host and Origin, Accept, Content-Type, the
//! session and version headers; then what the request asks of the engine:
//! `initialize` opens a session, a POST dispatches into one, GET listens to
//! its standalone stream (or resumes one with `Last-Event-ID`), DELETE ends
//! it.
//!
//! Refusals carry a JSON-RPC error body with the code JSON-RPC defines for
//! the case (`-32600` for a request the transport cannot take, `-32001` for
//! an unknown session); `-32000` only when a limit was reached.

use std::sync::Arc;
use std::time::Instant;

use http::header::ALLOW;
use http::{HeaderName, HeaderValue, Method, StatusCode};

use super::config::ReplyMode;
use super::parse::{Known, RequestHead};
use super::receiver::StreamReceiver;
use super::response::{Body, Response};
use super::sse::{DeliveredHook, SseBody, encode_event, encode_priming, parse_event_id};
use super::state::HttpState;
use crate::jsonrpc::{self, Decoded, ErrorCode, Message};
use crate::protocol::ProtocolVersion;
use crate::runtime::{BoxFuture, now};
use crate::session::Session;
use crate::stream::StreamEvent;
use crate::streams::STANDALONE;
use crate::transport::{Dispatch, Dispatched, InitializeError, Refusal};

/// The session header (the spec spells it `MCP-Session-Id` from 2025-11-25).
pub const SESSION_HEADER: HeaderName = HeaderName::from_static("mcp-session-id");
/// The protocol version header.
pub const VERSION_HEADER: HeaderName = HeaderName::from_static("mcp-protocol-version");

/// Which reply media types a request accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Accepts {
    json: bool,
    sse: bool,
}

fn accepts(head: &RequestHead) -> Accepts {
    let mut values = head.known_all(Known::Accept).peekable();
    // No Accept header means anything is acceptable (RFC 9110 §12.5.1); the
    // value MCP clients send is recognized whole (a tenth of the parse below).
    if values
        .peek()
        .is_none_or(|v| v.eq_ignore_ascii_case(b"application/json, text/event-stream"))
    {
        return Accepts {
            json: true,
            sse: true,
        };
    }
    let mut a = Accepts {
        json: false,
        sse: false,
    };
    for value in values {
        for item in value.split(|&b| b == b',') {
            let media = media_type(item);
            let is = |m: &[u8]| media.eq_ignore_ascii_case(m);
            if is(b"*/*") {
                (a.json, a.sse) = (true, true);
            } else if is(b"application/json") || is(b"application/*") {
                a.json = true;
            } else if is(b"text/event-stream") || is(b"text/*") {
                a.sse = true;
            }
        }
    }
    a
}

/// The media type of an `Accept` item or a `Content-Type` value: what comes
/// before any parameters, without surrounding spaces.
fn media_type(value: &[u8]) -> &[u8] {
    let end = value.iter().position(|&b| b == b';').unwrap_or(value.len());
    value[..end].trim_ascii()
}

fn is_json(head: &RequestHead) -> bool {
    head.known(Known::ContentType)
        .is_some_and(|ct| media_type(ct).eq_ignore_ascii_case(b"application/json"))
}

/// A refusal: a JSON-RPC error without an id, with `code` and `message`.
fn refuse(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    Response::rpc_error(status, code, message)
}

fn bad_request(message: &str) -> Response {
    refuse(StatusCode::BAD_REQUEST, ErrorCode::INVALID_REQUEST, message)
}

fn session_not_found() -> Response {
    refuse(
        StatusCode::NOT_FOUND,
        ErrorCode::SESSION_NOT_FOUND,
        "session not found",
    )
}

fn shutting_down() -> Response {
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::SERVER_BUSY,
        "server is shutting down",
    )
    .closing()
}

/// Answers one HTTP request.
pub(crate) async fn handle(state: &HttpState, head: &RequestHead, body: Vec<u8>) -> Response {
    let config = &state.config;
    if head.path() != config.path {
        return Response::text(StatusCode::NOT_FOUND, "not found");
    }
    match head.known_str(Known::Host) {
        Some(host) if config.allowed_hosts.allows_host(host) => {}
        _ => {
            return refuse(
                StatusCode::FORBIDDEN,
                ErrorCode::INVALID_REQUEST,
                "forbidden: invalid Host header",
            );
        }
    }
    if let Some(origin) = head.known(Known::Origin) {
        if !std::str::from_utf8(origin).is_ok_and(|o| config.allowed_origins.allows_origin(o)) {
            return refuse(
                StatusCode::FORBIDDEN,
                ErrorCode::INVALID_REQUEST,
                "forbidden: invalid Origin header",
            );
        }
    }
    if !matches!(head.method, Method::POST | Method::GET | Method::DELETE) {
        return Response::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
            .header(ALLOW, HeaderValue::from_static("GET, POST, DELETE"));
    }
    // Absent means 2025-03-26 (the spec's rule); any supported value is accepted,
    // even one that differs from the session's (clients do send that).
    if let Some(v) = head.known(Known::ProtocolVersion) {
        if std::str::from_utf8(v)
            .ok()
            .and_then(|v| v.trim().parse::<ProtocolVersion>().ok())
            .is_none()
        {
            return bad_request("bad request: unsupported MCP-Protocol-Version");
        }
    }
    let Some(engine) = state.engine() else {
        return shutting_down();
    };
    let now = now();
    match head.method {
        Method::POST => post(state, &*engine, head, body, now).await,
        Method::GET => get(state, &*engine, head, now),
        _ => delete(&*engine, head),
    }
}

/// The session named by the request's header, touched at `now`, or the
/// response refusing it.
fn session_of(
    engine: &dyn Dispatch,
    head: &RequestHead,
    now: Instant,
) -> Result<Arc<Session>, Response> {
    let id = head
        .known_str(Known::SessionId)
        .ok_or_else(|| bad_request("bad request: missing Mcp-Session-Id header"))?;
    let session = engine
        .session(&crate::SessionId::new(id))
        .ok_or_else(session_not_found)?;
    session.touch(now);
    Ok(session)
}

/// How a request's reply goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// JSON unless a related message comes first.
    Auto,
    /// Always SSE.
    Sse,
    /// The client takes only JSON: related messages cannot reach it.
    JsonOnly,
}

async fn post(
    state: &HttpState,
    engine: &dyn Dispatch,
    head: &RequestHead,
    body: Vec<u8>,
    now: Instant,
) -> Response {
    let accepts = accepts(head);
    if !accepts.json && !accepts.sse {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            ErrorCode::INVALID_REQUEST,
            "not acceptable: accept application/json or text/event-stream",
        );
    }
    if !is_json(head) {
        return refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::INVALID_REQUEST,
            "unsupported media type: send application/json",
        );
    }
    let mode = match (accepts.json, accepts.sse) {
        (true, false) => Mode::JsonOnly,
        (false, true) => Mode::Sse,
        _ => match state.config.reply_mode {
            ReplyMode::Sse => Mode::Sse,
            _ => Mode::Auto,
        },
    };
    let decoded = jsonrpc::decode(&body);
    match &decoded {
        Decoded::Single(Err(response)) => {
            return Response::json(
                StatusCode::BAD_REQUEST,
                Message::Response(response.clone()).to_bytes(),
            );
        }
        Decoded::Batch(items) if items.iter().any(Result::is_err) => {
            return bad_request("invalid message in batch");
        }
        Decoded::Single(Ok(Message::Request(r))) if r.method == "initialize" => {
            return match engine.initialize(r, now) {
                Ok(opened) => {
                    let response = finished_reply(state, &opened.session, opened.reply, mode);
                    match HeaderValue::from_str(opened.session.id().as_str()) {
                        Ok(value) => response.header(SESSION_HEADER, value),
                        Err(_) => response,
                    }
                }
                Err(InitializeError::TooManySessions) => refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::SERVER_BUSY,
                    "too many sessions",
                )
                .header(http::header::RETRY_AFTER, HeaderValue::from_static("60")),
                Err(InitializeError::Rejected(reply)) => Response::json(StatusCode::OK, reply),
            };
        }
        _ => {}
    }
    let session = match session_of(engine, head, now) {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let Dispatched { stream, work } = match engine.dispatch(&session, decoded, true) {
        Ok(dispatched) => dispatched,
        Err(Refusal::BatchNotAllowed) => {
            return bad_request("batches are only accepted in sessions at 2025-03-26");
        }
        Err(Refusal::DuplicateId(_)) => return bad_request("request id already in flight"),
    };
    let Some(stream) = stream else {
        // Notifications and responses only: nothing to wait for.
        if let Some(work) = work {
            work.await;
        }
        return Response::empty(StatusCode::ACCEPTED);
    };
    let events = {
        let mut st = session.state();
        StreamReceiver::attach(&session, &mut st, stream)
    };
    let Some(events) = events else {
        return session_not_found();
    };
    reply(state, &session, stream, events, mode, work).await
}

/// The response carrying a reply that is already known (`initialize`'s):
/// JSON, or a finished SSE stream for a client that takes only SSE. The
/// reply is logged on a stream of its own, so a client that loses the
/// response can resume it.
fn finished_reply(
    state: &HttpState,
    session: &Arc<Session>,
    reply: Vec<u8>,
    mode: Mode,
) -> Response {
    if mode != Mode::Sse {
        return Response::json(StatusCode::OK, reply);
    }
    let mut st = session.state();
    let number = st.streams.open(&[]);
    let stream = st.streams.get_mut(number).expect("just opened");
    stream.push(reply.into(), true, state.config.replay_events);
    let mut initial = Vec::new();
    if session.protocol_version() >= ProtocolVersion::V2025_11_25 {
        encode_priming(number, 0, state.config.sse_retry.as_millis(), &mut initial);
    }
    for event in stream.replay_after(0) {
        encode_event(number, event, &mut initial);
    }
    drop(st);
    let retained = state.config.retained_streams;
    let session = Arc::clone(session);
    sse_response(SseBody {
        stream: number,
        initial,
        ended: true,
        events: None,
        delivered: Some(Box::new(move |delivered| {
            session.state().streams.release(number, delivered, retained);
        })),
        driver: None,
    })
}

/// Waits for the next event of a stream while driving the handler that
/// produces it (when the server runs it on this task). `None` when the
/// stream closed: cancelled, disconnected, or the session ended.
async fn next_event(
    job: &mut Option<BoxFuture<()>>,
    events: &mut StreamReceiver,
) -> Option<StreamEvent> {
    futures::future::poll_fn(|cx| {
        if let Some(j) = job.as_mut() {
            if j.as_mut().poll(cx).is_ready() {
                *job = None;
            }
        }
        events.poll_event(cx)
    })
    .await
}

async fn reply(
    state: &HttpState,
    session: &Arc<Session>,
    stream: u64,
    mut events: StreamReceiver,
    mode: Mode,
    mut job: Option<BoxFuture<()>>,
) -> Response {
    let retained = state.config.retained_streams;
    let release = move |session: &Arc<Session>, delivered: bool| {
        session.state().streams.release(stream, delivered, retained);
    };
    if mode == Mode::JsonOnly {
        // Related messages cannot reach a JSON-only client; only the reply can.
        while let Some(event) = next_event(&mut job, &mut events).await {
            if event.last {
                release(session, true);
                return Response::json_shared(StatusCode::OK, event.bytes);
            }
        }
        return closed_before_reply(session);
    }
    let mut events = Some(events);
    // Held until the result or the first related message decides between
    // JSON and SSE.
    let first = match mode {
        Mode::Auto => match next_event(&mut job, events.as_mut().expect("set above")).await {
            Some(first) if first.last => {
                release(session, true);
                return Response::json_shared(StatusCode::OK, first.bytes);
            }
            Some(first) => Some(first),
            None if session.is_closed() => return session_not_found(),
            // Closed before anything was sent: the handler ended the
            // connection (SSE polling) or the request was cancelled. The
            // priming event lets the client resume.
            None => {
                events = None;
                None
            }
        },
        _ => None,
    };
    let mut initial = Vec::new();
    if session.protocol_version() >= ProtocolVersion::V2025_11_25 {
        encode_priming(stream, 0, state.config.sse_retry.as_millis(), &mut initial);
    }
    if let Some(first) = first {
        encode_event(stream, &first, &mut initial);
    }
    let hook: DeliveredHook = {
        let session = Arc::clone(session);
        Box::new(move |delivered| release(&session, delivered))
    };
    sse_response(SseBody {
        stream,
        initial,
        ended: false,
        events,
        delivered: Some(hook),
        driver: job,
    })
}

fn closed_before_reply(session: &Session) -> Response {
    if session.is_closed() {
        return session_not_found();
    }
    // Cancelled: there is no reply to give.
    Response::empty(StatusCode::ACCEPTED)
}

fn sse_response(body: SseBody) -> Response {
    Response::empty(StatusCode::OK).body(Body::Sse(Box::new(body)))
}

fn get(state: &HttpState, engine: &dyn Dispatch, head: &RequestHead, now: Instant) -> Response {
    if !accepts(head).sse {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            ErrorCode::INVALID_REQUEST,
            "not acceptable: accept text/event-stream",
        );
    }
    let session = match session_of(engine, head, now) {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let mut st = session.state();
    let resume = head
        .known_str(Known::LastEventId)
        .and_then(parse_event_id)
        .filter(|&(number, _)| st.streams.get_mut(number).is_some());
    let mut initial = Vec::new();
    let (number, ended, events) = match resume {
        Some((number, after)) => {
            let stream = st.streams.get_mut(number).expect("checked above");
            let mut ended = false;
            for event in stream.replay_after(after) {
                encode_event(number, event, &mut initial);
                ended |= event.last;
            }
            // A finished stream whose final event fell out of the log cannot be completed.
            ended |= stream.finished;
            let events = if ended {
                None
            } else {
                StreamReceiver::attach(&session, &mut st, number)
            };
            (number, ended, events)
        }
        None => {
            let stream = st.streams.standalone();
            if stream.attached() {
                return refuse(
                    StatusCode::CONFLICT,
                    ErrorCode::INVALID_REQUEST,
                    "conflict: a GET stream is already open for this session",
                );
            }
            if session.protocol_version() >= ProtocolVersion::V2025_11_25 {
                encode_priming(
                    STANDALONE,
                    stream.last_seq(),
                    state.config.sse_retry.as_millis(),
                    &mut initial,
                );
            }
            let events = StreamReceiver::attach(&session, &mut st, STANDALONE);
            (STANDALONE, false, events)
        }
    };
    drop(st);
    let retained = state.config.retained_streams;
    let hook: DeliveredHook = Box::new(move |delivered| {
        if number != STANDALONE {
            session.state().streams.release(number, delivered, retained);
        }
    });
    sse_response(SseBody {
        stream: number,
        initial,
        ended,
        events,
        delivered: Some(hook),
        driver: None,
    })
}

fn delete(engine: &dyn Dispatch, head: &RequestHead) -> Response {
    let Some(id) = head.known_str(Known::SessionId) else {
        return bad_request("bad request: missing Mcp-Session-Id header");
    };
    if engine.close_session(&crate::SessionId::new(id)) {
        Response::empty(StatusCode::OK)
    } else {
        session_not_found()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::config::HttpConfig;

    fn head(raw: &str) -> RequestHead {
        crate::http::parse::parse_head(raw.as_bytes(), &HttpConfig::default())
            .unwrap()
            .unwrap()
            .0
    }

    #[test]
    fn accept_header_forms() {
        let a = |v: &str| accepts(&head(&format!("GET / HTTP/1.1\r\nAccept: {v}\r\n\r\n")));
        assert_eq!(
            a("application/json, text/event-stream"),
            Accepts {
                json: true,
                sse: true
            }
        );
        assert_eq!(
            a("application/json;q=0.9"),
            Accepts {
                json: true,
                sse: false
            }
        );
        assert_eq!(
            a("text/event-stream"),
            Accepts {
                json: false,
                sse: true
            }
        );
        assert_eq!(
            a("*/*"),
            Accepts {
                json: true,
                sse: true
            }
        );
        assert_eq!(
            a("text/html"),
            Accepts {
                json: false,
                sse: false
            }
        );
        assert_eq!(
            accepts(&head("GET / HTTP/1.1\r\n\r\n")),
            Accepts {
                json: true,
                sse: true
            }
        );
    }

    #[test]
    fn content_type_must_be_json() {
        assert!(is_json(&head(
            "POST / HTTP/1.1\r\nContent-Type: application/json; charset=utf-8\r\n\r\n"
        )));
        assert!(!is_json(&head(
            "POST / HTTP/1.1\r\nContent-Type: text/plain\r\n\r\n"
        )));
        assert!(!is_json(&head("POST / HTTP/1.1\r\n\r\n")));
    }

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
    const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25"}}"#;

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
                format!("{POST}|{sid}|")
                    .replace("application/json, text/event-stream", "text/html"),
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
}
