//! `completion/complete`: argument suggestions for prompts and resource
//! templates, from the one handler the builder registered.

use serde_json::json;

use crate::context::RequestContext;
use crate::jsonrpc::Params;
use crate::protocol::CompleteRequest;
use crate::server::error::MethodError;
use crate::server::params::{Outcome, Payload, parse_params};
use crate::server::shared::Shared;

/// The schema's limit on values in one answer ("must not exceed 100
/// items"): a longer answer is cut rather than sent invalid.
const MAX_VALUES: usize = 100;

/// `completion/complete`: the registered handler's answer, cut to the
/// schema's 100 values (with `hasMore` and `total` set when cut).
///
/// The reference (`ref/prompt` or `ref/resource`) is handed to the handler
/// as it came, unchecked against the registry.
///
/// # Errors
///
/// `-32601` without a completion handler; `-32602` when the params are not
/// a `CompleteRequest`; the handler's own error as it is.
pub(super) async fn complete(
    shared: &Shared,
    params: Option<&Params>,
    ctx: RequestContext,
) -> Outcome {
    let handler = shared.registry().completion.clone();
    let handler =
        handler.ok_or_else(|| MethodError::MethodNotFound("completion/complete".into()))?;
    let request: CompleteRequest = parse_params(params)?;
    let mut completion = handler(request, ctx).await?;
    if completion.values.len() > MAX_VALUES {
        completion
            .total
            .get_or_insert(completion.values.len() as u64);
        completion.values.truncate(MAX_VALUES);
        completion.has_more = true;
    }
    Ok(Payload::Value(json!({ "completion": completion })))
}
