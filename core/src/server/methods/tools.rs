//! `tools/list` and `tools/call`.

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::context::RequestContext;
use crate::jsonrpc::Params;
use crate::observe::RequestScope;
use crate::protocol::CallToolResult;
use crate::server::error::MethodError;
use crate::server::params::{Outcome, encode, list_page, parse_params};
use crate::server::registry::ToolFailure;
use crate::server::shared::Shared;

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

/// `tools/call`: reads the arguments into the handler's type and runs it.
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
/// (before 2025-11-25) arguments that do not fit; the handler's own error
/// as it is. An `isError` result is reported to `scope`.
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
    let handler = shared
        .registry()
        .tools
        .iter()
        .find(|e| e.tool.name == name)
        .map(|e| e.handler.clone());
    let handler = handler.ok_or_else(|| MethodError::UnknownTool(name.to_string()))?;
    let version = ctx.protocol_version();
    match handler(arguments, ctx).await {
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
