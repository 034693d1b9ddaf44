//! `prompts/list` and `prompts/get`.

use crate::context::RequestContext;
use crate::jsonrpc::Params;
use crate::protocol::PromptArguments;
use crate::server::error::MethodError;
use crate::server::params::{Outcome, encode, list_page, parse_params};
use crate::server::shared::Shared;

/// `prompts/list`: one page of the registered prompts, in registration
/// order.
///
/// # Errors
///
/// `-32602` for a cursor that is not a string, or not an offset within the
/// listing.
pub(super) fn list(shared: &Shared, params: Option<&Params>) -> Outcome {
    list_page(shared, params, "prompts", |r| {
        r.prompts.iter().map(|e| &e.prompt).collect()
    })
}

/// `prompts/get`: required arguments are checked before the handler runs.
/// Missing `arguments` count as none; arguments the prompt does not declare
/// are passed through.
///
/// # Errors
///
/// `-32602` for unreadable params, an unknown prompt, or missing required
/// arguments (all named); the handler's own error as it is.
pub(super) async fn get(shared: &Shared, params: Option<&Params>, ctx: RequestContext) -> Outcome {
    /// The params of `prompts/get`.
    #[derive(serde::Deserialize)]
    struct GetParams {
        name: String,
        #[serde(default)]
        arguments: PromptArguments,
    }
    let GetParams { name, arguments } = parse_params(params)?;
    let found = shared
        .registry()
        .prompts
        .iter()
        .find(|e| e.prompt.name == name)
        .map(|e| {
            let missing: Vec<String> = e
                .prompt
                .arguments
                .iter()
                .filter(|a| a.required && !arguments.contains_key(&a.name))
                .map(|a| a.name.clone())
                .collect();
            (e.handler.clone(), missing)
        });
    let (handler, missing) = found.ok_or(MethodError::UnknownPrompt(name))?;
    if !missing.is_empty() {
        return Err(MethodError::MissingArguments(missing));
    }
    encode(handler(arguments, ctx).await?)
}
