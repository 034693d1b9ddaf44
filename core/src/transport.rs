//! The seam between the engine and the transports that carry its messages.
//!
//! - [`Transport`]: a message channel. The engine pulls [`Inbound`] messages
//!   from it ([`Transport::receive`]) and pushes every [`Outbound`] message
//!   through it ([`Transport::send`]), each with its session and a [`Route`]:
//!   the request it answers or relates to. A transport routes by that, never
//!   by a shared "current session". Methods take `&self`, so the serve loop
//!   can send while it waits for the next message.
//! - [`Dispatch`]: the other direction, for a transport that hands messages
//!   straight to the engine from its own tasks (the HTTP transport does; the
//!   in-memory and stdio transports only use `receive`). The engine
//!   implements it and hands it to the transport once, at
//!   [`McpServerBuilder::build`](crate::McpServerBuilder::build), through
//!   [`Transport::attach`].
//!
//! This module names no engine type: dependencies point one way, from the
//! engine to its transports.

use std::io;
use std::sync::{Arc, Weak};
use std::time::Duration;

use crate::clock::Instant;

use async_trait::async_trait;

use crate::id::SessionId;
use crate::jsonrpc::{Decoded, Request, RequestId};
use crate::runtime::BoxFuture;
use crate::session::Session;
use crate::stateless::{Eras, RequestMeta};

pub(crate) mod memory;
pub(crate) mod stdio;

/// Something that arrives from a transport.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Inbound {
    /// Raw bytes of one JSON-RPC message (or batch) in a session.
    Message {
        /// The session it belongs to.
        session: SessionId,
        /// The JSON bytes.
        bytes: Vec<u8>,
    },
    /// A message was too large and was discarded; the server answers with a
    /// `-32600` error whose id is `null` (the id was lost with the bytes).
    TooLarge {
        /// The session it arrived in.
        session: SessionId,
        /// The limit in bytes.
        limit: usize,
    },
    /// The transport ended the session (the client said so): its handlers
    /// are cancelled. (HTTP ends sessions through [`Dispatch`] instead.)
    Closed {
        /// The session that ended.
        session: SessionId,
    },
}

/// What an outbound message belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Route {
    /// The final response to this request (a batch's reply carries the id of
    /// its first request). `None` when the request's id could not be read.
    Reply(Option<RequestId>),
    /// A message sent while handling this request (progress, log, a
    /// server→client request). Over HTTP it goes on that request's stream.
    Related(RequestId),
    /// A message not tied to any request (list changes, resource updates).
    Unrelated,
    /// No message: a request to end the connection that carries this
    /// request's stream *without* ending the stream (SSE polling, SEP-1699).
    /// The client resumes with `Last-Event-ID`. Transports without streams
    /// ignore it; its bytes are empty.
    Disconnect(RequestId),
    /// No message: the request ended without a response (it was cancelled),
    /// so its reply slot can be freed. Its bytes are empty.
    Cancelled(RequestId),
}

/// A message from the server to one session.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Outbound {
    /// The session it is for.
    pub session: SessionId,
    /// What it belongs to.
    pub route: Route,
    /// Compact JSON bytes, no trailing newline.
    pub bytes: Vec<u8>,
}

impl Outbound {
    /// A message for `session`, routed by `route` (for a transport that
    /// wraps another, or a test double).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::{Outbound, Route, SessionId};
    /// let out = Outbound::new(SessionId::new("s"), Route::Unrelated, b"{}".to_vec());
    /// assert_eq!(out.route, Route::Unrelated);
    /// ```
    pub fn new(session: SessionId, route: Route, bytes: Vec<u8>) -> Self {
        Self {
            session,
            route,
            bytes,
        }
    }
}

/// Why a transport operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The transport is closed; no more messages will arrive or leave.
    #[error("transport closed")]
    Closed,
    /// An I/O error on the underlying stream.
    #[error("i/o error")]
    Io(#[from] io::Error),
    /// No open session has that id (never opened, expired, deleted).
    #[error("unknown session")]
    UnknownSession,
    /// A reply found no request waiting for it (its client went away).
    #[error("no request is waiting for this reply")]
    NoReplySlot,
    /// The transport already serves another server: one transport (and its
    /// clones) carries one server's messages.
    #[error("the transport already serves another server")]
    AlreadyAttached,
}

impl TransportError {
    /// Whether the transport can keep serving after this error.
    pub fn is_recoverable(&self) -> bool {
        matches!(self, Self::UnknownSession | Self::NoReplySlot)
    }
}

/// What the engine made of a message handed to it with [`Dispatch::dispatch`].
#[must_use = "the work must be driven for the handlers to run and the replies to go out"]
pub struct Dispatched {
    /// The reply stream opened for the message's requests, when asked for
    /// and the message held any.
    pub(crate) stream: Option<u64>,
    /// The work the message starts: its handlers and the sending of their
    /// replies.
    pub(crate) work: Option<BoxFuture<()>>,
}

impl std::fmt::Debug for Dispatched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dispatched")
            .field("stream", &self.stream)
            .field("work", &self.work.is_some())
            .finish()
    }
}

impl Dispatched {
    /// The work to drive to completion (on the caller's task, or spawned);
    /// `None` when the message started nothing (a notification, say).
    pub fn into_work(self) -> Option<BoxFuture<()>> {
        self.work
    }
}

/// Why the engine refused a whole message before running any of it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// A JSON-RPC batch in a session whose revision has no batches (only
    /// 2025-03-26 has them).
    #[error("batches are only accepted in sessions at 2025-03-26")]
    BatchNotAllowed,
    /// A request id that is already in flight in the session (or repeated
    /// within the batch).
    #[error("request id {0} is already in flight")]
    DuplicateId(RequestId),
    /// The session ended (deleted, expired, closed) after it was looked up.
    #[error("session is closed")]
    SessionClosed,
    /// A stateless request names a revision the server does not serve
    /// statelessly (its `_meta` version, as sent).
    #[error("unsupported protocol version {0}")]
    UnsupportedVersion(String),
    /// The server has its maximum of stateless requests in flight
    /// ([`ServerConfig::max_stateless_in_flight`](crate::ServerConfig::max_stateless_in_flight)).
    #[error("too many requests in flight")]
    Busy,
}

/// A session just opened by `initialize`, and the encoded reply to it.
#[derive(Debug)]
#[non_exhaustive]
pub struct Initialized {
    /// The new session.
    pub session: Arc<Session>,
    /// The encoded JSON-RPC response to `initialize`.
    pub reply: Vec<u8>,
}

/// Why `initialize` opened no session.
#[derive(Debug)]
#[non_exhaustive]
pub enum InitializeError {
    /// The server holds its maximum of sessions (over HTTP: 503).
    TooManySessions,
    /// The request was answered with this encoded JSON-RPC error response
    /// (invalid params, say).
    Rejected(Vec<u8>),
}

/// The engine as a transport sees it: a direct line for transports that
/// hand messages to the engine from their own tasks instead of queueing
/// them for [`Transport::receive`].
///
/// The engine implements it; a transport gets it (held weakly, so the
/// transport does not keep its server alive) from [`Transport::attach`].
/// Every method is synchronous: what needs to wait (the work of a request,
/// a shared session store's answer) comes back as a future for the caller
/// to drive.
pub trait Dispatch: Send + Sync {
    /// The open session named `id`.
    fn session(&self, id: &SessionId) -> Option<Arc<Session>>;

    /// Opens a session with a freshly minted id for an `initialize` request
    /// received at `now`, and answers it.
    ///
    /// # Errors
    ///
    /// [`InitializeError::TooManySessions`] at the session cap;
    /// [`InitializeError::Rejected`] with the error response otherwise.
    fn initialize(&self, request: &Request, now: Instant) -> Result<Initialized, InitializeError>;

    /// [`Dispatch::initialize`] for a client whose bearer token stood for
    /// `principal`: the session is bound to it (the HTTP endpoint then
    /// serves the session to that subject only). The default ignores the
    /// principal.
    ///
    /// # Errors
    ///
    /// As [`Dispatch::initialize`].
    fn initialize_as(
        &self,
        request: &Request,
        now: Instant,
        principal: Option<Arc<crate::principal::Principal>>,
    ) -> Result<Initialized, InitializeError> {
        let _ = principal;
        self.initialize(request, now)
    }

    /// Accepts one decoded message (or batch) in `session`. Before it
    /// returns, the message's requests are admitted (their ids checked and
    /// registered in flight) so that a cancellation that follows finds
    /// them; with `open_stream`, a reply stream that their replies end is
    /// opened on the session. The handlers run when the returned work is
    /// driven.
    ///
    /// `open_stream` is for a transport that reads replies back from the
    /// session's streams, which today only this crate's HTTP transport can
    /// do: a stream's id stays taken until its reply is routed into it. Any
    /// other transport passes `false` and gets every reply through
    /// [`Transport::send`].
    ///
    /// # Errors
    ///
    /// A [`Refusal`] when the whole message is refused (a batch where
    /// batches are not allowed, an id already in flight, a session that
    /// closed after it was looked up); nothing of it runs.
    fn dispatch(
        &self,
        session: &Arc<Session>,
        decoded: Decoded,
        open_stream: bool,
    ) -> Result<Dispatched, Refusal>;

    /// [`Dispatch::dispatch`] under `principal`, whose bearer token
    /// authorized the message: its handlers read that principal from their
    /// context. The default ignores the principal.
    ///
    /// # Errors
    ///
    /// As [`Dispatch::dispatch`].
    fn dispatch_as(
        &self,
        session: &Arc<Session>,
        decoded: Decoded,
        open_stream: bool,
        principal: Option<Arc<crate::principal::Principal>>,
    ) -> Result<Dispatched, Refusal> {
        let _ = principal;
        self.dispatch(session, decoded, open_stream)
    }

    /// Ends a session: cancels its handlers, ends the responses listening
    /// to its streams, forgets it. Returns whether it existed.
    fn close_session(&self, id: &SessionId) -> bool;

    /// Whether sessions are kept in a shared store too
    /// ([`McpServerBuilder::session_store`](crate::McpServerBuilder::session_store)):
    /// then a request's session is found with
    /// [`find_session`](Self::find_session) rather than
    /// [`session`](Self::session), a new one is kept with
    /// [`store_session`](Self::store_session), and one is ended with
    /// [`delete_session`](Self::delete_session). Default `false`.
    fn shares_sessions(&self) -> bool {
        false
    }

    /// The session named `id` at `now`: this server's, or, when it holds
    /// none or its copy is due for a check, the shared store's, adopted
    /// here. `None` when it is not open anywhere (a copy held here is
    /// closed then). The default is [`session`](Self::session).
    ///
    /// # Errors
    ///
    /// The store could not answer, or this server holds its maximum of
    /// sessions ([`StoreError::TooManySessions`](crate::session_store::StoreError::TooManySessions)).
    fn find_session(
        &self,
        id: &SessionId,
        now: Instant,
    ) -> BoxFuture<Result<Option<Arc<Session>>, crate::session_store::StoreError>> {
        let _ = now;
        let found = self.session(id);
        Box::pin(async move { Ok(found) })
    }

    /// Keeps `session`, just opened by `initialize`, in the shared store;
    /// when that fails, the session is closed here too. The default keeps
    /// nothing.
    ///
    /// # Errors
    ///
    /// The store could not take it.
    fn store_session(
        &self,
        session: &Arc<Session>,
    ) -> BoxFuture<Result<(), crate::session_store::StoreError>> {
        let _ = session;
        Box::pin(async { Ok(()) })
    }

    /// Ends the session named `id` everywhere: removes it from the shared
    /// store, then [`close_session`](Self::close_session) here. Returns
    /// whether it existed. The default is `close_session`.
    ///
    /// # Errors
    ///
    /// The store could not answer; nothing was closed.
    fn delete_session(
        &self,
        id: &SessionId,
    ) -> BoxFuture<Result<bool, crate::session_store::StoreError>> {
        let closed = self.close_session(id);
        Box::pin(async move { Ok(closed) })
    }

    /// Posts `content` about session `id` to the replicas sharing it
    /// (see [`crate::session_store::Letter`]); the HTTP transport posts a
    /// [`Notice`](crate::session_store::Content::Notice) for a message to a
    /// GET stream it does not hold. The default posts nothing.
    fn pass_on(&self, id: &SessionId, content: crate::session_store::Content) {
        let _ = (id, content);
    }

    /// Keeps `event` of reply stream `stream` of session `id` in the shared
    /// log, at most `cap` events, and tells the replicas sharing the session
    /// of it, so that a client may resume the stream on any of them. The
    /// default keeps nothing.
    fn share_event(
        &self,
        id: &SessionId,
        stream: u64,
        event: crate::session_store::LoggedEvent,
        cap: usize,
    ) {
        let _ = (id, stream, event, cap);
    }

    /// Makes stream `stream` of `session`, written by another replica, a
    /// copy here holding what the shared log has after `after`, for a client
    /// resuming it here with `Last-Event-ID`; its later events follow as
    /// they are written. Returns whether the shared log had the stream.
    /// The default finds none.
    ///
    /// # Errors
    ///
    /// The store could not answer.
    fn resume_shared(
        &self,
        session: &Arc<Session>,
        stream: u64,
        after: u64,
    ) -> BoxFuture<Result<bool, crate::session_store::StoreError>> {
        let _ = (session, stream, after);
        Box::pin(async { Ok(false) })
    }

    /// Ends every session (the transport is closing).
    fn close_all_sessions(&self);

    /// Ends the sessions idle for `idle` or longer at `now` that no
    /// connection listens to; returns how many ended.
    fn expire_sessions(&self, now: Instant, idle: Duration) -> usize;

    /// Open sessions.
    fn session_count(&self) -> usize;

    /// Serves one stateless message (the 2026-07-28 revision) under the
    /// facts of its `_meta`, read into `meta`.
    ///
    /// It runs in a carrier: with `connection`, the one carrier of that
    /// connection (stdio, memory: its requests share an in-flight table, so
    /// `notifications/cancelled` finds them); without, a carrier made for
    /// this one request (HTTP), returned with the work and ended with
    /// [`Dispatch::end_stateless`] once its response is done. With
    /// `open_stream`, a request gets a reply stream in the carrier, as
    /// [`Dispatch::dispatch`] opens one in a session.
    ///
    /// # Errors
    ///
    /// [`Refusal::UnsupportedVersion`] for a revision not served
    /// statelessly, [`Refusal::Busy`] at the cap of stateless requests,
    /// [`Refusal::DuplicateId`] for an id in flight on the connection.
    fn dispatch_stateless(
        &self,
        connection: Option<&SessionId>,
        message: crate::jsonrpc::Message,
        meta: &RequestMeta,
        open_stream: bool,
    ) -> Result<(Arc<Session>, Dispatched), Refusal>;

    /// Ends a stateless request's carrier: whatever still runs in it is
    /// cancelled, and it is forgotten.
    fn end_stateless(&self, carrier: &SessionId);

    /// The session *or* stateless carrier named `id`: where a transport
    /// routes an outbound message. [`Dispatch::session`] never finds a
    /// carrier, so no `Mcp-Session-Id` can name one.
    fn stream_target(&self, id: &SessionId) -> Option<Arc<Session>> {
        self.session(id)
    }

    /// Ends every `subscriptions/listen` stream with its `complete` result
    /// (the server is shutting down gracefully and will take no more).
    fn end_listeners(&self) {}

    /// Fails every pending server→client request and refuses new ones: the
    /// server is shutting down gracefully and no client can answer any
    /// more, so handlers waiting on one end now and their responses are
    /// written within the grace period.
    fn fail_client_requests(&self) {}

    /// Requests still running in sessions shared with other replicas
    /// (kept in a session store). A graceful shutdown waits for them
    /// within its grace period even when their clients have left: their
    /// results go to the shared log, and a client resumes them on another
    /// replica. On one server nobody could resume them after it stops.
    fn shared_requests_in_flight(&self) -> usize {
        0
    }

    /// Which eras the server serves.
    fn eras(&self) -> Eras {
        Eras::Both
    }

    /// The `x-mcp-header` properties of `tool`'s input schema: property
    /// name, then header suffix (`Mcp-Param-{suffix}`). Empty for a tool
    /// without any, or unknown. Annotations the spec does not allow (an
    /// empty or non-token name, one on an object, array, number or null
    /// property, a name repeated ignoring case) are left out.
    fn header_params(&self, tool: &str) -> Vec<(String, String)> {
        let _ = tool;
        Vec::new()
    }
}

/// A bidirectional message channel between an MCP server and its clients.
///
/// One transport may carry many sessions (HTTP) or one (stdio).
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// Waits for the next inbound message.
    ///
    /// # Errors
    ///
    /// [`TransportError::Closed`] once no more will come. A message that is
    /// too large is not an error but [`Inbound::TooLarge`].
    ///
    /// # Cancel safety
    ///
    /// Implementations must not lose a message when this future is dropped.
    async fn receive(&self) -> Result<Inbound, TransportError>;

    /// Sends one message to its session, routed by [`Outbound::route`].
    ///
    /// # Errors
    ///
    /// When the message cannot be delivered (closed transport, a client that
    /// went away).
    async fn send(&self, message: Outbound) -> Result<(), TransportError>;

    /// Closes the transport; `receive` then returns `Closed`.
    ///
    /// # Errors
    ///
    /// When flushing or closing the underlying stream fails.
    async fn close(&self) -> Result<(), TransportError>;

    /// Called once by [`McpServerBuilder::build`](crate::McpServerBuilder::build)
    /// with a direct line into the server. A transport may keep it to hand
    /// messages to the server from its own tasks (saving the queue to the
    /// serve loop); the default ignores it.
    ///
    /// # Errors
    ///
    /// [`TransportError::AlreadyAttached`] from a transport that keeps the
    /// line and already has one: a second server built over it (or over a
    /// clone of it) would never see a message, so its
    /// [`McpServer::run`](crate::McpServer::run) fails at once instead.
    fn attach(&self, engine: Weak<dyn Dispatch>) -> Result<(), TransportError> {
        let _ = engine;
        Ok(())
    }
}
