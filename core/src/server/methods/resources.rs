//! `resources/list`, `resources/templates/list`, `resources/read`,
//! `resources/subscribe` and `resources/unsubscribe`.
//!
//! Subscriptions are kept per session, by exact URI; the server tells
//! subscribers about changes when its owner calls
//! [`McpServer::notify_resource_updated`](crate::McpServer::notify_resource_updated).

use serde_json::json;

use crate::context::RequestContext;
use crate::jsonrpc::Params;
use crate::server::error::MethodError;
use crate::server::params::{Outcome, Payload, encode, list_page, uri_param};
use crate::server::shared::Shared;

/// `resources/list`: one page of the registered direct resources, in
/// registration order (templates are listed by
/// [`list_templates`]).
///
/// # Errors
///
/// `-32602` for a cursor that is not a string, or not an offset within the
/// listing.
pub(super) fn list(shared: &Shared, params: Option<&Params>) -> Outcome {
    list_page(shared, params, "resources", |r| {
        r.resources.iter().map(|e| &e.resource).collect()
    })
}

/// `resources/templates/list`: one page of the registered templates, in
/// registration order, which is also the order they are matched in.
///
/// # Errors
///
/// `-32602` for a cursor that is not a string, or not an offset within the
/// listing.
pub(super) fn list_templates(shared: &Shared, params: Option<&Params>) -> Outcome {
    list_page(shared, params, "resourceTemplates", |r| {
        r.templates.iter().map(|e| &e.template).collect()
    })
}

/// `resources/read`: a direct resource first, then templates in
/// registration order; `-32602` when none serves the URI.
///
/// # Errors
///
/// `-32602` without a string `uri`; `-32602` (with `data.uri`) when nothing
/// serves it; the handler's own error as it is.
pub(super) async fn read(shared: &Shared, params: Option<&Params>, ctx: RequestContext) -> Outcome {
    let uri = uri_param(params)?;
    let reader = shared.registry().reader(&uri);
    let (handler, vars) = reader.ok_or_else(|| MethodError::ResourceNotFound(uri.clone()))?;
    encode(handler(uri, vars, ctx).await?)
}

/// `resources/subscribe`: only to a URI the server can read, and at most
/// `max_subscriptions` per session. Subscribing again to the same URI is a
/// no-op that succeeds, even at the limit.
///
/// # Errors
///
/// `-32602` without a string `uri`; `-32602` when nothing serves the URI;
/// `-32000` at the limit.
pub(super) fn subscribe(shared: &Shared, params: Option<&Params>, ctx: &RequestContext) -> Outcome {
    let uri = uri_param(params)?;
    if shared.registry().reader(&uri).is_none() {
        return Err(MethodError::ResourceNotFound(uri));
    }
    let mut st = ctx.session().state();
    if !st.subscriptions.contains(&uri) && st.subscriptions.len() >= shared.config.max_subscriptions
    {
        return Err(MethodError::TooManySubscriptions);
    }
    st.subscriptions.insert(uri);
    Ok(Payload::Value(json!({})))
}

/// `resources/unsubscribe`: forgetting an unknown URI is no error.
///
/// # Errors
///
/// `-32602` without a string `uri`.
pub(super) fn unsubscribe(params: Option<&Params>, ctx: &RequestContext) -> Outcome {
    let uri = uri_param(params)?;
    ctx.session().state().subscriptions.remove(&uri);
    Ok(Payload::Value(json!({})))
}
