//! A runtime on nothing but std: [`block_on_pool`] runs a small
//! single-threaded executor on the calling thread, with timers kept in a
//! list it sleeps on, and [`PoolReader`] reads a blocking source (stdin)
//! when nothing else can run. Enough to serve stdio with core alone, on a
//! host or under WASI, where neither smol nor tokio runs.
//!
//! ```text
//!  loop: poll the tasks that were woken ─▶ none left?
//!          ├─ timers due ─────────────▶ wake them
//!          ├─ a timer pending ────────▶ sleep until the earliest
//!          ├─ a reader wants bytes ───▶ read (blocks the thread) and wake it
//!          └─ nothing at all ─────────▶ park until another thread wakes a task
//! ```

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::io::{self, Read};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::Thread;
// The pool's timers wait in real time (`park_timeout`), so they count on
// std's clock, whatever clock the process adopted for core.
use std::time::{Duration, Instant};

use super::{BoxFuture, Runtime};

/// Bytes a [`PoolReader`] asks its source for at a time: as much as a pipe
/// usually holds, so a burst of lines takes one read.
const READ_CHUNK: usize = 8192;

/// The index [`block_on_pool`]'s own future is known by in the ready queue.
const MAIN: usize = usize::MAX;

/// Locks `mutex`, going on with its data if a panicking thread poisoned it:
/// every critical section here leaves the data consistent.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// What the runtime's handles share with the executor loop.
struct Shared {
    /// Tasks spawned (from any thread) that the loop has not taken yet;
    /// `None` once [`block_on_pool`] returned, when a task spawned is
    /// dropped at once (so none is left holding the runtime in a cycle).
    spawned: Mutex<Option<Vec<BoxFuture<()>>>>,
    /// Tasks woken, by index ([`MAIN`] for the main future), to poll next.
    ready: Mutex<VecDeque<usize>>,
    /// Pending sleeps by deadline, then by a number unique to each sleep.
    timers: Mutex<Timers>,
    /// Readers made on this runtime; one that wants bytes has a waker.
    readers: Mutex<Vec<Weak<Mutex<ReadSlot>>>>,
    /// The thread running the loop, unparked when another thread spawns or
    /// wakes a task.
    thread: Thread,
}

impl Shared {
    /// Queues task `index` to be polled and rouses the loop.
    fn wake(&self, index: usize) {
        lock(&self.ready).push_back(index);
        self.thread.unpark();
    }
}

/// The timer list.
#[derive(Default)]
struct Timers {
    /// Wakers of pending sleeps, the earliest first.
    pending: BTreeMap<(Instant, u64), Waker>,
    /// The number the next sleep gets.
    next: u64,
}

/// A runtime whose tasks run on the thread that called [`block_on_pool`].
///
/// It implements [`Runtime`], so it is `Send + Sync` and takes `Send`
/// futures, as the engine spawns; clones are cheap handles to the same
/// executor. A task spawned from another thread runs on the pool's thread
/// too. Timers are a list the executor sleeps on ([`Runtime::sleep`]
/// completes at or after its deadline, by std's monotonic clock).
#[derive(Clone)]
pub struct PoolRuntime {
    /// The executor's queues and timers.
    shared: Arc<Shared>,
}

impl fmt::Debug for PoolRuntime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PoolRuntime")
            .field("timers", &lock(&self.shared.timers).pending.len())
            .finish_non_exhaustive()
    }
}

impl Runtime for PoolRuntime {
    /// Queues `future` on the pool: it runs once the thread in
    /// [`block_on_pool`] gets to it, and is dropped unfinished if the main
    /// future ends first (at once, when spawned after that). A panic ends
    /// that task only where panics unwind (on `wasm32` they abort).
    fn spawn(&self, future: BoxFuture<()>) {
        let mut spawned = lock(&self.shared.spawned);
        let Some(queue) = spawned.as_mut() else {
            // Dropped outside the lock: its drop may spawn.
            drop(spawned);
            drop(future);
            return;
        };
        queue.push(future);
        drop(spawned);
        self.shared.thread.unpark();
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<()> {
        Box::pin(Sleep {
            shared: Arc::clone(&self.shared),
            deadline: Instant::now().checked_add(duration),
            key: None,
        })
    }
}

impl PoolRuntime {
    /// Wraps a blocking source (`std::io::stdin()`, say) as an
    /// `AsyncRead` that this pool reads for when nothing else can run.
    ///
    /// Reading blocks the pool's thread, so the pool reads only when no
    /// task is ready and no timer is pending: a timer fires on time, but
    /// bytes that arrive while one is pending wait for it (a request sent
    /// during a `sleep` is read when the sleep is over). Once the read
    /// started, timers wait for it to return. With several readers wanting
    /// bytes at once, the one made first is read first.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::io::AsyncReadExt;
    /// use switchboard_core::block_on_pool;
    ///
    /// let text = block_on_pool(|runtime| async move {
    ///     let mut reader = runtime.reader(&b"one line\n"[..]);
    ///     let mut text = String::new();
    ///     reader.read_to_string(&mut text).await.map(|_| text)
    /// })
    /// .unwrap();
    /// assert_eq!(text, "one line\n");
    /// ```
    pub fn reader(&self, source: impl Read + Send + 'static) -> PoolReader {
        let slot = Arc::new(Mutex::new(ReadSlot {
            source: Box::new(source),
            bytes: Vec::new(),
            taken: 0,
            error: None,
            eof: false,
            waiting: None,
        }));
        lock(&self.shared.readers).push(Arc::downgrade(&slot));
        PoolReader { slot }
    }
}

/// A [`PoolRuntime::sleep`]: pending until its deadline, registered in the
/// timer list while polled, removed from it when dropped.
struct Sleep {
    /// Where its timer is listed.
    shared: Arc<Shared>,
    /// When it completes; `None` for a duration too long to represent
    /// (never).
    deadline: Option<Instant>,
    /// Its entry in the timer list, once polled.
    key: Option<(Instant, u64)>,
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(deadline) = self.deadline else {
            return Poll::Pending;
        };
        if Instant::now() >= deadline {
            if let Some(key) = self.key.take() {
                lock(&self.shared.timers).pending.remove(&key);
            }
            return Poll::Ready(());
        }
        let mut timers = lock(&self.shared.timers);
        let key = match self.key {
            Some(key) => key,
            None => {
                let key = (deadline, timers.next);
                timers.next += 1;
                key
            }
        };
        timers.pending.insert(key, cx.waker().clone());
        drop(timers);
        self.key = Some(key);
        Poll::Pending
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            lock(&self.shared.timers).pending.remove(&key);
        }
    }
}

/// The state a [`PoolReader`] shares with the pool that reads for it.
struct ReadSlot {
    /// The blocking source.
    source: Box<dyn Read + Send>,
    /// The last chunk read.
    bytes: Vec<u8>,
    /// How much of `bytes` the reader has taken.
    taken: usize,
    /// An error from the source, for the next `poll_read`.
    error: Option<io::Error>,
    /// The source returned 0 bytes.
    eof: bool,
    /// The reader's waker while it waits for bytes.
    waiting: Option<Waker>,
}

impl ReadSlot {
    /// Reads one chunk from the source (blocking) and wakes the reader.
    fn fill(&mut self) {
        self.bytes.resize(READ_CHUNK, 0);
        self.taken = 0;
        loop {
            match self.source.read(&mut self.bytes) {
                Ok(n) => {
                    self.bytes.truncate(n);
                    self.eof = n == 0;
                    break;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.bytes.clear();
                    self.error = Some(e);
                    break;
                }
            }
        }
        if let Some(waker) = self.waiting.take() {
            waker.wake();
        }
    }
}

/// A blocking source read by a [`PoolRuntime`] when nothing else can run;
/// made with [`PoolRuntime::reader`].
///
/// As a `futures::io::AsyncRead` it fits
/// [`StdioTransport`](crate::StdioTransport). Its end is the source's: a
/// read of 0 bytes (the end of stdin) is the end of the reader, after which
/// it returns 0 again.
pub struct PoolReader {
    /// What it shares with the pool.
    slot: Arc<Mutex<ReadSlot>>,
}

impl fmt::Debug for PoolReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slot = lock(&self.slot);
        f.debug_struct("PoolReader")
            .field("buffered", &(slot.bytes.len() - slot.taken))
            .field("eof", &slot.eof)
            .finish_non_exhaustive()
    }
}

impl futures::io::AsyncRead for PoolReader {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut slot = lock(&self.slot);
        if let Some(error) = slot.error.take() {
            return Poll::Ready(Err(error));
        }
        let available = &slot.bytes[slot.taken..];
        if !available.is_empty() || slot.eof || buf.is_empty() {
            let n = available.len().min(buf.len());
            buf[..n].copy_from_slice(&available[..n]);
            slot.taken += n;
            return Poll::Ready(Ok(n));
        }
        slot.waiting = Some(cx.waker().clone());
        Poll::Pending
    }
}

/// Wakes one task of the pool by queueing its index; a flag keeps a task
/// from being queued twice before it is polled.
struct TaskWaker {
    /// The task's index ([`MAIN`] for the main future).
    index: usize,
    /// Queued and not yet polled.
    queued: AtomicBool,
    /// The pool's queues.
    shared: Weak<Shared>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.queued.swap(true, Ordering::AcqRel) {
            return;
        }
        if let Some(shared) = self.shared.upgrade() {
            shared.wake(self.index);
        }
    }
}

/// A spawned task and its waker.
struct Task {
    /// The task.
    future: BoxFuture<()>,
    /// Its waker's flag, cleared before each poll.
    flag: Arc<TaskWaker>,
    /// Its waker.
    waker: Waker,
}

/// Runs `main` on this thread with a [`PoolRuntime`] for it to spawn on and
/// sleep with, and returns what it returns. Tasks still running then are
/// dropped (as with `switchboard_smol::block_on_local`).
///
/// No runtime crate is involved: the executor is a queue of woken tasks,
/// the timers a list it sleeps on (`std::thread::sleep` on `wasm32`,
/// `park_timeout` elsewhere, so that another thread can wake it). Reads of
/// blocking sources go through [`PoolRuntime::reader`], which says when
/// they happen. With nothing ready, no timer and no reader waiting, the
/// loop parks until another thread wakes a task; on `wasm32`, where no
/// other thread can, that is a deadlock and it panics.
///
/// # Panics
///
/// On `wasm32`, when every task waits and nothing can wake one.
///
/// # Examples
///
/// A server on stdin and stdout, with nothing but core (the `wasi/`
/// package of this repository serves `hello` this way):
///
/// ```no_run
/// use std::sync::Arc;
/// use futures::io::AllowStdIo;
/// use switchboard_core::{McpServerBuilder, StdioTransport, block_on_pool};
///
/// block_on_pool(|runtime| async move {
///     let transport = StdioTransport::new(
///         runtime.reader(std::io::stdin()),
///         AllowStdIo::new(std::io::stdout()),
///     );
///     let server = McpServerBuilder::new()
///         .server_info("demo", "1.0.0")
///         .runtime(Arc::new(runtime))
///         .build(transport);
///     // At the end of stdin the requests in flight are answered, then it returns.
///     server.run().await
/// })
/// .unwrap();
/// ```
///
/// Timers and spawned tasks:
///
/// ```
/// use std::time::{Duration, Instant};
/// use futures::StreamExt;
/// use switchboard_core::{Runtime, block_on_pool};
///
/// let start = Instant::now();
/// let order = block_on_pool(|runtime| async move {
///     let (tx, rx) = futures::channel::mpsc::unbounded();
///     for ms in [20, 10] {
///         let (timer, tx) = (runtime.clone(), tx.clone());
///         runtime.spawn(Box::pin(async move {
///             timer.sleep(Duration::from_millis(ms)).await;
///             tx.unbounded_send(ms).unwrap();
///         }));
///     }
///     rx.take(2).collect::<Vec<_>>().await
/// });
/// assert_eq!(order, [10, 20]);
/// assert!(start.elapsed() >= Duration::from_millis(20));
/// ```
pub fn block_on_pool<F, Fut>(main: F) -> Fut::Output
where
    F: FnOnce(PoolRuntime) -> Fut,
    Fut: Future,
{
    let shared = Arc::new(Shared {
        spawned: Mutex::new(Some(Vec::new())),
        ready: Mutex::new(VecDeque::from([MAIN])),
        timers: Mutex::new(Timers::default()),
        readers: Mutex::new(Vec::new()),
        thread: std::thread::current(),
    });
    let runtime = PoolRuntime {
        shared: Arc::clone(&shared),
    };
    super::adopt_clock(&runtime);
    let mut main = pin!(main(runtime));
    let main_flag = Arc::new(TaskWaker {
        index: MAIN,
        queued: AtomicBool::new(true),
        shared: Arc::downgrade(&shared),
    });
    let main_waker = Waker::from(Arc::clone(&main_flag));
    let mut tasks: Vec<Option<Task>> = Vec::new();
    let mut free: Vec<usize> = Vec::new();
    loop {
        let new = lock(&shared.spawned).as_mut().map(std::mem::take);
        for future in new.into_iter().flatten() {
            let index = free.pop().unwrap_or(tasks.len());
            let flag = Arc::new(TaskWaker {
                index,
                queued: AtomicBool::new(true),
                shared: Arc::downgrade(&shared),
            });
            let task = Task {
                future,
                waker: Waker::from(Arc::clone(&flag)),
                flag,
            };
            if index == tasks.len() {
                tasks.push(Some(task));
            } else {
                tasks[index] = Some(task);
            }
            lock(&shared.ready).push_back(index);
        }
        let next = lock(&shared.ready).pop_front();
        if let Some(index) = next {
            if index == MAIN {
                main_flag.queued.store(false, Ordering::Release);
                if let Poll::Ready(output) =
                    main.as_mut().poll(&mut Context::from_waker(&main_waker))
                {
                    // Close the queue before the tasks left go: what they
                    // spawn as they drop is dropped too.
                    let queued = lock(&shared.spawned).take();
                    drop(queued);
                    drop(tasks);
                    return output;
                }
            } else if let Some(task) = tasks.get_mut(index).and_then(Option::as_mut) {
                task.flag.queued.store(false, Ordering::Release);
                let mut cx = Context::from_waker(&task.waker);
                // A panicking task ends, as the `Runtime` contract says.
                let polled = catch_unwind(AssertUnwindSafe(|| task.future.as_mut().poll(&mut cx)));
                if !matches!(polled, Ok(Poll::Pending)) {
                    tasks[index] = None;
                    free.push(index);
                }
            }
            continue;
        }
        if lock(&shared.spawned)
            .as_ref()
            .is_some_and(|queue| !queue.is_empty())
        {
            continue;
        }
        idle(&shared);
    }
}

/// Nothing is ready: fires the timers that are due, or waits for the next
/// one, or reads for a waiting reader, or parks.
fn idle(shared: &Shared) {
    let now = Instant::now();
    let mut timers = lock(&shared.timers);
    if let Some((&(deadline, _), _)) = timers.pending.first_key_value() {
        if deadline <= now {
            // Every due timer leaves the list and is woken; its sleep, once
            // polled, finds its deadline past and completes.
            let later = timers.pending.split_off(&(now, u64::MAX));
            let due = std::mem::replace(&mut timers.pending, later);
            drop(timers);
            due.into_values().for_each(Waker::wake);
        } else {
            drop(timers);
            wait(deadline - now);
        }
        return;
    }
    drop(timers);
    let waiting = lock(&shared.readers)
        .iter()
        .find_map(|slot| slot.upgrade().filter(|slot| lock(slot).waiting.is_some()));
    if let Some(slot) = waiting {
        lock(&slot).fill();
        return;
    }
    lock(&shared.readers).retain(|slot| slot.strong_count() > 0);
    park();
}

/// Waits `duration`, or less when another thread wakes the pool.
fn wait(duration: Duration) {
    if cfg!(target_family = "wasm") {
        // No other thread can wake this one, and parking may return at once.
        std::thread::sleep(duration);
    } else {
        std::thread::park_timeout(duration);
    }
}

/// Waits for another thread to wake the pool.
fn park() {
    if cfg!(target_family = "wasm") {
        panic!("block_on_pool: every task waits and nothing can wake one");
    }
    std::thread::park();
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use futures::io::{AllowStdIo, AsyncReadExt, Cursor};

    use super::*;

    /// A writer into a buffer the test reads back.
    struct Out(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Out {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            lock(&self.0).extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Spawned tasks run on the calling thread, a panicking one ends alone,
    /// and a task spawned from another thread runs too.
    #[test]
    fn tasks_run_here_and_a_panic_ends_only_its_task() {
        let here = std::thread::current().id();
        let ran = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&ran);
        block_on_pool(|runtime| async move {
            runtime.spawn(Box::pin(async { panic!("this task only") }));
            let (done, finished) = futures::channel::oneshot::channel();
            let remote = runtime.clone();
            std::thread::spawn(move || {
                remote.spawn(Box::pin(async move {
                    assert_eq!(std::thread::current().id(), here);
                    seen.fetch_add(1, Ordering::Relaxed);
                    let _ = done.send(());
                }));
            });
            finished.await.unwrap();
        });
        assert_eq!(ran.load(Ordering::Relaxed), 1);
    }

    /// What is still spawned when the main future ends is dropped, and so is
    /// a task spawned afterwards: nothing keeps the runtime alive.
    #[test]
    fn tasks_left_at_the_end_are_dropped() {
        let runtime = block_on_pool(|runtime| async move {
            let forever = runtime.clone();
            runtime.spawn(Box::pin(async move {
                forever.sleep(Duration::from_secs(3600)).await;
            }));
            runtime.spawn(Box::pin(futures::future::pending()));
            runtime
        });
        let held = Arc::new(());
        let task = Arc::clone(&held);
        runtime.spawn(Box::pin(async move { drop(task) }));
        assert_eq!(Arc::strong_count(&held), 1, "the late task was dropped");
        assert_eq!(
            Arc::strong_count(&runtime.shared),
            1,
            "only this handle holds the pool"
        );
    }

    /// Handlers that are not `Send` ([`crate::LocalServerBuilder`]) run on
    /// the pool too: its main future need not be `Send`.
    #[test]
    fn local_handlers_with_rc_state_serve_on_the_pool() {
        use std::cell::Cell;
        use std::rc::Rc;

        use crate::{McpServerBuilder, StdioTransport, Tool};
        let mut input = String::from(concat!(
            r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","#,
            r#""capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#,
            "\n",
        ));
        for id in 1..=5 {
            input.push_str(&format!(
                r#"{{"jsonrpc":"2.0","id":{id},"method":"tools/call","params":{{"name":"count"}}}}"#
            ));
            input.push('\n');
        }
        let output = Arc::new(Mutex::new(Vec::new()));
        let written = Arc::clone(&output);
        block_on_pool(|runtime| async move {
            let count = Rc::new(Cell::new(0u64));
            let transport = StdioTransport::new(
                runtime.reader(std::io::Cursor::new(input)),
                AllowStdIo::new(Out(written)),
            );
            McpServerBuilder::new()
                .runtime(Arc::new(runtime))
                .local()
                .tool(
                    Tool::new("count", "Counts"),
                    move |_: serde_json::Value, _ctx| {
                        let count = Rc::clone(&count);
                        async move {
                            count.set(count.get() + 1);
                            Ok(crate::CallToolResult::text(count.get().to_string()))
                        }
                    },
                )
                .build(transport)
                .run()
                .await
        })
        .unwrap();
        let written = String::from_utf8(lock(&output).clone()).unwrap();
        let mut counts: Vec<String> = written
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|reply| reply["id"] != 0)
            .map(|reply| {
                reply["result"]["content"][0]["text"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        counts.sort();
        assert_eq!(counts, ["1", "2", "3", "4", "5"]);
    }

    /// A sleep waits its time; a dropped one leaves the timer list.
    #[test]
    fn sleeps_wait_and_dropped_ones_leave_the_list() {
        let start = std::time::Instant::now();
        block_on_pool(|runtime| async move {
            let long = runtime.sleep(Duration::from_secs(3600));
            let short = runtime.sleep(Duration::from_millis(15));
            let raced = futures::future::select(long, short).await;
            assert!(matches!(raced, futures::future::Either::Right(_)));
            assert_eq!(lock(&runtime.shared.timers).pending.len(), 1);
            drop(raced);
            assert_eq!(lock(&runtime.shared.timers).pending.len(), 0);
        });
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(15), "{elapsed:?}");
        assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    }

    /// A reader is read only when no timer is pending: a timer set before
    /// the read fires first, on time.
    #[test]
    fn timers_fire_before_a_blocking_read() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&order);
        /// A source that logs when it is read.
        struct Logged(Arc<Mutex<Vec<&'static str>>>, &'static [u8]);
        impl Read for Logged {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                lock(&self.0).push("read");
                Read::read(&mut self.1, buf)
            }
        }
        let got = block_on_pool(|runtime| async move {
            let timer = runtime.clone();
            let log_timer = Arc::clone(&log);
            runtime.spawn(Box::pin(async move {
                timer.sleep(Duration::from_millis(10)).await;
                lock(&log_timer).push("timer");
            }));
            let mut reader = runtime.reader(Logged(log, b"abc"));
            let mut text = String::new();
            reader.read_to_string(&mut text).await.unwrap();
            text
        });
        assert_eq!(got, "abc");
        assert_eq!(*lock(&order), ["timer", "read", "read"]);
    }

    /// An error from the source reaches the reader.
    #[test]
    fn a_read_error_reaches_the_reader() {
        /// A source that always fails.
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
        }
        let error = block_on_pool(|runtime| async move {
            let mut buf = [0; 4];
            runtime.reader(Broken).read(&mut buf).await.unwrap_err()
        });
        assert_eq!(error.kind(), io::ErrorKind::BrokenPipe);
    }

    /// The end of the input ends a stdio server only once every request in
    /// flight is answered: a `sleep` sent last still gets its reply and its
    /// progress. The input is a `Cursor`, not a [`PoolReader`], so that its
    /// end is read while the sleep is still pending (a `PoolReader` would be
    /// read only after it).
    #[test]
    fn a_stdio_server_answers_what_is_in_flight_at_the_end_of_input() {
        use crate::{McpServerBuilder, StdioTransport, Tool};
        let input = concat!(
            r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","#,
            r#""capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#,
            "\n",
            r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            "\n",
            r#"{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"nap","_meta":{"progressToken":7}}}"#,
            "\n",
        );
        let output = Arc::new(Mutex::new(Vec::new()));
        let written = Arc::clone(&output);
        block_on_pool(|runtime| async move {
            let transport =
                StdioTransport::new(Cursor::new(input.as_bytes()), AllowStdIo::new(Out(written)));
            McpServerBuilder::new()
                .runtime(Arc::new(runtime))
                .tool(
                    Tool::new("nap", "Naps"),
                    |_: serde_json::Value, ctx| async move {
                        let timer = ctx.runtime().cloned().unwrap();
                        timer.sleep(Duration::from_millis(5)).await;
                        let _ = ctx.progress(1.0, Some(1.0), None).await;
                        Ok(crate::CallToolResult::text("napped"))
                    },
                )
                .build(transport)
                .run()
                .await
        })
        .unwrap();
        let written = String::from_utf8(lock(&output).clone()).unwrap();
        let replies: Vec<serde_json::Value> = written
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(replies.len(), 3, "{written}");
        assert_eq!(replies[1]["method"], "notifications/progress");
        assert_eq!(replies[1]["params"]["progressToken"], 7);
        assert_eq!(replies[2]["id"], 2);
        assert_eq!(replies[2]["result"]["content"][0]["text"], "napped");
    }
}
