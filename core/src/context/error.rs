//! Why a related message or a server→client request failed.

use std::any::Any;
use std::fmt::Display;

use crate::jsonrpc::RpcError;
use crate::transport::TransportError;
use crate::typed::ToolError;

/// Why a related message could not be sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    /// A progress value lower than the previous one (progress must not go back).
    #[error("progress went down from {previous} to {next}")]
    ProgressDecreased {
        /// The last value sent.
        previous: f64,
        /// The rejected value.
        next: f64,
    },
    /// The request already has its response; nothing more may relate to it.
    #[error("the request has finished")]
    RequestFinished,
    /// A progress value that is not a finite number.
    #[error("progress must be a finite number, not {0}")]
    InvalidProgress(f64),
    /// The transport failed.
    #[error("transport failed")]
    Transport(#[from] TransportError),
    /// No state value of this type was given to the server
    /// ([`McpServerBuilder::state`](crate::McpServerBuilder::state)).
    #[error("the server has no state of type {0}")]
    NoState(&'static str),
}

/// Why a server→client request got no result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The client did not declare the capability this request needs.
    #[error("client lacks the {0} capability")]
    CapabilityMissing(&'static str),
    /// No answer came within the configured timeout; a cancellation was sent.
    #[error("no answer within the timeout")]
    Timeout,
    /// The session ended before an answer came.
    #[error("session closed")]
    SessionClosed,
    /// The server is shutting down: no answer could come (the client can no
    /// longer reach it), so the request was failed at once, or not sent.
    #[error("the server is shutting down")]
    ShuttingDown,
    /// The client answered with an error.
    #[error("client answered with an error")]
    Rejected(#[source] RpcError),
    /// The request could not be sent.
    #[error("transport failed")]
    Transport(#[from] TransportError),
    /// The server has no [`Runtime`](crate::Runtime), so nothing could bound the wait for
    /// an answer: the request is not sent. Give the server one with
    /// [`McpServerBuilder::runtime`](crate::McpServerBuilder::runtime).
    #[error("server→client requests need a runtime to time out")]
    NoRuntime,
    /// The request being handled already has its response (a clone of its
    /// context outlived the handler): nothing more may relate to it.
    #[error("the request has finished")]
    RequestFinished,
    /// The client's answer to input `key` (a stateless request's
    /// `inputResponses`) does not have the shape of the method's result.
    /// The request is then answered `-32602`, whatever the handler does.
    #[error("malformed input response")]
    MalformedInput,
    /// A stateless request whose method cannot ask the client anything:
    /// only `tools/call`, `prompts/get` and `resources/read` can (multi
    /// round-trip requests); the stateless revision has no server→client
    /// requests.
    #[error("this request cannot ask the client for input")]
    InputNotAllowed,
    /// The client's answer does not have the shape of the method's result
    /// (or, for a typed elicitation, does not fit the type asked for).
    #[error("malformed answer from the client: {0}")]
    MalformedAnswer(String),
    /// Input asked from inside a task under a key the task used before:
    /// keys are never reused over a task's life. Nothing was asked.
    #[error("input key {0:?} was used before in this task")]
    KeyReused(String),
    /// The task the handler runs in ended (cancelled, expired) before the
    /// answer came.
    #[error("the task has ended")]
    TaskEnded,
    /// A typed elicitation's type has a field elicitation cannot ask for
    /// (nested objects, say); nothing was sent.
    #[error("cannot elicit this type: {0}")]
    UnsupportedSchema(String),
}

impl From<ContextError> for RpcError {
    /// `-32603` with the error's message: so `?` on a context call (say
    /// [`RequestContext::state`](crate::RequestContext::state)) works in
    /// resource and prompt handlers too.
    fn from(e: ContextError) -> Self {
        Self::internal(e.to_string())
    }
}

impl From<RequestError> for RpcError {
    /// The JSON-RPC error a handler answers with when a request to the
    /// client failed: `-32021` with `data.requiredCapabilities` for a
    /// capability the client did not declare (the code the stateless
    /// revision defines for it, used in both eras), `-32602` for a
    /// malformed input response ([`RequestError::MalformedInput`]),
    /// `-32000` when the server is shutting down, `-32603` for the rest.
    fn from(e: RequestError) -> Self {
        use crate::jsonrpc::ErrorCode;
        match e {
            RequestError::CapabilityMissing(name) => Self::new(
                ErrorCode::MISSING_CAPABILITY,
                format!("client lacks the {name} capability"),
            )
            .with_data(serde_json::json!({ "requiredCapabilities": { name: {} } })),
            RequestError::MalformedInput => Self::new(ErrorCode::INVALID_PARAMS, e.to_string()),
            RequestError::ShuttingDown => Self::new(ErrorCode::SERVER_BUSY, e.to_string()),
            other => Self::internal(other.to_string()),
        }
    }
}

impl<E: Display + 'static> From<E> for ToolError {
    fn from(error: E) -> Self {
        let message = error.to_string();
        // The two protocol kinds are told apart by type at run time: a
        // blanket impl cannot be specialised for them.
        let any: Box<dyn Any> = Box::new(error);
        match any.downcast::<RpcError>() {
            Ok(e) => Self::protocol(*e),
            Err(any) => match any.downcast::<RequestError>() {
                Ok(e) => Self::protocol((*e).into()),
                Err(_) => Self::new(message),
            },
        }
    }
}
