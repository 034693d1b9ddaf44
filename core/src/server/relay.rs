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
//! the shared log, and each replica numbers them from its own random
//! start: a client that resumes it on another replica gets a new one
//! there, and what was sent while it had none is lost, as on one replica.

// Without `shared-sessions` only `post` (a no-op then) and the numbering
// stay in use.
#![cfg_attr(not(feature = "shared-sessions"), allow(dead_code, unused_imports))]

#[cfg(feature = "shared-sessions")]
use std::sync::Arc;
#[cfg(feature = "shared-sessions")]
use std::time::Duration;

use crate::id::SessionId;
use crate::jsonrpc::{Decoded, Message, RequestId, Response};
use crate::observe::CloseReason;
#[cfg(feature = "shared-sessions")]
use crate::session::Session;
use crate::session_store::{Content, Letter};
#[cfg(feature = "shared-sessions")]
use crate::session_store::{LoggedEvent, SessionStore, StoreError};
use crate::streams::STANDALONE;

#[cfg(feature = "shared-sessions")]
use super::dispatch::Engine;
use super::shared::Shared;

/// The most events a copy of another replica's stream (or a GET stream,
/// for notices) keeps here: its listener normally takes each as it comes,
/// and one that falls this far behind is detached and resumes, as on one
/// replica. Room for a whole shared log at the HTTP transport's default of
/// 64 events per stream, and more.
const COPY_EVENTS: usize = 256;

/// A random start for the numbers a shared session's copy on this replica
/// gives its streams (see
/// [`Streams::number_from`](crate::streams::Streams::number_from)) and
/// its server→client requests: a multiple of 2^20 below 2^51 (a JSON
/// number every client reads exactly), so one replica's numbers do not
/// run into another's. Without randomness, `fallback` (the server's
/// letter number) picks the start.
pub(crate) fn first_number(fallback: u64) -> u64 {
    let mut bytes = [0; 4];
    let draw = match getrandom::fill(&mut bytes) {
        Ok(()) => u32::from_le_bytes(bytes),
        Err(_) => fallback as u32,
    };
    u64::from(draw & 0x7fff_ffff) << 20
}

/// Whether `message` is one line, as an SSE `data:` field must be (the
/// engine's JSON always is; a garbled letter may not be).
fn one_line(message: &str) -> bool {
    !message.contains(['\n', '\r'])
}

impl Shared {
    /// Posts `content` about session `id` to the other replicas, when
    /// sessions are shared.
    pub(crate) fn post(&self, id: &SessionId, content: Content) {
        if !cfg!(feature = "shared-sessions") {
            return;
        }
        if let Some(store) = &self.session_store {
            store.post(Letter::new(self.letter_from, id.as_str(), content));
        }
    }

    /// Keeps `event` of reply stream `stream` in the shared log and tells
    /// the other replicas of it, for a client that resumes the stream on
    /// one of them.
    #[cfg(feature = "shared-sessions")]
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
    #[cfg(feature = "shared-sessions")]
    pub(crate) async fn receive(&self, letter: Letter) {
        if letter.from == self.letter_from {
            return;
        }
        let id = SessionId::new(letter.session);
        // Only a copy of a shared session: an stdio or in-memory session
        // that happens to have the id is none of the letter's business.
        let Some(session) = self
            .sessions
            .get(&id)
            .filter(|s| s.state().stored.is_some())
        else {
            return;
        };
        match letter.content {
            Content::Notice { message } => {
                // Pushed here, not routed: routing would post it again
                // while the stream has no listener, and two replicas could
                // pass it back and forth.
                if !one_line(&message) {
                    return;
                }
                if let Some(stream) = session.state().streams.get_mut(STANDALONE) {
                    stream.push(message.into_bytes().into(), false, COPY_EVENTS);
                }
            }
            Content::Answer { message } => {
                let Decoded::Single(Ok(Message::Response(Response {
                    id: Some(request),
                    outcome,
                }))) = crate::jsonrpc::decode(message.as_bytes())
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
            Content::Event { stream, event } => {
                if one_line(&event.message) {
                    let mut st = session.state();
                    st.streams.copy_event(stream, event, COPY_EVENTS);
                }
            }
            Content::Changed { record } => {
                super::stored::refresh(&mut session.state(), record, crate::clock::now());
            }
            Content::Closed => self.close_here(&id, CloseReason::Deleted),
        }
    }
}

/// How long a resumption waits for the shared log to hold what its client
/// already saw: the writing replica appends in the background, so a
/// client that read an event there and came straight here can be ahead
/// of the log by the time one write takes.
#[cfg(feature = "shared-sessions")]
const LOG_GRACE: Duration = Duration::from_secs(1);

/// How often the log is read again meanwhile.
#[cfg(feature = "shared-sessions")]
const LOG_POLL: Duration = Duration::from_millis(25);

#[cfg(feature = "shared-sessions")]
impl Engine {
    /// Stream `stream`'s shared log, read again (every [`LOG_POLL`], for
    /// at most [`LOG_GRACE`], when the server has a runtime to wait on)
    /// until it holds event `after`, which the resuming client saw. A log
    /// still behind then is taken as it is, and one that never appears is
    /// `None`: a stream never shared, or one forgotten since.
    async fn read_caught_up(
        &self,
        store: &dyn SessionStore,
        id: &SessionId,
        stream: u64,
        after: u64,
    ) -> Result<Option<Vec<LoggedEvent>>, StoreError> {
        let deadline = crate::clock::now() + LOG_GRACE;
        loop {
            let read = store.read_log(id, stream, 0).await?;
            let caught_up = read
                .as_ref()
                .is_some_and(|log| log.last().is_some_and(|e| e.seq >= after));
            match &self.outlet.runtime {
                Some(runtime) if !caught_up && crate::clock::now() < deadline => {
                    runtime.sleep(LOG_POLL).await;
                }
                _ => return Ok(read),
            }
        }
    }

    /// Makes stream `stream` of `session`, which another replica wrote, a
    /// copy here holding what its shared log has after `after`, so that a
    /// client resumes it here; returns whether there was such a log (else
    /// nothing is made).
    #[cfg(feature = "shared-sessions")]
    pub(super) async fn resume_shared(
        self: Arc<Self>,
        session: Arc<Session>,
        stream: u64,
        after: u64,
    ) -> Result<bool, StoreError> {
        let Some(store) = &self.session_store else {
            return Ok(false);
        };
        if session.state().stored.is_none() {
            return Ok(false);
        }
        // Made before the log is read: events posted meanwhile wait in it.
        if !session.state().streams.copy_of(stream, after) {
            return Ok(stream != STANDALONE);
        }
        match self
            .read_caught_up(store.as_ref(), session.id(), stream, after)
            .await
        {
            Ok(Some(log)) => {
                let log = log.into_iter().filter(|e| one_line(&e.message)).collect();
                session.state().streams.fill_copy(stream, log, COPY_EVENTS);
                Ok(true)
            }
            other => {
                session.state().streams.drop_copy(stream);
                other.map(|_| false)
            }
        }
    }
}
