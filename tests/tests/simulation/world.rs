//! What every simulated client shares: the runtime, the network's accept
//! queue and fault draws, the shutdown signal, and the checks.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchboard_core::Runtime;
use switchboard_core::http::Shutdown;

use super::client::Conn;
use super::executor::{Rng, SimRuntime};
use super::net::{self, End, Faults};

/// Time a response may make no write progress (short, so stalled readers
/// are cut within the run).
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// Time connections get to finish after the shutdown signal: longer than
/// the slowest replay over a slow link (80 KB at under 2 KB/s), so every
/// call in flight can be answered within it.
pub(crate) const GRACE: Duration = Duration::from_secs(60);
/// Time to receive a request once started (the default).
pub(crate) const REQUEST_TIMEOUT: Duration = switchboard_core::http::DEFAULT_REQUEST_TIMEOUT;
/// Time a keep-alive connection may sit idle.
pub(crate) const KEEP_ALIVE: Duration = Duration::from_secs(600);

/// How often each behaviour happened, over every run of the process.
pub(crate) static STATS: Mutex<std::collections::BTreeMap<&'static str, u64>> =
    Mutex::new(std::collections::BTreeMap::new());

/// The shared state of one run.
pub(crate) struct World {
    pub(crate) rt: SimRuntime,
    accept: async_channel::Sender<End>,
    net: Mutex<(Rng, u64)>,
    pub(crate) shutdown: Shutdown,
    /// Percent of connections with misbehaving (but not cutting) ends.
    pub(crate) noisy: u64,
    /// Idle time after which a session ends (drawn per run).
    pub(crate) idle: Duration,
    /// Tool list changes announced: when each `announce` call was sent
    /// and when its result arrived.
    announces: Mutex<Vec<(Duration, Duration)>>,
    /// When the server dropped its listener.
    pub(crate) listener_closed: Mutex<Option<Duration>>,
}

impl World {
    pub(crate) fn new(
        rt: SimRuntime,
        seed: u64,
        shutdown: Shutdown,
        idle: Duration,
    ) -> (Arc<Self>, async_channel::Receiver<End>) {
        let (accept, accepted) = async_channel::unbounded();
        let mut rng = Rng::new(seed, 3);
        let noisy = [0, 20, 50, 100][rng.below(4) as usize];
        let world = Self {
            rt,
            accept,
            net: Mutex::new((rng, 0)),
            shutdown,
            noisy,
            idle,
            announces: Mutex::new(Vec::new()),
            listener_closed: Mutex::new(None),
        };
        (Arc::new(world), accepted)
    }

    /// Counts one more `what` in the coverage tally (not in the trace).
    pub(crate) fn count(&self, what: &'static str) {
        *STATS
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(what)
            .or_insert(0) += 1;
    }

    /// Notes a tool list change announced between `sent` and `answered`.
    pub(crate) fn announced(&self, sent: Duration, answered: Duration) {
        self.announces.lock().unwrap().push((sent, answered));
    }

    /// An announcement a GET stream listening from `attached` until now,
    /// which last heard a list change at `heard`, should have heard and
    /// did not: one sent after it attached and answered well before now
    /// (a margin for the notification still on its way).
    pub(crate) fn unheard(
        &self,
        attached: Duration,
        heard: Option<Duration>,
    ) -> Option<(Duration, Duration)> {
        let now = self.rt.elapsed();
        let owed: Vec<(Duration, Duration)> = self
            .announces
            .lock()
            .unwrap()
            .iter()
            .copied()
            .filter(|&(sent, answered)| sent > attached && answered + Duration::from_secs(3) <= now)
            .collect();
        if !owed.is_empty() {
            self.count("GET stream owed a list change (checked it came)");
        }
        owed.into_iter()
            .find(|&(sent, _)| heard.is_none_or(|h| h < sent))
    }

    /// Records an event in the trace, stamped with virtual time.
    pub(crate) fn log(&self, event: std::fmt::Arguments<'_>) {
        let ms = self.rt.elapsed().as_millis();
        self.rt.trace().record(format_args!("{ms} {event}"));
    }

    /// Fails the run (the executor reports the panic with the seed).
    #[track_caller]
    pub(crate) fn check(&self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            let message = what();
            self.log(format_args!("VIOLATION {message}"));
            panic!("invariant violated: {message}");
        }
    }

    /// Whether the shutdown signal has fired.
    pub(crate) fn shutting_down(&self) -> bool {
        self.shutdown.is_triggered()
    }

    /// Whether a shutdown's grace has run out: the server then cuts every
    /// connection still open, a stream whose call has not finished included.
    pub(crate) fn out_of_grace(&self) -> bool {
        let closed = *self.listener_closed.lock().unwrap();
        closed.is_some_and(|at| self.rt.elapsed() >= at + GRACE)
    }

    fn faults(rng: &mut Rng, noisy: bool) -> Faults {
        if !noisy {
            return Faults::default();
        }
        // Small pieces and delays, but not both at their worst: a client
        // reads its socket buffer at memory speed, and one that takes
        // minutes over a few kilobytes is a stalled one (a plan of its own).
        Faults {
            read_piece: [0, 3, 17, 200][rng.below(4) as usize],
            write_piece: [0, 1, 5, 64][rng.below(4) as usize],
            delay_percent: [0, 2, 10][rng.below(3) as usize],
            delay_ms: rng.range(1, 40),
            slow_reads: false,
        }
    }

    /// A new connection to the server; `None` once the server no longer
    /// accepts (refused).
    pub(crate) fn connect(&self) -> Option<Conn> {
        self.connect_with(None)
    }

    /// A new connection with buffers of `capacity` bytes each way (or
    /// drawn).
    pub(crate) fn connect_with(&self, capacity: Option<usize>) -> Option<Conn> {
        let (client, server) = {
            let mut net = self.net.lock().unwrap();
            net.1 += 1;
            let number = net.1;
            let rng = &mut net.0;
            let noisy = rng.chance(self.noisy);
            let capacity = if let Some(capacity) = capacity {
                capacity
            } else if noisy {
                [4096, 16384, 1 << 20][rng.below(3) as usize]
            } else {
                1 << 20
            };
            let client = Self::faults(rng, noisy);
            let server = Self::faults(rng, noisy);
            self.log(format_args!("connect #{number} noisy {noisy}"));
            net::connect(number, &self.rt, rng, capacity, client, server)
        };
        self.accept.try_send(server).ok()?;
        Some(Conn::new(client))
    }

    /// A connection over a slow link: the client reads small pieces, each
    /// after a wait, from small buffers (a few kilobytes a second), so the
    /// server's writes wait on it without ever stalling.
    pub(crate) fn connect_slow(&self) -> Option<Conn> {
        let (client, server) = {
            let mut net = self.net.lock().unwrap();
            net.1 += 1;
            let number = net.1;
            let rng = &mut net.0;
            let client = Faults {
                read_piece: 100,
                write_piece: 0,
                delay_percent: 100,
                delay_ms: rng.range(20, 60),
                slow_reads: true,
            };
            self.log(format_args!("connect #{number} slow"));
            net::connect(number, &self.rt, rng, 4096, client, Faults::default())
        };
        self.accept.try_send(server).ok()?;
        Some(Conn::new(client))
    }

    /// Stops accepting: connections queued and not taken are dropped
    /// (their clients read end of file), new ones are refused.
    pub(crate) fn close_listener(&self, accepted: &async_channel::Receiver<End>) {
        self.accept.close();
        while accepted.try_recv().is_ok() {}
    }

    /// What the server's accept function holds: the listening socket.
    /// Dropping it closes the listener, as dropping a real one does.
    pub(crate) fn listener(self: &Arc<Self>, accepted: async_channel::Receiver<End>) -> Listener {
        Listener(Arc::clone(self), accepted)
    }

    /// Sleeps on the virtual clock.
    pub(crate) async fn sleep(&self, ms: u64) {
        self.rt.sleep(Duration::from_millis(ms)).await;
    }
}

/// The listening socket: accepts queued connections; closed when dropped.
pub(crate) struct Listener(Arc<World>, async_channel::Receiver<End>);

impl Listener {
    /// The next connection.
    pub(crate) async fn accept(&self) -> std::io::Result<End> {
        self.1
            .recv()
            .await
            .map_err(|_| std::io::Error::other("listener closed"))
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.log(format_args!("listener closed"));
        *self.0.listener_closed.lock().unwrap() = Some(self.0.rt.elapsed());
        self.0.close_listener(&self.1);
    }
}
