//! From one inbound message to its handler: admission, lifecycle, per-request
//! correlation, notifications and cancellation. The engine's side of
//! [`Dispatch`].
//!
//! The front half is synchronous (decode, find the session, admit and
//! register the requests in flight) so that a `notifications/cancelled` that
//! follows a request always finds it. The handlers come back as work for the
//! caller to drive: the serve loop, or the transport's own task.
//!
//! Two entries lead here: [`Engine::accept`] for events from the
//! transport's queue (the serve loop's path), and the [`Dispatch`] impl for
//! transports that call in from their own tasks (HTTP), which lives in
//! [`line`](super::line) with the stateless entries of both paths. Both end in
//! `accept_admitted`, and neither runs a handler itself: the caller spawns
//! the work, pushes it into the serve loop's set, or awaits it on an HTTP
//! connection's task.
//!
//! What this module keeps true:
//!
//! - **Admission before work.** A request's id is checked and registered in
//!   its session's in-flight table synchronously, before its work is
//!   polled. So a `notifications/cancelled` right behind it finds it, a
//!   duplicate id is refused even while the first has not started, and
//!   `max_in_flight` counts work not yet started.
//! - **The entry leaves with the work.** The [`InFlight`] guard travels
//!   inside the work and removes the entry when it ends or is dropped, so a
//!   dropped serve loop or connection cannot leak a slot.
//! - **One outcome per request.** A request's reply goes out once, as
//!   [`Route::Reply`]; a cancelled one sends no response but
//!   [`Route::Cancelled`], so a transport with reply slots frees its slot.
//!   A batch gets one reply, a JSON array.
//! - **Refusals are answered.** Every refusal becomes an error response to
//!   send; send failures are dropped only because the transport already
//!   knows its client left.

use std::ops::Deref;
use std::sync::{Arc, Weak};

use futures::future::join_all;
use serde_json::{Value, json};

use super::error::MethodError;
use super::lifecycle::open_session;
use super::notifications::accept_notification;
use super::params::{Outcome, Payload, encode_error, encode_response, error_code};
use super::shared::Shared;
use crate::clock::now;
use crate::id::SessionId;
use crate::jsonrpc::{self, Decoded, Message, Request, RequestId};
use crate::observe::{self, CloseReason, Era, RequestScope};
use crate::principal::Principal;
use crate::runtime::BoxFuture;
use crate::session::Session;
use crate::session_store::Content;
use crate::transport::{Dispatch, Inbound, Outbound, Refusal, Route};

mod start;

/// What accepting one message leaves to do.
pub(super) enum Step {
    /// Nothing to send.
    Done,
    /// Answer at once with this encoded response.
    Encoded(Vec<u8>),
    /// Run this handler; it yields the encoded response, or `None` when it
    /// was cancelled and nothing is sent. The request stays in flight until
    /// the guard drops, after its reply went out: its id is not free while
    /// the reply is still on its way (a transport without reply streams,
    /// memory or stdio, would otherwise admit a second request of that id).
    Work(BoxFuture<Option<Vec<u8>>>, InFlight),
}

impl Step {
    /// The encoded response this step yields, if any, and the in-flight
    /// guard to drop once it is sent.
    async fn run(self) -> (Option<Vec<u8>>, Option<InFlight>) {
        match self {
            Self::Done => (None, None),
            Self::Encoded(bytes) => (Some(bytes), None),
            Self::Work(work, guard) => (work.await, Some(guard)),
        }
    }
}

/// The engine: a server's shared state, with the dispatching behaviour of
/// this module. What [`Dispatch`] is implemented for, and what every piece
/// of work holds on to.
pub(crate) struct Engine {
    /// The server's state; reached through `Deref`, so engine code reads
    /// `self.sessions` and `self.config`.
    pub(crate) shared: Shared,
    /// This engine's own `Arc`, for work started from `&self`.
    me: Weak<Self>,
}

impl Deref for Engine {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.shared
    }
}

impl Engine {
    /// Returns an engine over `shared`, in an `Arc` that knows itself: the
    /// [`Dispatch`] methods take `&self`, yet the work they return must own an
    /// `Arc` of the engine.
    pub(crate) fn new(shared: Shared) -> Arc<Self> {
        Arc::new_cyclic(|me| Self {
            shared,
            me: Weak::clone(me),
        })
    }

    /// Returns this engine as an `Arc`. It always lives in one (only
    /// [`new`](Self::new) makes engines), so the upgrade fails only if called
    /// during the last `Arc`'s drop, which nothing does.
    pub(super) fn arc(&self) -> Arc<Self> {
        self.me
            .upgrade()
            .expect("an engine is borrowed only while an Arc holds it")
    }

    /// Accepts one event from the transport's queue (the serve loop's path)
    /// and returns the work it starts, which the caller runs concurrently with
    /// the next events.
    ///
    /// Synchronous on purpose: when it returns, the message's requests are
    /// admitted and in flight, so the next event (a cancellation, say) sees
    /// them. Nothing is returned as an error: a refused message becomes work
    /// that sends its `-32600` response. A message in a session that is not
    /// open goes to [`accept_unbound`](Self::accept_unbound);
    /// [`Inbound::Closed`] closes the session (cancelling its handlers) and
    /// starts nothing; [`Inbound::TooLarge`] is answered `-32600` with a `null`
    /// id.
    pub(crate) fn accept(self: &Arc<Self>, inbound: Inbound) -> Option<BoxFuture<()>> {
        match inbound {
            Inbound::Message { session, bytes } => {
                let decoded = jsonrpc::decode(&bytes);
                let decoded = match self.try_stateless(&session, decoded) {
                    Ok(work) => return work,
                    Err(decoded) => decoded,
                };
                match self.sessions.get(&session) {
                    Some(s) => match self.dispatch(&s, decoded, false) {
                        Ok(dispatched) => dispatched.work,
                        Err(refusal) => {
                            let error = MethodError::Refused(refusal);
                            let id = error.refused_id().cloned();
                            Some(self.send_later(session, id.clone(), encode_error(id, error)))
                        }
                    },
                    None => self.accept_unbound(session, decoded),
                }
            }
            Inbound::Closed { session } => {
                if self.sessions.close(&session) {
                    observe::session_closed(&session, CloseReason::TransportClosed);
                    self.sessions_changed();
                }
                self.carriers.end(&session);
                None
            }
            Inbound::TooLarge { session, limit } => Some(self.send_later(
                session,
                None,
                encode_error(None, MethodError::TooLarge(limit)),
            )),
        }
    }

    /// Accepts a message in a session not (yet) open: `initialize` opens it
    /// under the transport's name for it, `ping` is answered, every other
    /// request is refused with `-32600` ("session is not initialized").
    ///
    /// `initialize` is answered here, synchronously, so the session exists
    /// before the next message is accepted; only the sending is left as work.
    /// A batch is refused (`-32600`): no revision, hence no batch rule, is
    /// agreed yet. A body that did not decode is answered with the decoder's
    /// error; notifications and responses are dropped.
    fn accept_unbound(
        self: &Arc<Self>,
        session: SessionId,
        decoded: Decoded,
    ) -> Option<BoxFuture<()>> {
        let message = match decoded {
            Decoded::Single(Ok(message)) => message,
            Decoded::Single(Err(response)) => {
                let id = response.id.clone();
                return Some(self.send_later(session, id, Message::Response(response).to_bytes()));
            }
            Decoded::Batch(_) => {
                let error = MethodError::Refused(Refusal::BatchNotAllowed);
                return Some(self.send_later(session, None, encode_error(None, error)));
            }
        };
        let Message::Request(request) = message else {
            // Notifications and responses outside a session concern nobody.
            return None;
        };
        let id = request.id.clone();
        let scope = RequestScope::new(Era::Session, Some(&session), &request.method, &id);
        let outcome = scope.span().in_scope(|| match request.method.as_str() {
            // A stateless-only server names the revisions it does serve.
            "initialize" if !self.config.eras.sessions() => {
                let requested = request
                    .params
                    .as_ref()
                    .and_then(|p| p.parse::<Value>().ok())
                    .and_then(|p| p["protocolVersion"].as_str().map(str::to_owned))
                    .unwrap_or_default();
                let error = crate::stateless::unsupported_version(&requested);
                Err(MethodError::Handler(error))
            }
            "initialize" => {
                match open_session(
                    self,
                    Some(session.clone()),
                    request.params.as_ref(),
                    now(),
                    None,
                ) {
                    Ok((_, outcome)) => outcome,
                    Err(error) => Err(error),
                }
            }
            "ping" => Ok(Payload::Value(json!({}))),
            _ => Err(MethodError::NotInitialized),
        });
        let reply = answer(scope, id.clone(), outcome);
        Some(self.send_later(session, Some(id), reply))
    }

    /// Turns a message whose requests were admitted in `session` into its
    /// work. The caller must have admitted them ([`Dispatch::dispatch`] does).
    ///
    /// A single request yields its handler's work followed by its reply, or by
    /// [`Route::Cancelled`] when it was cancelled. A batch's items are all
    /// accepted now, in order (notifications take effect before any handler
    /// runs); their handlers run concurrently, and the responses go out as one
    /// array routed as the reply to the batch's first request. When the batch
    /// had requests but every one was cancelled, only `Route::Cancelled` for the
    /// first id goes out.
    ///
    /// `principal` is whose token authorized the message (HTTP with an auth
    /// hook): its handlers are served under it rather than the session's.
    pub(super) fn accept_admitted(
        self: &Arc<Self>,
        session: &Arc<Session>,
        decoded: Decoded,
        principal: Option<&Arc<Principal>>,
    ) -> Option<BoxFuture<()>> {
        match decoded {
            Decoded::Single(Err(response)) => {
                let id = response.id.clone();
                let bytes = Message::Response(response).to_bytes();
                Some(self.send_later(session.id().clone(), id, bytes))
            }
            Decoded::Single(Ok(message)) => {
                let request_id = match &message {
                    Message::Request(r) => Some(r.id.clone()),
                    _ => None,
                };
                let step = self.accept_message(session, message, false, principal);
                self.single(session.id().clone(), request_id, step)
            }
            Decoded::Batch(items) => {
                let first_id = items.iter().find_map(|item| match item {
                    Ok(Message::Request(r)) => Some(r.id.clone()),
                    _ => None,
                });
                let steps: Vec<Step> = items
                    .into_iter()
                    .map(|item| match item {
                        Ok(message) => self.accept_message(session, message, true, principal),
                        Err(response) => Step::Encoded(Message::Response(response).to_bytes()),
                    })
                    .collect();
                let shared = Arc::clone(self);
                let session_id = session.id().clone();
                Some(Box::pin(async move {
                    let (responses, in_flight): (Vec<_>, Vec<_>) =
                        join_all(steps.into_iter().map(Step::run))
                            .await
                            .into_iter()
                            .unzip();
                    let responses: Vec<Vec<u8>> = responses.into_iter().flatten().collect();
                    // Dropped last: the batch's ids are free once its reply is sent.
                    let _in_flight = in_flight;
                    if !responses.is_empty() {
                        let bytes = jsonrpc::join_batch(&responses);
                        shared.send_reply(session_id, first_id, bytes).await;
                    } else if let Some(id) = first_id {
                        shared.send_cancelled(session_id, id).await;
                    }
                }))
            }
        }
    }

    /// Returns work that sends `bytes` as the reply to `id` (`None`: the id
    /// could not be read). For answers known at once: the synchronous paths
    /// cannot await a send, so the caller drives it with the rest of the work.
    pub(super) fn send_later(
        self: &Arc<Self>,
        session: SessionId,
        id: Option<RequestId>,
        bytes: Vec<u8>,
    ) -> BoxFuture<()> {
        let shared = Arc::clone(self);
        Box::pin(async move { shared.send_reply(session, id, bytes).await })
    }

    /// Sends an encoded response (or batch of them) as [`Route::Reply`] to
    /// `id`. A failure is dropped: it means the client left, which the transport
    /// already knows and handles.
    async fn send_reply(&self, session: SessionId, id: Option<RequestId>, bytes: Vec<u8>) {
        let outbound = Outbound {
            session,
            route: Route::Reply(id),
            bytes,
        };
        // An undeliverable reply means the client left; the transport knows.
        let _ = self.outlet.transport.send(outbound).await;
    }

    /// Tells the transport, with [`Route::Cancelled`] and no bytes, that
    /// request `id` ended without a response, so a reply slot waiting for it
    /// can be freed.
    async fn send_cancelled(&self, session: SessionId, id: RequestId) {
        let outbound = Outbound {
            session,
            route: Route::Cancelled(id),
            bytes: Vec::new(),
        };
        // Only a transport with reply slots cares; a failure frees nothing more.
        let _ = self.outlet.transport.send(outbound).await;
    }

    /// Accepts one message of an admitted body. A request goes to
    /// [`accept_request`](Self::accept_request); a notification takes effect
    /// now ([`Step::Done`]); a response settles the server→client request
    /// waiting on its id, and is dropped when none waits (an unknown id, or a
    /// request that timed out). `in_batch` tells `initialize`'s two refusals
    /// apart.
    fn accept_message(
        self: &Arc<Self>,
        session: &Arc<Session>,
        message: Message,
        in_batch: bool,
        principal: Option<&Arc<Principal>>,
    ) -> Step {
        match message {
            Message::Request(request) => self.accept_request(session, request, in_batch, principal),
            Message::Notification(n) => {
                if let Some(request) = accept_notification(session, &n.method, n.params.as_ref()) {
                    // Not running here: maybe on another replica.
                    if cfg!(feature = "shared-sessions") && session.state().stored.is_some() {
                        let request = request.to_value();
                        self.post(session.id(), Content::Cancel { request });
                    }
                }
                Step::Done
            }
            Message::Response(response) => {
                if let Some(id) = &response.id {
                    let (waiter, shared) = {
                        let mut st = session.state();
                        (st.take_pending(id), st.stored.is_some())
                    };
                    if let Some(waiter) = waiter {
                        // The handler may have given up (timeout); then nobody listens.
                        let _ = waiter.send(response.outcome);
                    } else if cfg!(feature = "shared-sessions") && shared {
                        // The handler may wait on another replica.
                        let message = String::from_utf8(Message::Response(response).to_bytes());
                        if let Ok(message) = message {
                            self.post(session.id(), Content::Answer { message });
                        }
                    }
                }
                Step::Done
            }
        }
    }

    /// Accepts one admitted request: lifecycle methods are answered here,
    /// every other method is registered in flight and handed to its family.
    ///
    /// `initialize` (`-32600`: the session is open, or the request is in a
    /// batch) and `ping` are answered at once and never enter the in-flight
    /// table. For the rest, the `max_in_flight` check and the registration
    /// happen under one hold of the session lock, before the work exists: past
    /// the limit the request is answered `-32000` and never runs. The work
    /// holds an [`InFlight`] guard, so the entry leaves when the work ends or
    /// is dropped, even unpolled.
    ///
    /// When driven, the work yields the encoded response, or `None` when the
    /// request was aborted (`notifications/cancelled`, or its session closed),
    /// in which case the handler is dropped at its next poll. A panic in the
    /// handler is caught and answered `-32603`. Once the handler ended, the
    /// context is finished: progress or logs sent later through a clone of it
    /// fail with [`ContextError::RequestFinished`](crate::ContextError::RequestFinished).
    fn accept_request(
        self: &Arc<Self>,
        session: &Arc<Session>,
        request: Request,
        in_batch: bool,
        principal: Option<&Arc<Principal>>,
    ) -> Step {
        let id = request.id.clone();
        let answered = match request.method.as_str() {
            "initialize" if in_batch => Some(Err(MethodError::InitializeInBatch)),
            "initialize" => Some(Err(MethodError::AlreadyInitialized)),
            "ping" => Some(Ok(Payload::Value(json!({})))),
            _ => None,
        };
        if let Some(outcome) = answered {
            let scope = RequestScope::new(Era::Session, Some(session.id()), &request.method, &id);
            return Step::Encoded(answer(scope, id, outcome));
        }
        let facts = match principal {
            Some(p) => session.facts().clone().with_principal(Some(Arc::clone(p))),
            None => session.facts().clone(),
        };
        self.start(session, request, facts, None)
    }

    /// The work of one accepted request or message of `session` (not a
    /// batch): the reply sent as [`Route::Reply`] once known, or
    /// [`Route::Cancelled`] when the request was cancelled.
    pub(super) fn single(
        self: &Arc<Self>,
        session_id: SessionId,
        request_id: Option<RequestId>,
        step: Step,
    ) -> Option<BoxFuture<()>> {
        match step {
            Step::Done => None,
            Step::Encoded(bytes) => Some(self.send_later(session_id, request_id, bytes)),
            Step::Work(work, in_flight) => {
                let shared = Arc::clone(self);
                Some(Box::pin(async move {
                    match (work.await, request_id) {
                        (Some(bytes), id) => shared.send_reply(session_id, id, bytes).await,
                        (None, Some(id)) => shared.send_cancelled(session_id, id).await,
                        (None, None) => {}
                    }
                    drop(in_flight);
                }))
            }
        }
    }
}

/// Encodes the answer to request `id` known at once (no handler ran), and
/// ends its observation with it.
pub(super) fn answer(scope: RequestScope, id: RequestId, outcome: Outcome) -> Vec<u8> {
    scope.finish(error_code(&outcome));
    encode_response(id, outcome)
}

/// Removes a request from its session's in-flight table when its handler
/// ends, however it ends (result, cancellation, dropped serve loop).
///
/// Made in [`Engine::accept_request`] right after the registration and
/// moved into the work, so removal is tied to the work's life, not to a
/// code path that might be skipped: a future dropped unpolled would
/// otherwise leak a slot of `max_in_flight` and keep its id taken for good.
/// After the session closed, the table is already empty and the removal
/// does nothing.
pub(super) struct InFlight {
    /// The session whose table holds the request.
    session: Arc<Session>,
    /// The request's id, its key in the table.
    id: RequestId,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.session.state().in_flight.remove(&self.id);
    }
}
