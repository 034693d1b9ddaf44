//! The front doors: the ways a request reaches the rules, and everything a
//! listener wraps around them.
//!
//! - [`conn`][]: one HTTP/1.1 connection over `futures::io` (our listener's).
//! - [`exchange`][]: [`HttpService::respond`](crate::HttpService::respond),
//!   the same entry over the `http` crate's types (hyper, axum).
//! - [`server_transport`][]: [`HttpServerTransport`](crate::HttpServerTransport),
//!   the seed's transport, with the request→response entry every door ends
//!   in and the in-process doors (`handle_http_request`,
//!   `initialize_session`).
//! - [`service`], [`deadline`], [`endpoint`]: what a listener hands
//!   connections to (the connection cap, graceful shutdown, session
//!   expiry), connection deadlines, and everything an adapter's server is
//!   apart from its socket.
//! - [`listener`]: the [`Listener`](crate::http::Listener) trait each
//!   adapter implements, and the [`HttpServer`](crate::http::HttpServer)
//!   written once over it.
//!
//! The top layer: may import every layer below; nothing imports it but the
//! crate root's re-exports.

pub(crate) mod conn;
pub(crate) mod deadline;
pub(crate) mod endpoint;
pub(crate) mod exchange;
pub(crate) mod listener;
pub(crate) mod server_transport;
pub(crate) mod service;
