//! What the process running a task keeps of it, beside the store's
//! record: the answers its handler waits for, and its cancellation.
//!
//! A handler asks through [`TaskLink::ask`]: the question joins the
//! record's `inputRequests` (status `input_required`) and the handler
//! waits until `tasks/update` brings the answer ([`TaskLink::answer`]).
//! Keys are never reused over a task's life.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use futures::channel::oneshot;
use futures::future::AbortHandle;
use serde_json::{Map, Value, json};

use super::clock::wall_ms;
use super::lifecycle::Change;
use super::store::{StoreError, TaskStore};
use super::task::{Owner, Task, TaskId, TaskStatus};
use crate::clock::now;
use crate::jsonrpc::Message;
use crate::runtime::BoxFuture;

/// Called with the task after each change: publishes it to the listeners
/// that asked for it (the extension), or tells the task's session
/// (`notifications/tasks/status`, 2025-11-25); the change waits for the
/// future it returns, so a task's notifications go out in order.
pub(crate) type OnChange = Arc<dyn Fn(&Task) -> BoxFuture<()> + Send + Sync>;

/// Why a task's handler got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AskError {
    /// The key was used before in this task (keys are never reused).
    #[error("input key {0:?} was used before in this task")]
    KeyReused(String),
    /// The task was cancelled, expired or is gone from the store.
    #[error("the task has ended")]
    Ended,
}

/// A running task, as the process running it sees it.
pub(crate) struct TaskLink {
    /// The id.
    pub(crate) id: TaskId,
    /// Its owner (the store checks it on every change).
    pub(crate) owner: Owner,
    /// Where its record is.
    store: Arc<dyn TaskStore>,
    /// Told of every change.
    on_change: OnChange,
    /// Aborts the handler (dropped at its next await).
    abort: AbortHandle,
    /// Set by [`cancel`](Self::cancel).
    cancelled: AtomicBool,
    /// The questions waiting and the keys used.
    inputs: Mutex<Inputs>,
    /// Server→client requests of a 2025-11-25 task not yet delivered: they
    /// go out on the next `tasks/result` stream of the task.
    outbox: Mutex<VecDeque<Message>>,
}

/// The questions of one task.
#[derive(Default)]
struct Inputs {
    /// Waiting handlers, by key.
    waiting: HashMap<String, oneshot::Sender<Value>>,
    /// Every key asked so far.
    used: HashSet<String>,
    /// Keys handed out automatically.
    auto: usize,
}

impl fmt::Debug for TaskLink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskLink")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl TaskLink {
    /// The link of task `id` of `owner`, whose handler `abort` aborts.
    pub(crate) fn new(
        id: TaskId,
        owner: Owner,
        store: Arc<dyn TaskStore>,
        on_change: OnChange,
        abort: AbortHandle,
    ) -> Self {
        Self {
            id,
            owner,
            store,
            on_change,
            abort,
            cancelled: AtomicBool::new(false),
            inputs: Mutex::default(),
            outbox: Mutex::default(),
        }
    }

    /// Locks the outbox (poison taken: one push or drain each).
    fn outbox(&self) -> MutexGuard<'_, VecDeque<Message>> {
        self.outbox.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `message` (a server→client request of a 2025-11-25 task) for
    /// the next `tasks/result` of the task to deliver.
    pub(crate) fn post(&self, message: Message) {
        self.outbox().push_back(message);
    }

    /// Puts back messages a `tasks/result` could not deliver, first in line.
    pub(crate) fn repost(&self, messages: Vec<Message>) {
        let mut outbox = self.outbox();
        for message in messages.into_iter().rev() {
            outbox.push_front(message);
        }
    }

    /// Takes the queued request `id` out (its handler gave up on it), if
    /// no `tasks/result` has delivered it yet.
    pub(crate) fn unpost(&self, id: &crate::jsonrpc::RequestId) {
        self.outbox()
            .retain(|m| !matches!(m, Message::Request(r) if &r.id == id));
    }

    /// Takes every queued message, oldest first.
    pub(crate) fn take_posted(&self) -> Vec<Message> {
        self.outbox().drain(..).collect()
    }

    /// Locks the questions (poison taken: each update is one insert or
    /// removal).
    fn inputs(&self) -> MutexGuard<'_, Inputs> {
        self.inputs.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Applies `change` to the record, and tells the listeners when it
    /// changed; returns whether the task still exists and has not ended
    /// (a store that cannot be reached counts as ended).
    pub(crate) async fn change(&self, change: Change) -> bool {
        matches!(self.try_change(change).await, Ok(Some(status)) if !status.is_terminal())
    }

    /// [`change`](Self::change), telling apart a store that failed: the
    /// task's status after the change, `None` when the task is gone.
    pub(crate) async fn try_change(
        &self,
        change: Change,
    ) -> Result<Option<TaskStatus>, StoreError> {
        let at = wall_ms(now());
        match self.store.change(&self.id, &self.owner, change, at).await? {
            Some((task, changed)) => {
                if changed {
                    (self.on_change)(&task).await;
                }
                Ok(Some(task.status))
            }
            None => Ok(None),
        }
    }

    /// A key for a question the handler did not name: the method's first
    /// word and a count (`elicitation-1`), skipping keys used.
    pub(crate) fn auto_key(&self, method: &str) -> String {
        let mut inputs = self.inputs();
        let short = method.split('/').next().unwrap_or(method);
        loop {
            inputs.auto += 1;
            let key = format!("{short}-{}", inputs.auto);
            if !inputs.used.contains(&key) {
                return key;
            }
        }
    }

    /// Asks the client `method` with `params` under `key` and waits for
    /// its answer (`tasks/update`).
    ///
    /// # Errors
    ///
    /// [`AskError::KeyReused`] for a key asked before (nothing is asked);
    /// [`AskError::Ended`] when the task ends (cancelled, expired, failed
    /// by another replica) first, or the store cannot record the question.
    pub(crate) async fn ask(
        &self,
        key: &str,
        method: &str,
        params: Value,
    ) -> Result<Value, AskError> {
        let rx = {
            let mut inputs = self.inputs();
            if !inputs.used.insert(key.to_owned()) {
                return Err(AskError::KeyReused(key.to_owned()));
            }
            let (tx, rx) = oneshot::channel();
            inputs.waiting.insert(key.to_owned(), tx);
            rx
        };
        let request = json!({ "method": method, "params": params });
        let asked = Change::Ask {
            key: key.to_owned(),
            request,
        };
        if !self.change(asked).await {
            self.inputs().waiting.remove(key);
            return Err(AskError::Ended);
        }
        rx.await.map_err(|_| AskError::Ended)
    }

    /// Delivers the client's `responses`: those for keys outstanding leave
    /// the record's `inputRequests` and wake their handlers; the others
    /// are ignored unread. Returns how many were taken.
    pub(crate) async fn answer(&self, responses: Map<String, Value>) -> usize {
        let taken: Vec<(String, oneshot::Sender<Value>, Value)> = {
            let mut inputs = self.inputs();
            responses
                .into_iter()
                .filter_map(|(key, value)| {
                    let tx = inputs.waiting.remove(&key)?;
                    Some((key, tx, value))
                })
                .collect()
        };
        if taken.is_empty() {
            return 0;
        }
        // The record first: the next `tasks/get` must not list them.
        let keys = taken.iter().map(|(k, _, _)| k.clone()).collect();
        self.change(Change::Answered(keys)).await;
        let n = taken.len();
        for (_, tx, value) in taken {
            // A handler that stopped waiting (cancelled) needs no answer.
            let _ = tx.send(value);
        }
        n
    }

    /// Cancels the handler: [`is_cancelled`](Self::is_cancelled) turns
    /// true, its future is dropped at its next await, its questions are
    /// dropped.
    pub(crate) fn cancel(&self) {
        self.cancelled.store(true, Ordering::Release);
        self.abort.abort();
        self.inputs().waiting.clear();
        self.outbox().clear();
    }

    /// Whether the task was cancelled.
    pub(crate) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }
}

/// The handler's side of a task that begins when the handler says so
/// ([`TaskBegins::WhenHandlerStarts`](super::TaskBegins::WhenHandlerStarts)):
/// the engine waits on the other end.
pub(crate) struct TaskStart {
    /// Taken by the first `start`: hands the engine a sender to confirm on.
    tx: Mutex<Option<oneshot::Sender<oneshot::Sender<()>>>>,
}

impl TaskStart {
    /// A start signal, and the engine's end of it.
    pub(crate) fn new() -> (Self, oneshot::Receiver<oneshot::Sender<()>>) {
        let (tx, rx) = oneshot::channel();
        (
            Self {
                tx: Mutex::new(Some(tx)),
            },
            rx,
        )
    }

    /// Asks the engine to make the call a task and waits until it has.
    /// Returns at once if asked before.
    pub(crate) async fn start(&self) {
        let tx = self.tx.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(tx) = tx else { return };
        let (done_tx, done_rx) = oneshot::channel();
        if tx.send(done_tx).is_ok() {
            // The engine drops the handler when it cannot make the task.
            let _ = done_rx.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use futures::executor::block_on;

    use super::*;
    use crate::tasks::store::{MemoryTaskStore, TaskCaps};

    #[test]
    fn a_question_waits_for_its_answer_and_keys_are_not_reused() {
        let store = Arc::new(MemoryTaskStore::new());
        let id = TaskId::new("t");
        let owner = Owner::default();
        let changes = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&changes);
        let on_change: OnChange = Arc::new(move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
            Box::pin(async {})
        });
        let link = TaskLink::new(
            id.clone(),
            owner.clone(),
            store.clone(),
            on_change,
            AbortHandle::new_pair().0,
        );
        block_on(async {
            let caps = TaskCaps {
                per_owner: 1,
                total: 1,
            };
            let at = wall_ms(now());
            let task = Task::new(id.clone(), owner.clone(), at, None, None);
            store.create(task, caps, at).await.unwrap();
            let mut asking = Box::pin(link.ask("k", "roots/list", json!({})));
            assert!(futures::poll!(asking.as_mut()).is_pending());
            let seen = store.get(&id, &owner, at).await.unwrap().unwrap();
            assert_eq!(seen.status, TaskStatus::InputRequired);
            let answers = json!({"k": {"roots": []}, "other": 1});
            let taken = link.answer(answers.as_object().unwrap().clone()).await;
            assert_eq!(taken, 1);
            assert_eq!(asking.await.unwrap(), json!({"roots": []}));
            let seen = store.get(&id, &owner, at).await.unwrap().unwrap();
            assert_eq!(seen.status, TaskStatus::Working);
            assert!(seen.input_requests.is_empty());
            assert_eq!(changes.load(Ordering::SeqCst), 2);
            let again = link.ask("k", "roots/list", json!({})).await;
            assert_eq!(again, Err(AskError::KeyReused("k".into())));
            assert_eq!(link.auto_key("elicitation/create"), "elicitation-1");
        });
    }

    #[test]
    fn a_cancel_ends_the_wait() {
        let store = Arc::new(MemoryTaskStore::new());
        let on_change: OnChange = Arc::new(|_| Box::pin(async {}));
        let link = TaskLink::new(
            TaskId::new("gone"),
            Owner::default(),
            store,
            on_change,
            AbortHandle::new_pair().0,
        );
        // No record: asking fails at once rather than wait for ever.
        let asked = block_on(link.ask("k", "roots/list", json!({})));
        assert_eq!(asked, Err(AskError::Ended));
        link.cancel();
        assert!(link.is_cancelled());
    }
}
