//! What the HTTP transport shares between its clones and connections: its
//! configuration, its line into the engine, and the routing of outbound
//! messages into the streams of the engine's sessions.

use std::sync::{Arc, OnceLock, Weak};

use super::config::HttpConfig;
use super::shutdown::Shutdown;
use crate::streams::STANDALONE;
use crate::transport::{Dispatch, Outbound, Route, TransportError};

/// The state behind an [`HttpServerTransport`](super::HttpServerTransport).
pub(crate) struct HttpState {
    pub(crate) config: HttpConfig,
    /// The engine's direct line, once a server is built over the transport.
    engine: OnceLock<Weak<dyn Dispatch>>,
    /// Triggered when the transport closes; ends the serve loop's `receive`.
    pub(crate) closed: Shutdown,
}

impl HttpState {
    pub(crate) fn new(config: HttpConfig) -> Self {
        Self {
            config,
            engine: OnceLock::new(),
            closed: Shutdown::default(),
        }
    }

    /// Keeps the engine's line; only the first server gets it.
    pub(crate) fn attach(&self, engine: Weak<dyn Dispatch>) -> Result<(), TransportError> {
        self.engine
            .set(engine)
            .map_err(|_| TransportError::AlreadyAttached)
    }

    /// The engine, while a server built over this transport exists and the
    /// transport is open.
    pub(crate) fn engine(&self) -> Option<Arc<dyn Dispatch>> {
        if self.closed.is_triggered() {
            return None;
        }
        self.engine.get()?.upgrade()
    }

    /// Routes one outbound message into its session's streams: a reply ends
    /// the stream that awaits its id, a related message goes on that
    /// stream, an unrelated one on the standalone stream.
    pub(crate) fn route(&self, message: Outbound) -> Result<(), TransportError> {
        let engine = self.engine.get().and_then(Weak::upgrade);
        let session = engine
            .and_then(|e| e.session(&message.session))
            .ok_or(TransportError::UnknownSession)?;
        let mut st = session.state();
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
        let Some(stream) = streams.get_mut(number) else {
            // No GET stream was ever opened: nobody can receive unrelated messages.
            return Ok(());
        };
        stream.push(message.bytes.into(), last, self.config.replay_events);
        if last && !stream.attached() {
            streams.keep_undelivered(number, self.config.retained_streams);
        }
        Ok(())
    }
}
