//! The Streamable HTTP rules: from one request (head and body) to its
//! response. Path, method, Host and Origin, Accept, Content-Type, the
//! session and version headers; then what the request asks of the engine:
//! `initialize` opens a session, a POST dispatches into one, GET listens to
//! its standalone stream (or resumes one with `Last-Event-ID`), DELETE ends
//! it.
//!
//! Refusals carry a JSON-RPC error body with the code JSON-RPC defines for
//! the case (`-32600` for a request the transport cannot take), or one from
//! its implementation-defined range (`-32001` for an unknown session,
//! `-32000` only when a limit was reached or the server is shutting down).
//!
//! The checks run in a fixed order:
//! path (404), `Host` and `Origin` (403), method (405),
//! `MCP-Protocol-Version` (400), a server to answer (503 without one), then
//! per method `Accept` (406), `Content-Type` (415) and the session (400
//! without one, 404 for an unknown one). A request refused by one check is
//! not seen by the next.

use std::sync::Arc;
use std::time::Instant;

use http::header::ALLOW;
use http::{HeaderName, HeaderValue, Method, StatusCode};

use super::config::ReplyMode;
use super::job::Job;
use super::media::{accepts, is_json};
use super::parse::{Known, RequestHead};
use super::receiver::StreamReceiver;
use super::response::{Body, Response};
use super::sse::{DeliveredHook, SseBody, encode_event, encode_priming, parse_event_id};
use super::state::HttpState;
use super::stateless::{self, CarrierEnd};
use crate::jsonrpc::{self, Decoded, ErrorCode, Message};
use crate::protocol::ProtocolVersion;
use crate::runtime::now;
use crate::session::Session;
use crate::stateless::RequestMeta;
use crate::stream::StreamEvent;
use crate::streams::STANDALONE;
use crate::transport::{Dispatch, Dispatched, InitializeError, Refusal};

/// The session header (the spec spells it `MCP-Session-Id` from 2025-11-25).
///
/// Sent on the response to `initialize`; the client sends it back on every
/// later request of the session. Header names are case-insensitive, so both
/// spellings are the same header.
///
/// # Examples
///
/// ```
/// use switchboard_core::http::parse::parse_head;
/// use switchboard_core::http::SESSION_HEADER;
/// use switchboard_core::{HttpConfig, HttpServerTransport, McpServerBuilder};
///
/// # futures::executor::block_on(async {
/// let transport = HttpServerTransport::new(HttpConfig::default());
/// let _server = McpServerBuilder::new().server_info("demo", "1.0.0").build(transport.clone());
/// let raw = b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\r\n";
/// let (head, _) = parse_head(raw, transport.config()).unwrap().unwrap();
/// let body = br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":
///     {"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#;
///
/// let response = transport.handle(&head, body.to_vec()).await;
/// let session = response.headers.iter().find(|(name, _)| *name == SESSION_HEADER);
/// assert!(session.is_some());
/// # });
/// ```
pub const SESSION_HEADER: HeaderName = HeaderName::from_static("mcp-session-id");
/// The protocol version header: the revision the client negotiated, sent
/// on every request after `initialize`. When absent, 2025-03-26 is assumed;
/// a value naming no supported revision is answered 400.
pub const VERSION_HEADER: HeaderName = HeaderName::from_static("mcp-protocol-version");

/// A refusal: a JSON-RPC error without an id, with `code` and `message`.
fn refuse(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    Response::rpc_error(status, code, message)
}

/// A 400 refusal with code `-32600`: the request breaks a transport rule.
fn bad_request(message: &str) -> Response {
    refuse(StatusCode::BAD_REQUEST, ErrorCode::INVALID_REQUEST, message)
}

/// 404 with code `-32001`: the session is unknown, expired or deleted. The
/// spec tells a client to start a new session with `initialize` on this.
fn session_not_found() -> Response {
    refuse(
        StatusCode::NOT_FOUND,
        ErrorCode::SESSION_NOT_FOUND,
        "session not found",
    )
}

/// 503 with code `-32000`, closing the connection: no engine is attached,
/// or the transport has closed.
fn shutting_down() -> Response {
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::SERVER_BUSY,
        "server is shutting down",
    )
    .closing()
}

/// Answers one HTTP request.
///
/// Applies the transport-level checks in the order the module describes,
/// then hands the request to [`post`], [`get`] or [`delete`]. Never fails:
/// every problem is a response. Only a POST awaits anything (its
/// handlers, driven here until the reply or the first related message);
/// dropping the future drops handlers not yet handed to a stream.
pub(crate) async fn handle(state: &HttpState, head: &RequestHead, body: Vec<u8>) -> Response {
    let config = &state.config;
    if head.path() != config.path {
        return Response::text(StatusCode::NOT_FOUND, "not found");
    }
    // A header the server decides by must be unambiguous (RFC 9110 §5.3):
    // a proxy that reads the first of two and a server that reads the last
    // would disagree about who is asking, and for which session.
    for (header, name) in [
        (Known::Host, "Host"),
        (Known::Origin, "Origin"),
        (Known::SessionId, "Mcp-Session-Id"),
        (Known::ProtocolVersion, "MCP-Protocol-Version"),
    ] {
        if head.is_repeated(header) {
            return bad_request(&format!("bad request: more than one {name} header"));
        }
    }
    // An absolute-form target names the host itself (RFC 9112 §3.2.2).
    let host = head
        .absolute_authority()
        .or_else(|| head.known_str(Known::Host));
    match host {
        None => return bad_request("bad request: missing Host header"),
        Some(host) if config.allowed_hosts.allows_host(host) => {}
        Some(_) => {
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
    let Some(engine) = state.engine() else {
        return shutting_down();
    };
    if head.method != Method::POST {
        if !engine.eras().sessions() {
            // A stateless-only endpoint has no sessions to listen to or end.
            return Response::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
                .header(ALLOW, HeaderValue::from_static("POST"));
        }
        if let Some(refusal) = session_version(header_version(head)) {
            return refusal;
        }
    }
    let now = now();
    match head.method {
        Method::POST => post(state, engine, head, body, now).await,
        Method::GET => get(state, &*engine, head, now),
        _ => delete(&*engine, head),
    }
}

/// The refusal of a session-era request whose `MCP-Protocol-Version` names
/// no session-based revision this server supports (400), if it does.
/// Absent means 2025-03-26 (the spec's rule); any supported value is
/// accepted, even one that differs from the session's (clients do send
/// that).
fn session_version(header: Option<Option<ProtocolVersion>>) -> Option<Response> {
    let supported = header?.is_some_and(|v| !v.is_stateless());
    (!supported).then(|| bad_request("bad request: unsupported MCP-Protocol-Version"))
}

/// The request's `MCP-Protocol-Version`, read: `None` when absent,
/// `Some(None)` for a value that names no revision this server knows.
fn header_version(head: &RequestHead) -> Option<Option<ProtocolVersion>> {
    head.known_str(Known::ProtocolVersion)
        .map(|v| v.trim().parse::<ProtocolVersion>().ok())
}

/// The session named by the request's header, touched at `now`, or the
/// response refusing it: 400 without the header, 404 for a session that is
/// not open. Touching keeps the session from expiring as idle.
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
pub(super) enum Mode {
    /// JSON unless a related message comes first.
    Auto,
    /// Always SSE.
    Sse,
    /// The client takes only JSON: related messages cannot reach it.
    JsonOnly,
}

/// A POST: `initialize` opens a session and is answered at once; anything
/// else is dispatched into the session named by its header.
///
/// Answers 202 when the body holds no request (notifications, responses to
/// the server's own requests), after their work ran. Otherwise the reply
/// goes out as [`reply`] decides. A body that is not JSON-RPC is answered
/// 400 with the decoder's error; a batch with an invalid member 400 as a
/// whole; `initialize` past the session cap 503 with `Retry-After: 60`.
async fn post(
    state: &HttpState,
    engine: Arc<dyn Dispatch>,
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
    let eras = engine.eras();
    let header = header_version(head);
    if eras.stateless() {
        let (meta, id, method) = match &decoded {
            Decoded::Single(Ok(Message::Request(r))) => (
                RequestMeta::parse(r.params.as_ref()),
                Some(&r.id),
                r.method.as_str(),
            ),
            Decoded::Single(Ok(Message::Notification(n))) => (
                RequestMeta::parse(n.params.as_ref()),
                None,
                n.method.as_str(),
            ),
            _ => (None, None, ""),
        };
        if let Some(meta) = meta {
            let Decoded::Single(Ok(message)) = decoded else {
                unreachable!("only single messages carry stateless _meta")
            };
            return stateless::post(state, engine, head, message, meta, mode).await;
        }
        if header.is_some_and(|v| v.is_some_and(ProtocolVersion::is_stateless)) {
            // A stateless header on a session-era body: never a fall-back.
            if method == "initialize" {
                return super::stateless::header_mismatch_response(
                    id,
                    "initialize is not part of the stateless MCP-Protocol-Version",
                );
            }
            return stateless::invalid_meta(
                id,
                "invalid params: a stateless MCP-Protocol-Version needs _meta with \
                 io.modelcontextprotocol/protocolVersion and clientCapabilities",
            );
        }
    }
    if let Some(refusal) = session_version(header) {
        return refusal;
    }
    let engine = &*engine;
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
        Decoded::Single(Ok(Message::Request(r)))
            if r.method == "initialize" && !eras.sessions() =>
        {
            // A stateless-only endpoint names what it does serve.
            let requested = r
                .params
                .as_ref()
                .and_then(|p| p.parse::<serde_json::Value>().ok())
                .and_then(|p| p["protocolVersion"].as_str().map(str::to_owned))
                .unwrap_or_default();
            let error = crate::stateless::unsupported_version(&requested);
            let response = jsonrpc::Response::err(Some(r.id.clone()), error);
            return Response::json(
                StatusCode::BAD_REQUEST,
                Message::Response(response).to_bytes(),
            );
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
        Err(Refusal::SessionClosed) => return session_not_found(),
        // Only stateless requests are refused these ways.
        Err(other) => return bad_request(&other.to_string()),
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
    let job = work.map(|work| Job::new(work, &session, stream));
    reply(state, &session, stream, events, mode, job, None).await
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
    if primes(session) {
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
///
/// Cancel-safe for the events (an event not yet taken stays in the log);
/// `job` is only polled through the reference, so dropping this future
/// leaves the handler with the caller. A finished job is set to `None`.
async fn next_event(job: &mut Option<Job>, events: &mut StreamReceiver) -> Option<StreamEvent> {
    futures::future::poll_fn(|cx| {
        if let Some(j) = job.as_mut() {
            if std::pin::Pin::new(j).poll(cx).is_ready() {
                *job = None;
            }
        }
        events.poll_event(cx)
    })
    .await
}

/// The response for a dispatched request whose reply stream is `stream`,
/// attached as `events`.
///
/// - [`Mode::JsonOnly`]: waits for the reply, skipping related messages,
///   and answers it as JSON (202 if the request was cancelled first, 404 if
///   the session ended).
/// - [`Mode::Auto`]: waits for the first event; the reply itself goes out
///   as JSON, anything else opens an SSE response that starts with it.
/// - [`Mode::Sse`]: an SSE response at once.
///
/// An SSE response carries the handler (`job`) for the connection to drive
/// and its delivery hook, which releases the stream once the connection is
/// done with it. In the JSON cases the stream is released here.
pub(super) async fn reply(
    state: &HttpState,
    session: &Arc<Session>,
    stream: u64,
    mut events: StreamReceiver,
    mode: Mode,
    mut job: Option<Job>,
    carrier: Option<CarrierEnd>,
) -> Response {
    let retained = state.config.retained_streams;
    let stateless = carrier.is_some();
    let release = move |session: &Arc<Session>, delivered: bool| {
        session.state().streams.release(stream, delivered, retained);
    };
    // A stateless reply's status follows its error; a session's is 200.
    let json = |bytes: Arc<[u8]>| {
        let status = if stateless {
            stateless::reply_status(&bytes)
        } else {
            StatusCode::OK
        };
        Response::json_shared(status, bytes)
    };
    if mode == Mode::JsonOnly {
        // Related messages cannot reach a JSON-only client; only the reply can.
        while let Some(event) = next_event(&mut job, &mut events).await {
            if event.last {
                release(session, true);
                return json(event.bytes);
            }
        }
        // The stream ended before its reply. When the handler asked to end
        // the connection (SSE polling), which a JSON-only client cannot
        // follow, it is still running: let it finish and answer with its
        // reply from the log. A cancelled request has no reply (its stream
        // is gone), and a closed session answers 404.
        if let Some(job) = job.take() {
            job.await;
        }
        let logged = session
            .state()
            .streams
            .get_mut(stream)
            .and_then(|s| s.replay_after(0).find(|e| e.last).map(|e| e.bytes.clone()));
        if let Some(bytes) = logged {
            release(session, true);
            return json(bytes);
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
                return json(first.bytes);
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
    if primes(session) {
        encode_priming(stream, 0, state.config.sse_retry.as_millis(), &mut initial);
    }
    if let Some(first) = first {
        encode_event(stream, &first, &mut initial);
    }
    let hook: DeliveredHook = {
        let session = Arc::clone(session);
        Box::new(move |delivered| {
            release(&session, delivered);
            // Ends a stateless request's carrier with its stream.
            drop(carrier);
        })
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

/// Whether a stream of `session` starts with a priming event (an id to
/// resume from): from 2025-11-25 on, in sessions only; the stateless
/// revision has no resumption.
fn primes(session: &Session) -> bool {
    let version = session.protocol_version();
    version >= ProtocolVersion::V2025_11_25 && !version.is_stateless()
}

/// The response when a JSON-only request's stream closed without a reply:
/// 404 if its session ended, else 202 (the request was cancelled, so there
/// is nothing to answer).
fn closed_before_reply(session: &Session) -> Response {
    if session.is_closed() {
        return session_not_found();
    }
    // Cancelled: there is no reply to give.
    Response::empty(StatusCode::ACCEPTED)
}

/// A 200 whose body is `body`; the encoder adds the SSE headers.
fn sse_response(body: SseBody) -> Response {
    Response::empty(StatusCode::OK).body(Body::Sse(Box::new(body)))
}

/// A GET: opens the session's standalone stream, or, with a
/// `Last-Event-ID` naming a stream the session still has, resumes that one.
///
/// A resumed stream replays what followed the id, then goes on live unless
/// it already finished, taking the stream over from a connection still
/// listening to it. A plain GET while another connection listens to the
/// standalone stream is answered 409: one at a time per session. A
/// `Last-Event-ID` naming no kept stream is ignored, and the standalone
/// stream is opened instead.
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
    // Closed after the lookup: no stream of it may open (nothing would end it).
    if st.closed {
        drop(st);
        return session_not_found();
    }
    let resume = head
        .known_str(Known::LastEventId)
        .and_then(parse_event_id)
        .filter(|&(number, _)| st.streams.get_mut(number).is_some());
    // A resumption takes its stream over from any connection still
    // listening to it, the standalone stream like a reply stream: the
    // client says it lost that connection, which the server may not have
    // noticed yet (or, for a connection that died silently, at all). The
    // old response ends; what it had not written is replayed here.
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

/// A DELETE: ends the session named by the header (200), which ends its
/// open responses and aborts its requests in flight; 404 if it is not
/// open, 400 without the header.
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
    use crate::http::testing::head;

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

    #[test]
    fn a_json_only_client_gets_the_reply_of_a_handler_that_ends_its_connection() {
        // SSE polling means nothing to a client that takes only JSON: it
        // waits for the reply (it used to get 202, and the request id stayed
        // taken for the rest of the session).
        let e = Endpoint::new(crate::ServerConfig::default());
        let sid = e.session("2025-11-25");
        let json_only = format!("{POST}|{sid}|")
            .replace("application/json, text/event-stream", "application/json");
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
}
