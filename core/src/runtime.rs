//! The small trait through which core reaches an executor, and the one
//! function through which it reads the clock.
//!
//! Core never names an executor. Adapters (`switchboard-smol`,
//! `switchboard-tokio`) implement [`Runtime`] in a few lines each;
//! [`block_on_pool`] (in `pool`) is the one executor core carries, on std
//! alone, for a server on stdio with no runtime crate.
//!
//! The clock is std's (`Instant`, and `SystemTime` for wall-clock stamps):
//! on `wasm32-unknown-unknown`, where std has no clock, core builds but
//! cannot serve, since reading the time there panics. Handing the clock to
//! core through [`Runtime`] needs core's own instant type in place of
//! `Instant` in every state machine; it is not done yet. Logic
//! that depends on time takes `now` as an argument; [`now`] is the only
//! place core reads it, so tests can drive every state machine with times
//! of their choosing.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

mod pool;

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
}

/// The current time: the one place core reads the clock.
pub(crate) fn now() -> Instant {
    #[cfg(feature = "simulation")]
    if let Some(now) = crate::simulation::now() {
        return now;
    }
    Instant::now()
}
