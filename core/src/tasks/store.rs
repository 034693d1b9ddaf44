//! Where tasks are kept: the [`TaskStore`] trait, which every replica
//! reads and changes tasks through, and [`MemoryTaskStore`], the default.
//!
//! A store holds records only; the handler that runs a task lives in the
//! process that started it. So a store must make a created task readable
//! at once (durable create: the `CreateTaskResult` goes out after
//! [`TaskStore::create`] returns), apply changes with
//! [`apply`](super::apply) atomically per task, and forget expired tasks.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::lifecycle::{Change, apply};
use super::task::{Owner, Task, TaskId};

/// The caps a store checks when a task is created.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskCaps {
    /// Tasks one owner may hold.
    pub per_owner: usize,
    /// Tasks held in all.
    pub total: usize,
}

/// Why a store refused or failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// The owner holds its maximum of tasks.
    #[error("too many tasks: at most {0} per client")]
    OwnerFull(usize),
    /// The server holds its maximum of tasks.
    #[error("too many tasks: at most {0} in all")]
    Full(usize),
    /// A task of that id exists already (ids are random: a bug, or a
    /// broken random source).
    #[error("a task with this id exists")]
    Duplicate,
}

/// Where tasks are kept, for every replica to read.
///
/// Contract: [`create`](Self::create) returns once the task is readable
/// through [`get`](Self::get) (from any replica sharing the store); a
/// task is only ever returned to, and changed by, its own [`Owner`]; an
/// expired task ([`Task::expired`]) is never returned.
#[async_trait]
pub trait TaskStore: fmt::Debug + Send + Sync + 'static {
    /// Keeps `task`, unless `caps` are reached; tasks expired at `now_ms`
    /// are purged first, so the caps count live tasks only.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when a cap is reached (nothing is kept).
    async fn create(&self, task: Task, caps: TaskCaps, now_ms: u64) -> Result<(), StoreError>;

    /// The task `id` if `owner` owns it and it has not expired at `now_ms`.
    async fn get(&self, id: &TaskId, owner: &Owner, now_ms: u64) -> Option<Task>;

    /// Applies `change` to task `id` of `owner`; returns the task after
    /// it, with whether it changed, or `None` when there is no such task.
    async fn change(
        &self,
        id: &TaskId,
        owner: &Owner,
        change: Change,
        now_ms: u64,
    ) -> Option<(Task, bool)>;

    /// Forgets every task expired at `now_ms`; returns their ids.
    async fn purge(&self, now_ms: u64) -> Vec<TaskId>;

    /// One page of `owner`'s tasks not expired at `now_ms`, oldest first
    /// (by creation time, then id): at most `limit` of those that sort
    /// after `after`, and whether more follow. For the 2025-11-25
    /// `tasks/list`; `None` (the default) when the store cannot list, and
    /// the server then answers `tasks/list` with `-32603`.
    async fn list(
        &self,
        owner: &Owner,
        after: Option<(u64, TaskId)>,
        limit: usize,
        now_ms: u64,
    ) -> Option<(Vec<Task>, bool)> {
        let _ = (owner, after, limit, now_ms);
        None
    }
}

/// The tasks of this process, in memory: a map by id and a count per
/// owner, both back to empty when every task has expired.
#[derive(Default)]
pub struct MemoryTaskStore {
    /// Records and counts.
    inner: Mutex<Tables>,
}

/// The tables behind the lock.
#[derive(Default)]
struct Tables {
    /// Tasks by id.
    tasks: HashMap<TaskId, Task>,
    /// Tasks per owner (owners with none are removed).
    owners: HashMap<Owner, usize>,
    /// The earliest expiry of any task, so purges that would find
    /// nothing cost nothing.
    next_expiry: Option<u64>,
}

impl fmt::Debug for MemoryTaskStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTaskStore")
            .field("tasks", &self.len())
            .finish()
    }
}

impl MemoryTaskStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Locks the tables (poison taken: each update leaves them whole).
    fn tables(&self) -> MutexGuard<'_, Tables> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tasks held.
    pub fn len(&self) -> usize {
        self.tables().tasks.len()
    }

    /// Whether no task is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Owners with at least one task.
    pub fn owners(&self) -> usize {
        self.tables().owners.len()
    }

    /// About how many bytes the tasks hold (their records).
    pub fn approx_bytes(&self) -> usize {
        self.tables().tasks.values().map(Task::approx_bytes).sum()
    }

    /// [`TaskStore::purge`], synchronously.
    pub fn purge_now(&self, now_ms: u64) -> Vec<TaskId> {
        self.tables().purge(now_ms)
    }
}

impl Tables {
    /// Forgets the tasks expired at `now_ms`.
    fn purge(&mut self, now_ms: u64) -> Vec<TaskId> {
        if self.next_expiry.is_none_or(|at| now_ms < at) {
            return Vec::new();
        }
        let expired: Vec<TaskId> = self
            .tasks
            .values()
            .filter(|t| t.expired(now_ms))
            .map(|t| t.id.clone())
            .collect();
        for id in &expired {
            if let Some(task) = self.tasks.remove(id) {
                self.forget_owner(&task.owner);
            }
        }
        self.next_expiry = self.tasks.values().filter_map(Task::expires_ms).min();
        if self.tasks.is_empty() {
            // Back to the baseline: no capacity kept from a burst.
            self.tasks = HashMap::new();
            self.owners = HashMap::new();
        }
        expired
    }

    /// Counts one task less for `owner`.
    fn forget_owner(&mut self, owner: &Owner) {
        if let Some(n) = self.owners.get_mut(owner) {
            *n -= 1;
            if *n == 0 {
                self.owners.remove(owner);
            }
        }
    }
}

#[async_trait]
impl TaskStore for MemoryTaskStore {
    async fn create(&self, task: Task, caps: TaskCaps, now_ms: u64) -> Result<(), StoreError> {
        let mut t = self.tables();
        t.purge(now_ms);
        if t.tasks.contains_key(&task.id) {
            return Err(StoreError::Duplicate);
        }
        if t.tasks.len() >= caps.total {
            return Err(StoreError::Full(caps.total));
        }
        let held = t.owners.get(&task.owner).copied().unwrap_or(0);
        if held >= caps.per_owner {
            return Err(StoreError::OwnerFull(caps.per_owner));
        }
        if let Some(at) = task.expires_ms() {
            t.next_expiry = Some(t.next_expiry.map_or(at, |n| n.min(at)));
        }
        *t.owners.entry(task.owner.clone()).or_insert(0) += 1;
        t.tasks.insert(task.id.clone(), task);
        Ok(())
    }

    async fn get(&self, id: &TaskId, owner: &Owner, now_ms: u64) -> Option<Task> {
        let t = self.tables();
        t.tasks
            .get(id)
            .filter(|task| &task.owner == owner && !task.expired(now_ms))
            .cloned()
    }

    async fn change(
        &self,
        id: &TaskId,
        owner: &Owner,
        change: Change,
        now_ms: u64,
    ) -> Option<(Task, bool)> {
        let mut t = self.tables();
        let task = t
            .tasks
            .get_mut(id)
            .filter(|task| &task.owner == owner && !task.expired(now_ms))?;
        let changed = apply(task, change, now_ms);
        Some((task.clone(), changed))
    }

    async fn purge(&self, now_ms: u64) -> Vec<TaskId> {
        self.purge_now(now_ms)
    }

    async fn list(
        &self,
        owner: &Owner,
        after: Option<(u64, TaskId)>,
        limit: usize,
        now_ms: u64,
    ) -> Option<(Vec<Task>, bool)> {
        let t = self.tables();
        // Only the page is cloned: a task may hold a large result.
        let mut mine: Vec<&Task> = t
            .tasks
            .values()
            .filter(|task| &task.owner == owner && !task.expired(now_ms))
            .filter(|task| {
                after
                    .as_ref()
                    .is_none_or(|(at, id)| (task.created_ms, &task.id) > (*at, id))
            })
            .collect();
        mine.sort_unstable_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        let more = mine.len() > limit;
        Some((mine.into_iter().take(limit).cloned().collect(), more))
    }
}

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;
    use crate::tasks::task::TaskStatus;

    const CAPS: TaskCaps = TaskCaps {
        per_owner: 3,
        total: 5,
    };

    fn task(id: &str, owner: &Owner, now: u64) -> Task {
        Task::new(TaskId::new(id), owner.clone(), now, Some(1_000), None)
    }

    #[test]
    fn tasks_past_the_caps_are_refused() {
        let store = MemoryTaskStore::new();
        let alice = Owner::new_for_tests("alice");
        let bob = Owner::new_for_tests("bob");
        block_on(async {
            for i in 0..3 {
                store
                    .create(task(&format!("a{i}"), &alice, 0), CAPS, 0)
                    .await
                    .unwrap();
            }
            let over = store.create(task("a3", &alice, 0), CAPS, 0).await;
            assert_eq!(over, Err(StoreError::OwnerFull(3)));
            store.create(task("b0", &bob, 0), CAPS, 0).await.unwrap();
            store.create(task("b1", &bob, 0), CAPS, 0).await.unwrap();
            let full = store.create(task("b2", &bob, 0), CAPS, 0).await;
            assert_eq!(full, Err(StoreError::Full(5)));
            assert_eq!(store.len(), 5, "nothing kept past the caps");
            // Once the first ones expire, there is room again.
            store
                .create(task("b2", &bob, 1_000), CAPS, 1_000)
                .await
                .unwrap();
            assert_eq!(store.len(), 1);
        });
    }

    #[test]
    fn another_owner_sees_nothing() {
        let store = MemoryTaskStore::new();
        let alice = Owner::new_for_tests("alice");
        let bob = Owner::new_for_tests("bob");
        block_on(async {
            store.create(task("t", &alice, 0), CAPS, 0).await.unwrap();
            let id = TaskId::new("t");
            assert!(store.get(&id, &alice, 1).await.is_some());
            assert!(store.get(&id, &bob, 1).await.is_none());
            assert!(store.change(&id, &bob, Change::Cancel, 1).await.is_none());
            let (t, changed) = store.change(&id, &alice, Change::Cancel, 1).await.unwrap();
            assert!(changed);
            assert_eq!(t.status, TaskStatus::Cancelled);
        });
    }

    #[test]
    fn an_owner_lists_its_own_live_tasks_a_page_at_a_time() {
        let store = MemoryTaskStore::new();
        let alice = Owner::new_for_tests("alice");
        let bob = Owner::new_for_tests("bob");
        block_on(async {
            for i in 0..3u64 {
                let id = format!("a{i}");
                store.create(task(&id, &alice, i), CAPS, i).await.unwrap();
            }
            store.create(task("b", &bob, 0), CAPS, 0).await.unwrap();
            let (page, more) = store.list(&alice, None, 2, 10).await.unwrap();
            let ids: Vec<&str> = page.iter().map(|t| t.id.as_str()).collect();
            assert_eq!((ids, more), (vec!["a0", "a1"], true));
            let last = page.last().map(|t| (t.created_ms, t.id.clone()));
            let (page, more) = store.list(&alice, last, 10, 10).await.unwrap();
            let ids: Vec<&str> = page.iter().map(|t| t.id.as_str()).collect();
            assert_eq!((ids, more), (vec!["a2"], false));
            // Expired tasks are not listed.
            let (page, _) = store.list(&alice, None, 10, 1_001).await.unwrap();
            assert_eq!(page.len(), 1);
        });
    }

    #[test]
    fn expired_tasks_are_purged_and_the_tables_return_to_baseline() {
        let store = MemoryTaskStore::new();
        let caps = TaskCaps {
            per_owner: 10_000,
            total: 10_000,
        };
        block_on(async {
            for i in 0..5_000u64 {
                let owner = Owner::new_for_tests(&format!("o{}", i % 50));
                let mut t = task(&format!("t{i}"), &owner, i);
                t.ttl_ms = Some(10_000);
                t.outcome = Some(crate::tasks::TaskOutcome::Result(
                    serde_json::json!({"content": [{"type": "text", "text": "x".repeat(100)}]}),
                ));
                store.create(t, caps, i).await.unwrap();
            }
            assert_eq!((store.len(), store.owners()), (5_000, 50));
            assert!(store.approx_bytes() > 5_000 * 100);
            // Readable until their time to live ends, gone after.
            let first = TaskId::new("t0");
            let o0 = Owner::new_for_tests("o0");
            assert!(store.get(&first, &o0, 9_999).await.is_some());
            assert!(store.get(&first, &o0, 10_000).await.is_none());
            // Half way: the first half expired.
            let gone = store.purge(12_500).await;
            assert_eq!(gone.len(), 2_501);
            assert_eq!(store.len(), 2_499);
            // Past every expiry: nothing left, not even an owner's count.
            store.purge(16_000).await;
            assert_eq!(
                (store.len(), store.owners(), store.approx_bytes()),
                (0, 0, 0)
            );
            let t = store.tables();
            assert_eq!((t.tasks.capacity(), t.owners.capacity()), (0, 0));
            assert_eq!(t.next_expiry, None);
        });
    }
}
