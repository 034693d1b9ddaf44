//! Which method family serves a request: the routing table, and one file
//! per family below it.

use std::sync::Arc;

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

impl Shared {
    /// Runs one request's method (lifecycle methods are answered before
    /// this, by the dispatcher).
    pub(crate) async fn route(self: Arc<Self>, request: Request, ctx: RequestContext) -> Outcome {
        let params = request.params.as_ref();
        match request.method.as_str() {
            "tools/list" => tools::list(&self, params),
            "tools/call" => tools::call(&self, params, ctx).await,
            "resources/list" => resources::list(&self, params),
            "resources/templates/list" => resources::list_templates(&self, params),
            "resources/read" => resources::read(&self, params, ctx).await,
            "resources/subscribe" => resources::subscribe(&self, params, &ctx),
            "resources/unsubscribe" => resources::unsubscribe(params, &ctx),
            "prompts/list" => prompts::list(&self, params),
            "prompts/get" => prompts::get(&self, params, ctx).await,
            "completion/complete" => completion::complete(&self, params, ctx).await,
            "logging/setLevel" => logging::set_level(params, &ctx),
            other => Err(MethodError::MethodNotFound(other.to_owned())),
        }
    }
}
