//! The `tasks/result` requests waiting for their task to change: one
//! waker list per task, woken by every change and by the purge.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll};

use futures::channel::oneshot;

use super::task::TaskId;

/// The requests waiting for tasks to change (`tasks/result`), by task;
/// woken by every change of the task and by its purge.
#[derive(Default)]
pub(crate) struct Watchers(Mutex<HashMap<TaskId, Vec<oneshot::Sender<()>>>>);

impl Watchers {
    /// Locks the table (poison taken: one insert or removal each).
    fn table(&self) -> MutexGuard<'_, HashMap<TaskId, Vec<oneshot::Sender<()>>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A signal that fires at the next change of task `id`. Dropping it
    /// takes it out of the table (and the task's entry with its last
    /// waiter), so the table holds at most the requests in flight, whatever
    /// ids clients ask about.
    pub(crate) fn watch(&self, id: &TaskId) -> Watch<'_> {
        let (tx, rx) = oneshot::channel();
        self.table().entry(id.clone()).or_default().push(tx);
        Watch {
            rx,
            id: id.clone(),
            watchers: self,
        }
    }

    /// How many tasks have waiters (for tests).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.table().len()
    }

    /// Wakes every waiter of task `id`.
    pub(crate) fn wake(&self, id: &TaskId) {
        let woken = self.table().remove(id);
        for tx in woken.into_iter().flatten() {
            let _ = tx.send(());
        }
    }
}

/// One waiter of [`Watchers::watch`]: completes at the task's next change.
pub(crate) struct Watch<'a> {
    rx: oneshot::Receiver<()>,
    id: TaskId,
    watchers: &'a Watchers,
}

impl Future for Watch<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.rx).poll(cx).map(|_| ())
    }
}

impl Drop for Watch<'_> {
    fn drop(&mut self) {
        // Closed first, so this waiter's sender reads as cancelled below.
        self.rx.close();
        let mut table = self.watchers.table();
        if let Some(waiting) = table.get_mut(&self.id) {
            waiting.retain(|w| !w.is_canceled());
            if waiting.is_empty() {
                table.remove(&self.id);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watcher_leaves_the_table_when_dropped() {
        let watchers = Watchers::default();
        // Ids no task has (a client may ask about any): nothing stays.
        for n in 0..100 {
            drop(watchers.watch(&TaskId::new(&format!("no-such-task-{n}"))));
        }
        assert_eq!(watchers.len(), 0);

        let id = TaskId::new("t");
        let first = watchers.watch(&id);
        let second = watchers.watch(&id);
        drop(first);
        assert_eq!(watchers.len(), 1, "the other waiter keeps the entry");
        watchers.wake(&id);
        futures::executor::block_on(second);
        assert_eq!(watchers.len(), 0);
    }
}
