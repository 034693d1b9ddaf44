//! Which method family serves a request: the routing table, and one file
//! per family below it.

use super::error::MethodError;
use super::params::Outcome;
use super::shared::Shared;
use crate::context::RequestContext;
use crate::jsonrpc::Request;

mod completion;
mod logging;
mod prompts;
mod resources;
mod tools;

/// Runs one request's method (lifecycle methods are answered before this,
/// by the dispatcher).
pub(crate) async fn route(shared: &Shared, request: Request, ctx: RequestContext) -> Outcome {
    let params = request.params.as_ref();
    match request.method.as_str() {
        "tools/list" => tools::list(shared, params),
        "tools/call" => tools::call(shared, params, ctx).await,
        "resources/list" => resources::list(shared, params),
        "resources/templates/list" => resources::list_templates(shared, params),
        "resources/read" => resources::read(shared, params, ctx).await,
        "resources/subscribe" => resources::subscribe(shared, params, &ctx),
        "resources/unsubscribe" => resources::unsubscribe(params, &ctx),
        "prompts/list" => prompts::list(shared, params),
        "prompts/get" => prompts::get(shared, params, ctx).await,
        "completion/complete" => completion::complete(shared, params, ctx).await,
        "logging/setLevel" => logging::set_level(params, &ctx),
        other => Err(MethodError::MethodNotFound(other.to_owned())),
    }
}
