//! `tasks/get`, `tasks/update` and `tasks/cancel` (the 2026-07-28 tasks
//! extension). Each is refused `-32021` unless the request declared the
//! extension, before any look-up (so an unknown id is `-32021` too); a
//! task unknown, expired or another owner's is `-32602`.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::clock::now;
use crate::context::RequestContext;
use crate::jsonrpc::Params;
use crate::server::error::MethodError;
use crate::server::params::{Outcome, Payload, parse_params};
use crate::server::shared::Shared;
use crate::server::tasks::store_error;
use crate::tasks::{Owner, TaskId, missing_extension, wall_ms};

/// The params every `tasks/*` method names its task with.
#[derive(Deserialize)]
struct TaskParams {
    /// The task.
    #[serde(rename = "taskId")]
    task_id: String,
    /// `tasks/update`'s answers, by key.
    #[serde(rename = "inputResponses", default)]
    input_responses: Option<Value>,
}

/// Checks the gate and reads the params: the task's id and its caller.
fn open(params: Option<&Params>, ctx: &RequestContext) -> Result<(TaskParams, Owner), MethodError> {
    if !ctx.declares_tasks() {
        return Err(MethodError::Handler(missing_extension()));
    }
    let params: TaskParams = parse_params(params)?;
    Ok((params, Owner::of(ctx.principal())))
}

/// `-32602` for a task the caller cannot see.
fn unknown(id: &str) -> MethodError {
    MethodError::InvalidParams(format!("unknown task: {id}"))
}

/// `{"resultType": "complete"}`: the ack of an update or a cancel.
fn ack() -> Outcome {
    Ok(Payload::Value(json!({ "resultType": "complete" })))
}

/// `tasks/get`: the detailed task (with its result, error or outstanding
/// questions inlined).
///
/// # Errors
///
/// `-32021` without the extension; `-32602` for unreadable params or a
/// task the caller cannot see; `-32603` when the task store cannot be
/// reached.
pub(super) async fn get(shared: &Shared, params: Option<&Params>, ctx: &RequestContext) -> Outcome {
    let (params, owner) = open(params, ctx)?;
    let id = TaskId::new(&params.task_id);
    let task = shared.tasks.store.get(&id, &owner, wall_ms(now())).await;
    let task = task.map_err(store_error)?;
    let task = task.ok_or_else(|| unknown(&params.task_id))?;
    Ok(Payload::Value(task.into_get_result()))
}

/// `tasks/update`: answers for the task's outstanding questions. Answers
/// to keys not outstanding are ignored unread; the ack is the same.
///
/// # Errors
///
/// `-32021` without the extension; `-32602` for unreadable params,
/// `inputResponses` that are not an object, or a task the caller cannot
/// see.
pub(super) async fn update(
    shared: &Shared,
    params: Option<&Params>,
    ctx: &RequestContext,
) -> Outcome {
    let (params, owner) = open(params, ctx)?;
    let responses = match params.input_responses {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(map)) => map,
        Some(_) => {
            return Err(MethodError::InvalidParams(
                "inputResponses must be an object".into(),
            ));
        }
    };
    let id = TaskId::new(&params.task_id);
    // Only the process running the handler holds its questions: the hub
    // answers them here, or sends them to the replica running it.
    if !shared.tasks.update(&id, &owner, responses).await? {
        return Err(unknown(&params.task_id));
    }
    ack()
}

/// `tasks/cancel`: the task turns `cancelled` (unless it already ended:
/// the ack is the same) and its handler is dropped at its next await.
///
/// # Errors
///
/// `-32021` without the extension; `-32602` for unreadable params or a
/// task the caller cannot see.
pub(super) async fn cancel(
    shared: &Shared,
    params: Option<&Params>,
    ctx: &RequestContext,
) -> Outcome {
    let (params, owner) = open(params, ctx)?;
    let id = TaskId::new(&params.task_id);
    if !shared.tasks.cancel(&id, &owner).await? {
        return Err(unknown(&params.task_id));
    }
    ack()
}
