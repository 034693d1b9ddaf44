//! Connection deadlines kept by one sweeper per server instead of a timer
//! per request: setting a deadline is two atomic stores, and the sweeper
//! wakes the connections whose deadline has passed.
//!
//! Deadlines fire up to one tick late; the tick is an eighth of the shortest
//! connection timeout (between 5 ms and 1 s).
//!
//! Times are whole milliseconds since the server's start, so a deadline is
//! one `u64` that a connection can move without locking. The sweeper keeps
//! only weak references: a connection that ends simply drops its deadline.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use crate::clock::Instant;
use crate::clock::now;

use futures::task::AtomicWaker;

use crate::runtime::Runtime;

/// No deadline set: the `at` value that never passes.
const NONE: u64 = u64::MAX;

/// Every connection deadline of one server, and the sweeper's pace.
///
/// One per [`HttpService`](crate::http::HttpService); every connection it serves
/// registers one [`Deadline`] here.
#[derive(Debug)]
pub(crate) struct Deadlines {
    /// The instant deadlines are counted from, in milliseconds.
    start: Instant,
    /// How long the sweeper sleeps between sweeps: the lateness bound.
    tick: Duration,
    /// The registered deadlines; dead ones are dropped at the next sweep.
    list: Mutex<Vec<Weak<Deadline>>>,
    /// Set once the sweeper task was spawned, so only one ever runs.
    sweeping: AtomicBool,
}

/// One connection's deadline.
///
/// The connection moves it with [`Deadlines::set`] and [`Deadline::clear`]
/// and waits on it with [`Deadline::poll_passed`]; the sweeper marks it
/// fired. Only one task (its connection) polls it.
#[derive(Debug)]
pub(crate) struct Deadline {
    /// Milliseconds since `Deadlines::start`, or `NONE`.
    at: AtomicU64,
    /// The `at` value the sweeper last found passed. A fire only counts
    /// while it still equals `at`, so a deadline moved later is never hit by
    /// a stale fire.
    fired: AtomicU64,
    /// The connection task to wake when the sweeper fires this deadline.
    waker: AtomicWaker,
}

impl Deadlines {
    /// Deadlines counted from `start`, swept at a pace set by the shortest
    /// connection timeout: an eighth of it, clamped to 5 ms ..= 1 s (a
    /// deadline fires at most one tick late). No task is started until the
    /// first [`Deadlines::register`].
    pub(crate) fn new(shortest_timeout: Duration, start: Instant) -> Self {
        Self {
            start,
            tick: (shortest_timeout / 8).clamp(Duration::from_millis(5), Duration::from_secs(1)),
            list: Mutex::new(Vec::new()),
            sweeping: AtomicBool::new(false),
        }
    }

    /// Milliseconds from `start` to `now`: 0 before `start`, and capped
    /// just below [`NONE`] so a real time is never taken for "unset".
    fn ms_at(&self, now: Instant) -> u64 {
        u64::try_from(now.saturating_duration_since(self.start).as_millis()).unwrap_or(NONE - 1)
    }

    /// A new deadline (unset), swept from now on. The first call starts the
    /// sweeper on `runtime`; it ends when the server's `Deadlines` is dropped.
    ///
    /// The sweeper holds the `Deadlines` only weakly, and only between
    /// sleeps; it notices the drop within one tick.
    pub(crate) fn register(self: &Arc<Self>, runtime: &Arc<dyn Runtime>) -> Arc<Deadline> {
        let deadline = Arc::new(Deadline {
            at: AtomicU64::new(NONE),
            fired: AtomicU64::new(0),
            waker: AtomicWaker::new(),
        });
        self.list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::downgrade(&deadline));
        if !self.sweeping.swap(true, Ordering::AcqRel) {
            runtime.spawn(Box::pin(sweep(Arc::downgrade(self), Arc::clone(runtime))));
        }
        deadline
    }

    /// Sets `deadline` to fire `after` from `now`, replacing any earlier
    /// setting; a fire already seen for the old time no longer counts.
    /// Durations too long to count in milliseconds mean "practically never".
    pub(crate) fn set(&self, deadline: &Deadline, after: Duration, now: Instant) {
        let after = u64::try_from(after.as_millis()).unwrap_or(NONE - 1);
        deadline.at.store(
            self.ms_at(now).saturating_add(after).min(NONE - 1),
            Ordering::Release,
        );
    }

    /// Marks the deadlines passed at `now` fired and wakes their
    /// connections; forgets those of closed connections.
    ///
    /// A passed deadline is woken at every sweep until its connection moves
    /// or clears it; a wake is cheap, and the connection moves, clears or
    /// drops its deadline as soon as it sees the fire.
    fn sweep_once(&self, now: Instant) {
        let now = self.ms_at(now);
        self.list
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|weak| {
                let Some(d) = weak.upgrade() else {
                    return false;
                };
                let at = d.at.load(Ordering::Acquire);
                if at != NONE && at <= now {
                    d.fired.store(at, Ordering::Release);
                    d.waker.wake();
                }
                true
            });
    }
}

impl Deadline {
    /// Clears the deadline: it never fires until set again (a connection
    /// busy with a handler or writing a stream has none).
    pub(crate) fn clear(&self) {
        self.at.store(NONE, Ordering::Release);
    }

    /// Ready once the current deadline has passed, as seen by the sweeper:
    /// up to one tick after the set time, never before it. Pending while
    /// unset. Registers `cx`'s waker, replacing the previous one, so only
    /// the latest poller is woken.
    pub(crate) fn poll_passed(&self, cx: &mut Context<'_>) -> Poll<()> {
        let passed = || {
            let at = self.at.load(Ordering::Acquire);
            at != NONE && self.fired.load(Ordering::Acquire) == at
        };
        if passed() {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        // A fire between the check and the registration would be lost otherwise.
        if passed() {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

/// The sweeper task: every tick, one [`Deadlines::sweep_once`] at the
/// current time, until the `Deadlines` is dropped.
async fn sweep(deadlines: Weak<Deadlines>, runtime: Arc<dyn Runtime>) {
    loop {
        let tick = match deadlines.upgrade() {
            Some(d) => d.tick,
            None => return,
        };
        runtime.sleep(tick).await;
        match deadlines.upgrade() {
            Some(d) => d.sweep_once(now()),
            None => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker_ref;

    #[test]
    fn fires_once_passed_and_not_for_a_moved_deadline() {
        let t0 = crate::clock::now();
        let ds = Deadlines::new(Duration::from_millis(80), t0);
        let d = Arc::new(Deadline {
            at: AtomicU64::new(NONE),
            fired: AtomicU64::new(0),
            waker: AtomicWaker::new(),
        });
        ds.list.lock().unwrap().push(Arc::downgrade(&d));
        let mut cx = Context::from_waker(noop_waker_ref());
        let at = |ms| t0 + Duration::from_millis(ms);
        ds.sweep_once(at(0));
        assert!(d.poll_passed(&mut cx).is_pending(), "unset never fires");
        ds.set(&d, Duration::from_millis(100), at(0));
        ds.sweep_once(at(99));
        assert!(d.poll_passed(&mut cx).is_pending(), "not yet");
        ds.sweep_once(at(100));
        assert!(d.poll_passed(&mut cx).is_ready());
        // Moved later: the old fire no longer counts.
        ds.set(&d, Duration::from_secs(60), at(100));
        assert!(d.poll_passed(&mut cx).is_pending());
        d.clear();
        ds.sweep_once(at(100_000));
        assert!(d.poll_passed(&mut cx).is_pending());
        drop(d);
        ds.sweep_once(at(100_000));
        assert!(
            ds.list.lock().unwrap().is_empty(),
            "closed connections are forgotten"
        );
    }
}
