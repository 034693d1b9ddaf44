//! The refusals every layer above answers with: a JSON-RPC error without an
//! id, with the status and code the case calls for.
//!
//! `-32600` is a request the transport cannot take, `-32001` an unknown
//! session, `-32000` a limit reached or a server shutting down.

use std::time::Duration;

use http::{HeaderValue, StatusCode};

use super::response::Response;
use crate::http::auth::Denial;
use crate::jsonrpc::ErrorCode;

/// A refusal: a JSON-RPC error without an id, with `code` and `message`.
pub(crate) fn refuse(status: StatusCode, code: ErrorCode, message: &str) -> Response {
    Response::rpc_error(status, code, message)
}

/// A 400 refusal with code `-32600`: the request breaks a transport rule.
pub(crate) fn bad_request(message: &str) -> Response {
    refuse(StatusCode::BAD_REQUEST, ErrorCode::INVALID_REQUEST, message)
}

/// 503 with code `-32000`, closing the connection: no engine is attached,
/// or the transport has closed.
pub(crate) fn shutting_down() -> Response {
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::SERVER_BUSY,
        "server is shutting down",
    )
    .closing()
}

/// A refusal for a cap (the connection cap's 503, a per-client cap's 429)
/// with code `-32000` and `Retry-After`: `retry_after` in whole seconds,
/// rounded up.
pub(crate) fn over_cap(status: StatusCode, message: &str, retry_after: Duration) -> Response {
    let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
    refuse(status, ErrorCode::SERVER_BUSY, message)
        .header(http::header::RETRY_AFTER, HeaderValue::from(seconds))
}

/// 404 with code `-32001`: the session is unknown, expired or deleted. The
/// spec tells a client to start a new session with `initialize` on this.
pub(crate) fn session_not_found() -> Response {
    Response::rpc_error(
        StatusCode::NOT_FOUND,
        ErrorCode::SESSION_NOT_FOUND,
        "session not found",
    )
}

/// 503 with code `-32000` and `Retry-After: 5`: the shared session store
/// could not answer (or this replica holds its maximum of sessions), so the
/// session could not be found, kept or ended. The message says which.
pub(crate) fn store_unavailable(error: &crate::session_store::StoreError) -> Response {
    refuse(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::SERVER_BUSY,
        &error.to_string(),
    )
    .header(http::header::RETRY_AFTER, HeaderValue::from_static("5"))
}

impl From<Denial> for Response {
    fn from(denial: Denial) -> Self {
        match denial {
            Denial::Challenge {
                status,
                message,
                www_authenticate,
            } => {
                let response = Self::rpc_error(status, ErrorCode::INVALID_REQUEST, &message);
                match www_authenticate {
                    Some(value) => response.header(http::header::WWW_AUTHENTICATE, value),
                    None => response,
                }
            }
            Denial::Unavailable => Self::rpc_error(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::SERVER_BUSY,
                "token verification is unavailable",
            )
            .header(http::header::RETRY_AFTER, HeaderValue::from_static("5")),
        }
    }
}
