//! Graceful shutdown on SIGINT and SIGTERM, with `tokio::signal`.

use std::io;

use switchboard_core::http::Shutdown;

/// Triggers `shutdown` on the first SIGINT or SIGTERM (Ctrl-C only, off
/// Unix), so the server stops accepting, lets requests in flight (and their
/// SSE streams) finish within its grace period, and returns from `run`. A
/// second signal exits the process at once, with status 128 + the signal's
/// number (130 for SIGINT, 143 for SIGTERM), as shells expect.
///
/// The handlers are installed before this returns, so a signal that
/// arrives right after is not lost.
///
/// # Errors
///
/// When the operating system refuses the signal handlers.
///
/// # Panics
///
/// Outside a tokio runtime with its I/O driver enabled.
pub fn shutdown_on_signals(shutdown: Shutdown) -> io::Result<()> {
    let mut signals = Signals::new()?;
    tokio::spawn(async move {
        signals.next().await;
        shutdown.trigger();
        let second = signals.next().await;
        std::process::exit(128 + second);
    });
    Ok(())
}

/// The signals that end a server.
struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    fn new() -> io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Waits for the next one; returns its number.
    async fn next(&mut self) -> i32 {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => 15,
                _ = self.int.recv() => 2,
            }
        }
        #[cfg(not(unix))]
        {
            // Without a handler there is nothing to wait for; Ctrl-C is SIGINT.
            match tokio::signal::ctrl_c().await {
                Ok(()) => 2,
                Err(_) => std::future::pending().await,
            }
        }
    }
}
