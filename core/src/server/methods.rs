//! Which method family serves a request: the routing table, and one file
//! per family below it.
//!
//! A family function takes the server's state, the request's params and,
//! when it needs the session or runs a handler, the request's context; it
//! returns an [`Outcome`] and never writes a wire message itself. Each one
//! clones the handler it needs out of the registry and lets the read lock
//! go before awaiting it, so a slow handler never blocks `add_tool` and
//! friends. Adding a method is one arm in [`route`] and one function in
//! its family's file.

use super::error::MethodError;
use super::params::Outcome;
use super::shared::Shared;
use crate::context::RequestContext;
use crate::jsonrpc::Request;
use crate::observe::RequestScope;

mod completion;
mod logging;
mod prompts;
mod resources;
mod session_tasks;
mod subscriptions;
mod tasks;
mod tools;

/// Runs one request's method (lifecycle methods are answered before this,
/// by the dispatcher) and returns its outcome for the dispatcher to encode.
///
/// Routing is by name only: a method is served whatever the session
/// declared or negotiated, and one the server does not know is
/// [`MethodError::MethodNotFound`] (`-32601`). A stateless request also
/// reaches `server/discover` and `subscriptions/listen`, and never the
/// methods its revision removed (`initialize`, `ping`, `logging/setLevel`,
/// `resources/subscribe`, `resources/unsubscribe`). Cancel-safe in the sense the
/// dispatcher needs: dropping the future drops the handler it awaits and
/// sends nothing. `scope` is the request's observation, told of a tool's
/// `isError` result.
pub(crate) async fn route(
    shared: &Shared,
    request: Request,
    ctx: RequestContext,
    scope: &RequestScope,
) -> Outcome {
    let params = request.params.as_ref();
    let method = request.method.as_str();
    if ctx.is_stateless() {
        // The stateless revision's own methods, and those it removed.
        match method {
            "server/discover" => return super::stateless::discover(shared),
            "subscriptions/listen" => return subscriptions::listen(shared, params, ctx).await,
            "tasks/get" => return tasks::get(shared, params, &ctx).await,
            "tasks/update" => return tasks::update(shared, params, &ctx).await,
            "tasks/cancel" => return tasks::cancel(shared, params, &ctx).await,
            removed if crate::stateless::removed_method(removed) => {
                return Err(MethodError::MethodNotFound(removed.to_owned()));
            }
            _ => {}
        }
    }
    if method.starts_with("tasks/")
        && !ctx.is_stateless()
        && tools::session_tasks_offered(shared, &ctx)
    {
        // The 2025-11-25 experimental tasks, in a session that was offered them.
        match method {
            "tasks/get" => return session_tasks::get(shared, params, &ctx).await,
            "tasks/result" => return session_tasks::result(shared, params, &ctx).await,
            "tasks/list" => return session_tasks::list(shared, params, &ctx).await,
            "tasks/cancel" => return session_tasks::cancel(shared, params, &ctx).await,
            _ => {}
        }
    }
    match method {
        "tools/list" => tools::list(shared, params, &ctx),
        "tools/call" => tools::call(shared, params, ctx, scope).await,
        "resources/list" => resources::list(shared, params),
        "resources/templates/list" => resources::list_templates(shared, params),
        "resources/read" => resources::read(shared, params, ctx).await,
        "resources/subscribe" => {
            saved(shared, resources::subscribe(shared, params, &ctx), &ctx).await
        }
        "resources/unsubscribe" => saved(shared, resources::unsubscribe(params, &ctx), &ctx).await,
        "prompts/list" => prompts::list(shared, params),
        "prompts/get" => prompts::get(shared, params, ctx).await,
        "completion/complete" => completion::complete(shared, params, ctx).await,
        "logging/setLevel" => saved(shared, logging::set_level(params, &ctx), &ctx).await,
        other => Err(MethodError::MethodNotFound(other.to_owned())),
    }
}

/// `outcome` of a method that changed the session (its log level, its
/// subscriptions), once the change is in the shared session store when
/// there is one: the next request may reach another replica.
///
/// # Errors
///
/// The method's own, or [`MethodError::SessionStore`] when the store could
/// not take the change (it then holds on this replica only).
async fn saved(shared: &Shared, outcome: Outcome, ctx: &RequestContext) -> Outcome {
    if outcome.is_ok() && shared.session_store.is_some() {
        shared
            .save_session(ctx.session())
            .await
            .map_err(MethodError::SessionStore)?;
    }
    outcome
}
