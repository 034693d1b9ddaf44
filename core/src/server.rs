//! The engine: [`McpServerBuilder`] (what a server offers and its limits)
//! and [`McpServer`] (its handle while it runs), with everything between
//! a decoded message and its handler in the modules below.
//!
//! - `config`: [`ServerConfig`], the limits.
//! - `shared`: the state the handle, the serve loop and transports share.
//! - `registry`: tools, resources, templates and prompts with their handlers.
//! - `dispatch`: admission, lifecycle, notifications, in-flight requests;
//!   the engine's side of [`Dispatch`].
//! - `lifecycle`: `initialize` and the capabilities it declares.
//! - `methods`: one file per method family.
//! - `params`, `error`: reading params, encoding results, and the one
//!   conversion of engine errors into JSON-RPC errors.
//! - `run`: the serve loop over [`Transport::receive`].
//!
//! # The life of a request
//!
//! 1. A transport delivers bytes in a session: queued for the serve loop
//!    (`run`), or handed to [`Dispatch::dispatch`] from the transport's own
//!    task (HTTP).
//! 2. The engine decodes them, finds the session (in a session not yet open
//!    only `initialize` and `ping` are served) and *admits* the requests:
//!    their ids are checked against the ones in flight and registered,
//!    synchronously, before any handler is polled. A
//!    `notifications/cancelled` that follows therefore always finds its
//!    request, and the `max_in_flight` cap holds however the work is driven.
//! 3. `methods::route` picks the method family; the family reads the
//!    params, looks the handler up in the registry (the lock is held for the
//!    look-up only, never across an `.await`) and runs it.
//! 4. The result or error is encoded once and sent as
//!    [`Route::Reply`](crate::Route::Reply); a cancelled request gets no
//!    response, only [`Route::Cancelled`](crate::Route::Cancelled), so the
//!    transport can free its reply slot.
//!
//! Every error a client sees is chosen in `error.rs`, which lists the codes.

mod builder;
mod carriers;
mod config;
mod dispatch;
mod error;
mod handle;
mod lifecycle;
mod line;
mod listen;
mod local;
mod methods;
mod notifications;
mod params;
mod register;
mod registry;
mod relay;
mod run;
mod shared;
mod stateless;
mod stored;
mod tasks;

pub use builder::{BuildError, McpServerBuilder};
pub use config::{
    DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_LISTENERS, DEFAULT_MAX_REQUEST_STATE_BYTES,
    DEFAULT_MAX_SESSIONS, DEFAULT_MAX_STATELESS_IN_FLIGHT, DEFAULT_MAX_SUBSCRIPTIONS,
    DEFAULT_PAGE_SIZE, DEFAULT_REQUEST_STATE_TTL, DEFAULT_REQUEST_TIMEOUT, ServerConfig,
};
pub use handle::McpServer;
pub use local::{LocalHandlers, LocalMcpServer, LocalServerBuilder};
