//! An in-memory transport pair, for tests and embedding.
//!
//! Two bounded channels: [`Inbound`] events from the client end to the
//! server's [`Transport::receive`], and every [`Outbound`] message, route
//! included, from the server back to the client end. No bytes are framed
//! and no session is checked: the client names the session of each message,
//! and sees exactly what the engine sends, even the routes without a
//! message ([`Route::Cancelled`](crate::Route::Cancelled),
//! [`Route::Disconnect`](crate::Route::Disconnect)) that a real transport
//! would act on.

use async_trait::async_trait;
use serde_json::Value;

use super::{Inbound, Outbound, Transport, TransportError};
use crate::id::SessionId;

/// The server end of an in-memory pair.
///
/// Give it to [`McpServerBuilder::build`](crate::McpServerBuilder::build).
/// Sending waits while the client end holds `capacity` unread messages, so
/// a client that stops reading holds up whatever sends.
#[derive(Debug)]
pub struct MemoryTransport {
    /// What the client end sent.
    inbound: async_channel::Receiver<Inbound>,
    /// What the server sends, for the client end.
    outbound: async_channel::Sender<Outbound>,
}

/// The client end of an in-memory pair: sends bytes for any session and
/// receives every outbound message with its route.
///
/// Clones share both channels: a message goes to whichever clone receives
/// first, and closing one closes them all.
#[derive(Debug, Clone)]
pub struct MemoryClient {
    /// Into the server's `receive`.
    inbound: async_channel::Sender<Inbound>,
    /// Out of the server's `send`.
    outbound: async_channel::Receiver<Outbound>,
}

/// Creates a connected pair whose channels hold `capacity` messages each way.
///
/// A `capacity` of 0 counts as 1. Past it, a send waits for the other end
/// to receive.
///
/// # Examples
///
/// ```
/// use switchboard_core::{memory_pair, SessionId};
/// let (_server_end, client) = memory_pair(16);
/// futures::executor::block_on(client.send_json(&SessionId::new("a"), &serde_json::json!({}))).unwrap();
/// ```
pub fn memory_pair(capacity: usize) -> (MemoryTransport, MemoryClient) {
    let (in_tx, in_rx) = async_channel::bounded(capacity.max(1));
    let (out_tx, out_rx) = async_channel::bounded(capacity.max(1));
    (
        MemoryTransport {
            inbound: in_rx,
            outbound: out_tx,
        },
        MemoryClient {
            inbound: in_tx,
            outbound: out_rx,
        },
    )
}

#[async_trait]
impl Transport for MemoryTransport {
    /// The next event from the client end; [`TransportError::Closed`] once
    /// the client closed ([`MemoryClient::close`]) or every clone of it was
    /// dropped, and nothing is left to receive.
    ///
    /// Cancel safe: a message is either received or left in the channel.
    async fn receive(&self) -> Result<Inbound, TransportError> {
        self.inbound
            .recv()
            .await
            .map_err(|_| TransportError::Closed)
    }

    /// Queues the message for the client end, waiting while the channel is
    /// full; [`TransportError::Closed`] once the client end is gone.
    ///
    /// Cancel safe: the message is either queued whole or not at all.
    async fn send(&self, message: Outbound) -> Result<(), TransportError> {
        self.outbound
            .send(message)
            .await
            .map_err(|_| TransportError::Closed)
    }

    /// Closes both channels: `receive` then returns what was already queued
    /// and fails with [`TransportError::Closed`] after it, and so does the
    /// client end's [`MemoryClient::recv`] (with `None`); sends on either
    /// side fail. Never fails itself.
    async fn close(&self) -> Result<(), TransportError> {
        self.inbound.close();
        self.outbound.close();
        Ok(())
    }
}

impl MemoryClient {
    /// Sends raw bytes in a session.
    ///
    /// The bytes go to the server as they are, so a test can send what no
    /// JSON value would serialize to (malformed JSON, a batch, duplicate
    /// keys). Waits while the channel is full.
    ///
    /// # Errors
    ///
    /// [`TransportError::Closed`] when the server end is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::Value;
    /// use switchboard_core::{memory_pair, McpServerBuilder, SessionId};
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new().build(transport);
    /// let client_side = async {
    ///     client.send(&SessionId::new("s1"), "{not json").await.unwrap();
    ///     let reply: Value = serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap();
    ///     assert_eq!(reply["error"]["code"], -32700);
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    pub async fn send(
        &self,
        session: &SessionId,
        bytes: impl Into<Vec<u8>>,
    ) -> Result<(), TransportError> {
        let message = Inbound::Message {
            session: session.clone(),
            bytes: bytes.into(),
        };
        self.inbound
            .send(message)
            .await
            .map_err(|_| TransportError::Closed)
    }

    /// Sends a JSON value in a session, serialized compactly.
    ///
    /// The session needs no setup: a message in an unknown session is
    /// handled as the server handles one before `initialize` (which opens
    /// the session under this name).
    ///
    /// # Errors
    ///
    /// [`TransportError::Closed`] when the server end is gone.
    pub async fn send_json(
        &self,
        session: &SessionId,
        value: &Value,
    ) -> Result<(), TransportError> {
        self.send(session, value.to_string()).await
    }

    /// Ends a session, as an HTTP DELETE would.
    ///
    /// The server cancels the session's handlers (they send no response)
    /// and forgets it; a later message in the same session is handled as
    /// one before `initialize`. Only queued here: the session ends when the
    /// server receives it.
    ///
    /// # Errors
    ///
    /// [`TransportError::Closed`] when the server end is gone.
    pub async fn close_session(&self, session: &SessionId) -> Result<(), TransportError> {
        let message = Inbound::Closed {
            session: session.clone(),
        };
        self.inbound
            .send(message)
            .await
            .map_err(|_| TransportError::Closed)
    }

    /// Receives the next outbound message, or `None` once the server end closed.
    ///
    /// The server end closes when [`Transport::close`] is called on it, or
    /// when it is dropped, with the server and every request context that
    /// holds it. Messages queued before that are still received.
    ///
    /// Cancel safe: a message is either received or left for the next call.
    pub async fn recv(&self) -> Option<Outbound> {
        self.outbound.recv().await.ok()
    }

    /// Closes the client's side: the server's `receive` then ends.
    ///
    /// Messages sent before are still delivered, then
    /// [`McpServer::run`](crate::McpServer::run) returns once the requests
    /// in flight are answered. The server's replies can still be received
    /// with [`MemoryClient::recv`]. Closes every clone's side; sending
    /// afterwards fails with [`TransportError::Closed`].
    pub fn close(&self) {
        self.inbound.close();
    }
}
