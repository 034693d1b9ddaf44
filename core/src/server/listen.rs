//! `subscriptions/listen`, the stateless revision's one long-lived request:
//! it replaces the session's GET stream and `resources/subscribe`. Its
//! response stays open and carries the notifications it asked for, each
//! tagged with its `subscriptionId`, until the client closes it or the
//! server ends it with a `complete` result.
//!
//! Listeners are registered here (the method itself is served in
//! `methods/subscriptions.rs`); [`Listeners::publish`] is called beside
//! every session broadcast, so a change made through either era reaches
//! both eras' listeners.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use serde::Deserialize;
use serde_json::{Value, json};

/// Notifications queued for one listener before more are dropped: a
/// listener that does not read loses notifications, never memory.
const QUEUE: usize = 64;

/// What a change concerns, to match against listeners' filters.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Topic<'a> {
    /// `notifications/{family}/list_changed`, family `tools`, `prompts` or
    /// `resources`.
    ListChanged(&'a str),
    /// `notifications/resources/updated` for this URI.
    Updated(&'a str),
    /// `notifications/tasks` for this task id.
    Task(&'a str),
}

/// What a listener asked for (and was granted: every kind is honoured).
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Filter {
    /// `toolsListChanged`.
    #[serde(default)]
    tools_list_changed: bool,
    /// `promptsListChanged`.
    #[serde(default)]
    prompts_list_changed: bool,
    /// `resourcesListChanged`.
    #[serde(default)]
    resources_list_changed: bool,
    /// `resourceSubscriptions`: the URIs whose updates it wants.
    #[serde(default)]
    pub(crate) resource_subscriptions: BTreeSet<String>,
    /// `taskIds`: the tasks whose changes it wants (only those the
    /// listener's own principal owns are kept).
    #[serde(default)]
    pub(crate) task_ids: BTreeSet<String>,
}

impl Filter {
    /// Whether a change of `topic` goes to this listener.
    fn wants(&self, topic: Topic<'_>) -> bool {
        match topic {
            Topic::ListChanged("tools") => self.tools_list_changed,
            Topic::ListChanged("prompts") => self.prompts_list_changed,
            Topic::ListChanged("resources") => self.resources_list_changed,
            Topic::ListChanged(_) => false,
            Topic::Updated(uri) => self.resource_subscriptions.contains(uri),
            Topic::Task(id) => self.task_ids.contains(id),
        }
    }

    /// The filter as the acknowledgement names it: only what was asked.
    pub(crate) fn honoured(&self) -> Value {
        let mut out = serde_json::Map::new();
        for (key, on) in [
            ("toolsListChanged", self.tools_list_changed),
            ("promptsListChanged", self.prompts_list_changed),
            ("resourcesListChanged", self.resources_list_changed),
        ] {
            if on {
                out.insert(key.into(), Value::Bool(true));
            }
        }
        if !self.task_ids.is_empty() {
            out.insert("taskIds".into(), json!(self.task_ids));
        }
        if !self.resource_subscriptions.is_empty() {
            out.insert(
                "resourceSubscriptions".into(),
                json!(self.resource_subscriptions),
            );
        }
        Value::Object(out)
    }
}

/// One registered listener.
struct Listener {
    /// Its key, for removal.
    key: u64,
    /// What it wants.
    filter: Filter,
    /// Where its notifications go: method and params.
    tx: async_channel::Sender<(String, Value)>,
}

/// The open listeners of a server.
#[derive(Default)]
pub(crate) struct Listeners {
    /// Registered listeners, and whether the server closed them for good.
    list: Mutex<(Vec<Listener>, bool)>,
    /// Counts keys.
    next: AtomicU64,
}

/// Why a listener was not registered.
pub(crate) enum Refused {
    /// The cap of listeners is reached.
    Full,
    /// The server is closing: no listener is taken any more.
    Closed,
}

/// Removes its listener when the listen request ends, however it ends.
pub(crate) struct Registered<'a> {
    /// The table.
    listeners: &'a Listeners,
    /// The listener's key.
    key: u64,
}

impl Drop for Registered<'_> {
    fn drop(&mut self) {
        self.listeners.list().0.retain(|l| l.key != self.key);
    }
}

impl Listeners {
    /// Locks the list (poison taken: each update is one push or removal).
    fn list(&self) -> MutexGuard<'_, (Vec<Listener>, bool)> {
        self.list.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a listener unless `cap` are open or the server closed.
    pub(crate) fn add(
        &self,
        filter: Filter,
        cap: usize,
    ) -> Result<(async_channel::Receiver<(String, Value)>, Registered<'_>), Refused> {
        let (tx, rx) = async_channel::bounded(QUEUE);
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        let mut guard = self.list();
        let (list, closed) = &mut *guard;
        if *closed {
            return Err(Refused::Closed);
        }
        if list.len() >= cap {
            return Err(Refused::Full);
        }
        list.push(Listener { key, filter, tx });
        Ok((
            rx,
            Registered {
                listeners: self,
                key,
            },
        ))
    }

    /// Whether any listener wants `topic`: a change nobody listens for
    /// need not even be written out.
    pub(crate) fn wanted(&self, topic: Topic<'_>) -> bool {
        self.list().0.iter().any(|l| l.filter.wants(topic))
    }

    /// Hands notification `method` with `params` to every listener that
    /// wants `topic`. Never waits: a listener whose queue is full misses it.
    pub(crate) fn publish(&self, topic: Topic<'_>, method: &str, params: &Value) {
        for listener in self.list().0.iter().filter(|l| l.filter.wants(topic)) {
            // A full queue drops the change for that listener only.
            let _ = listener.tx.try_send((method.to_owned(), params.clone()));
        }
    }

    /// Ends every listener's stream: each listen request answers with its
    /// `complete` result (the server is closing). A listen that arrives
    /// later is answered `complete` at once.
    pub(crate) fn close_all(&self) {
        let mut guard = self.list();
        guard.1 = true;
        for listener in guard.0.iter() {
            listener.tx.close();
        }
    }

    /// Open listeners.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.list().0.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_pick_their_topics_and_name_what_they_honour() {
        let f: Filter = serde_json::from_value(json!({"promptsListChanged": true,
            "resourceSubscriptions": ["a://x"], "unknownKind": true}))
        .unwrap();
        assert!(f.wants(Topic::ListChanged("prompts")));
        assert!(!f.wants(Topic::ListChanged("tools")));
        assert!(f.wants(Topic::Updated("a://x")) && !f.wants(Topic::Updated("a://y")));
        assert_eq!(
            f.honoured(),
            json!({"promptsListChanged": true, "resourceSubscriptions": ["a://x"]})
        );
    }

    #[test]
    fn listeners_are_capped_removed_and_closed() {
        let listeners = Listeners::default();
        let Ok((rx, registered)) = listeners.add(Filter::default(), 1) else {
            panic!("room for one")
        };
        assert!(matches!(
            listeners.add(Filter::default(), 1),
            Err(Refused::Full)
        ));
        drop(registered);
        assert_eq!(listeners.len(), 0);
        assert!(rx.is_closed() || rx.sender_count() == 0);
        let wants_tools = Filter {
            tools_list_changed: true,
            ..Filter::default()
        };
        let Ok((rx, _kept)) = listeners.add(wants_tools, 1) else {
            panic!("room again")
        };
        listeners.publish(Topic::ListChanged("prompts"), "p", &json!({}));
        listeners.publish(Topic::ListChanged("tools"), "t", &json!({}));
        assert_eq!(rx.try_recv().unwrap().0, "t");
        assert!(rx.try_recv().is_err());
        listeners.close_all();
        assert!(rx.is_closed());
        assert!(matches!(
            listeners.add(Filter::default(), 9),
            Err(Refused::Closed)
        ));
    }
}
