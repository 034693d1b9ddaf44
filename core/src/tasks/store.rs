//! Where tasks are kept: the [`TaskStore`] trait, which every replica
//! reads and changes tasks through, and [`MemoryTaskStore`], the default.
//!
//! A store holds records only; the handler that runs a task lives in the
//! process that started it (its *runner*, [`Task::runner`]). So a store
//! must make a created task readable at once (durable create: the
//! `CreateTaskResult` goes out after [`TaskStore::create`] returns), apply
//! changes with [`apply`](super::apply) atomically per task, and forget
//! expired tasks. A store shared by several replicas also carries
//! [`TaskSignal`]s (answers, cancels) to the replica running a task
//! ([`TaskStore::listen`], [`TaskStore::signal`]) and fails the tasks of a
//! replica that stopped; [`MemoryTaskStore`] has one process and needs
//! neither.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde_json::{Map, Value};

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
    /// The store could not be reached or did not answer in time (a shared
    /// store's server is down); nothing is known of the task.
    #[error("the task store is unavailable: {0}")]
    Unavailable(String),
}

/// A message for the replica running a task, sent by another replica
/// through the store ([`TaskStore::signal`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum TaskSignal {
    /// `tasks/update` answers, by key, for the handler waiting on them.
    Answer {
        /// The task.
        id: TaskId,
        /// Its owner (the runner checks it against its own record).
        owner: Owner,
        /// The answers, by key.
        responses: Map<String, Value>,
    },
    /// `tasks/cancel`: drop the handler (the record is cancelled already).
    Cancel {
        /// The task.
        id: TaskId,
        /// Its owner.
        owner: Owner,
    },
}

impl TaskSignal {
    /// The signal as JSON, for stores that carry it as text.
    pub fn to_json(&self) -> Value {
        match self {
            Self::Answer {
                id,
                owner,
                responses,
            } => serde_json::json!({
                "op": "answer",
                "id": id.as_str(),
                "owner": owner.to_record(),
                "responses": responses,
            }),
            Self::Cancel { id, owner } => serde_json::json!({
                "op": "cancel",
                "id": id.as_str(),
                "owner": owner.to_record(),
            }),
        }
    }

    /// A signal read back from [`to_json`](Self::to_json); `None` for
    /// anything else.
    pub fn from_json(value: &Value) -> Option<Self> {
        let id = TaskId::new(value.get("id")?.as_str()?);
        let owner = Owner::from_record(value.get("owner")?)?;
        match value.get("op")?.as_str()? {
            "answer" => Some(Self::Answer {
                id,
                owner,
                responses: value.get("responses")?.as_object()?.clone(),
            }),
            "cancel" => Some(Self::Cancel { id, owner }),
            _ => None,
        }
    }
}

/// Where tasks are kept, for every replica to read.
///
/// Contract: [`create`](Self::create) returns once the task is readable
/// through [`get`](Self::get) (from any replica sharing the store); a
/// task is only ever returned to, and changed by, its own [`Owner`]; an
/// expired task ([`Task::expired`]) is never returned; a store that cannot
/// answer says so ([`StoreError::Unavailable`]) within a bounded time,
/// never hangs. `switchboard_core::tasks::contract` checks the first three
/// on any store.
///
/// A store shared by replicas also names this replica
/// ([`replica`](Self::replica), stamped on the tasks it runs as
/// [`Task::runner`]), carries [`TaskSignal`]s to a task's runner, and
/// fails (`failed`, with an error that says why) the unfinished tasks of a
/// runner that stopped, within a bound of its own. The defaults of those
/// three methods are a store of one process.
#[async_trait]
pub trait TaskStore: fmt::Debug + Send + Sync + 'static {
    /// Keeps `task`, unless `caps` are reached; tasks expired at `now_ms`
    /// are purged first, so the caps count live tasks only.
    ///
    /// # Errors
    ///
    /// [`StoreError`] when a cap is reached (nothing is kept), or the
    /// store is unavailable.
    async fn create(&self, task: Task, caps: TaskCaps, now_ms: u64) -> Result<(), StoreError>;

    /// The task `id` if `owner` owns it and it has not expired at `now_ms`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the store cannot answer.
    async fn get(
        &self,
        id: &TaskId,
        owner: &Owner,
        now_ms: u64,
    ) -> Result<Option<Task>, StoreError>;

    /// Applies `change` to task `id` of `owner`; returns the task after
    /// it, with whether it changed, or `None` when there is no such task.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the store cannot answer.
    async fn change(
        &self,
        id: &TaskId,
        owner: &Owner,
        change: Change,
        now_ms: u64,
    ) -> Result<Option<(Task, bool)>, StoreError>;

    /// Forgets every task expired at `now_ms`; returns their ids (none
    /// when the store cannot be reached: the next purge takes them). A
    /// shared store may skip a purge made soon after its last one (the
    /// engine purges before every create), as expired tasks are never
    /// returned anyway.
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

    /// This replica's name in the store, stamped on the tasks it runs
    /// ([`Task::runner`]); `None` (the default) for a store of one process.
    fn replica(&self) -> Option<&str> {
        None
    }

    /// Whether [`list`](Self::list) lists (false by default): the
    /// 2025-11-25 `capabilities.tasks.list` is declared only then.
    fn can_list(&self) -> bool {
        false
    }

    /// Starts receiving the signals sent to this replica (and, for a store
    /// that has them, keeping this replica's lease alive); returns once
    /// they are received, with the stream of them, or `None` (the default)
    /// when signals never come from elsewhere. Called once, before this
    /// replica's first task is created.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the store cannot be reached.
    async fn listen(&self) -> Result<Option<BoxStream<'static, TaskSignal>>, StoreError> {
        Ok(None)
    }

    /// Sends `signal` to replica `runner`; returns whether a listener of
    /// that replica received it (`false`, the default, for a store of one
    /// process).
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when the store cannot be reached.
    async fn signal(&self, runner: &str, signal: TaskSignal) -> Result<bool, StoreError> {
        let _ = (runner, signal);
        Ok(false)
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

    async fn get(
        &self,
        id: &TaskId,
        owner: &Owner,
        now_ms: u64,
    ) -> Result<Option<Task>, StoreError> {
        let t = self.tables();
        Ok(t.tasks
            .get(id)
            .filter(|task| &task.owner == owner && !task.expired(now_ms))
            .cloned())
    }

    async fn change(
        &self,
        id: &TaskId,
        owner: &Owner,
        change: Change,
        now_ms: u64,
    ) -> Result<Option<(Task, bool)>, StoreError> {
        let mut t = self.tables();
        let Some(task) = t
            .tasks
            .get_mut(id)
            .filter(|task| &task.owner == owner && !task.expired(now_ms))
        else {
            return Ok(None);
        };
        let changed = apply(task, change, now_ms);
        Ok(Some((task.clone(), changed)))
    }

    async fn purge(&self, now_ms: u64) -> Vec<TaskId> {
        self.purge_now(now_ms)
    }

    fn can_list(&self) -> bool {
        true
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
    use crate::tasks::contract;

    const CAPS: TaskCaps = TaskCaps {
        per_owner: 3,
        total: 5,
    };

    fn task(id: &str, owner: &Owner, now: u64) -> Task {
        Task::new(TaskId::new(id), owner.clone(), now, Some(1_000), None)
    }

    #[test]
    fn the_memory_store_keeps_the_contract() {
        block_on(contract::check_all(|| async { MemoryTaskStore::new() })).unwrap();
    }

    #[test]
    fn signals_read_back() {
        let owner = Owner::of(None);
        let mut responses = Map::new();
        responses.insert("k".into(), serde_json::json!({"action": "accept"}));
        for signal in [
            TaskSignal::Answer {
                id: TaskId::new("t"),
                owner: owner.clone(),
                responses,
            },
            TaskSignal::Cancel {
                id: TaskId::new("t"),
                owner,
            },
        ] {
            assert_eq!(TaskSignal::from_json(&signal.to_json()), Some(signal));
        }
        assert_eq!(TaskSignal::from_json(&serde_json::json!({"op": "x"})), None);
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
                let mut t = Task::new(TaskId::new(&format!("t{i}")), owner, i, None, None);
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
            assert!(store.get(&first, &o0, 9_999).await.unwrap().is_some());
            assert!(store.get(&first, &o0, 10_000).await.unwrap().is_none());
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
