//! The simulated runtime: one thread, a scheduler that picks the next
//! ready task with a seeded PRNG, and timers on a virtual clock that jumps
//! to the next deadline when no task is ready. It implements core's
//! `Runtime` trait, so the server runs on it as it runs on smol or tokio,
//! and it moves core's clock (`switchboard_core::simulation`) with its own.

use std::collections::BTreeMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use switchboard_core::{BoxFuture, Runtime};

use super::trace::Trace;

/// A small seeded PRNG (splitmix64): fast, and the same numbers everywhere.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`, on stream `stream` (so the parts of
    /// one simulation draw independent numbers).
    pub(crate) fn new(seed: u64, stream: u64) -> Self {
        let mut rng = Self(seed ^ stream.wrapping_mul(0xd1b5_4a32_d192_ed03));
        rng.next_u64();
        rng
    }

    /// The next 64 random bits.
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// A number in `lo..=hi`.
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }

    /// True with probability `percent`/100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// What the tasks and timers share with the scheduler.
struct Shared {
    /// Tasks spawned since the scheduler last looked.
    spawned: Vec<BoxFuture<()>>,
    /// Ids of tasks woken and not yet polled, in wake order.
    ready: Vec<usize>,
    /// Whether each task is in `ready` (by id).
    queued: Vec<bool>,
    /// Virtual time since the start.
    now: Duration,
    /// Pending timers by (deadline, sequence number).
    timers: BTreeMap<(Duration, u64), Waker>,
    /// The next timer's sequence number.
    next_timer: u64,
    /// Tasks spawned and not finished.
    alive: usize,
}

/// The simulated runtime. Cheap to clone; every clone is the same runtime.
#[derive(Clone)]
pub(crate) struct SimRuntime {
    shared: Arc<Mutex<Shared>>,
    trace: Trace,
}

impl std::fmt::Debug for SimRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SimRuntime")
    }
}

impl SimRuntime {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Virtual time since the simulation started.
    pub(crate) fn elapsed(&self) -> Duration {
        self.lock().now
    }

    /// Tasks spawned and not finished (the caller's own included).
    pub(crate) fn tasks_alive(&self) -> usize {
        self.lock().alive
    }

    /// Pending timers.
    pub(crate) fn timers(&self) -> usize {
        self.lock().timers.len()
    }

    /// The simulation's trace.
    pub(crate) fn trace(&self) -> &Trace {
        &self.trace
    }
}

impl Runtime for SimRuntime {
    fn spawn(&self, future: BoxFuture<()>) {
        self.lock().spawned.push(future);
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        let deadline = self.elapsed() + duration;
        Box::pin(Sleep {
            runtime: self.clone(),
            deadline,
            key: None,
        })
    }
}

/// A timer on the virtual clock; dropping it cancels it.
struct Sleep {
    runtime: SimRuntime,
    deadline: Duration,
    key: Option<(Duration, u64)>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let runtime = self.runtime.clone();
        let mut shared = runtime.lock();
        if shared.now >= self.deadline {
            if let Some(key) = self.key.take() {
                shared.timers.remove(&key);
            }
            return Poll::Ready(());
        }
        let key = match self.key {
            Some(key) => key,
            None => {
                let key = (self.deadline, shared.next_timer);
                shared.next_timer += 1;
                self.key = Some(key);
                key
            }
        };
        shared.timers.insert(key, cx.waker().clone());
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.runtime.lock().timers.remove(&key);
        }
    }
}

/// Wakes task `id` by queueing it in the ready list.
struct TaskWaker {
    id: usize,
    shared: Arc<Mutex<Shared>>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let mut shared = self.shared.lock().unwrap_or_else(|e| e.into_inner());
        if !shared.queued[self.id] {
            shared.queued[self.id] = true;
            shared.ready.push(self.id);
        }
    }
}

/// How a simulation run ended, when it did not end well.
#[derive(Debug)]
pub(crate) enum Stall {
    /// A task panicked: its message.
    Panic(String),
    /// Nothing was ready and no timer was pending, yet the main task had
    /// not finished.
    Deadlock,
    /// Virtual time passed the limit.
    TimeLimit,
}

/// The scheduler: owns the tasks and runs them on this thread.
pub(crate) struct Executor {
    runtime: SimRuntime,
    tasks: Vec<Option<BoxFuture<()>>>,
    wakers: Vec<Waker>,
    rng: Rng,
}

impl Executor {
    /// A scheduler drawing its choices from `seed`, and installing core's
    /// simulation hooks (clock and random bytes) on this thread.
    pub(crate) fn new(seed: u64, trace: Trace) -> Self {
        switchboard_core::simulation::install(
            switchboard_core::clock::now(),
            Rng::new(seed, 1).next_u64(),
        );
        Self {
            runtime: SimRuntime {
                shared: Arc::new(Mutex::new(Shared {
                    spawned: Vec::new(),
                    ready: Vec::new(),
                    queued: Vec::new(),
                    now: Duration::ZERO,
                    timers: BTreeMap::new(),
                    next_timer: 0,
                    alive: 0,
                })),
                trace,
            },
            tasks: Vec::new(),
            wakers: Vec::new(),
            rng: Rng::new(seed, 2),
        }
    }

    /// The runtime to give the server and the clients.
    pub(crate) fn runtime(&self) -> SimRuntime {
        self.runtime.clone()
    }

    /// Moves spawned tasks into the task table, each ready to run.
    fn adopt(&mut self) {
        let spawned = std::mem::take(&mut self.runtime.lock().spawned);
        for future in spawned {
            let id = self.tasks.len();
            self.tasks.push(Some(future));
            self.wakers.push(Waker::from(Arc::new(TaskWaker {
                id,
                shared: Arc::clone(&self.runtime.shared),
            })));
            let mut shared = self.runtime.lock();
            shared.queued.push(true);
            shared.ready.push(id);
            shared.alive += 1;
            drop(shared);
            self.runtime.trace.tick(format_args!("spawn {id}"));
        }
    }

    /// Runs `main` and every task it spawns until `main` finishes, or a
    /// task panics, or nothing can run, or virtual time passes `limit`.
    pub(crate) fn run(&mut self, main: BoxFuture<()>, limit: Duration) -> Result<(), Stall> {
        let done = Arc::new(Mutex::new(false));
        let flag = Arc::clone(&done);
        self.runtime.spawn(Box::pin(async move {
            main.await;
            *flag.lock().unwrap() = true;
        }));
        loop {
            self.adopt();
            if *done.lock().unwrap() {
                return Ok(());
            }
            let next = {
                let mut shared = self.runtime.lock();
                if shared.ready.is_empty() {
                    None
                } else {
                    let i = self.rng.below(shared.ready.len() as u64) as usize;
                    let id = shared.ready.swap_remove(i);
                    shared.queued[id] = false;
                    Some(id)
                }
            };
            if let Some(id) = next {
                let Some(mut task) = self.tasks[id].take() else {
                    continue;
                };
                let waker = self.wakers[id].clone();
                let mut cx = Context::from_waker(&waker);
                match std::panic::catch_unwind(AssertUnwindSafe(|| task.as_mut().poll(&mut cx))) {
                    Ok(Poll::Pending) => self.tasks[id] = Some(task),
                    Ok(Poll::Ready(())) => {
                        self.runtime.lock().alive -= 1;
                        self.runtime.trace.tick(format_args!("end {id}"));
                    }
                    Err(panic) => {
                        let message = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                            .unwrap_or_default();
                        return Err(Stall::Panic(message));
                    }
                }
                continue;
            }
            // Nothing ready: jump to the next deadline and fire every timer due.
            let mut shared = self.runtime.lock();
            let Some((&(deadline, _), _)) = shared.timers.first_key_value() else {
                return Err(Stall::Deadlock);
            };
            if deadline > limit {
                return Err(Stall::TimeLimit);
            }
            shared.now = shared.now.max(deadline);
            let now = shared.now;
            let mut due = Vec::new();
            while let Some(entry) = shared.timers.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                due.push(entry.remove());
            }
            drop(shared);
            switchboard_core::simulation::advance_to(now);
            self.runtime
                .trace
                .tick(format_args!("time {}", now.as_micros()));
            for waker in due {
                waker.wake();
            }
        }
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // Tasks are dropped here, on this thread, with the hooks still in
        // place (their destructors may read the clock).
        self.tasks.clear();
        // Dropped after the lock is let go: a task's destructor may read
        // the clock.
        let spawned = std::mem::take(&mut self.runtime.lock().spawned);
        drop(spawned);
        switchboard_core::simulation::uninstall();
    }
}
