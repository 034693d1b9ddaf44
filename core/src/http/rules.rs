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
//! path (404; with an auth hook the protected resource metadata is served
//! on its own paths), `Host` and `Origin` (403), the bearer token when the
//! endpoint needs one (401, 400, 503, or 403 for a scope the endpoint
//! requires; see [`super::auth`]), method (405),
//! `MCP-Protocol-Version` (400), a server to answer (503 without one), then
//! per method `Accept` (406), `Content-Type` (415) and the session (400
//! without one, 404 for an unknown one or one another subject opened). A
//! POST that calls a tool with a scope of its own is refused 403 after its
//! body is read. A request refused by one check is not seen by the next.

use std::sync::Arc;
use std::time::Instant;

use http::header::ALLOW;
use http::{HeaderName, HeaderValue, Method, StatusCode};

use super::auth::{AuthConfig, Principal};
use super::config::ReplyMode;
use super::job::Job;
use super::media::{accepts, is_json};
use super::parse::{Known, RequestHead};
use super::receiver::StreamReceiver;
use super::reply::{Mode, finished_reply, reply, session_not_found, sse_response};
use super::response::Response;
use super::sse::{DeliveredHook, SseBody, encode_event, encode_priming, parse_event_id};
use super::state::HttpState;
use super::stateless;
use crate::jsonrpc::{self, Decoded, ErrorCode, Message};
use crate::protocol::ProtocolVersion;
use crate::runtime::now;
use crate::session::Session;
use crate::stateless::RequestMeta;
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
        if let Some(auth) = &config.auth {
            if AuthConfig::serves_metadata(head.path(), &config.path) {
                return auth.metadata_response(&head.method);
            }
        }
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
    let principal = match &config.auth {
        None => None,
        Some(auth) => {
            let header = head.known(Known::Authorization);
            match auth
                .authenticate(header, head.is_repeated(Known::Authorization))
                .await
            {
                Ok(principal) => {
                    let missing = auth.missing_scopes(&principal, std::iter::empty());
                    if !missing.is_empty() {
                        return auth.insufficient_scope(&missing);
                    }
                    Some(Arc::new(principal))
                }
                Err(refusal) => return refusal,
            }
        }
    };
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
    let caller = principal.as_ref();
    match head.method {
        Method::POST => post(state, engine, head, body, now, principal).await,
        Method::GET => get(state, &*engine, head, now, caller),
        _ => delete(&*engine, head, caller),
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
/// not open, or that another subject's token opened (so a stolen or guessed
/// id tells its holder nothing). Touching keeps the session from expiring
/// as idle.
fn session_of(
    engine: &dyn Dispatch,
    head: &RequestHead,
    now: Instant,
    caller: Option<&Arc<Principal>>,
) -> Result<Arc<Session>, Response> {
    let id = head
        .known_str(Known::SessionId)
        .ok_or_else(|| bad_request("bad request: missing Mcp-Session-Id header"))?;
    let session = engine
        .session(&crate::SessionId::new(id))
        .ok_or_else(session_not_found)?;
    if !same_party(session.facts().principal.as_deref(), caller.map(|p| &**p)) {
        return Err(session_not_found());
    }
    session.touch(now);
    Ok(session)
}

/// Whether the session's owner and the caller are the same party: both
/// anonymous (no auth hook), or the same issuer and subject.
fn same_party(owner: Option<&Principal>, caller: Option<&Principal>) -> bool {
    match (owner, caller) {
        (None, None) => true,
        (Some(owner), Some(caller)) => owner.same_party(caller),
        _ => false,
    }
}

/// The tools a POST body calls (`params.name` of each `tools/call`), for
/// the scopes [`AuthConfig::tool_scope`] asks of them.
fn called_tools(decoded: &Decoded) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Call {
        name: String,
    }
    let name = |m: &Result<Message, jsonrpc::Response>| match m {
        Ok(Message::Request(r)) if r.method == "tools/call" => r
            .params
            .as_ref()
            .and_then(|p| p.parse::<Call>().ok())
            .map(|c| c.name),
        _ => None,
    };
    match decoded {
        Decoded::Single(m) => name(m).into_iter().collect(),
        Decoded::Batch(items) => items.iter().filter_map(name).collect(),
    }
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
    principal: Option<Arc<Principal>>,
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
    if let (Some(auth), Some(principal)) = (&state.config.auth, &principal) {
        if auth.has_tool_scopes() {
            let tools = called_tools(&decoded);
            let missing = auth.missing_scopes(principal, tools.iter().map(String::as_str));
            if !missing.is_empty() {
                return auth.insufficient_scope(&missing);
            }
        }
    }
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
        if let Some(mut meta) = meta {
            if let Ok(meta) = &mut meta {
                meta.set_principal(principal);
            }
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
            return match engine.initialize_as(r, now, principal) {
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
    let session = match session_of(engine, head, now, principal.as_ref()) {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let Dispatched { stream, work } = match engine.dispatch_as(&session, decoded, true, principal) {
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

/// A GET: opens the session's standalone stream, or, with a
/// `Last-Event-ID` naming a stream the session still has, resumes that one.
///
/// A resumed stream replays what followed the id, then goes on live unless
/// it already finished, taking the stream over from a connection still
/// listening to it. A plain GET while another connection listens to the
/// standalone stream is answered 409: one at a time per session. A
/// `Last-Event-ID` naming no kept stream is ignored, and the standalone
/// stream is opened instead.
fn get(
    state: &HttpState,
    engine: &dyn Dispatch,
    head: &RequestHead,
    now: Instant,
    caller: Option<&Arc<Principal>>,
) -> Response {
    if !accepts(head).sse {
        return refuse(
            StatusCode::NOT_ACCEPTABLE,
            ErrorCode::INVALID_REQUEST,
            "not acceptable: accept text/event-stream",
        );
    }
    let session = match session_of(engine, head, now, caller) {
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
            let mut replayed = 0;
            for event in stream.replay_after(after) {
                encode_event(number, event, &mut initial);
                ended |= event.last;
                replayed += 1;
            }
            crate::observe::http::replayed(number, replayed);
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
    let hook: DeliveredHook = Box::new(move |_delivered| {
        if number != STANDALONE {
            session.state().streams.release_sse(number, retained);
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
fn delete(engine: &dyn Dispatch, head: &RequestHead, caller: Option<&Arc<Principal>>) -> Response {
    let Some(id) = head.known_str(Known::SessionId) else {
        return bad_request("bad request: missing Mcp-Session-Id header");
    };
    let id = crate::SessionId::new(id);
    // Another subject's session is not theirs to end, nor to learn of.
    let owned = engine
        .session(&id)
        .is_some_and(|s| same_party(s.facts().principal.as_deref(), caller.map(|p| &**p)));
    if owned && engine.close_session(&id) {
        Response::empty(StatusCode::OK)
    } else {
        session_not_found()
    }
}

#[cfg(test)]
mod tests;
