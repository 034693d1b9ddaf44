//! The small trait through which core reaches an executor.
//!
//! Core never names an executor. Adapters (`switchboard-smol`,
//! `switchboard-tokio`) implement [`Runtime`] in a few lines each.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What core needs from an executor.
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
