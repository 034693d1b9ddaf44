//! Run Switchboard MCP servers on [smol](https://docs.rs/smol).
//!
//! This crate is a thin adapter: [`HttpServer`] is the core's server over
//! [`SmolListener`], which accepts TCP connections (TCP_NODELAY on, one
//! task each) for the core's HTTP service; [`SmolRuntime`] implements the
//! core's [`Runtime`] trait on smol's global executor and timers; [`stdio`]
//! gives a stdio transport. All protocol logic lives in `switchboard-core`.
//!
//! # Examples
//!
//! ```no_run
//! use std::sync::Arc;
//! use switchboard_core::McpServerBuilder;
//! use switchboard_smol::{stdio, SmolRuntime};
//!
//! smol::block_on(async {
//!     let server = McpServerBuilder::new()
//!         .server_info("demo", "1.0.0")
//!         .runtime(Arc::new(SmolRuntime::global()))
//!         .build(stdio());
//!     server.run().await.unwrap();
//! });
//! ```
#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use switchboard_core::{BoxFuture, Runtime, StdioTransport};

mod http;
mod local;
#[cfg(feature = "redis")]
mod redis;
mod signals;

#[cfg(feature = "redis")]
pub use self::redis::{
    RedisBus, RedisSessionStore, RedisTaskStore, redis_session_store, redis_task_store,
};
pub use http::{HttpServer, SmolConnection, SmolListener};
pub use local::block_on_local;
pub use signals::shutdown_on_signals;
pub use switchboard_core::http::{DEFAULT_ADDR, DEFAULT_GRACE};

/// The core's [`Runtime`] on smol: tasks go to smol's global executor
/// (`smol::spawn`) or to an executor of your own, timers to async-io.
///
/// An executor of your own that you run with `smol::block_on(ex.run(..))`
/// keeps everything on that thread: the cheapest setup on one core.
#[derive(Clone, Debug, Default)]
pub struct SmolRuntime {
    spawner: Spawner,
}

/// Where a [`SmolRuntime`] spawns.
#[derive(Clone, Debug, Default)]
enum Spawner {
    /// smol's global executor.
    #[default]
    Global,
    /// An executor of the user's.
    Executor(Arc<smol::Executor<'static>>),
    /// The `LocalExecutor` of [`block_on_local`]: directly from its
    /// thread, through a channel from others (a `LocalExecutor` cannot be
    /// shared between threads; the channel can).
    Local(local::LocalSpawner),
}

impl SmolRuntime {
    /// Spawns on smol's global executor.
    pub fn global() -> Self {
        Self::default()
    }

    /// Spawns on `executor`; whoever runs it (`executor.run(..)`) runs the tasks.
    pub fn with_executor(executor: Arc<smol::Executor<'static>>) -> Self {
        Self {
            spawner: Spawner::Executor(executor),
        }
    }
}

impl Runtime for SmolRuntime {
    fn spawn(&self, future: BoxFuture<()>) {
        match &self.spawner {
            Spawner::Global => smol::spawn(future).detach(),
            Spawner::Executor(ex) => ex.spawn(future).detach(),
            Spawner::Local(spawner) => spawner.spawn(future),
        }
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        Box::pin(async move {
            smol::Timer::after(duration).await;
        })
    }
}

/// The stdio transport type [`stdio`] returns.
pub type Stdio = StdioTransport<smol::Unblock<std::io::Stdin>, smol::Unblock<std::io::Stdout>>;

/// Newline-delimited JSON-RPC over this process's stdin and stdout.
///
/// Reading and writing run on smol's blocking thread pool (`smol::Unblock`).
pub fn stdio() -> Stdio {
    StdioTransport::new(
        smol::Unblock::new(std::io::stdin()),
        smol::Unblock::new(std::io::stdout()),
    )
}
