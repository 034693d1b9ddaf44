//! Why the engine answered a request with an error, as data; and the one
//! conversion of that data into a JSON-RPC error object.
//!
//! Method code returns [`MethodError`] and never writes a wire message
//! itself, so each case has exactly one code and one wording, chosen here:
//! JSON-RPC's codes for malformed and unknown things, `-32002` for a missing
//! resource (MCP), and `-32000` only when a limit was reached.

use crate::jsonrpc::{ErrorCode, RequestId, RpcError};
use crate::transport::Refusal;

/// Why a request (or a message) got an error instead of a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum MethodError {
    /// The method is not one the server offers.
    #[error("method not found: {0}")]
    MethodNotFound(String),
    /// The params do not fit the method.
    #[error("invalid params: {0}")]
    InvalidParams(String),
    /// A `cursor` that no page of ours produced.
    #[error("invalid cursor")]
    InvalidCursor,
    /// `tools/call` of a tool not registered.
    #[error("unknown tool: {0}")]
    UnknownTool(String),
    /// Arguments that did not fit a tool's type (before 2025-11-25, where
    /// they are a protocol error rather than a tool error).
    #[error("invalid arguments for tool {tool}: {why}")]
    InvalidArguments {
        /// The tool.
        tool: String,
        /// What was wrong.
        why: String,
    },
    /// `prompts/get` of a prompt not registered.
    #[error("unknown prompt: {0}")]
    UnknownPrompt(String),
    /// `prompts/get` without a required argument.
    #[error("missing required arguments: {}", .0.join(", "))]
    MissingArguments(Vec<String>),
    /// A URI no resource or template serves.
    #[error("resource not found")]
    ResourceNotFound(String),
    /// A request before `initialize`.
    #[error("session is not initialized: send initialize first")]
    NotInitialized,
    /// A second `initialize` in a session.
    #[error("session is already initialized")]
    AlreadyInitialized,
    /// `initialize` inside a batch.
    #[error("initialize must not be part of a batch")]
    InitializeInBatch,
    /// The message was refused whole.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A message longer than the transport's limit.
    #[error("message exceeds the limit of {0} bytes")]
    TooLarge(usize),
    /// The session has its maximum of requests in flight.
    #[error("too many requests in flight")]
    TooManyInFlight,
    /// The server has its maximum of sessions.
    #[error("too many sessions")]
    TooManySessions,
    /// The session has its maximum of subscriptions.
    #[error("too many subscriptions")]
    TooManySubscriptions,
    /// The handler panicked.
    #[error("handler panicked")]
    HandlerPanicked,
    /// A result that did not serialize.
    #[error("result did not serialize: {0}")]
    Encode(String),
    /// The handler's own error, passed through as it is.
    #[error(transparent)]
    Handler(#[from] RpcError),
}

impl MethodError {
    /// The JSON-RPC code of this error.
    fn code(&self) -> ErrorCode {
        match self {
            Self::MethodNotFound(_) => ErrorCode::METHOD_NOT_FOUND,
            Self::InvalidParams(_)
            | Self::InvalidCursor
            | Self::UnknownTool(_)
            | Self::InvalidArguments { .. }
            | Self::UnknownPrompt(_)
            | Self::MissingArguments(_) => ErrorCode::INVALID_PARAMS,
            Self::ResourceNotFound(_) => ErrorCode::RESOURCE_NOT_FOUND,
            Self::NotInitialized
            | Self::AlreadyInitialized
            | Self::InitializeInBatch
            | Self::Refused(_)
            | Self::TooLarge(_) => ErrorCode::INVALID_REQUEST,
            Self::TooManyInFlight | Self::TooManySessions | Self::TooManySubscriptions => {
                ErrorCode::SERVER_BUSY
            }
            Self::HandlerPanicked | Self::Encode(_) => ErrorCode::INTERNAL_ERROR,
            Self::Handler(e) => e.code,
        }
    }

    /// The request id a refusal names, if any.
    pub(crate) fn refused_id(&self) -> Option<&RequestId> {
        match self {
            Self::Refused(Refusal::DuplicateId(id)) => Some(id),
            _ => None,
        }
    }
}

impl MethodError {
    /// The JSON-RPC error object this error is answered with: the one
    /// conversion from the engine's errors to the wire.
    pub(crate) fn into_rpc(self) -> RpcError {
        match self {
            Self::Handler(e) => e,
            Self::ResourceNotFound(uri) => {
                RpcError::new(ErrorCode::RESOURCE_NOT_FOUND, "resource not found")
                    .with_data(serde_json::json!({ "uri": uri }))
            }
            other => RpcError::new(other.code(), other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_case_has_its_code_and_words() {
        let cases: [(MethodError, i32, &str); 8] = [
            (
                MethodError::MethodNotFound("x/y".into()),
                -32601,
                "method not found: x/y",
            ),
            (
                MethodError::UnknownTool("t".into()),
                -32602,
                "unknown tool: t",
            ),
            (
                MethodError::MissingArguments(vec!["a".into(), "b".into()]),
                -32602,
                "missing required arguments: a, b",
            ),
            (
                MethodError::NotInitialized,
                -32600,
                "session is not initialized: send initialize first",
            ),
            (
                MethodError::Refused(Refusal::DuplicateId(RequestId::number(7))),
                -32600,
                "request id 7 is already in flight",
            ),
            (
                MethodError::TooManyInFlight,
                -32000,
                "too many requests in flight",
            ),
            (MethodError::HandlerPanicked, -32603, "handler panicked"),
            (
                MethodError::Handler(RpcError::new(ErrorCode(-1), "own")),
                -1,
                "own",
            ),
        ];
        for (error, code, message) in cases {
            let rpc = error.into_rpc();
            assert_eq!((rpc.code.0, rpc.message.as_str()), (code, message));
        }
        let missing = MethodError::ResourceNotFound("test://x".into()).into_rpc();
        assert_eq!(missing.code, ErrorCode::RESOURCE_NOT_FOUND);
        assert_eq!(missing.data.unwrap()["uri"], "test://x");
    }
}
