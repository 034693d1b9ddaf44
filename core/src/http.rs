//! Streamable HTTP, executor-neutral: the wire, the rules, the two eras,
//! the replies, and the front doors a request comes in by.
//!
//! Layers, each folder importing only those below it:
//!
//! ```text
//!  front/    conn (our HTTP/1.1)  exchange (http types: hyper, axum)  server_transport
//!            service  deadline  endpoint  listener      (the doors and what wraps them)
//!    │
//!  eras/     session_era (initialize, POST into a session, GET, DELETE)
//!            stateless_era (2026-07-28: routing headers, a carrier per request)
//!    │
//!  rules/    admit: path, Host/Origin, token, method, version, Accept,
//!            Content-Type, once per request → Admitted; sessions: the session a head names;
//!            cors: preflights and the grant every reply to an allowed origin carries
//!    │
//!  replies/  response (plain data) refusals reply (JSON or SSE) sse receiver job
//!            routing (outbound messages into the sessions' streams) shutdown
//!    │
//!  wire/     head body error (sans-IO HTTP/1.1) media (Accept, Content-Type) events (SSE spelling)
//!            testing (tests only: an in-memory connection, a runtime on the test thread)
//!    │
//!  config/   auth   shares  (HttpConfig, its limits and its CORS policy; the OAuth resource
//!                            server's settings; the per-client counts behind the fair-share caps)
//! ```
//!
//! Below them all sit the engine's pieces the layers use: the session
//! table and streams (`crate::session`, `crate::stream`), the `Dispatch`
//! line into the engine (`crate::transport`), and the
//! [`Principal`] a token stands for
//! (`crate::principal`, which the engine binds sessions to without knowing
//! HTTP).
//!
//! A request's way through: a front door fills a [`wire::RequestHead`] →
//! [`HttpServerTransport::handle`] → `rules::admit` → `eras::serve` → a
//! [`Response`] (JSON, empty, or an [`SseBody`]) the door writes out.

// Each layer folder holds its own module file (`mod.rs`, as hyper's
// `proto/h1` does), so `core/src/http/` lists nothing but its layers.
pub(crate) mod auth;
#[allow(clippy::mod_module_files)]
pub(crate) mod config;
#[allow(clippy::mod_module_files)]
pub(crate) mod eras;
#[allow(clippy::mod_module_files)]
pub(crate) mod front;
#[allow(clippy::mod_module_files)]
pub(crate) mod replies;
#[allow(clippy::mod_module_files)]
pub(crate) mod rules;
pub(crate) mod shares;
#[allow(clippy::mod_module_files)]
pub mod wire;

pub use crate::principal::Principal;
pub use auth::{AuthConfig, AuthError, METADATA_PREFIX, TokenVerifier, VerifierFn, verifier_fn};
pub use config::cors::{CorsPolicy, DEFAULT_CORS_MAX_AGE};
pub use config::{
    AllowList, DEFAULT_KEEP_ALIVE_TIMEOUT, DEFAULT_MAX_BODY_BYTES, DEFAULT_MAX_CONNECTIONS,
    DEFAULT_MAX_CONNECTIONS_PER_CLIENT, DEFAULT_MAX_HEAD_BYTES, DEFAULT_MAX_HEADERS,
    DEFAULT_MAX_STREAMS_PER_CLIENT, DEFAULT_MAX_STREAMS_PER_PRINCIPAL, DEFAULT_PATH,
    DEFAULT_REPLAY_EVENTS, DEFAULT_REQUEST_TIMEOUT, DEFAULT_RETAINED_STREAMS, DEFAULT_RETRY_AFTER,
    DEFAULT_SESSION_IDLE_TIMEOUT, DEFAULT_SSE_KEEP_ALIVE, DEFAULT_SSE_RETRY, DEFAULT_WRITE_TIMEOUT,
    HttpConfig, ReplyMode,
};
pub use front::endpoint::{DEFAULT_ADDR, DEFAULT_GRACE, HttpEndpoint};
pub use front::exchange::{Chunk, ResponseBody};
pub use front::listener::{HttpServer, Listener};
pub use front::server_transport::HttpServerTransport;
pub use front::service::{HttpService, Serving};
pub use replies::response::{Body, Response};
pub use replies::shutdown::Shutdown;
pub use replies::sse::SseBody;
pub use rules::{SESSION_HEADER, VERSION_HEADER};
