//! `logging/setLevel`: the session's threshold for log notifications.

use serde_json::json;

use crate::context::RequestContext;
use crate::jsonrpc::Params;
use crate::protocol::LogLevel;
use crate::server::params::{Outcome, Payload, parse_params};

/// `logging/setLevel`: from now on, only messages at this level or above
/// reach the session. The level is the session's: it applies to the log
/// messages of every request in it, running ones included, until the next
/// `logging/setLevel` or the session's end.
///
/// # Errors
///
/// `-32602` when `level` is missing or not one of the syslog levels
/// (`debug` … `emergency`).
pub(super) fn set_level(params: Option<&Params>, ctx: &RequestContext) -> Outcome {
    /// The params of `logging/setLevel`.
    #[derive(serde::Deserialize)]
    struct SetLevel {
        level: LogLevel,
    }
    let SetLevel { level } = parse_params(params)?;
    ctx.session().state().log_level = Some(level);
    Ok(Payload::Value(json!({})))
}
