//! Sessions, the one model of them: what `initialize` opened, with the
//! client's facts, its requests in flight, its server→client requests
//! awaiting an answer, its subscriptions, and its reply streams (the reply
//! slots and event logs a transport with streams, such as HTTP, routes by).
//!
//! The engine owns the [`SessionTable`]; transports reach sessions through
//! the engine ([`Dispatch`](crate::Dispatch)), never through a table of
//! their own. Everything here is plain data under one lock per session,
//! allocated lazily: an idle session is an id, its facts, a time stamp and
//! a few empty collections. Time is an input (`now`), never read here.
//!
//! Locks: the table's lock is taken before a session's, never while one is
//! held (the table closes a session only after letting go of its own
//! lock). A session's lock is never held across an `.await`.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::clock::Instant;

use futures::channel::oneshot;
use futures::future::AbortHandle;
use serde_json::Value;

use crate::facts::ClientFacts;
use crate::id::{IdMap, SessionId};
use crate::jsonrpc::{RequestId, RpcError};
use crate::protocol::{LogLevel, ProtocolVersion};
use crate::streams::Streams;

/// The answer to a server→client request: the client's `result`, or the
/// error object it answered with.
pub(crate) type Answer = Result<Value, RpcError>;

/// Requests in flight in one session: a few at a time, so a vector searched
/// in order beats a hash table (one small allocation, reused).
#[derive(Debug, Default)]
pub(crate) struct InFlightTable(Vec<(RequestId, AbortHandle)>);

impl InFlightTable {
    /// Requests in flight; the engine refuses a new one past
    /// [`ServerConfig::max_in_flight`](crate::ServerConfig::max_in_flight).
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// The abort handle of request `id`'s handler, for
    /// `notifications/cancelled`; `None` when `id` is not in flight (it may
    /// just have finished).
    pub(crate) fn get(&self, id: &RequestId) -> Option<&AbortHandle> {
        self.0.iter().find(|(i, _)| i == id).map(|(_, h)| h)
    }

    /// Whether request `id` is in flight.
    pub(crate) fn contains(&self, id: &RequestId) -> bool {
        self.get(id).is_some()
    }

    /// Registers request `id` in flight with its handler's abort handle.
    ///
    /// Does not check for a duplicate: the caller admitted `id` first
    /// ([`SessionState::admit`]); a second entry for one id would outlive
    /// the first one's removal.
    pub(crate) fn insert(&mut self, id: RequestId, handle: AbortHandle) {
        // Room for one at first (see `Streams::open`).
        if self.0.capacity() == 0 {
            self.0.reserve_exact(1);
        }
        self.0.push((id, handle));
    }

    /// Forgets request `id` (its handler ended); nothing when it is not in
    /// flight. Order is not kept.
    pub(crate) fn remove(&mut self, id: &RequestId) {
        if let Some(i) = self.0.iter().position(|(i, _)| i == id) {
            self.0.swap_remove(i);
        }
    }

    /// Every handler's abort handle, for closing the session.
    fn into_handles(self) -> impl Iterator<Item = AbortHandle> {
        self.0.into_iter().map(|(_, h)| h)
    }
}

/// One session, as opened by `initialize`.
///
/// A handle that transports get from the engine
/// ([`Dispatch::session`](crate::Dispatch::session)); cheap to share
/// (`Arc`). Its state is the engine's and is changed only through the
/// engine, so the public surface is read-only.
///
/// A closed session stays a valid handle: its reads keep working and
/// [`Session::is_closed`] says it ended, but nothing new starts in it.
pub struct Session {
    /// Fixed at `initialize`.
    id: SessionId,
    /// What the client said at `initialize`; fixed for the session's life.
    facts: ClientFacts,
    /// Everything that changes, under the session's one lock.
    state: Mutex<SessionState>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("version", &self.facts.version)
            .finish_non_exhaustive()
    }
}

/// A session's mutable state, behind its one lock.
#[derive(Debug)]
pub(crate) struct SessionState {
    /// The client sent `notifications/initialized`.
    pub(crate) initialized: bool,
    /// The session ended; nothing new may start in it.
    pub(crate) closed: bool,
    /// Set by `logging/setLevel`; `None` lets every message through.
    pub(crate) log_level: Option<LogLevel>,
    /// URIs subscribed to with `resources/subscribe` (bounded by the
    /// server's `max_subscriptions`). Ordered, so lookups cost no hashing of
    /// client-chosen keys.
    pub(crate) subscriptions: BTreeSet<String>,
    /// Client requests whose handlers are running, with their abort
    /// handles. A request enters when admitted and leaves when its handler
    /// ends, however it ends.
    pub(crate) in_flight: InFlightTable,
    /// Server→client requests awaiting the client's answer (a few at most).
    pub(crate) pending: Vec<(RequestId, oneshot::Sender<Answer>)>,
    /// The server is shutting down: no answer to a server→client request
    /// can come any more, so none is sent and the pending ones failed.
    pub(crate) shutting_down: bool,
    /// The id of the last server→client request; the next one is one more,
    /// so the server's ids never repeat within a session (they live apart
    /// from the client's request ids, which may be the same numbers). A
    /// session shared with other replicas starts at a random point on each
    /// (see `server::relay::first_number`), so their ids do not meet either.
    pub(crate) next_request_id: i64,
    /// When the client last sent anything in this session, or last
    /// stopped receiving one of its SSE responses.
    pub(crate) last_active: Instant,
    /// SSE responses of this session being written: its client is there
    /// while one is, however long ago it sent anything (a slow client
    /// reading a long replay), so the session does not expire meanwhile.
    pub(crate) writing: usize,
    /// Reply streams, for transports that route by them.
    pub(crate) streams: Streams,
    /// What only a session kept in a shared store has (`None` otherwise,
    /// and then costing one word).
    pub(crate) stored: Option<Box<Stored>>,
}

/// What a session kept in a shared store
/// ([`SessionStore`](crate::session_store::SessionStore)) has besides the
/// rest of its state.
#[derive(Debug)]
pub(crate) struct Stored {
    /// When the store last said the session is open (and gave its log
    /// level and subscriptions): until
    /// [`ServerConfig::session_cache_for`](crate::ServerConfig::session_cache_for)
    /// after it, requests are served without asking again.
    pub(crate) checked: Instant,
    /// `initialize`'s `clientInfo`, kept for the store's record.
    pub(crate) client_info: Option<Value>,
}

impl SessionState {
    /// Admits the requests `ids` of one message (or batch): none may be in
    /// flight, awaiting a reply on a stream, or appear twice. This is the
    /// one place the duplicate-id rule lives.
    ///
    /// An id is taken from its admission until its reply has been routed,
    /// and being in flight covers only part of that: a handler leaves the
    /// in-flight table just before its reply is sent, and a request the
    /// engine answers itself (`ping`) is never in flight. Over HTTP its
    /// reply stream covers the rest, so a client that reuses an id too early
    /// cannot open a second stream that takes the first one's reply. Ids are per
    /// session; the server's own request ids ([`SessionState::pending`])
    /// are another namespace and are not checked.
    ///
    /// Checks only. Where messages of one session arrive concurrently (over
    /// HTTP), the caller registers the ids under the same lock by opening
    /// their reply stream ([`Streams::open`]), so that no other message is
    /// admitted in between; the serve loop admits one message at a time and
    /// puts its requests in flight before it takes the next.
    ///
    /// # Errors
    ///
    /// The first id that is taken; then nothing of the message may run.
    pub(crate) fn admit(&self, ids: &[RequestId]) -> Result<(), RequestId> {
        for (i, id) in ids.iter().enumerate() {
            if self.in_flight.contains(id)
                || self.streams.answering(id).is_some()
                || ids[..i].contains(id)
            {
                return Err(id.clone());
            }
        }
        Ok(())
    }

    /// Takes the waiter of server→client request `id`, if any: the client's
    /// answer goes to it, or the requester gives up (timeout, failed send).
    /// `None` for an id the server is not waiting on (answered already,
    /// timed out, or never sent), which the engine ignores.
    pub(crate) fn take_pending(&mut self, id: &RequestId) -> Option<oneshot::Sender<Answer>> {
        let i = self.pending.iter().position(|(p, _)| p == id)?;
        Some(self.pending.swap_remove(i).1)
    }
}

impl Session {
    /// A new session, active at `now`, not yet `initialized`. Only the
    /// table makes sessions ([`SessionTable::open`]), so that every session
    /// counts towards the cap.
    pub(crate) fn new(id: SessionId, facts: ClientFacts, now: Instant) -> Self {
        Self {
            id,
            facts,
            state: Mutex::new(SessionState {
                initialized: false,
                closed: false,
                log_level: None,
                subscriptions: BTreeSet::new(),
                in_flight: InFlightTable::default(),
                pending: Vec::new(),
                shutting_down: false,
                next_request_id: 0,
                last_active: now,
                writing: 0,
                streams: Streams::default(),
                stored: None,
            }),
        }
    }

    /// The session's id (`Mcp-Session-Id` over HTTP, `"stdio"` over stdio,
    /// the client's own name for it over memory).
    pub fn id(&self) -> &SessionId {
        &self.id
    }

    /// The protocol revision negotiated by `initialize`: the client's, when
    /// the server supports it, else [`ProtocolVersion::LATEST`]. Fixed for
    /// the session's life.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.facts.version
    }

    /// Whether the session has ended (deleted, expired, or the server closed).
    ///
    /// Once `true`, it stays `true`: a closed session is never reopened
    /// (a client starts a new one with `initialize`).
    pub fn is_closed(&self) -> bool {
        self.state().closed
    }

    /// What the client said at `initialize`, copied into each request's
    /// context.
    pub(crate) fn facts(&self) -> &ClientFacts {
        &self.facts
    }

    /// Locks the state; never held across an await.
    ///
    /// Do not call it while holding the guard it returned (the lock is not
    /// reentrant), nor take the session table's lock while holding it.
    pub(crate) fn state(&self) -> MutexGuard<'_, SessionState> {
        // A panic while holding this lock leaves plain data behind; keep going.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// An SSE response of this session starts being written: the session
    /// does not expire until [`Session::stop_writing`].
    pub(crate) fn start_writing(&self) {
        self.state().writing += 1;
    }

    /// An SSE response of this session ended at `now` (written out, or
    /// its connection gone): idle time counts from here.
    pub(crate) fn stop_writing(&self, now: Instant) {
        let mut st = self.state();
        st.writing = st.writing.saturating_sub(1);
        st.last_active = st.last_active.max(now);
    }

    /// Records activity at `now`, postponing the session's expiry
    /// ([`SessionTable::expire`]).
    pub(crate) fn touch(&self, now: Instant) {
        self.state().last_active = now;
    }

    /// Whether a message at `level` passes the session's filter: at or
    /// above the `logging/setLevel` level, or any level until one is set.
    pub(crate) fn logs(&self, level: LogLevel) -> bool {
        self.state().log_level.is_none_or(|min| level >= min)
    }

    /// The server is shutting down: fails the session's pending
    /// server→client requests at once (their senders are dropped; each
    /// waiter sees [`RequestError::ShuttingDown`](crate::context::RequestError))
    /// and refuses new ones, so handlers waiting on the client end and their
    /// responses go out during the grace period. The client could not
    /// answer anyway: new connections are refused and idle ones closed.
    pub(crate) fn fail_client_requests(&self) {
        let pending = {
            let mut st = self.state();
            st.shutting_down = true;
            std::mem::take(&mut st.pending)
        };
        // Dropped after the lock: waking a waiter locks the session.
        drop(pending);
    }

    /// Marks the session closed: aborts its handlers, fails its pending
    /// server→client requests (their senders are dropped) and ends every
    /// response listening to its streams (their logs stay until dropped).
    ///
    /// The table calls it after removing the session. Handlers are aborted
    /// and waiters dropped after the lock is released: both wake tasks that
    /// will lock the session (an aborted handler leaves the in-flight
    /// table). Closing twice does no harm.
    pub(crate) fn close(&self) {
        let (in_flight, pending) = {
            let mut st = self.state();
            st.closed = true;
            for stream in st.streams.iter_mut() {
                stream.detach();
            }
            (
                std::mem::take(&mut st.in_flight),
                std::mem::take(&mut st.pending),
            )
        };
        for handle in in_flight.into_handles() {
            handle.abort();
        }
        drop(pending);
    }
}

/// Why a session could not be opened; the engine turns each into its
/// answer to `initialize`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum OpenError {
    /// The table holds its maximum of sessions.
    #[error("too many sessions")]
    Full,
    /// A session of that id exists already.
    #[error("session is already initialized")]
    Exists,
    /// The operating system gave no randomness for an id.
    #[error("no randomness for a session id")]
    NoRandomness,
}

/// Every open session of one server, with its cap. The one table.
///
/// A session leaves the table when it closes (deleted, expired, or the
/// server closing); handles to it that others hold then see it closed.
#[derive(Debug)]
pub(crate) struct SessionTable {
    /// The open sessions by id, behind one lock taken only for the lookup
    /// itself.
    map: Mutex<IdMap<SessionId, Arc<Session>>>,
    /// The most sessions open at once
    /// ([`ServerConfig::max_sessions`](crate::ServerConfig::max_sessions)).
    cap: usize,
    /// What leads minted ids
    /// ([`ServerConfig::session_id_tag`](crate::ServerConfig::session_id_tag)).
    tag: Option<Arc<str>>,
}

impl SessionTable {
    /// An empty table that holds at most `cap` sessions.
    pub(crate) fn new(cap: usize) -> Self {
        Self {
            map: Mutex::new(IdMap::default()),
            cap,
            tag: None,
        }
    }

    /// The table, minting ids behind `tag` when there is one.
    pub(crate) fn with_tag(mut self, tag: Option<Arc<str>>) -> Self {
        self.tag = tag;
        self
    }

    /// Locks the map; a panic while it was held leaves plain data, so a
    /// poisoned lock is used as it is.
    fn map(&self) -> MutexGuard<'_, IdMap<SessionId, Arc<Session>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Opens a session named `id`, or with a freshly minted id when `None`.
    ///
    /// HTTP passes `None` (the server names its sessions); stdio and memory
    /// pass the name their transport gave. The session starts active at
    /// `now`.
    ///
    /// # Errors
    ///
    /// [`OpenError::Full`] at the cap, [`OpenError::Exists`] when `id` is
    /// taken, [`OpenError::NoRandomness`] when no id could be minted.
    pub(crate) fn open(
        &self,
        id: Option<SessionId>,
        facts: ClientFacts,
        now: Instant,
    ) -> Result<Arc<Session>, OpenError> {
        let id = match id {
            Some(id) => id,
            None => match &self.tag {
                Some(tag) => SessionId::random_tagged(tag),
                None => SessionId::random(),
            }
            .map_err(|_| OpenError::NoRandomness)?,
        };
        let mut map = self.map();
        if map.len() >= self.cap {
            return Err(OpenError::Full);
        }
        if map.contains_key(&id) {
            return Err(OpenError::Exists);
        }
        let session = Arc::new(Session::new(id.clone(), facts, now));
        map.insert(id, Arc::clone(&session));
        Ok(session)
    }

    /// Puts a session named `id` in the table, made by `make` unless one of
    /// that id is open already (then that one is returned): a session
    /// another replica opened, loaded from the shared store.
    ///
    /// # Errors
    ///
    /// [`OpenError::Full`] at the cap.
    pub(crate) fn adopt(
        &self,
        id: &SessionId,
        make: impl FnOnce() -> Session,
    ) -> Result<Arc<Session>, OpenError> {
        let mut map = self.map();
        if let Some(open) = map.get(id) {
            return Ok(Arc::clone(open));
        }
        if map.len() >= self.cap {
            return Err(OpenError::Full);
        }
        let session = Arc::new(make());
        map.insert(id.clone(), Arc::clone(&session));
        Ok(session)
    }

    /// The session named `id`; `None` when no such session is open (never
    /// was, or closed since).
    pub(crate) fn get(&self, id: &SessionId) -> Option<Arc<Session>> {
        self.map().get(id).cloned()
    }

    /// Open sessions.
    pub(crate) fn len(&self) -> usize {
        self.map().len()
    }

    /// Removes and closes the session named `id`; returns whether it existed.
    pub(crate) fn close(&self, id: &SessionId) -> bool {
        let removed = self.map().remove(id);
        removed.inspect(|s| s.close()).is_some()
    }

    /// Removes and closes every session (the transport is closing).
    pub(crate) fn close_all(&self) {
        let all: Vec<Arc<Session>> = self.map().drain().map(|(_, s)| s).collect();
        for session in all {
            session.close();
        }
    }

    /// Fails every session's pending server→client requests and refuses new
    /// ones ([`Session::fail_client_requests`]): the server is shutting down.
    pub(crate) fn fail_client_requests(&self) {
        let all: Vec<Arc<Session>> = self.map().values().cloned().collect();
        for session in all {
            session.fail_client_requests();
        }
    }

    /// The sessions that `pick` selects, for a broadcast.
    ///
    /// `pick` runs with the table locked: it may lock the session it is
    /// given (the lock order allows it), but must not touch the table.
    pub(crate) fn select(&self, pick: impl Fn(&Session) -> bool) -> Vec<Arc<Session>> {
        self.map().values().filter(|s| pick(s)).cloned().collect()
    }

    /// Removes and closes the sessions idle for `idle` or longer at `now`
    /// that no connection listens to; returns their ids.
    ///
    /// A session with a live listener (an open SSE response) is kept
    /// however long it was idle: its client is still there. A `now` earlier
    /// than a session's last activity counts as no idle time.
    pub(crate) fn expire(&self, now: Instant, idle: Duration) -> Vec<SessionId> {
        let expired: Vec<Arc<Session>> = {
            let mut map = self.map();
            let ids: Vec<SessionId> = map
                .iter()
                .filter(|(_, s)| {
                    let st = s.state();
                    now.saturating_duration_since(st.last_active) >= idle
                        && !st.streams.any_attached()
                        && st.writing == 0
                })
                .map(|(id, _)| id.clone())
                .collect();
            ids.iter().filter_map(|id| map.remove(id)).collect()
        };
        expired
            .into_iter()
            .map(|s| {
                s.close();
                s.id.clone()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::ClientCapabilities;

    fn facts() -> ClientFacts {
        ClientFacts::new(ProtocolVersion::LATEST, ClientCapabilities::default())
    }

    #[test]
    fn log_filter_follows_level() {
        let s = Session::new(SessionId::new("s"), facts(), crate::clock::now());
        assert!(s.logs(LogLevel::Debug));
        s.state().log_level = Some(LogLevel::Warning);
        assert!(!s.logs(LogLevel::Info));
        assert!(s.logs(LogLevel::Error));
    }

    #[test]
    fn admission_refuses_ids_in_flight_awaited_or_repeated() {
        let s = Session::new(SessionId::new("s"), facts(), crate::clock::now());
        let mut st = s.state();
        let (one, two, three) = (
            RequestId::number(1),
            RequestId::number(2),
            RequestId::from("3"),
        );
        assert_eq!(st.admit(&[one.clone(), two.clone()]), Ok(()));
        st.in_flight.insert(one.clone(), AbortHandle::new_pair().0);
        st.streams.open(std::slice::from_ref(&two));
        assert_eq!(st.admit(std::slice::from_ref(&one)), Err(one.clone()));
        assert_eq!(st.admit(&[three.clone(), two.clone()]), Err(two));
        assert_eq!(
            st.admit(&[three.clone(), three.clone()]),
            Err(three.clone())
        );
        assert_eq!(st.admit(&[three]), Ok(()));
    }

    #[test]
    fn the_table_caps_names_and_expires_sessions() {
        let table = SessionTable::new(2);
        let t0 = crate::clock::now();
        let a = table.open(Some(SessionId::new("a")), facts(), t0).unwrap();
        assert_eq!(
            table
                .open(Some(SessionId::new("a")), facts(), t0)
                .unwrap_err(),
            OpenError::Exists
        );
        let minted = table.open(None, facts(), t0).unwrap();
        assert_eq!(minted.id().as_str().len(), 32);
        assert_eq!(table.open(None, facts(), t0).unwrap_err(), OpenError::Full);
        minted.touch(t0 + Duration::from_secs(50));
        let expired = table.expire(t0 + Duration::from_secs(60), Duration::from_secs(30));
        assert_eq!(expired, vec![SessionId::new("a")]);
        assert!(a.is_closed() && !minted.is_closed());
        assert_eq!(table.len(), 1);
        assert!(table.close(minted.id()) && minted.is_closed());
        assert!(!table.close(minted.id()));
    }

    #[test]
    fn a_tagged_table_mints_tagged_ids() {
        let table = SessionTable::new(2).with_tag(Some("r2".into()));
        let minted = table.open(None, facts(), crate::clock::now()).unwrap();
        assert!(minted.id().as_str().starts_with("r2."), "{:?}", minted.id());
        let named = table.open(Some(SessionId::new("stdio")), facts(), crate::clock::now());
        assert_eq!(
            named.unwrap().id().as_str(),
            "stdio",
            "given names are kept"
        );
    }

    #[test]
    fn a_listened_to_session_does_not_expire() {
        let table = SessionTable::new(4);
        let t0 = crate::clock::now();
        let s = table.open(None, facts(), t0).unwrap();
        let _token = s.state().streams.standalone().attach();
        let later = t0 + Duration::from_secs(3600);
        assert!(table.expire(later, Duration::from_secs(1)).is_empty());
        s.state().streams.standalone().detach();
        assert_eq!(table.expire(later, Duration::from_secs(1)).len(), 1);
    }

    /// A response still being written (a slow client reading a long
    /// replay) keeps its session, and idle time counts from its end (found
    /// by the simulation: seeds 30 and 81).
    #[test]
    fn a_session_being_written_to_does_not_expire() {
        let table = SessionTable::new(4);
        let t0 = crate::clock::now();
        let idle = Duration::from_secs(60);
        let s = table.open(None, facts(), t0).unwrap();
        s.start_writing();
        assert!(table.expire(t0 + 2 * idle, idle).is_empty());
        s.stop_writing(t0 + 2 * idle);
        assert!(table.expire(t0 + 2 * idle + idle / 2, idle).is_empty());
        assert_eq!(table.expire(t0 + 3 * idle, idle).len(), 1);
    }

    #[test]
    fn closing_aborts_handlers_and_ends_listeners() {
        let s = Session::new(SessionId::new("s"), facts(), crate::clock::now());
        let (handle, _registration) = AbortHandle::new_pair();
        s.state()
            .in_flight
            .insert(RequestId::number(1), handle.clone());
        let n = s.state().streams.open(&[RequestId::number(1)]);
        s.state().streams.get_mut(n).unwrap().attach();
        s.close();
        assert!(handle.is_aborted());
        assert!(!s.state().streams.any_attached());
        assert!(s.is_closed());
    }
}
