//! The Streamable HTTP endpoint: the spec's rules (path, method, Host and
//! Origin, Accept, Content-Type, session and version headers) and what each
//! request does to the session table.

use std::sync::Arc;

use http::header::ALLOW;
use http::{HeaderName, HeaderValue, Method, StatusCode};

use super::config::ReplyMode;
use super::parse::{Known, RequestHead};
use super::receiver::StreamReceiver;
use super::response::{Body, Response};
use super::sse::{DeliveredHook, SseBody, StreamEvent, encode_event, encode_priming};
use super::transport::{HttpSession, HttpState, STANDALONE, decoded_request_ids};
use crate::jsonrpc::{self, Decoded, ErrorCode, Message, RequestId};
use crate::protocol::ProtocolVersion;
use crate::runtime::BoxFuture;
use crate::session::SessionId;

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

fn bad_request(message: &str) -> Response {
    Response::rpc_error(StatusCode::BAD_REQUEST, ErrorCode::SERVER_BUSY, message)
}

fn session_not_found() -> Response {
    Response::rpc_error(
        StatusCode::NOT_FOUND,
        ErrorCode::SESSION_NOT_FOUND,
        "session not found",
    )
}

/// Answers one HTTP request.
pub(crate) async fn handle(state: &Arc<HttpState>, head: RequestHead, body: Vec<u8>) -> Response {
    let config = &state.config;
    if head.path() != config.path {
        return Response::text(StatusCode::NOT_FOUND, "not found");
    }
    match head.known_str(Known::Host) {
        Some(host) if config.allowed_hosts.allows_host(host) => {}
        _ => {
            return Response::rpc_error(
                StatusCode::FORBIDDEN,
                ErrorCode::SERVER_BUSY,
                "forbidden: invalid Host header",
            );
        }
    }
    if let Some(origin) = head.known(Known::Origin) {
        if !std::str::from_utf8(origin).is_ok_and(|o| config.allowed_origins.allows_origin(o)) {
            return Response::rpc_error(
                StatusCode::FORBIDDEN,
                ErrorCode::SERVER_BUSY,
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
            return bad_request("unsupported MCP-Protocol-Version");
        }
    }
    match head.method {
        Method::POST => post(state, &head, body).await,
        Method::GET => get(state, &head),
        _ => delete(state, &head).await,
    }
}

/// The session named by the request's header, or the response refusing it.
fn session_of(
    state: &HttpState,
    head: &RequestHead,
) -> Result<(SessionId, Arc<HttpSession>), Response> {
    let id = head
        .known_str(Known::SessionId)
        .ok_or_else(|| bad_request("bad request: missing Mcp-Session-Id header"))?;
    let id = SessionId::new(id);
    let session = state.touch(&id).ok_or_else(session_not_found)?;
    Ok((id, session))
}

async fn post(state: &Arc<HttpState>, head: &RequestHead, body: Vec<u8>) -> Response {
    let accepts = accepts(head);
    if !accepts.json && !accepts.sse {
        return Response::rpc_error(
            StatusCode::NOT_ACCEPTABLE,
            ErrorCode::SERVER_BUSY,
            "not acceptable: accept application/json or text/event-stream",
        );
    }
    if !is_json(head) {
        return Response::rpc_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::SERVER_BUSY,
            "unsupported media type: send application/json",
        );
    }
    let decoded = jsonrpc::decode(&body);
    let initialize = match &decoded {
        Decoded::Single(Err(response)) => {
            return Response::json(
                StatusCode::BAD_REQUEST,
                Message::Response(response.clone()).to_bytes(),
            );
        }
        Decoded::Batch(items) if items.iter().any(Result::is_err) => {
            return Response::rpc_error(
                StatusCode::BAD_REQUEST,
                ErrorCode::INVALID_REQUEST,
                "invalid message in batch",
            );
        }
        Decoded::Single(Ok(Message::Request(r))) if r.method == "initialize" => {
            #[derive(serde::Deserialize)]
            struct Init<'a> {
                #[serde(rename = "protocolVersion", borrow)]
                version: std::borrow::Cow<'a, str>,
            }
            Some(
                r.params
                    .as_ref()
                    .and_then(|p| p.parse::<Init<'_>>().ok())
                    .map_or(ProtocolVersion::LATEST, |i| {
                        ProtocolVersion::negotiate(&i.version)
                    }),
            )
        }
        _ => None,
    };
    let (session_id, session) = match initialize {
        Some(version) => match state.open_session(version) {
            Some(opened) => opened,
            None => {
                return Response::rpc_error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    ErrorCode::SERVER_BUSY,
                    "too many sessions",
                )
                .header(http::header::RETRY_AFTER, HeaderValue::from_static("60"));
            }
        },
        None => match session_of(state, head) {
            Ok(found) => found,
            Err(refusal) => return refusal,
        },
    };
    if matches!(decoded, Decoded::Batch(_)) && !session.version.allows_batches() {
        return Response::rpc_error(
            StatusCode::BAD_REQUEST,
            ErrorCode::INVALID_REQUEST,
            "batches are only accepted in sessions at 2025-03-26",
        );
    }
    let batch_ids;
    let ids: &[RequestId] = match &decoded {
        Decoded::Single(Ok(Message::Request(r))) => std::slice::from_ref(&r.id),
        Decoded::Single(_) => &[],
        Decoded::Batch(_) => {
            batch_ids = decoded_request_ids(&decoded);
            &batch_ids
        }
    };
    if ids.is_empty() {
        return match state.deliver(session_id, decoded, body).await {
            Ok(job) => {
                if let Some(job) = job {
                    job.await;
                }
                Response::empty(StatusCode::ACCEPTED)
            }
            Err(_) => shutting_down(),
        };
    }
    let Ok((stream, events)) = session.open_stream(ids) else {
        return Response::rpc_error(
            StatusCode::BAD_REQUEST,
            ErrorCode::INVALID_REQUEST,
            "request id already in flight",
        );
    };
    let Ok(job) = state.deliver(session_id.clone(), decoded, body).await else {
        return shutting_down();
    };
    let mode = match (accepts.json, accepts.sse) {
        (true, false) => Mode::JsonOnly,
        (false, true) => Mode::Sse,
        _ => match state.config.reply_mode {
            ReplyMode::Sse => Mode::Sse,
            _ => Mode::Auto,
        },
    };
    let mut response = reply(state, &session_id, &session, stream, events, mode, job).await;
    if initialize.is_some() {
        // The server holds the session exactly when initialize succeeded;
        // without a direct line to it, look at the reply.
        let failed = match (state.server_has_session(&session_id), &response.body) {
            (Some(has), _) => !has,
            (None, body) => body.full().is_some_and(|b| {
                serde_json::from_slice::<serde_json::Value>(b)
                    .map_or(true, |v| v.get("error").is_some())
            }),
        };
        if failed {
            state.remove_session(&session_id);
            // The engine created no session for a failed initialize; nothing to close there.
        } else if let Ok(value) = HeaderValue::from_str(session_id.as_str()) {
            response.headers.push((SESSION_HEADER, value));
        }
    }
    response
}

fn shutting_down() -> Response {
    Response::rpc_error(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::SERVER_BUSY,
        "server is shutting down",
    )
    .closing()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// JSON unless a related message comes first.
    Auto,
    /// Always SSE.
    Sse,
    /// The client takes only JSON: related messages cannot reach it.
    JsonOnly,
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
    state: &Arc<HttpState>,
    session_id: &SessionId,
    session: &Arc<HttpSession>,
    stream: u64,
    mut events: StreamReceiver,
    mode: Mode,
    mut job: Option<BoxFuture<()>>,
) -> Response {
    let retained = state.config.retained_streams;
    let release = || -> DeliveredHook {
        let session = Arc::clone(session);
        Box::new(move |delivered| session.release(stream, delivered, retained))
    };
    if mode == Mode::JsonOnly {
        // Related messages cannot reach a JSON-only client; only the reply can.
        while let Some(event) = next_event(&mut job, &mut events).await {
            if event.last {
                session.release(stream, true, retained);
                return Response::json_shared(StatusCode::OK, event.bytes);
            }
        }
        return closed_before_reply(state, session_id);
    }
    let mut events = Some(events);
    // Held until the result or the first related message decides between
    // JSON and SSE.
    let first = match mode {
        Mode::Auto => match next_event(&mut job, events.as_mut().expect("set above")).await {
            Some(first) if first.last => {
                session.release(stream, true, retained);
                return Response::json_shared(StatusCode::OK, first.bytes);
            }
            Some(first) => Some(first),
            None if state.session(session_id).is_none() => return session_not_found(),
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
    if session.version >= ProtocolVersion::V2025_11_25 {
        encode_priming(stream, 0, state.config.sse_retry.as_millis(), &mut initial);
    }
    if let Some(first) = first {
        encode_event(stream, &first, &mut initial);
    }
    sse_response(SseBody {
        stream,
        initial,
        ended: false,
        events,
        delivered: Some(release()),
        driver: job,
    })
}

fn closed_before_reply(state: &HttpState, session: &SessionId) -> Response {
    if state.session(session).is_none() {
        return session_not_found();
    }
    // Cancelled: there is no reply to give.
    Response::empty(StatusCode::ACCEPTED)
}

fn sse_response(body: SseBody) -> Response {
    Response::empty(StatusCode::OK).body(Body::Sse(Box::new(body)))
}

fn get(state: &Arc<HttpState>, head: &RequestHead) -> Response {
    if !accepts(head).sse {
        return Response::rpc_error(
            StatusCode::NOT_ACCEPTABLE,
            ErrorCode::SERVER_BUSY,
            "not acceptable: accept text/event-stream",
        );
    }
    let (_, session) = match session_of(state, head) {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let mut st = session.state();
    let resume = head
        .known_str(Known::LastEventId)
        .and_then(super::sse::parse_event_id)
        .filter(|&(number, _)| st.get_mut(number).is_some());
    let mut initial = Vec::new();
    let (number, ended, events) = match resume {
        Some((number, after)) => {
            let stream = st.get_mut(number).expect("checked above");
            let mut ended = false;
            for event in stream.replay_after(after) {
                encode_event(number, event, &mut initial);
                ended |= event.last;
            }
            // A finished stream whose final event fell out of the log cannot be completed.
            ended |= stream.finished;
            let events = (!ended).then(|| StreamReceiver::attach(&session, number, stream));
            (number, ended, events)
        }
        None => {
            let stream = st.standalone();
            if stream.attached() {
                return Response::rpc_error(
                    StatusCode::CONFLICT,
                    ErrorCode::SERVER_BUSY,
                    "conflict: a GET stream is already open for this session",
                );
            }
            if session.version >= ProtocolVersion::V2025_11_25 {
                encode_priming(
                    STANDALONE,
                    stream.last_seq(),
                    state.config.sse_retry.as_millis(),
                    &mut initial,
                );
            }
            (
                STANDALONE,
                false,
                Some(StreamReceiver::attach(&session, STANDALONE, stream)),
            )
        }
    };
    drop(st);
    let retained = state.config.retained_streams;
    sse_response(SseBody {
        stream: number,
        initial,
        ended,
        events,
        delivered: Some(Box::new(move |delivered| {
            if number != STANDALONE {
                session.release(number, delivered, retained);
            }
        })),
        driver: None,
    })
}

async fn delete(state: &Arc<HttpState>, head: &RequestHead) -> Response {
    let (session_id, _) = match session_of(state, head) {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    state.remove_session(&session_id);
    state.deliver_closed(session_id).await;
    Response::empty(StatusCode::OK)
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
}
