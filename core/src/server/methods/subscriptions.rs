//! `subscriptions/listen` (stateless revision): the method over the
//! listeners of `server/listen.rs`.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::context::RequestContext;
use crate::jsonrpc::Params;
use crate::server::error::MethodError;
use crate::server::listen::{Filter, Refused};
use crate::server::params::{Outcome, Payload, parse_params};
use crate::server::shared::Shared;
use crate::stateless::SUBSCRIPTION_ID_KEY;

/// `subscriptions/listen`: acknowledges the filter, then forwards every
/// matching change until the client goes away (the request is cancelled)
/// or the server closes (the `complete` result).
///
/// # Errors
///
/// `-32602` for params that do not read as a filter, or with more
/// `resourceSubscriptions` than
/// [`ServerConfig::max_subscriptions`](crate::ServerConfig::max_subscriptions);
/// `-32000` at
/// [`ServerConfig::max_listeners`](crate::ServerConfig::max_listeners).
pub(super) async fn listen(
    shared: &Shared,
    params: Option<&Params>,
    ctx: RequestContext,
) -> Outcome {
    /// The params: the filter under `notifications`.
    #[derive(Deserialize)]
    struct ListenParams {
        #[serde(default)]
        notifications: Filter,
    }
    let ListenParams { mut notifications } = parse_params(params)?;
    if !notifications.task_ids.is_empty() {
        if !ctx.declares_tasks() {
            return Err(MethodError::Handler(crate::tasks::missing_extension()));
        }
        if notifications.task_ids.len() > shared.config.max_subscriptions {
            return Err(MethodError::InvalidParams(format!(
                "at most {} taskIds",
                shared.config.max_subscriptions
            )));
        }
        // Only the listener's own tasks: another's are as if unknown.
        let owner = crate::tasks::Owner::of(ctx.principal());
        let at = crate::tasks::wall_ms(crate::clock::now());
        let mut kept = std::collections::BTreeSet::new();
        for id in std::mem::take(&mut notifications.task_ids) {
            let task_id = crate::tasks::TaskId::new(&id);
            let task = shared.tasks.store.get(&task_id, &owner, at).await;
            if task.map_err(crate::server::tasks::store_error)?.is_some() {
                kept.insert(id);
            }
        }
        notifications.task_ids = kept;
    }
    // The same bound a session has on its subscriptions.
    if notifications.resource_subscriptions.len() > shared.config.max_subscriptions {
        return Err(MethodError::InvalidParams(format!(
            "at most {} resourceSubscriptions",
            shared.config.max_subscriptions
        )));
    }
    let honoured = notifications.honoured();
    let id = ctx.request_id().to_value();
    let registered = shared
        .listeners
        .add(notifications, shared.config.max_listeners);
    let tag = |mut params: Value| {
        if let Value::Object(map) = &mut params {
            let meta = map.entry("_meta").or_insert_with(|| json!({}));
            if let Value::Object(meta) = meta {
                meta.insert(SUBSCRIPTION_ID_KEY.into(), id.clone());
            }
        }
        params
    };
    let (rx, _registered) = match registered {
        Ok(registered) => registered,
        Err(Refused::Full) => return Err(MethodError::TooManyListeners),
        // The server is closing: the stream ends before it starts.
        Err(Refused::Closed) => return Ok(Payload::Value(tag(json!({})))),
    };
    let ack = tag(json!({ "notifications": honoured }));
    if ctx
        .notify("notifications/subscriptions/acknowledged", ack)
        .await
        .is_err()
    {
        return Ok(Payload::Value(tag(json!({}))));
    }
    while let Ok((method, params)) = rx.recv().await {
        if ctx.notify(&method, tag(params)).await.is_err() {
            break;
        }
    }
    Ok(Payload::Value(tag(json!({}))))
}
