//! `tools/list` and `tools/call`.

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::context::RequestContext;
use crate::jsonrpc::Params;
use crate::observe::RequestScope;
use crate::protocol::CallToolResult;
use crate::server::error::MethodError;
use crate::server::params::{Outcome, Payload, encode, list_page, parse_params};
use crate::server::registry::ToolFailure;
use crate::server::shared::Shared;
use crate::server::tasks::Began;

/// `tools/list`: one page of the registered tools, in registration order.
///
/// # Errors
///
/// `-32602` for a cursor that is not a string, or not an offset within the
/// listing.
pub(super) fn list(shared: &Shared, params: Option<&Params>) -> Outcome {
    list_page(shared, params, "tools", |r| {
        r.tools.iter().map(|e| &e.tool).collect()
    })
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
/// (before 2025-11-25) arguments that do not fit; `-32021` for a
/// task-required tool from a request that did not declare the extension;
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
    }
    // A stateless request's `_meta` pass has found both already.
    let (name, arguments) = match params.and_then(Params::call_parts) {
        Some((name, arguments)) => (Cow::Borrowed(name), arguments),
        None => {
            let CallParams { name, arguments } = parse_params(params)?;
            (name, arguments)
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
    let declares = ctx.declares_tasks();
    if task.is_required() && !declares {
        return Err(MethodError::Handler(crate::tasks::missing_extension()));
    }
    // A call becomes a task only for a task-capable tool, a request that
    // declared the extension, and a server with a runtime to run it on.
    let runtime = (task.is_capable() && declares)
        .then(|| ctx.runtime().cloned())
        .flatten();
    let result = match runtime {
        Some(runtime) => {
            let began = shared
                .tasks
                .begin(&runtime, &name, begins, &handler, arguments, &ctx)
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
