//! `tasks/get`, `tasks/result`, `tasks/list` and `tasks/cancel` of the
//! 2025-11-25 experimental tasks, for sessions of that revision (served
//! only when `initialize` declared `capabilities.tasks`; `-32601` otherwise).
//!
//! A task is reached through the session that created it (and its
//! principal): from any other session, or a stateless request, it does not
//! exist (`-32602`). Choices where the spec leaves room, following the
//! TypeScript SDK 1.x where it has one:
//! - `tasks/result` blocks until the task is terminal and, meanwhile,
//!   delivers on its own stream the server→client requests the task's
//!   handler asked (elicitation, sampling, roots), each with the
//!   related-task `_meta`; the client answers them as any request. Without
//!   a `tasks/result` in flight they wait, queued on the task (the task is
//!   `input_required`, which tells the client to call it).
//! - `tasks/result` of a `failed` task answers with its JSON-RPC error; of
//!   a tool result with `isError` (status `failed` in this era), that
//!   result; of a `cancelled` task, `-32603` (it has no result).
//! - `tasks/cancel` of a terminal task is `-32602` (the spec's MUST); a
//!   cancel turns the task `cancelled` before the answer, which is the task.
//! - `tasks/list` pages by the server's page size, oldest task first; a
//!   cursor this server did not make is `-32602`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::clock::now;
use crate::context::RequestContext;
use crate::jsonrpc::{Params, RpcError};
use crate::server::error::MethodError;
use crate::server::params::{Outcome, Payload, cursor, parse_params};
use crate::server::shared::Shared;
use crate::server::tasks::{status_notification, store_error};
use crate::tasks::{Change, Owner, TaskId, experimental, wall_ms};

/// How often a `tasks/result` re-reads a task that did not wake it: a task
/// running on another replica changes in the shared store unseen here.
const RESULT_RECHECK: Duration = Duration::from_secs(1);

/// The params naming a task.
#[derive(Deserialize)]
struct TaskParams {
    /// The task.
    #[serde(rename = "taskId")]
    task_id: String,
}

/// Reads the task's id, and who asks: the session and its principal.
fn open(params: Option<&Params>, ctx: &RequestContext) -> Result<(TaskId, Owner), MethodError> {
    let params: TaskParams = parse_params(params)?;
    let owner = Owner::in_session(ctx.principal(), ctx.session_id().as_str());
    Ok((TaskId::new(&params.task_id), owner))
}

/// `-32602` for a task the caller cannot see (unknown, expired, purged,
/// or another session's).
fn unknown(id: &TaskId) -> MethodError {
    MethodError::InvalidParams(format!("Failed to retrieve task: Task not found: {id}"))
}

/// `tasks/get`: the task (the 2025-11-25 `Task` object).
///
/// # Errors
///
/// `-32602` for unreadable params or a task the caller cannot see.
pub(super) async fn get(shared: &Shared, params: Option<&Params>, ctx: &RequestContext) -> Outcome {
    let (id, owner) = open(params, ctx)?;
    let task = shared.tasks.store.get(&id, &owner, wall_ms(now())).await;
    let task = task.map_err(store_error)?.ok_or_else(|| unknown(&id))?;
    Ok(Payload::Value(Value::Object(experimental::task_object(
        &task,
    ))))
}

/// `tasks/result`: waits until the task is terminal, delivering its
/// queued server→client requests on this request's stream meanwhile;
/// then answers what the call would have (its result, with the
/// related-task `_meta`, or its error).
///
/// The wait ends with the task, at the latest when its time to live ends
/// (then `-32602`); the client may cancel the request
/// (`notifications/cancelled`), which leaves the task running.
///
/// # Errors
///
/// `-32602` for unreadable params or a task the caller cannot see; the
/// task's own error when it failed; `-32603` for a cancelled task.
pub(super) async fn result(
    shared: &Shared,
    params: Option<&Params>,
    ctx: &RequestContext,
) -> Outcome {
    let (id, owner) = open(params, ctx)?;
    loop {
        // Watch first, so a change between the read and the wait wakes it.
        let woken = shared.tasks.watchers.watch(&id);
        if let Some(link) = shared.tasks.link(&id, &owner) {
            let posted = link.take_posted();
            if !posted.is_empty() {
                if let Err(unsent) = ctx.deliver(posted).await {
                    link.repost(unsent);
                }
            }
        }
        let task = shared.tasks.store.get(&id, &owner, wall_ms(now())).await;
        let task = task.map_err(store_error)?.ok_or_else(|| unknown(&id))?;
        match experimental::final_result(&task) {
            Some(Ok(result)) => return Ok(Payload::Value(result)),
            Some(Err(error)) => {
                let error = serde_json::from_value::<RpcError>(error)
                    .unwrap_or_else(|e| RpcError::internal(e.to_string()));
                return Err(MethodError::Handler(error));
            }
            None => {}
        }
        match ctx.runtime() {
            Some(runtime) => {
                let recheck = runtime.sleep(RESULT_RECHECK);
                futures::future::select(woken, recheck).await;
            }
            None => {
                let _ = woken.await;
            }
        }
    }
}

/// `tasks/list`: one page of the session's tasks, oldest first.
///
/// # Errors
///
/// `-32602` for a cursor that is not a string or not one this server
/// made; `-32603` when the task store cannot list.
pub(super) async fn list(
    shared: &Shared,
    params: Option<&Params>,
    ctx: &RequestContext,
) -> Outcome {
    let after = match cursor(params)? {
        None => None,
        Some(text) => Some(experimental::parse_cursor(&text).ok_or(MethodError::InvalidCursor)?),
    };
    let owner = Owner::in_session(ctx.principal(), ctx.session_id().as_str());
    let limit = shared.config.page_size;
    let listed = shared
        .tasks
        .store
        .list(&owner, after, limit, wall_ms(now()))
        .await;
    let (tasks, more) = listed.ok_or_else(|| {
        MethodError::Handler(RpcError::internal(
            "this server's task store cannot list tasks",
        ))
    })?;
    let objects: Vec<Value> = tasks
        .iter()
        .map(|t| Value::Object(experimental::task_object(t)))
        .collect();
    let mut page = json!({ "tasks": objects });
    if let Some(last) = tasks.last().filter(|_| more) {
        page["nextCursor"] = json!(experimental::cursor_after(last));
    }
    Ok(Payload::Value(page))
}

/// `tasks/cancel`: turns the task `cancelled` (its handler is dropped at
/// its next await) and answers with it.
///
/// # Errors
///
/// `-32602` for unreadable params, a task the caller cannot see, or one
/// already terminal.
pub(super) async fn cancel(
    shared: &Shared,
    params: Option<&Params>,
    ctx: &RequestContext,
) -> Outcome {
    let (id, owner) = open(params, ctx)?;
    let at = wall_ms(now());
    let changed = shared
        .tasks
        .store
        .change(&id, &owner, Change::Cancel, at)
        .await;
    let (task, changed) = changed.map_err(store_error)?.ok_or_else(|| unknown(&id))?;
    if !changed {
        return Err(MethodError::InvalidParams(format!(
            "Cannot cancel task: already in terminal status '{}'",
            experimental::status(&task).as_str()
        )));
    }
    if let Some(link) = shared.tasks.link(&id, &owner) {
        link.cancel();
    }
    shared.tasks.watchers.wake(&id);
    // Optional, as every status notification: a failed send changes nothing.
    let told = status_notification(ctx.session_id(), &task);
    let _ = ctx.outlet().transport.send(told).await;
    Ok(Payload::Value(Value::Object(experimental::task_object(
        &task,
    ))))
}
