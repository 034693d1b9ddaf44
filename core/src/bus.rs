//! What replicas share: the changes every client must hear of, whichever
//! replica it is connected to.
//!
//! A server alone tells its own clients of a change
//! ([`McpServer::notify_resource_updated`](crate::McpServer::notify_resource_updated),
//! `notify_tools_changed`, …) directly. Built with an [`EventBus`]
//! ([`McpServerBuilder::event_bus`](crate::McpServerBuilder::event_bus)),
//! it publishes the change on the bus instead, and every server subscribed
//! to the bus, itself included, tells its own sessions and
//! `subscriptions/listen` streams when the change comes back. So a change
//! made through replica B reaches a client connected to replica A.
//!
//! [`InProcessBus`] joins servers of one process (tests, or several
//! servers on one machine); the runtime adapters' `redis` feature has a
//! Redis pub/sub bus for replicas on several machines. Only changes travel:
//! sessions, streams and requests stay with the replica that holds them.

use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

/// A change that every client who asked must be told of.
///
/// Its JSON form (what a bus between processes carries) is
/// `{"type":"listChanged","family":"tools"}` or
/// `{"type":"resourceUpdated","uri":"…"}`.
///
/// # Examples
///
/// ```
/// use switchboard_core::{Change, ListFamily};
///
/// let change = Change::list_changed(ListFamily::Tools);
/// let wire = change.to_json();
/// assert_eq!(wire, r#"{"type":"listChanged","family":"tools"}"#);
/// assert_eq!(Change::from_json(&wire).unwrap(), change);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
#[non_exhaustive]
pub enum Change {
    /// A list changed (`notifications/{family}/list_changed`).
    ListChanged {
        /// Which list.
        family: ListFamily,
    },
    /// A resource changed (`notifications/resources/updated`), for the
    /// sessions subscribed to it and the listeners that asked.
    ResourceUpdated {
        /// The resource's URI.
        uri: String,
    },
}

impl Change {
    /// `Change::ListChanged { family }`, shorter.
    pub fn list_changed(family: ListFamily) -> Self {
        Self::ListChanged { family }
    }

    /// The JSON form.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a change serializes")
    }

    /// Reads the JSON form back.
    ///
    /// # Errors
    ///
    /// When `text` is not a change (another program on the bus's channel,
    /// a newer kind of change): a receiving bus skips it.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// The lists whose changes are announced.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ListFamily {
    /// `tools/list`.
    Tools,
    /// `prompts/list`.
    Prompts,
    /// `resources/list`.
    Resources,
}

impl ListFamily {
    /// The family's name in method names: `tools`, `prompts`, `resources`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tools => "tools",
            Self::Prompts => "prompts",
            Self::Resources => "resources",
        }
    }
}

/// Why a change could not be published.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BusError {
    /// The bus is unreachable (its server is down, say). The change was
    /// told to this server's own clients only.
    #[error("event bus unavailable: {0}")]
    Unavailable(String),
}

/// Carries [`Change`]s between the servers that share it.
///
/// Publishing reaches every subscriber, the publisher's own subscription
/// included; each server subscribes once, when it starts to
/// [`run`](crate::McpServer::run), and tells its own clients of what
/// arrives. Delivery is at most once: a change published while a replica
/// is cut off from the bus is not replayed to it (clients re-list on
/// reconnect anyway).
#[async_trait]
pub trait EventBus: Send + Sync + 'static {
    /// Publishes `change` to every subscriber.
    ///
    /// # Errors
    ///
    /// [`BusError::Unavailable`] when the bus cannot take it.
    async fn publish(&self, change: &Change) -> Result<(), BusError>;

    /// The changes published from now on, by anyone. The stream ends only
    /// when the bus does; a bus that loses its connection reconnects behind
    /// it.
    fn subscribe(&self) -> BoxStream<'static, Change>;
}

/// Changes queued per subscriber of an [`InProcessBus`] before the oldest
/// are dropped (a server that does not keep up loses changes, not memory).
const IN_PROCESS_QUEUE: usize = 1024;

/// An [`EventBus`] inside one process: clones share their subscribers.
///
/// # Examples
///
/// Two servers sharing a bus, as two replicas would:
///
/// ```
/// use std::sync::Arc;
/// use switchboard_core::{memory_pair, InProcessBus, McpServerBuilder};
///
/// let bus = Arc::new(InProcessBus::default());
/// let (a, _client_a) = memory_pair(16);
/// let (b, _client_b) = memory_pair(16);
/// let _replica_a = McpServerBuilder::new().event_bus(bus.clone()).build(a);
/// let _replica_b = McpServerBuilder::new().event_bus(bus).build(b);
/// ```
#[derive(Clone, Default)]
pub struct InProcessBus {
    subscribers: Arc<Mutex<Vec<async_channel::Sender<Change>>>>,
}

impl fmt::Debug for InProcessBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.subscribers.lock().map_or(0, |s| s.len());
        f.debug_struct("InProcessBus")
            .field("subscribers", &n)
            .finish()
    }
}

#[async_trait]
impl EventBus for InProcessBus {
    async fn publish(&self, change: &Change) -> Result<(), BusError> {
        let mut subscribers = self.subscribers.lock().unwrap_or_else(|e| e.into_inner());
        // Gone subscribers (their server stopped) leave the list here.
        subscribers.retain(|tx| tx.force_send(change.clone()).is_ok());
        Ok(())
    }

    fn subscribe(&self) -> BoxStream<'static, Change> {
        let (tx, rx) = async_channel::bounded(IN_PROCESS_QUEUE);
        self.subscribers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(tx);
        Box::pin(rx)
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    #[test]
    fn changes_have_a_stable_wire_form() {
        let updated = Change::ResourceUpdated {
            uri: "notes://1".into(),
        };
        assert_eq!(
            updated.to_json(),
            r#"{"type":"resourceUpdated","uri":"notes://1"}"#
        );
        assert_eq!(Change::from_json(&updated.to_json()).unwrap(), updated);
        assert!(Change::from_json(r#"{"type":"somethingNew"}"#).is_err());
        assert!(Change::from_json("not json").is_err());
    }

    #[test]
    fn every_subscriber_hears_every_change() {
        futures::executor::block_on(async {
            let bus = InProcessBus::default();
            let mut one = bus.subscribe();
            let mut two = bus.clone().subscribe();
            let change = Change::list_changed(ListFamily::Prompts);
            bus.publish(&change).await.unwrap();
            assert_eq!(one.next().await, Some(change.clone()));
            assert_eq!(two.next().await, Some(change));
            drop(one);
            bus.publish(&Change::list_changed(ListFamily::Tools))
                .await
                .unwrap();
            assert_eq!(format!("{bus:?}"), "InProcessBus { subscribers: 1 }");
        });
    }
}
