//! The state one server's handle, serve loop, transports and contexts share:
//! what it offers (the registry), its sessions, its limits, and its outlet.
//!
//! Locks here are held for a look-up or an update, never across an
//! `.await`: a handler runs with no lock of the server's held, and a
//! broadcast collects its targets before it sends.

use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::Value;

use super::carriers::Carriers;
use super::config::ServerConfig;
use super::listen::{Listeners, Topic};
use super::registry::Registry;
use crate::context::Outlet;
use crate::jsonrpc::{Message, Notification};
use crate::observe::SessionsGauge;
use crate::protocol::Implementation;
use crate::session::{Session, SessionTable};
use crate::stateless::RequestStateKeys;
use crate::streams::STANDALONE;
use crate::transport::{Outbound, Route, TransportError};

/// Everything one server holds. Made once by
/// [`McpServerBuilder::build`](crate::McpServerBuilder::build); only the
/// registry and the session table change afterwards.
pub(crate) struct Shared {
    /// The `serverInfo` of every `initialize` result.
    pub(crate) info: Implementation,
    /// The `instructions` of every `initialize` result, when set.
    pub(crate) instructions: Option<String>,
    /// The limits, fixed at build.
    pub(crate) config: ServerConfig,
    /// What the server offers; read per request, written by `add_*` and
    /// `remove_*`. Use [`registry`](Self::registry) and
    /// [`registry_mut`](Self::registry_mut) rather than the lock itself.
    pub(crate) registry: RwLock<Registry>,
    /// The one session table, over every transport of the server, capped at
    /// `config.max_sessions`.
    pub(crate) sessions: SessionTable,
    /// Where messages go out (the transport), the runtime and the request
    /// timeout; shared with every request's context.
    pub(crate) outlet: Arc<Outlet>,
    /// The carriers of stateless requests in flight.
    pub(crate) carriers: Carriers,
    /// The open `subscriptions/listen` streams (shared with the tasks,
    /// whose changes they carry).
    pub(crate) listeners: Arc<Listeners>,
    /// The tasks: their store and the ones running here.
    pub(crate) tasks: Arc<super::tasks::TaskHub>,
    /// The keyring sealing `requestState`: the config's, or a random key
    /// drawn at build; `None` only when the system had no randomness (multi
    /// round-trip requests then fail with `-32603`).
    pub(crate) state_keys: Option<RequestStateKeys>,
    /// Set when the transport refused to attach (it serves another server);
    /// `run` then fails at once with it.
    pub(crate) attach_error: OnceLock<TransportError>,
    /// This server's share of the sessions-open gauge (nothing without the
    /// `metrics` feature); see [`sessions_changed`](Self::sessions_changed).
    pub(crate) sessions_gauge: SessionsGauge,
    /// Where changes are published for every replica, when there is a bus.
    pub(crate) bus: Option<Arc<dyn crate::bus::EventBus>>,
    /// Where session-era sessions are shared with other replicas, when
    /// they are (see [`super::stored`]).
    pub(crate) session_store: Option<Arc<dyn crate::session_store::SessionStore>>,
    /// Names this server in the letters it posts to replicas sharing its
    /// sessions (see [`super::relay`]), so it skips its own: drawn at
    /// build.
    pub(crate) letter_from: u64,
}

impl Shared {
    /// Locks the registry for reading. A poisoned lock is taken anyway: no
    /// handler runs under it, and each write is one insertion, replacement or
    /// removal that leaves the lists consistent. Hold the guard for a look-up
    /// only, never across an `.await`.
    pub(crate) fn registry(&self) -> RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Locks the registry for writing, taking a poisoned lock anyway (see
    /// [`registry`](Self::registry)). Waits for requests that are looking a
    /// handler up, never for running handlers.
    pub(crate) fn registry_mut(&self) -> RwLockWriteGuard<'_, Registry> {
        self.registry.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings the sessions-open gauge to the table's size; called after
    /// every change to the table (open, close, expiry, close of all).
    #[inline]
    pub(crate) fn sessions_changed(&self) {
        self.sessions_gauge.sync(|| self.sessions.len());
    }

    /// Tells every replica of `change`: through the bus when there is one
    /// (this server hears it back, and tells its clients then), otherwise
    /// this server's clients at once. A bus that cannot take the change
    /// leaves it to this server's clients.
    pub(crate) async fn announce(&self, change: crate::bus::Change) {
        if let Some(bus) = &self.bus {
            if bus.publish(&change).await.is_ok() {
                return;
            }
        }
        self.deliver(&change).await;
    }

    /// Tells this server's own clients of `change`: the sessions subscribed
    /// to the resource (or every initialized one, for a list change) and
    /// the stateless listeners that asked. A list change on a server that
    /// does not declare `listChanged` is told to nobody.
    pub(crate) async fn deliver(&self, change: &crate::bus::Change) {
        use crate::bus::Change;
        match change {
            Change::ResourceUpdated { uri } => {
                self.broadcast(
                    Topic::Updated(uri),
                    "notifications/resources/updated",
                    serde_json::json!({ "uri": uri }),
                    |s| s.state().subscriptions.contains(uri.as_str()),
                )
                .await;
            }
            Change::ListChanged { family } => {
                // Unless declared, the client was promised no such notification.
                if !self.config.list_changed {
                    return;
                }
                let family = family.as_str();
                let method = format!("notifications/{family}/list_changed");
                self.broadcast(
                    Topic::ListChanged(family),
                    &method,
                    serde_json::json!({}),
                    |_| true,
                )
                .await;
            }
        }
    }

    /// Sends a notification tied to no request ([`Route::Unrelated`]) to every
    /// initialized session that `pick` selects, and to every stateless
    /// listener that wants `topic`. `pick` runs under the session
    /// table's lock, so it must not lock the table itself (locking the
    /// session's state is fine). Sessions are sent to one after another; a
    /// failed send is skipped, so one gone client does not keep the others
    /// from being told.
    ///
    /// Cancel safety: dropping the future part-way leaves the later sessions
    /// untold.
    pub(crate) async fn broadcast(
        &self,
        topic: Topic<'_>,
        method: &str,
        params: Value,
        pick: impl Fn(&Session) -> bool,
    ) {
        // Stateless listeners first: handing them the change never waits.
        self.listeners.publish(topic, method, &params);
        // Every replica on the bus hears the change: a session shared with
        // them is told only by the one whose GET stream has a listener
        // (otherwise each would pass it on, and the client hear it once
        // per replica). A client reconnecting its GET stream at that moment
        // misses it.
        let on_bus = self.bus.is_some() && self.session_store.is_some();
        let targets = self.sessions.select(|s| {
            let told_here = {
                let mut st = s.state();
                let shared_elsewhere = on_bus && st.stored.is_some();
                st.initialized
                    && (!shared_elsewhere
                        || st.streams.get_mut(STANDALONE).is_some_and(|g| g.attached()))
            };
            // `pick` locks the state itself.
            told_here && pick(s)
        });
        let bytes = Message::Notification(Notification {
            method: method.to_owned(),
            params: Some(params.into()),
        })
        .to_bytes();
        for session in targets {
            let outbound = Outbound {
                session: session.id().clone(),
                route: Route::Unrelated,
                bytes: bytes.clone(),
            };
            // A session whose client is gone cannot be told; the others still are.
            let _ = self.outlet.transport.send(outbound).await;
        }
    }
}
