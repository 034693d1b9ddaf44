//! Streamable HTTP over HTTP/1.1, executor-neutral.
//!
//! - [`parse`]: sans-IO heads (httparse) and bodies (Content-Length, chunked).
//! - `endpoint`: the Streamable HTTP rules, from a request to a response.
//! - [`HttpServerTransport`]: the seed's coordination, correlated per request.
//! - [`HttpService`]: what a listener hands each connection to, with the
//!   connection cap, graceful shutdown and session expiry.

mod config;
mod conn;
mod deadline;
mod endpoint;
mod endpoint_server;
pub mod parse;
mod receiver;
mod response;
mod service;
mod sse;
mod streams;
mod transport;

pub use config::{
    AllowList, DEFAULT_KEEP_ALIVE_TIMEOUT, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_HEAD_BYTES, DEFAULT_MAX_HEADERS, DEFAULT_MAX_SESSIONS, DEFAULT_PATH,
    DEFAULT_REPLAY_EVENTS, DEFAULT_REQUEST_TIMEOUT, DEFAULT_RETAINED_STREAMS,
    DEFAULT_SESSION_IDLE_TIMEOUT, DEFAULT_SSE_KEEP_ALIVE, DEFAULT_SSE_RETRY, HttpConfig, ReplyMode,
};
pub use endpoint::{SESSION_HEADER, VERSION_HEADER};
pub use endpoint_server::{DEFAULT_ADDR, DEFAULT_GRACE, HttpEndpoint};
pub use response::{Body, Response};
pub use service::{HttpService, Shutdown};
pub use sse::SseBody;
pub use transport::{HttpServerTransport, SlotError};
