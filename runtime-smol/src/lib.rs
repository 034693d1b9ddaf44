//! Run Switchboard MCP servers on [smol](https://docs.rs/smol).
//!
//! This crate is a thin adapter: [`HttpServer`] accepts TCP connections
//! (TCP_NODELAY on, one task each) and hands them to the core's HTTP
//! service; [`SmolRuntime`] implements the core's [`Runtime`] trait on smol's
//! global executor and timers; [`stdio`] gives a stdio transport. All
//! protocol logic lives in `switchboard-core`.
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
//!         .runtime(Arc::new(SmolRuntime))
//!         .build(stdio());
//!     server.run().await.unwrap();
//! });
//! ```
#![forbid(unsafe_code)]

use std::time::Duration;

use switchboard_core::{BoxFuture, Runtime, StdioTransport};

mod http;

pub use http::{DEFAULT_ADDR, DEFAULT_GRACE, HttpServer};

/// The core's [`Runtime`] on smol: tasks go to smol's global executor
/// (`smol::spawn`), timers to async-io.
#[derive(Clone, Copy, Debug, Default)]
pub struct SmolRuntime;

impl Runtime for SmolRuntime {
    fn spawn(&self, future: BoxFuture<()>) {
        smol::spawn(future).detach();
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

/// The README's code, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
