//! Why a related message or a server→client request failed.

use crate::jsonrpc::RpcError;
use crate::transport::TransportError;

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
}
