//! What replicas sharing sessions tell each other: the [`Letter`]s this
//! server posts when something of a shared session is held elsewhere, what
//! it does with the letters it receives, and the resumption of a reply
//! stream another replica wrote.
//!
//! ```text
//! unrelated message, no GET stream here ──▶ Notice ──▶ the replica holding it pushes it
//! client's answer, no handler waits here ─▶ Answer ──▶ the replica whose handler waits
//! cancelled, request not running here ───▶ Cancel ──▶ the replica running it aborts it
//! event on a reply stream (SSE) ─▶ store log + Event ──▶ a replica the client resumed on
//! setLevel, (un)subscribe ───────────────▶ Changed ─▶ every copy takes the record
//! DELETE ────────────────────────────────▶ Closed ──▶ every copy closes
//! ```
//!
//! Only sessions kept in the store take part (stdio and in-memory
//! sessions never do). The standalone (GET) stream's events are not in
//! the shared log: a client that resumes it on another replica gets a new
//! one, and what was sent while it had none is lost, as on one replica.

use std::sync::Arc;

use crate::id::SessionId;
use crate::jsonrpc::{Message, RequestId, Response};
use crate::observe::CloseReason;
use crate::session::Session;
use crate::session_store::{Content, Letter, LoggedEvent, StoreError};
use crate::streams::STANDALONE;

use super::dispatch::Engine;
use super::shared::Shared;

/// The most events a copy of another replica's stream keeps (its
/// listener normally takes each as it comes): room for a whole shared log
/// at the HTTP transport's default of 64 events per stream, and more.
const COPY_EVENTS: usize = 256;

/// A random start for the numbers of a shared session's streams on this
/// replica (see [`Streams::number_from`](crate::streams::Streams::number_from)):
/// 2^20 numbers apart at least, so a replica's streams do not run into
/// another's; 1 when the system has no randomness.
pub(crate) fn first_stream_number() -> u64 {
    let mut bytes = [0; 4];
    match getrandom::fill(&mut bytes) {
        Ok(()) => (u64::from(u32::from_le_bytes(bytes)) << 20) | 1,
        Err(_) => 1,
    }
}

impl Shared {
    /// Posts `content` about session `id` to the other replicas, when
    /// sessions are shared.
    pub(crate) fn post(&self, id: &SessionId, content: Content) {
        if let Some(store) = &self.session_store {
            store.post(Letter::new(self.letter_from, id.as_str(), content));
        }
    }

    /// Keeps `event` of reply stream `stream` in the shared log and tells
    /// the other replicas of it, for a client that resumes the stream on
    /// one of them.
    pub(crate) fn share_event(&self, id: &SessionId, stream: u64, event: LoggedEvent, cap: usize) {
        let Some(store) = &self.session_store else {
            return;
        };
        store.append(id, stream, event.clone(), cap, self.config.session_ttl);
        // Posted after the append, so whoever hears it can read it.
        self.post(id, Content::Event { stream, event });
    }

    /// Does what `letter` asks of this server's copy of its session, if it
    /// holds one; a letter this server posted is skipped.
    pub(crate) async fn receive(&self, letter: Letter) {
        if letter.from == self.letter_from {
            return;
        }
        let id = SessionId::new(letter.session);
        let Some(session) = self.sessions.get(&id) else {
            return;
        };
        match letter.content {
            Content::Notice { message } => {
                // Pushed here, not routed: routing would post it again
                // while the stream has no listener, and two replicas could
                // pass it back and forth.
                if let Some(stream) = session.state().streams.get_mut(STANDALONE) {
                    stream.push(message.into_bytes().into(), false, COPY_EVENTS);
                }
            }
            Content::Answer { message } => {
                let Ok(Message::Response(Response {
                    id: Some(request),
                    outcome,
                })) = crate::jsonrpc::from_value(
                    serde_json::from_str(&message).unwrap_or(serde_json::Value::Null),
                )
                else {
                    return;
                };
                let waiter = session.state().take_pending(&request);
                if let Some(waiter) = waiter {
                    let _ = waiter.send(outcome);
                }
            }
            Content::Cancel { request } => {
                if let Some(request) = RequestId::from_value(&request) {
                    if let Some(handle) = session.state().in_flight.get(&request) {
                        handle.abort();
                    }
                }
            }
            Content::Event { stream, event } => self.mirror_event(&session, stream, event).await,
            Content::Changed { record } => {
                super::stored::refresh(&mut session.state(), record, crate::clock::now());
            }
            Content::Closed => self.close_here(&id, CloseReason::Deleted),
        }
    }

    /// Adds `event` to this server's copy of stream `stream`, when a client
    /// resumed it here; events it missed (a letter lost, or one that came
    /// before the copy was made) are read from the shared log first.
    async fn mirror_event(&self, session: &Arc<Session>, stream: u64, event: LoggedEvent) {
        let cap = self.replay_cap();
        let next = {
            let mut st = session.state();
            let Some(copy) = st.streams.mirror_mut(stream) else {
                return;
            };
            let next = copy.last_seq() + 1;
            if event.seq == next {
                copy.push(event.message.into_bytes().into(), event.last, cap);
                return;
            }
            if event.seq < next {
                return;
            }
            next
        };
        let _ = self.catch_up(session, stream, next - 1).await;
    }

    /// Brings this server's copy of stream `stream` up to the shared log's
    /// end, from `after`.
    async fn catch_up(
        &self,
        session: &Arc<Session>,
        stream: u64,
        after: u64,
    ) -> Result<bool, StoreError> {
        let Some(store) = &self.session_store else {
            return Ok(false);
        };
        let Some(events) = store.read_log(session.id(), stream, after).await? else {
            return Ok(false);
        };
        let cap = self.replay_cap();
        let mut st = session.state();
        if let Some(copy) = st.streams.mirror_mut(stream) {
            for event in events {
                // Letters may have brought some meanwhile.
                if event.seq == copy.last_seq() + 1 {
                    copy.push(event.message.into_bytes().into(), event.last, cap);
                }
            }
        }
        Ok(true)
    }

    /// How many events a copy of a stream keeps for its listener.
    fn replay_cap(&self) -> usize {
        COPY_EVENTS
    }
}

impl Engine {
    /// Makes stream `stream` of `session`, which another replica wrote, a
    /// copy here holding what its shared log has after `after`, so that a
    /// client resumes it here; returns whether there was such a log (else
    /// nothing is made).
    pub(super) async fn resume_shared(
        self: Arc<Self>,
        session: Arc<Session>,
        stream: u64,
        after: u64,
    ) -> Result<bool, StoreError> {
        if self.session_store.is_none() || session.state().stored.is_none() {
            return Ok(false);
        }
        // Made before the log is read: an event posted meanwhile finds it.
        if !session.state().streams.mirror(stream, after) {
            return Ok(true);
        }
        match self.catch_up(&session, stream, after).await {
            Ok(true) => Ok(true),
            found => {
                session.state().streams.remove(stream);
                found
            }
        }
    }
}
