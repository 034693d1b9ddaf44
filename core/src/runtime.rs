//! The small trait through which core reaches an executor, and the one
//! function through which it reads the clock.
//!
//! Core never names an executor. Adapters (`switchboard-smol`,
//! `switchboard-tokio`) implement [`Runtime`] in a few lines each;
//! [`block_on_pool`] (in `pool`) is the one executor core carries, on std
//! alone, for a server on stdio with no runtime crate.
//!
//! The clock comes from the runtime too ([`Runtime::clock`], std's by
//! default; see [`clock`](crate::clock)), so core serves where std has no
//! clock (`wasm32-unknown-unknown`).

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use crate::clock::{self, Clock};

// Not on `wasm32-unknown-unknown`: the pool parks threads and has no clock
// there; a host brings its own executor.
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
mod pool;

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub use pool::{PoolReader, PoolRuntime, block_on_pool};

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What core needs from an executor: to run a task in the background, and
/// to wait.
///
/// # Examples
///
/// A runtime on a thread per task and a sleeping thread per timer: correct,
/// if not cheap (the adapters' impls are a few lines over smol or tokio).
///
/// ```
/// use std::time::Duration;
/// use switchboard_core::{BoxFuture, Runtime};
///
/// #[derive(Debug)]
/// struct Threads;
///
/// impl Runtime for Threads {
///     fn spawn(&self, future: BoxFuture<()>) {
///         std::thread::spawn(move || futures::executor::block_on(future));
///     }
///     fn sleep(&self, duration: Duration) -> BoxFuture<()> {
///         let (tx, rx) = futures::channel::oneshot::channel::<()>();
///         std::thread::spawn(move || {
///             std::thread::sleep(duration);
///             let _ = tx.send(());
///         });
///         Box::pin(async move {
///             let _ = rx.await;
///         })
///     }
/// }
///
/// futures::executor::block_on(Threads.sleep(Duration::from_millis(1)));
/// ```
pub trait Runtime: Debug + Send + Sync + 'static {
    /// Runs `future` to completion in the background, detached.
    ///
    /// Contract: the task keeps running when nothing holds a handle to it; a
    /// panic in the task ends that task only (it is not propagated to the
    /// caller), as both tokio and smol do for detached tasks.
    fn spawn(&self, future: BoxFuture<()>);

    /// Returns a future that completes after `duration`.
    ///
    /// Contract: dropping the future cancels the timer.
    fn sleep(&self, duration: Duration) -> BoxFuture<()>;

    /// The clock core reads: std's by default. One per process: the first
    /// runtime handed to core sets it (see [`clock`](crate::clock)).
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    fn clock(&self) -> Clock {
        Clock::system()
    }

    /// The clock core reads. On `wasm32-unknown-unknown` std has none, so
    /// a runtime there must bring the host's.
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    fn clock(&self) -> Clock;
}

/// Makes `runtime`'s clock the one core reads, unless one was chosen
/// already: called wherever core is handed a runtime.
pub(crate) fn adopt_clock(runtime: &dyn Runtime) {
    let _ = clock::adopt(runtime.clock());
}
