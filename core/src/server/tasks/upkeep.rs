//! Keeping a hub's tasks current: the signals other replicas send this
//! one (answers, cancels), and the sweeper that purges expired tasks and
//! drops the handlers of tasks that vanished from the store.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use futures::StreamExt;

use super::{TaskHub, store_error};
use crate::clock::now;
use crate::runtime::Runtime;
use crate::server::error::MethodError;
use crate::tasks::{TaskLink, TaskSignal, wall_ms};

impl TaskHub {
    /// Starts, once, receiving the signals other replicas send this one
    /// (a store of one process sends none), before this replica runs its
    /// first task, so no signal for it can be missed.
    pub(super) async fn listen(
        self: &Arc<Self>,
        runtime: &Arc<dyn Runtime>,
    ) -> Result<(), MethodError> {
        let mut listening = self.listening.lock().await;
        if *listening {
            return Ok(());
        }
        if let Some(mut signals) = self.store.listen().await.map_err(store_error)? {
            let hub = Arc::downgrade(self);
            runtime.spawn(Box::pin(async move {
                while let Some(signal) = signals.next().await {
                    let Some(hub) = hub.upgrade() else { return };
                    hub.on_signal(signal).await;
                }
            }));
        }
        *listening = true;
        Ok(())
    }

    /// Acts on a signal from another replica: wakes the handler with its
    /// answers, or drops it. A task not running here is none of its
    /// business (it ended meanwhile).
    pub(super) async fn on_signal(&self, signal: TaskSignal) {
        match signal {
            TaskSignal::Answer {
                id,
                owner,
                responses,
            } => {
                if let Some(link) = self.link(&id, &owner) {
                    link.answer(responses).await;
                }
            }
            TaskSignal::Cancel { id, owner } => {
                if let Some(link) = self.link(&id, &owner) {
                    link.cancel();
                }
            }
        }
    }

    /// Forgets the expired tasks and drops their handlers.
    pub(super) async fn purge(&self, now_ms: u64) {
        for id in self.store.purge(now_ms).await {
            let link = self.running().remove(&id);
            if let Some(link) = link {
                link.cancel();
            }
            // A `tasks/result` waiting for it reads that it is gone.
            self.watchers.wake(&id);
        }
    }

    /// Drops the handlers running here whose task the store no longer
    /// has (expired, and purged by another replica sharing the store); a
    /// store that cannot answer drops none.
    pub(super) async fn drop_vanished(&self, now_ms: u64) {
        let running: Vec<Arc<TaskLink>> = self.running().values().cloned().collect();
        for link in running {
            if let Ok(None) = self.store.get(&link.id, &link.owner, now_ms).await {
                self.running().remove(&link.id);
                link.cancel();
                self.watchers.wake(&link.id);
            }
        }
    }

    /// Starts, once, the sweeper that purges expired tasks on `runtime`
    /// (every minute, or every time to live when shorter: the default one
    /// and the shortest granted so far, but not more often than every
    /// second), so an idle server's tasks leave too, and an expired task's
    /// handler stops soon after; it ends with the server.
    pub(super) fn sweep(self: &Arc<Self>, runtime: &Arc<dyn Runtime>) {
        if self.sweeping.swap(true, Ordering::AcqRel) {
            return;
        }
        let hub = Arc::downgrade(self);
        let timer = Arc::clone(runtime);
        runtime.spawn(Box::pin(async move {
            loop {
                let Some(every) = hub.upgrade().map(|hub| hub.sweep_pace()) else {
                    return;
                };
                timer.sleep(every).await;
                let Some(hub) = hub.upgrade() else { return };
                let at = wall_ms(now());
                hub.purge(at).await;
                hub.drop_vanished(at).await;
            }
        }));
    }

    /// How long the sweeper sleeps between two sweeps.
    pub(super) fn sweep_pace(&self) -> Duration {
        let shortest = self.shortest_ttl_ms.load(Ordering::Relaxed);
        Duration::from_millis(self.config.ttl_ms().min(shortest).clamp(1_000, 60_000))
    }
}
