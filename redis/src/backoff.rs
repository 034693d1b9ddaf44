//! The wait between two attempts to reach Redis: none before the first,
//! then [`FIRST_BACKOFF`] doubling to [`MAX_BACKOFF`].

use std::time::Duration;

/// The first wait after a failed attempt.
pub(crate) const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between two attempts: Redis back after a restart is
/// found within this.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// How long to wait before the next attempt; time is not read here, the
/// caller sleeps for [`Backoff::wait`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Backoff {
    wait: Duration,
}

impl Backoff {
    /// The wait before the next attempt: zero until an attempt failed.
    pub(crate) fn wait(self) -> Duration {
        self.wait
    }

    /// Notes a failed attempt: the next wait doubles, within
    /// [`FIRST_BACKOFF`]..=[`MAX_BACKOFF`].
    pub(crate) fn failed(&mut self) {
        self.wait = (self.wait * 2).clamp(FIRST_BACKOFF, MAX_BACKOFF);
    }

    /// Notes a success after which the next attempt follows a drop, not a
    /// failure: waits [`FIRST_BACKOFF`] (a server that just closed the
    /// connection is not hammered).
    pub(crate) fn succeeded(&mut self) {
        self.wait = FIRST_BACKOFF;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_attempt_does_not_wait() {
        assert_eq!(Backoff::default().wait(), Duration::ZERO);
    }

    #[test]
    fn failures_double_the_wait_up_to_the_cap() {
        let mut backoff = Backoff::default();
        let waits: Vec<_> = (0..9)
            .map(|_| {
                backoff.failed();
                backoff.wait().as_millis()
            })
            .collect();
        assert_eq!(waits, [100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    }

    #[test]
    fn a_success_resets_the_wait_to_the_first_backoff() {
        let mut backoff = Backoff::default();
        for _ in 0..5 {
            backoff.failed();
        }
        backoff.succeeded();
        assert_eq!(backoff.wait(), FIRST_BACKOFF);
        backoff.failed();
        assert_eq!(backoff.wait(), 2 * FIRST_BACKOFF);
    }
}
