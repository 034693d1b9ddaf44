//! The wire shapes of the 2025-11-25 experimental tasks (the session era),
//! drawn from the same [`Task`] record the extension's shapes are.
//!
//! The two eras never mix: a session at 2025-11-25 sees only these shapes
//! (`{"task": {…}}` from `tools/call`, `ttl` and `pollInterval`, no
//! `resultType`, the result through `tasks/result`), a 2026-07-28 request
//! only the extension's ([`Task::create_result`], [`Task::get_result`]).
//!
//! One status differs: a tool result with `isError: true` is `completed`
//! in the record (the extension's rule) and `failed` here, as the
//! 2025-11-25 text says of tool calls ("when the tool result has `isError`
//! set to `true`, the task should reach `failed` status"); `tasks/result`
//! still answers with that result, as the call would have.

use serde_json::{Map, Value, json};

use super::clock::iso8601;
use super::task::{Task, TaskId, TaskOutcome, TaskStatus};

/// The `_meta` key that ties a message to its task.
pub const RELATED_TASK: &str = "io.modelcontextprotocol/related-task";

/// `{"io.modelcontextprotocol/related-task": {"taskId": id}}`, as it goes
/// into a message's `_meta`.
pub fn related_task_meta(id: &TaskId) -> Value {
    json!({ RELATED_TASK: { "taskId": id.as_str() } })
}

/// Adds the related-task key to `value`'s `_meta` (made when absent);
/// `null` becomes an object for it, other values that are not objects are
/// left as they are.
pub fn with_related_task(mut value: Value, id: &TaskId) -> Value {
    if value.is_null() {
        value = Value::Object(Map::new());
    }
    if let Some(map) = value.as_object_mut() {
        let meta = map
            .entry("_meta")
            .or_insert_with(|| Value::Object(Map::new()));
        if !meta.is_object() {
            *meta = Value::Object(Map::new());
        }
        if let Some(meta) = meta.as_object_mut() {
            meta.insert(RELATED_TASK.into(), json!({ "taskId": id.as_str() }));
        }
    }
    value
}

/// Whether the task ended in a tool result with `isError: true`.
fn tool_error(task: &Task) -> bool {
    matches!(&task.outcome, Some(TaskOutcome::Result(r)) if r["isError"] == true)
}

/// The task's status as 2025-11-25 names it: `failed` for a tool result
/// with `isError: true`, else the record's.
pub fn status(task: &Task) -> TaskStatus {
    if task.status == TaskStatus::Completed && tool_error(task) {
        TaskStatus::Failed
    } else {
        task.status
    }
}

/// The 2025-11-25 `Task` object: `taskId`, `status`, `statusMessage?`,
/// `createdAt`, `lastUpdatedAt`, `ttl` (always present, `null` when
/// unlimited) and `pollInterval?`. What `tasks/get`, `tasks/cancel`, each
/// `tasks/list` entry and `notifications/tasks/status` carry.
///
/// # Examples
///
/// ```
/// use switchboard_core::tasks::{experimental, Owner, Task, TaskId};
///
/// let task = Task::new(TaskId::new("t"), Owner::default(), 0, Some(60_000), Some(1_000));
/// let object = experimental::task_object(&task);
/// assert_eq!(object["ttl"], 60_000);
/// assert_eq!(object["pollInterval"], 1_000);
/// assert!(object.get("ttlMs").is_none() && object.get("resultType").is_none());
/// ```
pub fn task_object(task: &Task) -> Map<String, Value> {
    let mut map = Map::new();
    map.insert("taskId".into(), json!(task.id.as_str()));
    map.insert("status".into(), json!(status(task).as_str()));
    let message = task.status_message.clone().or_else(|| {
        // Said of a failed task: what went wrong.
        tool_error(task).then(|| "the tool returned an error (isError)".to_owned())
    });
    if let Some(message) = message {
        map.insert("statusMessage".into(), json!(message));
    }
    map.insert("createdAt".into(), json!(iso8601(task.created_ms)));
    map.insert("lastUpdatedAt".into(), json!(iso8601(task.updated_ms)));
    map.insert("ttl".into(), json!(task.ttl_ms));
    if let Some(poll) = task.poll_interval_ms {
        map.insert("pollInterval".into(), json!(poll));
    }
    map
}

/// The 2025-11-25 `CreateTaskResult`: `{"task": {…}}`.
pub fn create_result(task: &Task) -> Value {
    json!({ "task": Value::Object(task_object(task)) })
}

/// What `tasks/result` answers for a terminal task: the call's own result
/// with the related-task `_meta` added, or the JSON-RPC error object it
/// ended in. A cancelled task has neither: `Err` with `-32603`, as the
/// TypeScript SDK 1.x answers ("no result stored"). `None` while the task
/// is not terminal.
pub fn final_result(task: &Task) -> Option<Result<Value, Value>> {
    if !task.status.is_terminal() {
        return None;
    }
    Some(match &task.outcome {
        Some(TaskOutcome::Result(result)) => Ok(with_related_task(result.clone(), &task.id)),
        Some(TaskOutcome::Error(error)) => Err(error.clone()),
        None => Err(json!({
            "code": -32603,
            "message": format!("task {} was cancelled: it has no result", task.id),
        })),
    })
}

/// A `tasks/list` cursor: the creation time and id of the last task of the
/// page, as `<ms>.<id>`. Opaque to clients; a page goes on after it even
/// when that task has expired meanwhile.
pub fn cursor_after(task: &Task) -> String {
    format!("{}.{}", task.created_ms, task.id)
}

/// Reads a cursor [`cursor_after`] made; `None` for any other text.
pub fn parse_cursor(cursor: &str) -> Option<(u64, TaskId)> {
    let (ms, id) = cursor.split_once('.')?;
    let ok = !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric());
    Some((ms.parse().ok()?, TaskId::new(id))).filter(|_| ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::Owner;

    fn task() -> Task {
        Task::new(
            TaskId::new("t1"),
            Owner::default(),
            1_000,
            Some(60_000),
            Some(500),
        )
    }

    #[test]
    fn the_2025_shapes_have_no_extension_fields() {
        let created = create_result(&task());
        let inner = &created["task"];
        assert_eq!(inner["taskId"], "t1");
        assert_eq!(inner["status"], "working");
        assert_eq!(inner["ttl"], 60_000);
        assert_eq!(inner["pollInterval"], 500);
        for absent in ["resultType", "ttlMs", "pollIntervalMs", "taskId"] {
            assert!(created.get(absent).is_none(), "{absent}");
        }
        for absent in ["resultType", "ttlMs", "inputRequests", "result", "error"] {
            assert!(inner.get(absent).is_none(), "{absent}");
        }
        let unlimited = task_object(&Task {
            ttl_ms: None,
            ..task()
        });
        assert!(unlimited["ttl"].is_null());
    }

    #[test]
    fn a_tool_error_is_failed_and_its_result_is_kept() {
        let mut t = task();
        assert!(final_result(&t).is_none(), "not terminal");
        t.status = TaskStatus::Completed;
        t.outcome = Some(TaskOutcome::Result(json!({"content": [], "isError": true})));
        assert_eq!(status(&t), TaskStatus::Failed);
        assert_eq!(task_object(&t)["status"], "failed");
        let result = final_result(&t).unwrap().unwrap();
        assert_eq!(result["isError"], true);
        assert_eq!(result["_meta"][RELATED_TASK]["taskId"], "t1");
        t.status = TaskStatus::Cancelled;
        t.outcome = None;
        assert_eq!(final_result(&t).unwrap().unwrap_err()["code"], -32603);
    }

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        let t = task();
        assert_eq!(
            parse_cursor(&cursor_after(&t)),
            Some((1_000, TaskId::new("t1")))
        );
        for junk in ["", "x", "1.", ".t", "a.t", "1.t/x"] {
            assert_eq!(parse_cursor(junk), None, "{junk}");
        }
    }
}
