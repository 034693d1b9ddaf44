//! The seed's `Transport` trait, made safe for many requests in flight.
//!
//! Two changes from the seed's sketch, both on purpose:
//! - methods take `&self`, so the serve loop can send replies while it waits
//!   for the next message;
//! - every outbound message carries its [`SessionId`] and a [`Route`]: the
//!   request it answers or relates to. A transport routes by that, never by a
//!   shared "current session".

use std::io;

use async_trait::async_trait;

use crate::jsonrpc::RequestId;
use crate::server::Dispatcher;
use crate::session::SessionId;

mod memory;
mod stdio;

pub use memory::{MemoryClient, MemoryTransport, memory_pair};
pub use stdio::{DEFAULT_MAX_LINE_LEN, StdioTransport};

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
    /// The session ended (HTTP DELETE, expiry): its handlers are cancelled.
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
pub struct Outbound {
    /// The session it is for.
    pub session: SessionId,
    /// What it belongs to.
    pub route: Route,
    /// Compact JSON bytes, no trailing newline.
    pub bytes: Vec<u8>,
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
    /// No session of that id is known to the transport.
    #[error("unknown session")]
    UnknownSession,
    /// A reply found no request waiting for it (its client went away).
    #[error("no request is waiting for this reply")]
    NoReplySlot,
}

impl TransportError {
    /// Whether the transport can keep serving after this error.
    pub fn is_recoverable(&self) -> bool {
        matches!(self, Self::UnknownSession | Self::NoReplySlot)
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
    fn attach(&self, dispatcher: Dispatcher) {
        let _ = dispatcher;
    }
}
