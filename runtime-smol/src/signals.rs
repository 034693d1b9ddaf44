//! Graceful shutdown on SIGINT and SIGTERM, with `async-signal`.

use std::io;

use async_signal::{Signal, Signals};
use futures::StreamExt;
use switchboard_core::Runtime;
use switchboard_core::http::Shutdown;

use crate::SmolRuntime;

/// Triggers `shutdown` on the first SIGINT or SIGTERM (SIGINT only, off
/// Unix), so the server stops accepting, lets requests in flight (and their
/// SSE streams) finish within its grace period, and returns from `run`. A
/// second signal exits the process at once, with status 128 + the signal's
/// number (130 for SIGINT, 143 for SIGTERM), as shells expect.
///
/// The watcher is a task on `runtime` (the executor that runs the server);
/// the handlers are installed before this returns, so a signal that arrives
/// right after is not lost.
///
/// # Errors
///
/// When the operating system refuses the signal handlers.
pub fn shutdown_on_signals(shutdown: Shutdown, runtime: &SmolRuntime) -> io::Result<()> {
    #[cfg(unix)]
    let kinds = [Signal::Term, Signal::Int];
    #[cfg(not(unix))]
    let kinds = [Signal::Int];
    let mut signals = Signals::new(kinds)?;
    runtime.spawn(Box::pin(async move {
        if signals.next().await.is_none() {
            return;
        }
        shutdown.trigger();
        if let Some(Ok(second)) = signals.next().await {
            std::process::exit(128 + number(second));
        }
    }));
    Ok(())
}

/// The signal's number, for the exit status.
fn number(signal: Signal) -> i32 {
    match signal {
        Signal::Int => 2,
        _ => 15,
    }
}
