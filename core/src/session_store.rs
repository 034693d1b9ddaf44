//! Where session-era sessions are kept so that any replica can serve them:
//! the [`SessionStore`] trait, the [`SessionRecord`] it holds, an in-memory
//! [`MemorySessionStore`], and the [`contract`] every store must keep.
//!
//! The engine's own session table stays the first place a request looks;
//! a store is asked only when the table misses (a session minted by another
//! replica, then adopted here) and to confirm, at most once per
//! [`ServerConfig::session_cache_for`](crate::ServerConfig::session_cache_for),
//! that a session it holds is still open. Without a store
//! ([`McpServerBuilder::session_store`](crate::McpServerBuilder::session_store)
//! not called, the default) sessions live in the table alone, as they always
//! did, and no request pays for the store.
//!
//! ```text
//! request ─▶ table hit, confirmed lately ─▶ served
//!         └▶ miss or due ─▶ store.load(id, ttl) ─▶ None: 404 (closed here too)
//!                                            └▶ record: adopted / refreshed ─▶ served
//! initialize ─▶ store.create   setLevel, (un)subscribe ─▶ store.update   DELETE ─▶ store.remove
//! ```
//!
//! A record holds what a session is (revision, client capabilities and
//! info, the party that opened it) and what a client changes in it (log
//! level, subscriptions). Requests in flight, server→client requests and
//! live streams stay with the replica that holds them; what must reach
//! them from another replica travels as a [`Letter`] (an answer, a
//! cancellation, a notice for the GET stream), and a reply stream's events
//! are kept in a shared log too ([`SessionStore::append`]), so a client
//! resumes the stream with `Last-Event-ID` on any replica.

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;

use crate::id::SessionId;

pub mod contract;
mod letter;
mod memory;
pub(crate) mod record;

pub use letter::{Content, Letter, LoggedEvent};
pub use memory::{DEFAULT_MAX_RECORDS, MemorySessionStore};
pub use record::SessionRecord;

/// Why a store could not answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store cannot be reached (its server is down, say); the request
    /// that needed it is refused (HTTP 503).
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    /// What the store holds under the id is not a session record.
    #[error("malformed session record: {0}")]
    Malformed(String),
    /// The store holds its maximum of sessions.
    #[error("session store full")]
    Full,
    /// This server's own table holds its maximum of sessions
    /// ([`ServerConfig::max_sessions`](crate::ServerConfig::max_sessions)),
    /// so a session another replica opened was not adopted here.
    #[error("too many sessions on this replica")]
    TooManySessions,
}

/// Keeps [`SessionRecord`]s by [`SessionId`], each until its time to live
/// passes without a [`load`](Self::load).
///
/// Every method may be called from any replica at any time; each must be
/// one atomic step of the store, so that a [`remove`](Self::remove) on one
/// replica is seen by the next [`load`](Self::load) on every other. Every
/// method must end (with [`StoreError::Unavailable`] when the store cannot
/// be reached in bounded time), never hang.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use switchboard_core::SessionId;
/// use switchboard_core::session_store::{MemorySessionStore, SessionRecord, SessionStore};
///
/// futures::executor::block_on(async {
///     let store = MemorySessionStore::new();
///     let id = SessionId::new("5f0c");
///     let record = SessionRecord::new("2025-11-25");
///     let ttl = Duration::from_secs(60);
///     assert!(store.create(&id, &record, ttl).await.unwrap());
///     assert_eq!(store.load(&id, ttl).await.unwrap(), Some(record));
///     assert!(store.remove(&id).await.unwrap());
///     assert_eq!(store.load(&id, ttl).await.unwrap(), None);
/// });
/// ```
#[async_trait]
pub trait SessionStore: Send + Sync + fmt::Debug + 'static {
    /// Keeps `record` under `id` for `ttl`, unless `id` is taken; returns
    /// whether it was kept.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`], or [`StoreError::Full`] at a cap.
    async fn create(
        &self,
        id: &SessionId,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<bool, StoreError>;

    /// The record under `id`, its time to live restarted at `ttl`; `None`
    /// when there is none (never created, removed, or expired).
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`], or [`StoreError::Malformed`] when the
    /// id holds something else.
    async fn load(
        &self,
        id: &SessionId,
        ttl: Duration,
    ) -> Result<Option<SessionRecord>, StoreError>;

    /// Replaces the record under `id`, keeping its time to live; returns
    /// `false` (and keeps nothing) when there is none.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`].
    async fn update(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError>;

    /// Removes the record under `id`; returns whether there was one.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`].
    async fn remove(&self, id: &SessionId) -> Result<bool, StoreError>;

    /// Sends `letter` to every server sharing the store, the sender
    /// included (see [`Letter`]). It never waits: the letter is queued, and
    /// letters and [`append`](Self::append)s take effect in the order they
    /// were made. At most once: one the store cannot take is dropped. The
    /// default drops every letter (a store for one server alone).
    fn post(&self, letter: Letter) {
        let _ = letter;
    }

    /// Every letter posted from now on by any server sharing the store,
    /// while the stream is kept; `None` (the default) when the store
    /// carries no letters. A server takes it once, when it starts to serve.
    fn letters(&self) -> Option<BoxStream<'static, Letter>> {
        None
    }

    /// Appends `event` to the shared log of reply stream `stream` of
    /// session `id`, keeping the newest `cap` events, the log kept for
    /// `ttl` after its last append. It never waits, like
    /// [`post`](Self::post), in whose order it takes effect. The default
    /// keeps nothing.
    fn append(&self, id: &SessionId, stream: u64, event: LoggedEvent, cap: usize, ttl: Duration) {
        let _ = (id, stream, event, cap, ttl);
    }

    /// The events after `after` in the shared log of stream `stream` of
    /// session `id`, oldest first; `None` when there is no such log (never
    /// written, expired, or the default, which keeps no logs).
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`].
    async fn read_log(
        &self,
        id: &SessionId,
        stream: u64,
        after: u64,
    ) -> Result<Option<Vec<LoggedEvent>>, StoreError> {
        let _ = (id, stream, after);
        Ok(None)
    }
}

/// How long a stored session lives without a request on any replica, by
/// default: 30 minutes, the HTTP transport's default idle timeout
/// ([`DEFAULT_SESSION_IDLE_TIMEOUT`](crate::http::DEFAULT_SESSION_IDLE_TIMEOUT)).
pub const DEFAULT_SESSION_TTL: Duration = Duration::from_secs(30 * 60);
