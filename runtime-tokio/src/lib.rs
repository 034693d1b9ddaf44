//! Run Switchboard MCP servers on [tokio](https://docs.rs/tokio).
//!
//! This crate is a thin adapter: [`HttpServer`] is the core's server over
//! [`TokioListener`], which accepts TCP connections (TCP_NODELAY on, one
//! task each) for the core's HTTP service; [`TokioRuntime`] implements the
//! core's [`Runtime`] trait on a tokio runtime handle; [`stdio`] gives a
//! stdio transport. tokio's I/O is bridged to `futures::io` at this edge.
//! All protocol logic lives in `switchboard-core`.
//!
//! With the `hyper` feature, `McpService` is the endpoint as a
//! `tower::Service` and hyper `Service`, to mount in axum or serve with
//! hyper on HTTP/1.1 and HTTP/2.
//!
//! # Examples
//!
//! ```no_run
//! use std::sync::Arc;
//! use switchboard_core::McpServerBuilder;
//! use switchboard_tokio::{stdio, TokioRuntime};
//!
//! #[tokio::main]
//! async fn main() {
//!     let server = McpServerBuilder::new()
//!         .server_info("demo", "1.0.0")
//!         .runtime(Arc::new(TokioRuntime::current()))
//!         .build(stdio());
//!     server.run().await.unwrap();
//! }
//! ```
#![forbid(unsafe_code)]

use std::time::Duration;

use switchboard_core::{BoxFuture, Runtime, StdioTransport};
use tokio::runtime::Handle;

mod http;
#[cfg(feature = "hyper")]
mod hyper;
mod local;
#[cfg(feature = "redis")]
mod redis;
mod signals;

#[cfg(feature = "redis")]
pub use self::redis::{
    RedisBus, RedisSessionStore, RedisTaskStore, redis_session_store, redis_task_store,
};
pub use http::{HttpServer, TokioListener};
#[cfg(feature = "hyper")]
pub use hyper::{McpBody, McpService, ResponseFuture};
pub use local::block_on_local;
pub use signals::shutdown_on_signals;
pub use switchboard_core::http::{DEFAULT_ADDR, DEFAULT_GRACE};
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt, TokioAsyncWriteCompatExt};

/// The core's [`Runtime`] on a tokio runtime: tasks are spawned on it, timers
/// registered with it, whichever thread calls.
#[derive(Clone, Debug)]
pub struct TokioRuntime {
    handle: Handle,
}

impl TokioRuntime {
    /// The runtime the caller runs on.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub fn current() -> Self {
        Self {
            handle: Handle::current(),
        }
    }

    /// A runtime for this handle.
    pub fn from_handle(handle: Handle) -> Self {
        Self { handle }
    }
}

impl Runtime for TokioRuntime {
    fn spawn(&self, future: BoxFuture<()>) {
        // A panicking task ends only itself; tokio reports it to its JoinHandle, dropped here.
        drop(self.handle.spawn(future));
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        // The timer must be created inside the runtime's context.
        let _entered = self.handle.enter();
        Box::pin(tokio::time::sleep(duration))
    }
}

/// The stdio transport type [`stdio`] returns.
pub type Stdio = StdioTransport<Compat<tokio::io::Stdin>, Compat<tokio::io::Stdout>>;

/// Newline-delimited JSON-RPC over this process's stdin and stdout.
///
/// # Panics
///
/// When called outside a tokio runtime.
pub fn stdio() -> Stdio {
    StdioTransport::new(
        tokio::io::stdin().compat(),
        tokio::io::stdout().compat_write(),
    )
}
