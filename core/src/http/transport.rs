//! The seed's `HttpServerTransport`, made correct: many HTTP sessions share
//! one `Transport`-trait MCP server, and each reply finds the HTTP request
//! it belongs to by session *and* JSON-RPC id.
//!
//! Every request that expects an answer gets its own stream (a reply slot
//! that can carry related messages before the result). The connection that
//! posted the request listens on it; if that connection goes away the stream
//! keeps logging (bounded) so a client can resume with `Last-Event-ID`.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use async_trait::async_trait;

use super::config::HttpConfig;
use super::receiver::StreamReceiver;
use super::streams::Streams;
use crate::jsonrpc::{self, Decoded, Message, RequestId};
use crate::protocol::ProtocolVersion;
use crate::runtime::BoxFuture;
use crate::server::Dispatcher;
use crate::session::{IdMap, SessionId};
use crate::transport::{Inbound, Outbound, Route, Transport, TransportError};

/// Stream number of a session's standalone (GET) stream.
pub(crate) const STANDALONE: u64 = 0;

/// Bound on messages queued from HTTP handlers to the server loop; a full
/// queue makes handlers wait (backpressure) rather than grow memory.
const INBOUND_CAPACITY: usize = 1024;

/// HTTP side of one session.
#[derive(Debug)]
pub(crate) struct HttpSession {
    pub(crate) version: ProtocolVersion,
    state: Mutex<Streams>,
}

impl HttpSession {
    pub(crate) fn state(&self) -> MutexGuard<'_, Streams> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a stream for the requests `ids` and attaches the caller to it.
    pub(crate) fn open_stream(
        self: &Arc<Self>,
        ids: &[RequestId],
    ) -> Result<(u64, StreamReceiver), SlotError> {
        let mut st = self.state();
        let (number, stream) = st.open(ids)?;
        Ok((number, StreamReceiver::attach(self, number, stream)))
    }

    /// Called when a connection stops listening to a stream (see
    /// [`Streams::release`]).
    pub(crate) fn release(&self, stream: u64, delivered: bool, retained: usize) {
        self.state().release(stream, delivered, retained);
    }
}

pub(crate) struct HttpState {
    pub(crate) config: HttpConfig,
    /// The server's direct line, once built over this transport.
    dispatcher: OnceLock<Dispatcher>,
    inbound_tx: async_channel::Sender<Inbound>,
    inbound_rx: async_channel::Receiver<Inbound>,
    sessions: Mutex<IdMap<SessionId, Arc<HttpSession>>>,
}

/// Why a request could not get a reply slot.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SlotError {
    /// No session of that id (never existed, expired or deleted).
    #[error("unknown session")]
    UnknownSession,
    /// A request with this id is already in flight in the session.
    #[error("request id already in flight")]
    DuplicateId,
}

/// Many HTTP sessions served by one [`McpServer`](crate::McpServer).
///
/// Cheap to clone: clones share the session table. Give one clone to
/// [`McpServerBuilder::build`](crate::McpServerBuilder::build) and another to
/// the listener ([`HttpService`](super::HttpService)).
#[derive(Clone)]
pub struct HttpServerTransport {
    pub(crate) state: Arc<HttpState>,
}

impl fmt::Debug for HttpServerTransport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServerTransport")
            .field("sessions", &self.session_count())
            .finish_non_exhaustive()
    }
}

impl HttpServerTransport {
    /// A transport with this configuration and no sessions.
    pub fn new(config: HttpConfig) -> Self {
        let (inbound_tx, inbound_rx) = async_channel::bounded(INBOUND_CAPACITY);
        Self {
            state: Arc::new(HttpState {
                config,
                dispatcher: OnceLock::new(),
                inbound_tx,
                inbound_rx,
                sessions: Mutex::new(IdMap::default()),
            }),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &HttpConfig {
        &self.state.config
    }

    /// The sender HTTP handlers push `(session, bytes)` into, as in the seed.
    /// Messages pushed here bypass reply slots: use it for notifications and
    /// responses, and [`HttpServerTransport::handle_http_request`] for requests.
    pub fn get_request_sender(&self) -> async_channel::Sender<Inbound> {
        self.state.inbound_tx.clone()
    }

    /// The number of open sessions.
    pub fn session_count(&self) -> usize {
        self.state.sessions().len()
    }

    /// Opens a session (as `initialize` does over HTTP) and returns its id.
    ///
    /// # Errors
    ///
    /// `None` when the session cap is reached or the OS has no randomness.
    pub fn open_session(&self, version: ProtocolVersion) -> Option<SessionId> {
        self.state.open_session(version).map(|(id, _)| id)
    }

    /// Sends one message (or batch) in a session and waits for its reply,
    /// as the seed's handler did; related messages are dropped. Returns an
    /// empty vector when the body held no request.
    ///
    /// # Errors
    ///
    /// [`TransportError::UnknownSession`] for an unknown session or a
    /// duplicate request id, [`TransportError::Closed`] if the server or the
    /// session ended before the reply.
    pub async fn handle_http_request(
        &self,
        session: SessionId,
        bytes: Vec<u8>,
    ) -> Result<Vec<u8>, TransportError> {
        let ids = request_ids(&bytes);
        if ids.is_empty() {
            self.state.push(Inbound::Message { session, bytes }).await?;
            return Ok(Vec::new());
        }
        let (_, mut events) = self
            .state
            .touch(&session)
            .ok_or(TransportError::UnknownSession)?
            .open_stream(&ids)
            .map_err(|_| TransportError::UnknownSession)?;
        self.state.push(Inbound::Message { session, bytes }).await?;
        loop {
            let event = events.recv().await.ok_or(TransportError::Closed)?;
            if event.last {
                return Ok(event.bytes.to_vec());
            }
        }
    }
}

/// The ids of the requests in a body (single or batch); empty for bodies of
/// notifications and responses only.
pub(crate) fn request_ids(bytes: &[u8]) -> Vec<RequestId> {
    decoded_request_ids(&jsonrpc::decode(bytes))
}

/// [`request_ids`] of a decoded body.
pub(crate) fn decoded_request_ids(decoded: &Decoded) -> Vec<RequestId> {
    let id = |m: &Result<Message, _>| match m {
        Ok(Message::Request(r)) => Some(r.id.clone()),
        _ => None,
    };
    match decoded {
        Decoded::Single(m) => id(m).into_iter().collect(),
        Decoded::Batch(items) => items.iter().filter_map(id).collect(),
    }
}

impl HttpState {
    pub(crate) fn sessions(&self) -> MutexGuard<'_, IdMap<SessionId, Arc<HttpSession>>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn session(&self, id: &SessionId) -> Option<Arc<HttpSession>> {
        self.sessions().get(id).cloned()
    }

    pub(crate) async fn push(&self, inbound: Inbound) -> Result<(), TransportError> {
        self.inbound_tx
            .send(inbound)
            .await
            .map_err(|_| TransportError::Closed)
    }

    /// Hands a message to the server: straight through its dispatcher when
    /// it has one (the returned work is the caller's to drive), else queued
    /// for its serve loop.
    ///
    /// # Errors
    ///
    /// [`TransportError::Closed`] when the server is gone.
    pub(crate) async fn deliver(
        &self,
        session: SessionId,
        decoded: Decoded,
        bytes: Vec<u8>,
    ) -> Result<Option<BoxFuture<()>>, TransportError> {
        match self.dispatcher.get() {
            Some(d) if d.is_alive() => Ok(d.dispatch_decoded(session, decoded)),
            Some(_) => Err(TransportError::Closed),
            None => self
                .push(Inbound::Message { session, bytes })
                .await
                .map(|()| None),
        }
    }

    /// Whether the server holds this session, when the transport has a
    /// direct line to it.
    pub(crate) fn server_has_session(&self, session: &SessionId) -> Option<bool> {
        self.dispatcher.get().map(|d| d.has_session(session))
    }

    /// Tells the server a session ended.
    pub(crate) async fn deliver_closed(&self, session: SessionId) {
        match self.dispatcher.get() {
            Some(d) => {
                if let Some(job) = d.dispatch(Inbound::Closed { session }) {
                    job.await;
                }
            }
            // Fails only when the server stopped; then nothing is left to cancel.
            None => drop(self.push(Inbound::Closed { session }).await),
        }
    }

    pub(crate) fn open_session(
        &self,
        version: ProtocolVersion,
    ) -> Option<(SessionId, Arc<HttpSession>)> {
        let id = SessionId::random().ok()?;
        let session = Arc::new(HttpSession {
            version,
            state: Mutex::new(Streams::new(Instant::now())),
        });
        let mut sessions = self.sessions();
        if sessions.len() >= self.config.max_sessions {
            return None;
        }
        sessions.insert(id.clone(), Arc::clone(&session));
        Some((id, session))
    }

    /// Ends a session on the HTTP side: every listener's response ends.
    /// Returns whether it existed. The caller tells the engine.
    pub(crate) fn remove_session(&self, id: &SessionId) -> bool {
        let removed = self.sessions().remove(id);
        if let Some(session) = &removed {
            for stream in session.state().iter_mut() {
                stream.detach();
            }
        }
        removed.is_some()
    }

    /// Records activity on a session; false if it does not exist.
    pub(crate) fn touch(&self, session: &SessionId) -> Option<Arc<HttpSession>> {
        let session = self.session(session)?;
        session.state().last_active = Instant::now();
        Some(session)
    }

    /// Removes sessions idle since before `now - idle timeout` with no
    /// listening connection, and returns them. Time is an input so tests can
    /// drive it.
    pub(crate) fn expire(&self, now: Instant) -> Vec<SessionId> {
        let idle = self.config.session_idle_timeout;
        let expired: Vec<SessionId> = self
            .sessions()
            .iter()
            .filter(|(_, s)| {
                let st = s.state();
                now.saturating_duration_since(st.last_active) >= idle && !st.any_attached()
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in &expired {
            self.remove_session(id);
        }
        expired
    }

    fn route(&self, message: Outbound) -> Result<(), TransportError> {
        let session = self
            .session(&message.session)
            .ok_or(TransportError::UnknownSession)?;
        let mut st = session.state();
        let (number, last) = match &message.route {
            Route::Reply(Some(id)) => {
                (st.take_answer(id).ok_or(TransportError::NoReplySlot)?, true)
            }
            Route::Related(id) => (st.answering(id).ok_or(TransportError::NoReplySlot)?, false),
            Route::Unrelated => (STANDALONE, false),
            Route::Cancelled(id) => {
                // The request will never be answered: free its slot and end
                // the response that waits on it.
                if let Some(number) = st.take_answer(id) {
                    st.remove(number);
                }
                return Ok(());
            }
            Route::Disconnect(id) => {
                let number = st.answering(id).ok_or(TransportError::NoReplySlot)?;
                if let Some(stream) = st.get_mut(number) {
                    stream.detach();
                }
                return Ok(());
            }
            Route::Reply(None) => return Err(TransportError::NoReplySlot),
        };
        let cap = self.config.replay_events;
        let Some(stream) = st.get_mut(number) else {
            // No GET stream was ever opened: nobody can receive unrelated messages.
            return Ok(());
        };
        stream.push(message.bytes.into(), last, cap);
        if last && !stream.attached() {
            st.keep_undelivered(number, self.config.retained_streams);
        }
        Ok(())
    }
}

#[async_trait]
impl Transport for HttpServerTransport {
    async fn receive(&self) -> Result<Inbound, TransportError> {
        self.state
            .inbound_rx
            .recv()
            .await
            .map_err(|_| TransportError::Closed)
    }

    async fn send(&self, message: Outbound) -> Result<(), TransportError> {
        self.state.route(message)
    }

    fn attach(&self, dispatcher: Dispatcher) {
        // Only the first server built over this transport gets the direct line.
        let _ = self.state.dispatcher.set(dispatcher);
    }

    async fn close(&self) -> Result<(), TransportError> {
        self.state.inbound_rx.close();
        let ids: Vec<SessionId> = self.state.sessions().keys().cloned().collect();
        for id in ids {
            self.state.remove_session(&id);
        }
        Ok(())
    }
}
