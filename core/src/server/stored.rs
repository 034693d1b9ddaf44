//! Sessions kept in a shared [`SessionStore`] as well as in the engine's
//! table, so that any replica serves any session.
//!
//! The table stays the first place a request looks. The store is asked
//! when the table misses (the session is loaded and *adopted*: made here
//! from its record, counted towards this server's cap), and when the copy
//! held here was last confirmed more than
//! [`ServerConfig::session_cache_for`](crate::ServerConfig::session_cache_for)
//! ago (default zero: every request). Each such load restarts the record's
//! time to live and refreshes the copy's log level and subscriptions; a
//! record gone from the store closes the copy here (404). `initialize`
//! creates the record before its answer goes out, `logging/setLevel` and
//! `resources/(un)subscribe` update it before theirs do, and `DELETE`
//! removes it before the copy here is closed.
//!
//! An adopted session counts as initialized (its client sent
//! `notifications/initialized` to the replica that opened it before
//! anything else, as the lifecycle asks). Its requests in flight,
//! server→client requests and live streams are this replica's; what other
//! replicas must know of them travels as letters (see [`super::relay`]).

use std::sync::Arc;

use crate::clock::Instant;

use super::dispatch::Engine;
use super::shared::Shared;
use crate::facts::{ClientCapabilities, ClientFacts};
use crate::id::SessionId;
use crate::observe::{self, CloseReason};
use crate::principal::Principal;
use crate::protocol::ProtocolVersion;
use crate::session::{OpenError, Session, SessionState, Stored};
use crate::session_store::record::Owner;
use crate::session_store::{SessionRecord, SessionStore, StoreError};

/// The record that `session` (with its locked `state`) is kept as.
fn record_of(session: &Session, state: &SessionState) -> SessionRecord {
    let facts = session.facts();
    SessionRecord {
        protocol_version: facts.version.as_str().to_owned(),
        capabilities: facts.capabilities.names(),
        client_info: state.stored.as_ref().and_then(|s| s.client_info.clone()),
        owner: facts.principal.as_ref().map(|p| Owner {
            issuer: p.issuer().map(str::to_owned),
            subject: p.subject().to_owned(),
        }),
        log_level: state.log_level,
        subscriptions: state.subscriptions.iter().cloned().collect(),
    }
}

/// Starts the numbers of `state`'s streams and server→client requests at
/// random points (see [`super::relay::first_number`]): the session's
/// copies on other replicas number theirs too, and an event id or a
/// request id must name one thing across all of them.
fn number_apart(state: &mut SessionState, fallback: u64) {
    if !cfg!(feature = "shared-sessions") {
        return;
    }
    state
        .streams
        .number_from(super::relay::first_number(fallback) + 1);
    let start = super::relay::first_number(fallback.rotate_left(32));
    state.next_request_id = state.next_request_id.max(i64::try_from(start).unwrap_or(0));
}

/// The facts a session of `record` is served under.
fn facts_of(record: &SessionRecord) -> Result<ClientFacts, StoreError> {
    let version: ProtocolVersion = record
        .protocol_version
        .parse()
        .map_err(|_| StoreError::Malformed(format!("revision {:?}", record.protocol_version)))?;
    let principal = record.owner.as_ref().map(|o| {
        let p = Principal::new(o.subject.clone());
        Arc::new(match &o.issuer {
            Some(issuer) => p.with_issuer(issuer.clone()),
            None => p,
        })
    });
    Ok(ClientFacts::new(
        version,
        ClientCapabilities::from_names(&record.capabilities),
    )
    .with_principal(principal))
}

/// Brings what the client changes (log level, subscriptions) in `state`
/// to `record`'s, confirmed at `now`.
pub(super) fn refresh(state: &mut SessionState, record: SessionRecord, now: Instant) {
    state.log_level = record.log_level;
    state.subscriptions = record.subscriptions.into_iter().collect();
    match &mut state.stored {
        Some(stored) => stored.checked = now,
        None => {
            state.stored = Some(Box::new(Stored {
                checked: now,
                client_info: record.client_info,
            }));
        }
    }
}

impl Shared {
    /// The store, when sessions are shared.
    fn store(&self) -> Option<&Arc<dyn SessionStore>> {
        self.session_store.as_ref()
    }

    /// Writes what the client changed in `session` (log level,
    /// subscriptions) to the store, when there is one; a session the store
    /// no longer has is closed here.
    ///
    /// # Errors
    ///
    /// The store could not take it (the change holds on this replica only).
    pub(crate) async fn save_session(&self, session: &Session) -> Result<(), StoreError> {
        let Some(store) = self.store() else {
            return Ok(());
        };
        let record = {
            let st = session.state();
            if st.stored.is_none() {
                // Not a stored session (stdio, memory): nothing to write.
                return Ok(());
            }
            record_of(session, &st)
        };
        if !store.update(session.id(), &record).await? {
            self.close_here(session.id(), CloseReason::Deleted);
            return Ok(());
        }
        // The copies on other replicas take it too (a GET stream there
        // filters by the level and the subscriptions).
        self.post(
            session.id(),
            crate::session_store::Content::Changed { record },
        );
        Ok(())
    }

    /// Closes this server's copy of session `id` (the store no longer has
    /// it, or it was deleted).
    pub(super) fn close_here(&self, id: &SessionId, reason: CloseReason) {
        if self.sessions.close(id) {
            observe::session_closed(id, reason);
            self.sessions_changed();
        }
    }
}

impl Engine {
    /// Creates the record of `session`, just opened by `initialize`
    /// ([`open_session`](super::lifecycle::open_session) marked it stored);
    /// closes the session here when the store refuses.
    pub(super) async fn store_new(
        self: Arc<Self>,
        session: Arc<Session>,
    ) -> Result<(), StoreError> {
        let Some(store) = self.store() else {
            return Ok(());
        };
        let record = {
            let mut st = session.state();
            if st.stored.is_none() {
                st.stored = Some(Box::new(Stored {
                    checked: crate::clock::now(),
                    client_info: None,
                }));
            }
            number_apart(&mut st, self.letter_from);
            record_of(&session, &st)
        };
        let created = store
            .create(session.id(), &record, self.config.session_ttl)
            .await;
        match created {
            Ok(true) => Ok(()),
            Ok(false) => {
                // 128 random bits met an open session's: never, in practice.
                self.close_here(session.id(), CloseReason::ByServer);
                Err(StoreError::Malformed("session id taken".into()))
            }
            Err(e) => {
                self.close_here(session.id(), CloseReason::ByServer);
                Err(e)
            }
        }
    }

    /// The session named `id` at `now`: the table's copy while confirmed
    /// lately, else the store's record, adopted or refreshed here.
    pub(super) async fn find_stored(
        self: Arc<Self>,
        id: SessionId,
        now: Instant,
    ) -> Result<Option<Arc<Session>>, StoreError> {
        let local = self.sessions.get(&id);
        let Some(store) = self.store() else {
            return Ok(local);
        };
        if let Some(session) = &local {
            let st = session.state();
            match &st.stored {
                // Opened without the store (stdio, memory): the table's alone.
                None => return Ok(local.clone()),
                Some(stored)
                    if now.saturating_duration_since(stored.checked)
                        < self.config.session_cache_for =>
                {
                    return Ok(local.clone());
                }
                Some(_) => {}
            }
        }
        let Some(record) = store.load(&id, self.config.session_ttl).await? else {
            self.close_here(&id, CloseReason::Deleted);
            return Ok(None);
        };
        if let Some(session) = local {
            refresh(&mut session.state(), record, now);
            return Ok(Some(session));
        }
        let facts = facts_of(&record)?;
        let adopted = self.sessions.adopt(&id, || {
            let session = Session::new(id.clone(), facts, now);
            {
                let mut st = session.state();
                st.initialized = true;
                number_apart(&mut st, self.letter_from);
                refresh(&mut st, record.clone(), now);
            }
            session
        });
        match adopted {
            Ok(session) => {
                self.sessions_changed();
                Ok(Some(session))
            }
            Err(OpenError::Full) => Err(StoreError::TooManySessions),
            Err(_) => Ok(None),
        }
    }

    /// Removes session `id` from the store, then closes it here.
    pub(super) async fn delete_stored(self: Arc<Self>, id: SessionId) -> Result<bool, StoreError> {
        let removed = match self.store() {
            Some(store) => store.remove(&id).await?,
            None => false,
        };
        // Copies elsewhere close now, not at their next request.
        self.post(&id, crate::session_store::Content::Closed);
        let closed = self.sessions.close(&id);
        if closed {
            observe::session_closed(&id, CloseReason::Deleted);
            self.sessions_changed();
        }
        Ok(removed || closed)
    }
}
