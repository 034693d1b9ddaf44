//! The state one server's handle, serve loop, transports and contexts share:
//! what it offers (the registry), its sessions, its limits, and its outlet.

use std::sync::{Arc, OnceLock, RwLock, RwLockReadGuard, RwLockWriteGuard};

use serde_json::Value;

use super::config::ServerConfig;
use super::registry::Registry;
use crate::context::Outlet;
use crate::jsonrpc::{Message, Notification};
use crate::protocol::Implementation;
use crate::session::{Session, SessionTable};
use crate::transport::{Outbound, Route, TransportError};

/// Everything one server holds.
pub(crate) struct Shared {
    pub(crate) info: Implementation,
    pub(crate) instructions: Option<String>,
    pub(crate) config: ServerConfig,
    pub(crate) registry: RwLock<Registry>,
    /// The one session table.
    pub(crate) sessions: SessionTable,
    pub(crate) outlet: Arc<Outlet>,
    /// Set when the transport refused to attach (it serves another server).
    pub(crate) attach_error: OnceLock<TransportError>,
}

impl Shared {
    pub(crate) fn registry(&self) -> RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn registry_mut(&self) -> RwLockWriteGuard<'_, Registry> {
        self.registry.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends a notification tied to no request to every initialized session
    /// that `pick` selects.
    pub(crate) async fn broadcast(
        &self,
        method: &str,
        params: Value,
        pick: impl Fn(&Session) -> bool,
    ) {
        let targets = self.sessions.select(|s| s.state().initialized && pick(s));
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
