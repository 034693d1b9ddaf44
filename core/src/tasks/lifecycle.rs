//! How a task moves: `working` ⇄ `input_required` → `completed` | `failed`
//! | `cancelled`, and never out of a terminal status. One pure function,
//! [`apply`], with the time an input, so every store (memory, or a shared
//! one that runs it inside its own transaction) moves tasks alike.

use serde_json::Value;

use super::task::{Task, TaskOutcome, TaskStatus};

/// One change to a task.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Change {
    /// The handler asks for input under `key` (`{method, params}`): the
    /// task waits for it, `input_required`.
    Ask {
        /// The key, unique over the task's life.
        key: String,
        /// The request: `{method, params}`.
        request: Value,
    },
    /// The client answered these keys (`tasks/update`): they leave the
    /// outstanding questions; with none left the task is `working` again.
    Answered(Vec<String>),
    /// The handler reports how far it got (its `statusMessage`).
    Progress(String),
    /// The handler ended.
    Finish(TaskOutcome),
    /// `tasks/cancel`.
    Cancel,
}

/// Applies `change` to `task` at `now_ms`; returns whether the task
/// changed (a terminal task never does, and an answer to a key not
/// outstanding changes nothing). Every [`TaskStore`](super::TaskStore)
/// moves its tasks with this, inside whatever makes the change atomic.
///
/// # Examples
///
/// ```
/// use switchboard_core::tasks::{apply, Change, Owner, Task, TaskId, TaskOutcome, TaskStatus};
///
/// let mut task = Task::new(TaskId::new("t"), Owner::default(), 0, Some(60_000), None);
/// let done = Change::Finish(TaskOutcome::Result(serde_json::json!({"content": []})));
/// assert!(apply(&mut task, done, 5));
/// assert_eq!((task.status, task.updated_ms), (TaskStatus::Completed, 5));
/// // Terminal: a cancel changes nothing.
/// assert!(!apply(&mut task, Change::Cancel, 6));
/// ```
pub fn apply(task: &mut Task, change: Change, now_ms: u64) -> bool {
    if task.status.is_terminal() {
        return false;
    }
    let changed = match change {
        Change::Ask { key, request } => {
            task.input_requests.insert(key, request);
            task.status = TaskStatus::InputRequired;
            true
        }
        Change::Answered(keys) => {
            let before = task.input_requests.len();
            for key in &keys {
                task.input_requests.remove(key);
            }
            if task.input_requests.is_empty() {
                task.status = TaskStatus::Working;
            }
            task.input_requests.len() != before
        }
        Change::Progress(message) => {
            let changed = task.status_message.as_deref() != Some(message.as_str());
            task.status_message = Some(message);
            changed
        }
        Change::Finish(outcome) => {
            task.input_requests.clear();
            task.status = match &outcome {
                TaskOutcome::Result(_) => TaskStatus::Completed,
                TaskOutcome::Error(error) => {
                    // Recommended beside `error`: what went wrong, in words.
                    task.status_message = error["message"].as_str().map(str::to_owned);
                    TaskStatus::Failed
                }
            };
            task.outcome = Some(outcome);
            true
        }
        Change::Cancel => {
            task.input_requests.clear();
            task.status = TaskStatus::Cancelled;
            task.status_message = Some("cancelled by the client".into());
            true
        }
    };
    if changed {
        task.updated_ms = task.updated_ms.max(now_ms);
    }
    changed
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::tasks::task::{Owner, TaskId};

    fn task() -> Task {
        Task::new(TaskId::new("t"), Owner::default(), 0, Some(1_000), None)
    }

    #[test]
    fn input_parks_the_task_until_every_key_is_answered() {
        let mut t = task();
        let ask = |key: &str| Change::Ask {
            key: key.into(),
            request: json!({"method": "elicitation/create", "params": {}}),
        };
        assert!(apply(&mut t, ask("a"), 1));
        assert!(apply(&mut t, ask("b"), 2));
        assert_eq!(t.status, TaskStatus::InputRequired);
        assert!(apply(&mut t, Change::Answered(vec!["a".into()]), 3));
        assert_eq!(t.status, TaskStatus::InputRequired);
        assert_eq!(t.input_requests.keys().collect::<Vec<_>>(), ["b"]);
        // A key never asked changes nothing.
        assert!(!apply(&mut t, Change::Answered(vec!["zz".into()]), 4));
        assert!(apply(&mut t, Change::Answered(vec!["b".into()]), 5));
        assert_eq!(t.status, TaskStatus::Working);
        assert_eq!(t.updated_ms, 5);
    }

    #[test]
    fn terminal_statuses_never_change() {
        let mut t = task();
        assert!(apply(
            &mut t,
            Change::Finish(TaskOutcome::Result(json!({}))),
            1
        ));
        assert_eq!(t.status, TaskStatus::Completed);
        assert!(!apply(&mut t, Change::Cancel, 2));
        assert!(!apply(&mut t, Change::Progress("x".into()), 3));
        assert_eq!((t.status, t.updated_ms), (TaskStatus::Completed, 1));
    }

    #[test]
    fn an_error_fails_the_task_and_says_why() {
        let mut t = task();
        let error = json!({"code": -32603, "message": "boom"});
        apply(&mut t, Change::Finish(TaskOutcome::Error(error)), 1);
        assert_eq!(t.status, TaskStatus::Failed);
        assert_eq!(t.status_message.as_deref(), Some("boom"));
    }

    #[test]
    fn a_cancel_drops_the_questions() {
        let mut t = task();
        let request = json!({"method": "roots/list"});
        apply(
            &mut t,
            Change::Ask {
                key: "k".into(),
                request,
            },
            1,
        );
        assert!(apply(&mut t, Change::Cancel, 2));
        assert_eq!(t.status, TaskStatus::Cancelled);
        assert!(t.input_requests.is_empty());
    }
}
