//! Hooks for deterministic simulation tests, behind the `simulation`
//! feature: a virtual clock and seeded random bytes, per thread. Not part
//! of the API; it may change in any release.
//!
//! A simulation runs the whole server on one thread. It [`install`]s the
//! hooks there, moves the clock with [`advance_to`] as its timers fire,
//! and [`uninstall`]s them at the end. While they are installed, every
//! read of the clock in core (the monotonic one and the wall clock that
//! `requestState` expiry counts in) and every random byte core draws (ids,
//! the `requestState` key) on that thread come from them; other threads
//! are untouched.

use std::cell::RefCell;
use std::time::Duration;

use crate::clock::{self, Instant};

/// The sizes of an engine's tables, for a simulation's end-of-run checks
/// ([`McpServer::simulation_tables`](crate::McpServer::simulation_tables)).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tables {
    /// Sessions open in the session table.
    pub sessions: usize,
    /// Carriers of stateless requests open.
    pub carriers: usize,
    /// Streams (open or kept for resumption) of those sessions and carriers.
    pub streams: usize,
    /// Client requests in flight in them.
    pub in_flight: usize,
    /// Server→client requests awaiting an answer in them.
    pub pending: usize,
}

/// The Unix time, in seconds, at which a simulation's wall clock starts.
pub const UNIX_START: u64 = 1_800_000_000;

/// One thread's random stream (its clock is the clock module's virtual
/// time).
#[derive(Debug)]
struct Hooks {
    /// The instant virtual time counts from.
    start: Instant,
    /// A splitmix64 state.
    random: u64,
}

thread_local! {
    static HOOKS: RefCell<Option<Hooks>> = const { RefCell::new(None) };
}

/// Installs the hooks on this thread: the clock reads `start` until moved,
/// random bytes come from a stream seeded with `seed`.
pub fn install(start: Instant, seed: u64) {
    HOOKS.with(|h| {
        *h.borrow_mut() = Some(Hooks {
            start,
            random: seed,
        });
    });
    clock::set_virtual(Some((start, Duration::from_secs(UNIX_START))));
}

/// Moves this thread's virtual clock to `elapsed` after its start. Does
/// nothing without [`install`].
pub fn advance_to(elapsed: Duration) {
    HOOKS.with(|h| {
        if let Some(hooks) = h.borrow().as_ref() {
            clock::set_virtual(Some((
                hooks.start + elapsed,
                Duration::from_secs(UNIX_START) + elapsed,
            )));
        }
    });
}

/// Removes this thread's hooks: core reads the real clock and the OS's
/// randomness again.
pub fn uninstall() {
    HOOKS.with(|h| *h.borrow_mut() = None);
    clock::set_virtual(None);
}

/// Fills `bytes` from the seeded stream; false (nothing written) when the
/// hooks are not installed on this thread.
pub(crate) fn fill(bytes: &mut [u8]) -> bool {
    HOOKS.with(|h| {
        let mut hooks = h.borrow_mut();
        let Some(hooks) = hooks.as_mut() else {
            return false;
        };
        for chunk in bytes.chunks_mut(8) {
            hooks.random = hooks.random.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = hooks.random;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            chunk.copy_from_slice(&z.to_le_bytes()[..chunk.len()]);
        }
        true
    })
}
