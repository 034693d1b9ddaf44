//! What the HTTP transport shares between its clones and connections: its
//! configuration, its line into the engine, and the routing of outbound
//! messages into the streams of the engine's sessions.
//!
//! The sessions themselves, and each session's streams, live in the
//! engine; this state only holds a weak line to it, so the transport does
//! not keep its server alive.

use std::sync::{Arc, OnceLock, Weak};

use super::shutdown::Shutdown;
use crate::http::config::HttpConfig;
use crate::http::shares::Shares;
use crate::session_store::{Content, LoggedEvent};
use crate::streams::STANDALONE;
use crate::transport::{Dispatch, Outbound, Route, TransportError};

/// The state behind an [`HttpServerTransport`](crate::http::HttpServerTransport).
///
/// Shared by every clone of the transport and every connection serving it
/// (behind an `Arc`); all of it is safe to use from many tasks at once.
pub(crate) struct HttpState {
    /// The configuration, fixed for the transport's life.
    pub(crate) config: HttpConfig,
    /// The engine's direct line, once a server is built over the transport.
    engine: OnceLock<Weak<dyn Dispatch>>,
    /// Triggered when the transport closes; ends the serve loop's `receive`.
    pub(crate) closed: Shutdown,
    /// The connections and GET streams each client holds, against the
    /// per-client caps.
    pub(crate) shares: Shares,
}

impl HttpState {
    /// State with no engine attached yet and the transport open.
    pub(crate) fn new(config: HttpConfig) -> Self {
        Self {
            shares: Shares::new(&config),
            config,
            engine: OnceLock::new(),
            closed: Shutdown::default(),
        }
    }

    /// Keeps the engine's line; only the first server gets it.
    ///
    /// # Errors
    ///
    /// [`TransportError::AlreadyAttached`] when a server was already built
    /// over this transport (or a clone of it), even one since dropped.
    pub(crate) fn attach(&self, engine: Weak<dyn Dispatch>) -> Result<(), TransportError> {
        self.engine
            .set(engine)
            .map_err(|_| TransportError::AlreadyAttached)
    }

    /// The engine, while a server built over this transport exists and the
    /// transport is open. `None` before a server is built, after it is
    /// dropped, or once the transport closed: requests are then answered
    /// 503.
    pub(crate) fn engine(&self) -> Option<Arc<dyn Dispatch>> {
        if self.closed.is_triggered() {
            return None;
        }
        self.engine.get()?.upgrade()
    }

    /// Whether `server` is the one built over this transport.
    pub(crate) fn serves(&self, server: &crate::server::McpServer) -> bool {
        self.engine.get().is_some_and(|line| server.owns_line(line))
    }

    /// Routes one outbound message into its session's streams: a reply ends
    /// the stream that awaits its id, a related message goes on that
    /// stream, an unrelated one on the standalone stream.
    ///
    /// It never waits: the message is logged (at most `replay_events` per
    /// stream) and the stream's listener, if any, is woken. A reply that
    /// nobody listens to is kept among the session's undelivered streams
    /// for a client that resumes. An unrelated message before any GET
    /// stream was opened is dropped, as nobody could receive it.
    ///
    /// `Route::Cancelled` frees the request's reply slot and ends its
    /// response; `Route::Disconnect` ends the response but keeps the
    /// stream, so the client can resume it with `Last-Event-ID`.
    ///
    /// Unlike [`HttpState::engine`] it does not look at the transport's
    /// closed flag; but closing the transport ends every session, so a
    /// reply after that finds none.
    ///
    /// # Errors
    ///
    /// [`TransportError::UnknownSession`] when no server is attached or the
    /// session is not open; [`TransportError::NoReplySlot`] when no stream
    /// awaits the request (it was already answered or cancelled) or a
    /// reply carries no id. Both leave the transport serving.
    pub(crate) fn route(&self, message: Outbound) -> Result<(), TransportError> {
        let engine = self
            .engine
            .get()
            .and_then(Weak::upgrade)
            .ok_or(TransportError::UnknownSession)?;
        let session = engine
            .stream_target(&message.session)
            .ok_or(TransportError::UnknownSession)?;
        let mut st = session.state();
        // Kept in a store shared with other replicas: what this one cannot
        // deliver, or a client may resume elsewhere, is passed on.
        let shared = cfg!(feature = "shared-sessions") && st.stored.is_some();
        let streams = &mut st.streams;
        let (number, last) = match &message.route {
            Route::Reply(Some(id)) => (
                streams.take_answer(id).ok_or(TransportError::NoReplySlot)?,
                true,
            ),
            Route::Related(id) => (
                streams.answering(id).ok_or(TransportError::NoReplySlot)?,
                false,
            ),
            Route::Unrelated => (STANDALONE, false),
            Route::Cancelled(id) => {
                // The request will never be answered: free its slot and end
                // the response that waits on it.
                if let Some(number) = streams.take_answer(id) {
                    streams.remove(number);
                }
                return Ok(());
            }
            Route::Disconnect(id) => {
                let number = streams.answering(id).ok_or(TransportError::NoReplySlot)?;
                if let Some(stream) = streams.get_mut(number) {
                    stream.detach();
                }
                return Ok(());
            }
            Route::Reply(None) => return Err(TransportError::NoReplySlot),
        };
        if shared && number == STANDALONE && !streams.get_mut(number).is_some_and(|s| s.attached())
        {
            // The GET stream may be held by another replica.
            if let Ok(text) = std::str::from_utf8(&message.bytes) {
                let message = text.to_owned();
                engine.pass_on(session.id(), Content::Notice { message });
            }
        }
        let Some(stream) = streams.get_mut(number) else {
            // No GET stream was ever opened: nobody can receive unrelated messages.
            return Ok(());
        };
        let cap = self.config.replay_events;
        // Only a stream that went out as SSE is shared (see `reply::share`).
        let text = stream
            .shared
            .then(|| String::from_utf8_lossy(&message.bytes).into_owned());
        stream.push(message.bytes.into(), last, cap);
        if let Some(text) = text {
            let event = LoggedEvent::new(stream.last_seq(), last, text);
            engine.share_event(session.id(), number, event, cap);
        }
        if last && !stream.attached() {
            streams.keep_undelivered(number, self.config.retained_streams);
        }
        Ok(())
    }
}
