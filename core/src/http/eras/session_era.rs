//! The session era (2025-11-25 back to 2024-11-05): `initialize` opens a
//! session, a POST dispatches into the session its header names, GET
//! listens to the session's standalone stream (or resumes a stream with
//! `Last-Event-ID`), DELETE ends it.

use crate::clock::Instant;
use std::sync::Arc;

use http::{HeaderValue, StatusCode};

use crate::http::replies::job::Job;
use crate::http::replies::receiver::StreamReceiver;
use crate::http::replies::refusals::{bad_request, refuse, session_not_found, store_unavailable};
use crate::http::replies::reply::{Mode, finished_reply, reply, sse_response};
use crate::http::replies::response::Response;
use crate::http::replies::routing::HttpState;
use crate::http::replies::sse::{DeliveredHook, SseBody};
use crate::http::rules::{Admitted, SESSION_HEADER, same_party, session_of, session_version};
use crate::http::shares::Share;
use crate::http::wire::events::{encode_event, encode_priming, parse_event_id};
use crate::http::wire::{Known, RequestHead};
use crate::id::SessionId;
use crate::jsonrpc::{self, Decoded, ErrorCode, Message};

use crate::principal::Principal;
use crate::protocol::ProtocolVersion;
use crate::stateless::unsupported_version;
use crate::streams::STANDALONE;
use crate::transport::{Dispatch, Dispatched, InitializeError, Refusal};

/// A session-era POST: `initialize` opens a session and is answered at
/// once; anything else is dispatched into the session named by its header.
///
/// Answers 202 when the body holds no request (notifications, responses to
/// the server's own requests), after their work ran. Otherwise the reply
/// goes out as [`reply`] decides. A body that is not JSON-RPC is answered
/// 400 with the decoder's error; a batch with an invalid member 400 as a
/// whole; `initialize` past the session cap 503 with `Retry-After: 60`.
pub(super) async fn post(
    state: &HttpState,
    admitted: Admitted,
    head: &RequestHead,
    decoded: Decoded,
    mode: Mode,
) -> Response {
    let Admitted {
        engine,
        principal,
        version: header,
        now,
        ..
    } = admitted;
    let eras = engine.eras();
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
            let error = unsupported_version(&requested);
            let response = jsonrpc::Response::err(Some(r.id.clone()), error);
            return Response::json(
                StatusCode::BAD_REQUEST,
                Message::Response(response).to_bytes(),
            );
        }
        Decoded::Single(Ok(Message::Request(r))) if r.method == "initialize" => {
            return match engine.initialize_as(r, now, principal) {
                Ok(opened) => {
                    if engine.shares_sessions() {
                        // Kept in the store before the client learns its id.
                        if let Err(e) = engine.store_session(&opened.session).await {
                            return store_unavailable(&e);
                        }
                    }
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
    let session = match session_of(engine, head, now, principal.as_ref()).await {
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
///
/// In a session shared with other replicas, a stream not held here is
/// looked for in the shared log: found, it is copied here and resumed
/// (then goes on live as its replica writes it); a store that cannot
/// answer is a 503. The GET stream is not in the shared log: resumed
/// with an id another replica gave out, it opens fresh here.
///
/// The stream holds `share`, its client's place among its open streams,
/// until it ends; a refusal lets it go at once.
pub(super) async fn get(
    state: &HttpState,
    engine: &dyn Dispatch,
    head: &RequestHead,
    now: Instant,
    caller: Option<&Arc<Principal>>,
    share: Share,
) -> Response {
    let session = match session_of(engine, head, now, caller).await {
        Ok(found) => found,
        Err(refusal) => return refusal,
    };
    let named = head.known_str(Known::LastEventId).and_then(parse_event_id);
    if let Some((number, after)) = named {
        // A stream another replica wrote: copied here from the shared log.
        let here = session.state().streams.get_mut(number).is_some();
        if cfg!(feature = "shared-sessions") && !here && engine.shares_sessions() {
            if let Err(e) = engine.resume_shared(&session, number, after).await {
                return store_unavailable(&e);
            }
        }
    }
    let mut st = session.state();
    // Closed after the lookup: no stream of it may open (nothing would end it).
    if st.closed {
        drop(st);
        return session_not_found();
    }
    // Each replica numbers a shared session's GET stream from its own
    // random start: an id another replica gave out names none of this
    // copy's events (replaying after it would repeat or skip some), and
    // the client gets a fresh stream, as for a stream no longer kept.
    let shared = cfg!(feature = "shared-sessions") && st.stored.is_some();
    let resume = named.filter(|&(number, after)| {
        st.streams
            .get_mut(number)
            .is_some_and(|s| number != STANDALONE || !shared || s.numbered(after))
    });
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
            // Resumed with an id another replica gave out (see above): the
            // client says it lost its GET connection, so it takes the
            // stream over, as a resumption does, though nothing replays.
            let takes_over = shared && named.is_some_and(|(number, _)| number == STANDALONE);
            let stream = st.streams.standalone();
            if stream.attached() && !takes_over {
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
    session.start_writing();
    let hook: DeliveredHook = Box::new(move |_delivered| {
        if number != STANDALONE {
            session.state().streams.release_sse(number, retained);
        }
        session.stop_writing(crate::clock::now());
    });
    sse_response(SseBody {
        stream: number,
        initial,
        ended,
        events,
        delivered: Some(hook),
        driver: None,
        share: Some(share),
    })
}

/// A DELETE: ends the session named by the header (200), which ends its
/// open responses and aborts its requests in flight; 404 if it is not
/// open, 400 without the header. With a shared session store, the session
/// is removed from it (so every replica sees it end) and closed here; 503
/// when the store cannot answer.
pub(super) async fn delete(
    engine: &dyn Dispatch,
    head: &RequestHead,
    now: Instant,
    caller: Option<&Arc<Principal>>,
) -> Response {
    let Some(id) = head.known_str(Known::SessionId) else {
        return bad_request("bad request: missing Mcp-Session-Id header");
    };
    let id = SessionId::new(id);
    let owned = |s: &Arc<crate::session::Session>| {
        // Another subject's session is not theirs to end, nor to learn of.
        same_party(s.facts().principal.as_deref(), caller.map(|p| &**p))
    };
    if !engine.shares_sessions() {
        return if engine.session(&id).is_some_and(|s| owned(&s)) && engine.close_session(&id) {
            Response::empty(StatusCode::OK)
        } else {
            session_not_found()
        };
    }
    match engine.find_session(&id, now).await {
        Ok(Some(s)) if owned(&s) => {}
        Ok(_) => return session_not_found(),
        Err(e) => return store_unavailable(&e),
    }
    match engine.delete_session(&id).await {
        Ok(true) => Response::empty(StatusCode::OK),
        Ok(false) => session_not_found(),
        Err(e) => store_unavailable(&e),
    }
}
