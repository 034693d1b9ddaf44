//! Core's clock: its own [`Instant`], and the [`Clock`] it is read from.
//!
//! Core does not call `std::time::Instant::now` or `SystemTime::now`: on
//! `wasm32-unknown-unknown` std has no clock and both panic. The time
//! comes from the runtime instead ([`Runtime::clock`](crate::Runtime::clock)),
//! as two plain functions: a monotonic one for timeouts, idle expiry and
//! deadlines, and the Unix time for what crosses processes (a
//! `requestState`'s expiry, task timestamps). On targets with a clock the
//! default is std's.
//!
//! The clock is one per process, like a logger: the first runtime handed
//! to core (through [`McpServerBuilder::runtime`](crate::McpServerBuilder::runtime),
//! [`HttpService::new`](crate::HttpService::new), the HTTP endpoint or
//! [`block_on_pool`](crate::block_on_pool)) sets it, or the first reading
//! of the time when none was, with std's. Later runtimes do not change it:
//! instants from two clocks could not be compared. Every runtime in one
//! process reads the same time anyway (the system's), so this only
//! matters to an embedder whose runtime brings its own.
//!
//! # Examples
//!
//! A host's runtime handing core its clock (on `wasm32-unknown-unknown`,
//! `Runtime::clock` has no default, so a runtime there must):
//!
//! ```
//! use std::time::Duration;
//! use switchboard_core::{BoxFuture, Clock, Runtime};
//!
//! // The host's timers, in milliseconds (a WebAssembly import, say).
//! fn host_monotonic() -> Duration { Duration::from_millis(42) }
//! fn host_unix() -> Duration { Duration::from_secs(1_900_000_000) }
//!
//! #[derive(Debug)]
//! struct Host;
//!
//! impl Runtime for Host {
//!     fn spawn(&self, future: BoxFuture<()>) { /* the host's executor */ drop(future) }
//!     fn sleep(&self, _: Duration) -> BoxFuture<()> { Box::pin(std::future::pending()) }
//!     fn clock(&self) -> Clock {
//!         Clock::new(host_monotonic, host_unix)
//!     }
//! }
//!
//! assert_eq!(Host.clock().now().since_origin(), Duration::from_millis(42));
//! ```

use std::ops::{Add, AddAssign, Sub};
use std::sync::OnceLock;
use std::time::Duration;

/// A point on core's monotonic clock: the time since the clock's origin (an
/// arbitrary point before the first reading). Like `std::time::Instant`,
/// but it can be made from a number, so a host without std's clock can
/// provide it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(Duration);

impl Instant {
    /// The instant `since` after the clock's origin.
    #[must_use]
    pub const fn from_origin(since: Duration) -> Self {
        Self(since)
    }

    /// The time since the clock's origin.
    #[must_use]
    pub const fn since_origin(self) -> Duration {
        self.0
    }

    /// The time from `earlier` to `self`, zero when `earlier` is later.
    #[must_use]
    pub fn saturating_duration_since(self, earlier: Self) -> Duration {
        self.0.saturating_sub(earlier.0)
    }

    /// The time from `earlier` to `self`, `None` when `earlier` is later.
    #[must_use]
    pub fn checked_duration_since(self, earlier: Self) -> Option<Duration> {
        self.0.checked_sub(earlier.0)
    }

    /// `self + duration`, `None` on overflow.
    #[must_use]
    pub fn checked_add(self, duration: Duration) -> Option<Self> {
        self.0.checked_add(duration).map(Self)
    }
}

impl Add<Duration> for Instant {
    type Output = Self;

    /// Saturates rather than panics: a deadline "never" is far enough.
    fn add(self, duration: Duration) -> Self {
        Self(self.0.saturating_add(duration))
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, duration: Duration) {
        *self = *self + duration;
    }
}

impl Sub<Duration> for Instant {
    type Output = Self;

    /// Saturates at the origin.
    fn sub(self, duration: Duration) -> Self {
        Self(self.0.saturating_sub(duration))
    }
}

impl Sub for Instant {
    type Output = Duration;

    /// The time from `earlier` to `self`, zero when `earlier` is later (as
    /// `std::time::Instant` does since Rust 1.60).
    fn sub(self, earlier: Self) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

/// Where core reads the time: two plain functions, so a host can hand
/// over its own (a WebAssembly import, a device's timer) without state.
#[derive(Clone, Copy, Debug)]
pub struct Clock {
    monotonic: fn() -> Duration,
    unix: fn() -> Duration,
}

impl Clock {
    /// A clock reading `monotonic` (time since any fixed origin; it must
    /// never go back) and `unix` (time since 1970-01-01 UTC).
    #[must_use]
    pub const fn new(monotonic: fn() -> Duration, unix: fn() -> Duration) -> Self {
        Self { monotonic, unix }
    }

    /// std's clocks: `std::time::Instant` (from the first reading) and
    /// `SystemTime`. Not on `wasm32-unknown-unknown`, where std has none.
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    #[must_use]
    pub fn system() -> Self {
        Self::new(system_monotonic, system_unix)
    }

    /// Now, on this clock's monotonic time.
    #[must_use]
    pub fn now(&self) -> Instant {
        Instant((self.monotonic)())
    }

    /// The Unix time on this clock.
    #[must_use]
    pub fn unix_time(&self) -> Duration {
        (self.unix)()
    }
}

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
fn system_monotonic() -> Duration {
    static ORIGIN: OnceLock<std::time::Instant> = OnceLock::new();
    ORIGIN.get_or_init(std::time::Instant::now).elapsed()
}

#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
fn system_unix() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// The process's clock, once chosen.
static CLOCK: OnceLock<Clock> = OnceLock::new();

/// Makes `clock` the process's clock, unless one was chosen already (see
/// the module's docs): false when another clock stays, which is said at
/// debug level with the `tracing` feature.
pub(crate) fn adopt(clock: Clock) -> bool {
    let adopted = CLOCK.set(clock).is_ok();
    #[cfg(feature = "tracing")]
    if !adopted {
        let kept = current();
        let same = std::ptr::fn_addr_eq(kept.monotonic, clock.monotonic)
            && std::ptr::fn_addr_eq(kept.unix, clock.unix);
        if !same {
            tracing::debug!(
                target: "switchboard::clock",
                "a runtime brought another clock; core keeps the one it read first"
            );
        }
    }
    adopted
}

#[cfg(feature = "simulation")]
thread_local! {
    /// A simulation's virtual time on this thread: its now and its Unix time.
    static VIRTUAL: std::cell::Cell<Option<(Instant, Duration)>> =
        const { std::cell::Cell::new(None) };
}

/// Sets (or with `None` removes) this thread's virtual time: while set,
/// every reading of the clock on this thread returns it.
#[cfg(feature = "simulation")]
pub(crate) fn set_virtual(time: Option<(Instant, Duration)>) {
    VIRTUAL.with(|v| v.set(time));
}

/// This thread's virtual Unix time, when a simulation set one.
#[cfg(feature = "simulation")]
pub(crate) fn virtual_unix_time() -> Option<Duration> {
    VIRTUAL.with(std::cell::Cell::get).map(|(_, unix)| unix)
}

/// Now, on the process's clock (on a simulation's thread, its virtual
/// now). Every reading of the monotonic time in core goes through here, so
/// logic that depends on time takes `now` as an argument from its caller
/// and tests drive it with times of their choosing.
///
/// # Panics
///
/// On `wasm32-unknown-unknown` before any runtime was handed to core: there
/// is no clock to default to there (the message says what to do).
#[must_use]
pub fn now() -> Instant {
    #[cfg(feature = "simulation")]
    if let Some((now, _)) = VIRTUAL.with(std::cell::Cell::get) {
        return now;
    }
    current().now()
}

/// The time since the Unix epoch, on the same clock as [`now`] (a
/// simulation moves both).
///
/// # Panics
///
/// As [`now`].
#[must_use]
pub fn unix_time() -> Duration {
    #[cfg(feature = "simulation")]
    if let Some((_, unix)) = VIRTUAL.with(std::cell::Cell::get) {
        return unix;
    }
    current().unix_time()
}

/// The process's clock: the one adopted, or std's when none was.
fn current() -> &'static Clock {
    #[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
    {
        CLOCK.get_or_init(Clock::system)
    }
    #[cfg(all(target_arch = "wasm32", target_os = "unknown"))]
    {
        CLOCK.get().expect(
            "switchboard-core has no clock on wasm32-unknown-unknown: \
             hand core a runtime whose `Runtime::clock` reads the host's",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_saturates_as_std_does() {
        let a = Instant::from_origin(Duration::from_secs(5));
        let b = a + Duration::from_millis(1500);
        assert_eq!(b - a, Duration::from_millis(1500));
        assert_eq!(a - b, Duration::ZERO);
        assert_eq!(a.checked_duration_since(b), None);
        assert_eq!(b.saturating_duration_since(a), Duration::from_millis(1500));
        assert_eq!(a - Duration::from_secs(9), Instant::default());
        assert_eq!(
            Instant::from_origin(Duration::MAX).checked_add(Duration::from_secs(1)),
            None
        );
        assert!(a < b);
    }

    #[test]
    fn the_system_clock_moves_forward() {
        let clock = Clock::system();
        let a = clock.now();
        std::thread::sleep(Duration::from_millis(2));
        assert!(clock.now() - a >= Duration::from_millis(2));
        // After 2020-01-01.
        assert!(clock.unix_time() > Duration::from_secs(1_577_836_800));
    }
}
