//! Why the engine answered a request with an error, as data; and the one
//! conversion of that data into a JSON-RPC error object.
//!
//! Method code returns [`MethodError`] and never writes a wire message
//! itself, so each case has exactly one code and one wording, chosen here:
//! JSON-RPC's codes for malformed and unknown things (a missing resource
//! too, `-32602` with `data.uri`, as SEP-2164 settled for every revision),
//! and `-32000` only when a limit was reached.
//!
//! | code | meaning | [`MethodError`] cases |
//! |---|---|---|
//! | `-32601` | no such method | `MethodNotFound` |
//! | `-32602` | the params are wrong | `InvalidParams`, `InvalidCursor`, `UnknownTool`, `InvalidArguments`, `UnknownPrompt`, `MissingArguments`, `ResourceNotFound` (with `data.uri`) |
//! | `-32600` | the message is refused whole, or comes out of lifecycle order | `NotInitialized`, `AlreadyInitialized`, `InitializeInBatch`, `Refused`, `TooLarge` |
//! | `-32000` | a limit was reached, or the session store is out of reach; retry later | `TooManyInFlight`, `TooManySessions`, `TooManySubscriptions`, `TooManyListeners`, `SessionStore` |
//! | `-32603` | a server bug | `HandlerPanicked`, `Encode` |
//! | the handler's | the handler's | `Handler` |
//!
//! Bytes that are not JSON (`-32700`) or not a JSON-RPC message (`-32600`)
//! never reach a method: the decoder in `jsonrpc` answers them itself, and
//! the engine only sends that answer on.

use crate::jsonrpc::{ErrorCode, RequestId, RpcError};
use crate::transport::Refusal;

/// Why a request (or a message) got an error instead of a result.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub(crate) enum MethodError {
    /// The method is not one the server offers (`completion/complete`
    /// included, without a completion handler). `-32601`.
    #[error("method not found: {0}")]
    MethodNotFound(String),
    /// The params do not fit the method (a missing field, a wrong type), with
    /// serde's account of why. `-32602`.
    #[error("invalid params: {0}")]
    InvalidParams(String),
    /// A `cursor` that is not the decimal offset of a page within the listing.
    /// `-32602`.
    #[error("invalid cursor")]
    InvalidCursor,
    /// `tools/call` of a tool not registered (or removed since). `-32602`.
    #[error("unknown tool: {0}")]
    UnknownTool(String),
    /// Arguments that did not fit a tool's type. `-32602` before 2025-11-25;
    /// from then on the same words go out as an `isError` tool result instead
    /// (SEP-1303), so this case is only ever sent as an error before it.
    #[error("invalid arguments for tool {tool}: {why}")]
    InvalidArguments {
        /// The tool's name.
        tool: String,
        /// What was wrong, in serde's words.
        why: String,
    },
    /// `prompts/get` of a prompt not registered (or removed since). `-32602`.
    #[error("unknown prompt: {0}")]
    UnknownPrompt(String),
    /// `prompts/get` without some required arguments, named in declaration
    /// order; the handler did not run. `-32602`.
    #[error("missing required arguments: {}", .0.join(", "))]
    MissingArguments(Vec<String>),
    /// A URI no resource or template serves, for `resources/read` or
    /// `resources/subscribe`. `-32602` (SEP-2164; it was `-32002`), with the URI as `data.uri` (the message
    /// leaves it out, so a client-chosen string is not echoed as prose).
    #[error("resource not found")]
    ResourceNotFound(String),
    /// A request other than `initialize` or `ping` in a session not open (never
    /// opened, closed or expired). `-32600`.
    #[error("session is not initialized: send initialize first")]
    NotInitialized,
    /// A second `initialize` in an open session (or in a session id another
    /// `initialize` took first). `-32600`; the session is unchanged.
    #[error("session is already initialized")]
    AlreadyInitialized,
    /// `initialize` inside a batch, which the spec forbids. `-32600`.
    #[error("initialize must not be part of a batch")]
    InitializeInBatch,
    /// The message was refused whole, before any of it ran (a batch where the
    /// revision has none, a duplicate request id). `-32600`, with the duplicate
    /// id as the response's id when there is one.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A message longer than the transport's limit, discarded unread. `-32600`
    /// with a `null` id, since the id was lost with the bytes.
    #[error("message exceeds the limit of {0} bytes")]
    TooLarge(usize),
    /// The session has its maximum of requests in flight
    /// ([`ServerConfig::max_in_flight`](crate::ServerConfig::max_in_flight)).
    /// `-32000`; the request did not run.
    #[error("too many requests in flight")]
    TooManyInFlight,
    /// The server has its maximum of sessions
    /// ([`ServerConfig::max_sessions`](crate::ServerConfig::max_sessions)), or
    /// no session id could be minted. `-32000`; over HTTP, 503.
    #[error("too many sessions")]
    TooManySessions,
    /// The session has its maximum of subscriptions
    /// ([`ServerConfig::max_subscriptions`](crate::ServerConfig::max_subscriptions)).
    /// `-32000`.
    #[error("too many subscriptions")]
    TooManySubscriptions,
    /// The server has its maximum of `subscriptions/listen` streams
    /// ([`ServerConfig::max_listeners`](crate::ServerConfig::max_listeners)).
    /// `-32000`.
    #[error("too many listeners")]
    TooManyListeners,
    /// The operating system gave no randomness for the `requestState` key
    /// at build, or the server was built without the `request-state`
    /// feature, so no state can be sealed. `-32603`.
    #[error("no key to seal requestState with")]
    NoStateKey,
    /// The operating system gave no randomness to mint a session id with.
    #[error("no randomness for a session id")]
    NoSessionId,
    /// The shared session store could not take a change of the session
    /// (its log level, its subscriptions); the change holds on this replica
    /// only. `-32000`: retry later.
    #[error("{0}")]
    SessionStore(crate::session_store::StoreError),
    /// The handler panicked. The panic is caught so the client is not left
    /// waiting. `-32603`.
    #[error("handler panicked")]
    HandlerPanicked,
    /// A result that did not serialize, with serde_json's account of why (the
    /// crate's result types always serialize; the error is kept, not
    /// swallowed). `-32603`.
    #[error("result did not serialize: {0}")]
    Encode(String),
    /// The handler's own error, passed through as it is: code, message and
    /// data are the handler's.
    #[error(transparent)]
    Handler(#[from] RpcError),
}

impl MethodError {
    /// Returns the JSON-RPC code of this error: the table in the module docs.
    pub(crate) fn code(&self) -> ErrorCode {
        match self {
            Self::MethodNotFound(_) => ErrorCode::METHOD_NOT_FOUND,
            Self::InvalidParams(_)
            | Self::InvalidCursor
            | Self::UnknownTool(_)
            | Self::InvalidArguments { .. }
            | Self::UnknownPrompt(_)
            | Self::MissingArguments(_)
            | Self::ResourceNotFound(_) => ErrorCode::INVALID_PARAMS,
            Self::NotInitialized
            | Self::AlreadyInitialized
            | Self::InitializeInBatch
            | Self::Refused(_)
            | Self::TooLarge(_) => ErrorCode::INVALID_REQUEST,
            Self::TooManyInFlight
            | Self::TooManySessions
            | Self::TooManySubscriptions
            | Self::TooManyListeners
            | Self::SessionStore(_) => ErrorCode::SERVER_BUSY,
            Self::HandlerPanicked | Self::Encode(_) | Self::NoSessionId | Self::NoStateKey => {
                ErrorCode::INTERNAL_ERROR
            }
            Self::Handler(e) => e.code,
        }
    }

    /// Returns the request id a refusal names, if any: the duplicate id of
    /// [`Refusal::DuplicateId`], which the error response then carries (every
    /// other whole-message error has no one id to carry).
    pub(crate) fn refused_id(&self) -> Option<&RequestId> {
        match self {
            Self::Refused(Refusal::DuplicateId(id)) => Some(id),
            _ => None,
        }
    }
}

impl MethodError {
    /// Returns the JSON-RPC error object this error is answered with: the one
    /// conversion from the engine's errors to the wire. The message is the
    /// `Display` text, lowercase; [`Handler`](Self::Handler) errors pass
    /// through untouched.
    pub(crate) fn into_rpc(self) -> RpcError {
        match self {
            Self::Handler(e) => e,
            Self::ResourceNotFound(uri) => RpcError::resource_not_found(&uri),
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
        assert_eq!(missing.code, ErrorCode::INVALID_PARAMS);
        assert_eq!(missing.data.unwrap()["uri"], "test://x");
    }
}
