//! `tools/list` and `tools/call`.

use std::borrow::Cow;

use serde_json::value::RawValue;
use serde_json::{Value, json};

use crate::context::RequestContext;
use crate::jsonrpc::Params;
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::observe::RequestScope;
use crate::protocol::CallToolResult;
use crate::server::error::MethodError;
use crate::server::params::{Outcome, Payload, cursor, encode, list_page, page, parse_params};
use crate::server::registry::ToolFailure;
use crate::server::shared::Shared;
use crate::server::tasks::{Began, Era};
use crate::tasks::TaskSupport;

/// `tools/list`: one page of the registered tools, in registration order.
/// A 2025-11-25 session that is offered tasks
/// ([`session_tasks_offered`]) also reads each task-capable tool's
/// `execution.taskSupport` (`optional` or `required`; left out for the
/// others, which reads as `forbidden`); no other revision ever sees it.
///
/// # Errors
///
/// `-32602` for a cursor that is not a string, or not an offset within the
/// listing.
pub(super) fn list(shared: &Shared, params: Option<&Params>, ctx: &RequestContext) -> Outcome {
    if session_tasks_offered(shared, ctx) {
        /// A tool as a 2025-11-25 session lists it: with `execution`
        /// when it may run as a task (encoded by reference, no copy).
        #[derive(serde::Serialize)]
        struct Listed<'a> {
            #[serde(flatten)]
            tool: &'a crate::protocol::Tool,
            #[serde(skip_serializing_if = "Option::is_none")]
            execution: Option<Value>,
        }
        let cursor = cursor(params)?;
        let registry = shared.registry();
        let tools: Vec<Listed<'_>> = registry
            .tools
            .iter()
            .map(|e| Listed {
                tool: &e.tool,
                execution: match e.task {
                    TaskSupport::Required => Some(json!({ "taskSupport": "required" })),
                    TaskSupport::Optional => Some(json!({ "taskSupport": "optional" })),
                    _ => None,
                },
            })
            .collect();
        return page("tools", &tools, cursor, shared.config.page_size);
    }
    list_page(shared, params, "tools", |r| {
        r.tools.iter().map(|e| &e.tool).collect()
    })
}

/// Whether the request is served the 2025-11-25 experimental tasks: a
/// session at that revision, on a server with a runtime and at least one
/// task-capable tool (what `initialize` declared `capabilities.tasks` for).
pub(crate) fn session_tasks_offered(shared: &Shared, ctx: &RequestContext) -> bool {
    ctx.protocol_version().has_experimental_tasks()
        && ctx.runtime().is_some()
        && shared.registry().tools.iter().any(|e| e.task.is_capable())
}

/// Reads a 2025-11-25 `params.task`: whether the call asked to be a task,
/// and the time to live it asked for.
///
/// # Errors
///
/// `-32602` for a `task` that is neither an object nor `null`.
fn task_param(task: Option<&Value>) -> Result<(bool, Option<u64>), MethodError> {
    match task {
        None | Some(Value::Null) => Ok((false, None)),
        Some(Value::Object(map)) => Ok((true, map.get("ttl").and_then(Value::as_u64))),
        Some(_) => Err(MethodError::InvalidParams(
            "task must be an object ({\"ttl\": ms})".into(),
        )),
    }
}

/// `tools/call`: reads the arguments into the handler's type and runs it;
/// for a task-capable tool and a request that declared the tasks
/// extension, as a task (the `CreateTaskResult` is the answer).
///
/// Arguments that do not fit are a tool error (`isError`) from 2025-11-25
/// on (SEP-1303) and `-32602` before; an unknown tool is `-32602`.
///
/// The handler is cloned out of the registry before it runs, so a tool
/// removed or replaced meanwhile finishes the call it started.
///
/// # Errors
///
/// `-32602` for unreadable params (no string `name`), an unknown tool, or
/// (before 2025-11-25) arguments that do not fit; `-32601` in a
/// 2025-11-25 session for a task-required tool called without `task` or a
/// sync-only one called with it, and in any session for a task-required
/// tool when no tasks are offered to it; `-32021` for a task-required
/// tool from a stateless request that did not declare the extension;
/// `-32000` past a cap of tasks; the handler's own error as it is. An
/// `isError` result is reported to `scope`.
pub(super) async fn call(
    shared: &Shared,
    params: Option<&Params>,
    ctx: RequestContext,
    scope: &RequestScope,
) -> Outcome {
    /// The params of `tools/call`, borrowed: the arguments stay raw JSON
    /// text until the tool's own type reads them.
    #[derive(serde::Deserialize)]
    struct CallParams<'a> {
        #[serde(borrow)]
        name: Cow<'a, str>,
        /// The arguments' JSON text; absent or `null` reads as `{}`.
        #[serde(borrow, default)]
        arguments: Option<&'a RawValue>,
        /// The 2025-11-25 task augmentation (`{"ttl": ms}`); ignored in
        /// every other revision.
        #[serde(default)]
        task: Option<Value>,
    }
    // A stateless request's `_meta` pass has found both already (and a
    // stateless request's `task` is ignored).
    let (name, arguments, task_asked) = match params.and_then(Params::call_parts) {
        Some((name, arguments)) => (Cow::Borrowed(name), arguments, None),
        None => {
            let CallParams {
                name,
                arguments,
                task,
            } = parse_params(params)?;
            (name, arguments, task)
        }
    };
    let found = shared
        .registry()
        .tools
        .iter()
        .find(|e| e.tool.name == name)
        .map(|e| (e.handler.clone(), e.task, e.begins));
    let (handler, task, begins) =
        found.ok_or_else(|| MethodError::UnknownTool(name.to_string()))?;
    let version = ctx.protocol_version();
    // Looked at only for a call that could be a task (the hot path of a
    // sync-only tool without `task` skips the registry scan).
    let session_tasks =
        (task.is_capable() || task_asked.is_some()) && session_tasks_offered(shared, &ctx);
    let (era, wanted, ttl) = if session_tasks {
        // 2025-11-25: the client asks, with `params.task`; the tool's
        // `execution.taskSupport` says whether it may (-32601 otherwise, as
        // the spec's tool-level negotiation says).
        let (asked, ttl) = task_param(task_asked.as_ref())?;
        if asked && !task.is_capable() {
            return Err(MethodError::Handler(RpcError::new(
                ErrorCode::METHOD_NOT_FOUND,
                format!("tool {name} does not run as a task (taskSupport: forbidden)"),
            )));
        }
        if !asked && task.is_required() {
            return Err(MethodError::Handler(RpcError::new(
                ErrorCode::METHOD_NOT_FOUND,
                format!("tool {name} requires task augmentation (taskSupport: required)"),
            )));
        }
        (Era::Session, asked, ttl)
    } else {
        let declares = ctx.declares_tasks();
        if task.is_required() && !declares {
            if ctx.is_stateless() {
                return Err(MethodError::Handler(crate::tasks::missing_extension()));
            }
            // A session is never told of the extension: the tool cannot be
            // called in it (the 2025-11-25 code for a task-only tool).
            return Err(MethodError::Handler(RpcError::new(
                ErrorCode::METHOD_NOT_FOUND,
                format!("tool {name} runs only as a task, and this session is offered no tasks"),
            )));
        }
        (Era::Extension, declares, None)
    };
    // A call becomes a task only for a task-capable tool, a request that
    // declared the extension (or, in a 2025-11-25 session, asked with
    // `params.task`), and a server with a runtime to run it on.
    let runtime = (task.is_capable() && wanted)
        .then(|| ctx.runtime().cloned())
        .flatten();
    let result = match runtime {
        Some(runtime) => {
            let began = shared
                .tasks
                .begin(&runtime, &name, begins, &handler, arguments, &ctx, era, ttl)
                .await?;
            match began {
                Began::Task(created) => return Ok(Payload::Value(created)),
                Began::Returned(result) => result,
            }
        }
        None if task.is_required() => {
            return Err(MethodError::Handler(crate::jsonrpc::RpcError::internal(
                "tasks need a runtime to run on",
            )));
        }
        None => handler(arguments, ctx).await,
    };
    match result {
        Ok(result) => {
            if result.is_error == Some(true) {
                scope.tool_error(&name);
            }
            encode(result)
        }
        Err(ToolFailure::Rpc(e)) => Err(MethodError::Handler(e)),
        Err(ToolFailure::InvalidArguments(why)) => {
            let tool_error = version.validation_errors_are_tool_errors();
            if tool_error {
                scope.tool_error(&name);
            }
            let error = MethodError::InvalidArguments {
                tool: name.into_owned(),
                why,
            };
            if tool_error {
                encode(CallToolResult::error(error.to_string()))
            } else {
                Err(error)
            }
        }
    }
}
