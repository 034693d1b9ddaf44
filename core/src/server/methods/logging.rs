//! `logging/setLevel`.

use serde_json::json;

use crate::context::RequestContext;
use crate::jsonrpc::Params;
use crate::protocol::LogLevel;
use crate::server::params::{Outcome, Payload, parse_params};

/// `logging/setLevel`: from now on, only messages at this level or above
/// reach the session.
pub(super) fn set_level(params: Option<&Params>, ctx: &RequestContext) -> Outcome {
    #[derive(serde::Deserialize)]
    struct SetLevel {
        level: LogLevel,
    }
    let SetLevel { level } = parse_params(params)?;
    ctx.session().state().log_level = Some(level);
    Ok(Payload::Value(json!({})))
}
