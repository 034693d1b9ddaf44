//! How a dispatched request's reply goes out: as JSON when its result
//! comes first, as an SSE stream as soon as a related message does (or
//! always, for a client or config that asks), with the stream released, or
//! a stateless request's carrier ended, when the response is done.

use std::sync::Arc;

use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderName, HeaderValue, StatusCode};

use super::job::Job;
use super::receiver::StreamReceiver;
use super::refusals::session_not_found;
use super::response::{Body, Response};
use super::routing::HttpState;
use super::sse::{DeliveredHook, SseBody};
use crate::http::wire::events::{encode_event, encode_priming};
use crate::id::SessionId;
use crate::protocol::ProtocolVersion;
use crate::session::Session;
use crate::session_store::LoggedEvent;
use crate::stream::StreamEvent;
use crate::transport::Dispatch;

/// How a request's reply goes out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// JSON unless a related message comes first.
    Auto,
    /// Always SSE.
    Sse,
    /// The client takes only JSON: related messages cannot reach it.
    JsonOnly,
}

/// Ends a stateless request's carrier when dropped: after its JSON reply,
/// or with its SSE body (written out, or dropped when the client left).
pub(crate) struct CarrierEnd {
    /// The engine the carrier lives in.
    pub(crate) engine: Arc<dyn Dispatch>,
    /// The carrier.
    pub(crate) id: SessionId,
}

impl Drop for CarrierEnd {
    fn drop(&mut self) {
        self.engine.end_stateless(&self.id);
    }
}

/// The response carrying a reply that is already known (`initialize`'s):
/// JSON, or a finished SSE stream for a client that takes only SSE. The
/// reply is logged on a stream of its own, so a client that loses the
/// response can resume it.
pub(crate) fn finished_reply(
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
    session.start_writing();
    sse_response(SseBody {
        stream: number,
        initial,
        ended: true,
        events: None,
        delivered: Some(Box::new(move |_delivered| {
            session.state().streams.release_sse(number, retained);
            session.stop_writing(crate::clock::now());
        })),
        driver: None,
        share: None,
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
pub(crate) async fn reply(
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
            reply_status(&bytes)
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
        // A stateless error has its own status (404, 400): it goes out as
        // JSON with it, like every other refusal, even to a client that
        // asked only for SSE. Anything else streams as asked.
        Mode::Sse if stateless => {
            match next_event(&mut job, events.as_mut().expect("set above")).await {
                Some(first) if first.last && reply_status(&first.bytes) != StatusCode::OK => {
                    release(session, true);
                    return json(first.bytes);
                }
                Some(first) => Some(first),
                None => {
                    events = None;
                    None
                }
            }
        }
        _ => None,
    };
    if cfg!(feature = "shared-sessions") {
        share(state, session, stream);
    }
    let mut initial = Vec::new();
    if primes(session) {
        encode_priming(stream, 0, state.config.sse_retry.as_millis(), &mut initial);
    }
    // A stateless result that came first ends the stream it opens.
    let mut ended = false;
    if let Some(first) = first {
        encode_event(stream, &first, &mut initial);
        ended = first.last;
    }
    session.start_writing();
    let hook: DeliveredHook = {
        let session = Arc::clone(session);
        Box::new(move |_delivered| {
            // Kept even when written: a proxy may hold what the client missed.
            session.state().streams.release_sse(stream, retained);
            session.stop_writing(crate::clock::now());
            // Ends a stateless request's carrier with its stream.
            drop(carrier);
        })
    };
    sse_response(SseBody {
        stream,
        initial,
        ended,
        events: if ended { None } else { events },
        delivered: Some(hook),
        driver: job,
        share: None,
    })
}

/// Marks stream `number` of a session shared with other replicas as going
/// out as SSE, so that its events go to the shared log too and a client
/// may resume it with `Last-Event-ID` on any replica (see
/// [`HttpState::route`]): writes an opening mark (sequence 0, so the log
/// exists before its first event) and what the stream already holds. A
/// reply sent as JSON has no event id to resume from, and is never shared.
fn share(state: &HttpState, session: &Session, number: u64) {
    let mut st = session.state();
    if st.stored.is_none() {
        return;
    }
    let (Some(engine), Some(stream)) = (state.engine(), st.streams.get_mut(number)) else {
        return;
    };
    if std::mem::replace(&mut stream.shared, true) {
        return;
    }
    let cap = state.config.replay_events;
    let id = session.id();
    engine.share_event(id, number, LoggedEvent::new(0, false, ""), cap);
    for event in stream.replay_after(0) {
        let text = String::from_utf8_lossy(&event.bytes).into_owned();
        engine.share_event(
            id,
            number,
            LoggedEvent::new(event.seq, event.last, text),
            cap,
        );
    }
}

/// Whether a stream of `session` starts with a priming event (an id to
/// resume from): from 2025-11-25 on, in sessions only; the stateless
/// revision has no resumption.
pub(crate) fn primes(session: &Session) -> bool {
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

/// A 200 whose body is `body`, with the SSE response headers: the one
/// place they are written, for every front door (`X-Accel-Buffering: no`
/// keeps nginx from holding events back).
pub(crate) fn sse_response(body: SseBody) -> Response {
    // A constant: made at compile time (at run time the parser behind
    // `from_static` is 6 KB of code).
    const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");
    Response::empty(StatusCode::OK)
        .header(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"))
        .header(CACHE_CONTROL, HeaderValue::from_static("no-cache"))
        .header(X_ACCEL_BUFFERING, HeaderValue::from_static("no"))
        .body(Body::Sse(Box::new(body)))
}

/// The status of a stateless JSON reply: the revision's errors have their
/// own (`-32601` is 404; `-32020`, `-32021` and `-32022` are 400), anything
/// else is 200.
pub(crate) fn reply_status(bytes: &[u8]) -> StatusCode {
    // The engine encodes every reply as `{"jsonrpc":"2.0","id":ID,` then
    // `"result":` or `"error":{"code":N`: step over the id, look at what follows.
    let Some(rest) = bytes.strip_prefix(br#"{"jsonrpc":"2.0","id":"#) else {
        return StatusCode::OK;
    };
    let id_len = if rest.first() == Some(&b'"') {
        let mut i = 1;
        while i < rest.len() && rest[i] != b'"' {
            i += if rest[i] == b'\\' { 2 } else { 1 };
        }
        i + 1
    } else {
        rest.iter()
            .take_while(|b| {
                **b == b'-' || b.is_ascii_digit() || **b == b'n' || **b == b'u' || **b == b'l'
            })
            .count()
    };
    let Some(code) = rest
        .get(id_len..)
        .and_then(|r| r.strip_prefix(br#","error":{"code":"#))
    else {
        return StatusCode::OK;
    };
    let digits = code
        .iter()
        .take_while(|b| **b == b'-' || b.is_ascii_digit())
        .count();
    match std::str::from_utf8(&code[..digits])
        .ok()
        .and_then(|d| d.parse::<i32>().ok())
    {
        Some(-32601) => StatusCode::NOT_FOUND,
        Some(-32022..=-32020) => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stateless_errors_have_their_status() {
        let cases: [(&[u8], StatusCode); 7] = [
            (
                br#"{"jsonrpc":"2.0","id":"a\"error\":{","error":{"code":-32601,"message":"m"}}"#,
                StatusCode::NOT_FOUND,
            ),
            (
                br#"{"jsonrpc":"2.0","id":null,"error":{"code":-32020,"message":"m"}}"#,
                StatusCode::BAD_REQUEST,
            ),
            (
                br#"{"jsonrpc":"2.0","id":1,"result":{"error":{"code":-32601}}}"#,
                StatusCode::OK,
            ),
            (
                br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"m"}}"#,
                StatusCode::NOT_FOUND,
            ),
            (
                br#"{"jsonrpc":"2.0","id":"a","error":{"code":-32021,"message":"m"}}"#,
                StatusCode::BAD_REQUEST,
            ),
            (
                br#"{"jsonrpc":"2.0","id":1,"error":{"code":-32602,"message":"m"}}"#,
                StatusCode::OK,
            ),
            (
                br#"{"jsonrpc":"2.0","id":1,"error":{"code":-320211,"message":"m"}}"#,
                StatusCode::OK,
            ),
        ];
        for (bytes, status) in cases {
            assert_eq!(
                reply_status(bytes),
                status,
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}
