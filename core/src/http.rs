//! Streamable HTTP over HTTP/1.1, executor-neutral.
//!
//! From the bottom up, each file using only those above it in this list:
//!
//! - [`parse`], `config`, `shutdown`, `deadline`: sans-IO heads and bodies,
//!   the limits, the shutdown signal, connection deadlines.
//! - `media`, `receiver` → `sse` → `response`: what `Accept` and
//!   `Content-Type` say, a response's end of a stream, SSE encoding, and
//!   responses as plain data.
//! - `state` → `rules` → `transport`: what the transport shares (its line
//!   into the engine, routing into the sessions' streams), the Streamable
//!   HTTP rules from a request to its response, and [`HttpServerTransport`]
//!   with its request→response entry [`HttpServerTransport::handle`].
//! - `conn` → `service` → `endpoint`: one HTTP/1.1 connection, what a
//!   listener hands connections to ([`HttpService`]: the connection cap,
//!   graceful shutdown, session expiry), and [`HttpEndpoint`], everything a
//!   runtime adapter wraps around its listening socket.
//! - `exchange`: [`HttpService::respond`], the same entry over the `http`
//!   crate's types (`http::Request` in, `http::Response<`[`ResponseBody`]`>`
//!   out), for hyper, axum and any server of those types. Our listener and
//!   hyper both end in [`HttpServerTransport::handle`].

mod auth;
mod config;
mod conn;
mod deadline;
mod endpoint;
mod exchange;
mod job;
mod media;
pub mod parse;
mod receiver;
mod reply;
mod response;
mod rules;
mod service;
mod shutdown;
pub(crate) mod sse;
mod state;
mod stateless;
#[cfg(test)]
pub(crate) mod testing;
mod transport;

pub use auth::{
    AuthConfig, AuthError, METADATA_PREFIX, Principal, TokenVerifier, VerifierFn, verifier_fn,
};
pub use config::{
    AllowList, DEFAULT_KEEP_ALIVE_TIMEOUT, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_HEAD_BYTES, DEFAULT_MAX_HEADERS, DEFAULT_PATH, DEFAULT_REPLAY_EVENTS,
    DEFAULT_REQUEST_TIMEOUT, DEFAULT_RETAINED_STREAMS, DEFAULT_SESSION_IDLE_TIMEOUT,
    DEFAULT_SSE_KEEP_ALIVE, DEFAULT_SSE_RETRY, DEFAULT_WRITE_TIMEOUT, HttpConfig, ReplyMode,
};
pub use endpoint::{DEFAULT_ADDR, DEFAULT_GRACE, HttpEndpoint};
pub use exchange::{Chunk, ResponseBody};
pub use response::{Body, Response};
pub use rules::{SESSION_HEADER, VERSION_HEADER};
pub use service::{HttpService, Serving};
pub use shutdown::Shutdown;
pub use sse::SseBody;
pub use transport::HttpServerTransport;
