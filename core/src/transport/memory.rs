//! An in-memory transport pair, for tests and embedding.

use async_trait::async_trait;
use serde_json::Value;

use super::{Inbound, Outbound, Transport, TransportError};
use crate::id::SessionId;

/// The server end of an in-memory pair.
#[derive(Debug)]
pub struct MemoryTransport {
    inbound: async_channel::Receiver<Inbound>,
    outbound: async_channel::Sender<Outbound>,
}

/// The client end of an in-memory pair: sends bytes for any session and
/// receives every outbound message with its route.
#[derive(Debug, Clone)]
pub struct MemoryClient {
    inbound: async_channel::Sender<Inbound>,
    outbound: async_channel::Receiver<Outbound>,
}

/// Creates a connected pair whose channels hold `capacity` messages each way.
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
    async fn receive(&self) -> Result<Inbound, TransportError> {
        self.inbound
            .recv()
            .await
            .map_err(|_| TransportError::Closed)
    }

    async fn send(&self, message: Outbound) -> Result<(), TransportError> {
        self.outbound
            .send(message)
            .await
            .map_err(|_| TransportError::Closed)
    }

    async fn close(&self) -> Result<(), TransportError> {
        self.inbound.close();
        self.outbound.close();
        Ok(())
    }
}

impl MemoryClient {
    /// Sends raw bytes in a session.
    ///
    /// # Errors
    ///
    /// [`TransportError::Closed`] when the server end is gone.
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

    /// Sends a JSON value in a session.
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
    pub async fn recv(&self) -> Option<Outbound> {
        self.outbound.recv().await.ok()
    }

    /// Closes the client's side: the server's `receive` then ends.
    pub fn close(&self) {
        self.inbound.close();
    }
}
