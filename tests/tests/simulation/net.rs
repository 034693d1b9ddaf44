//! The simulated network: in-memory duplex connections with seeded
//! faults. Each direction is a bounded byte queue; an end may read or
//! write in pieces, wait a while (on the virtual clock) before a read or a
//! write, reset the connection, or half-close its side.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};
use switchboard_core::{BoxFuture, Runtime};

use super::executor::{Rng, SimRuntime};

/// One direction of a connection.
#[derive(Default)]
struct Pipe {
    /// Bytes written and not yet read.
    bytes: VecDeque<u8>,
    /// Most bytes held before the writer waits.
    capacity: usize,
    /// The writer closed its side: the reader gets end of file once
    /// `bytes` is drained.
    closed: bool,
    /// The reader went away: writes fail.
    gone: bool,
    /// The connection was reset: both sides fail.
    reset: bool,
    /// The reader waiting for bytes.
    reader: Option<Waker>,
    /// The writer waiting for room.
    writer: Option<Waker>,
}

impl Pipe {
    fn wake_all(&mut self) {
        if let Some(w) = self.reader.take() {
            w.wake();
        }
        if let Some(w) = self.writer.take() {
            w.wake();
        }
    }
}

/// How one end misbehaves; all drawn from the connection's seed.
#[derive(Clone, Debug, Default)]
pub(crate) struct Faults {
    /// Reads return at most this many bytes (0: no limit).
    pub(crate) read_piece: usize,
    /// Writes take at most this many bytes (0: no limit).
    pub(crate) write_piece: usize,
    /// Percent of writes (and reads, with `slow_reads`) that first wait a
    /// while: latency on the way. Reads of bytes already delivered are not
    /// delayed unless the link itself is slow.
    pub(crate) delay_percent: u64,
    /// Reads wait too: a link that delivers a few kilobytes a second.
    pub(crate) slow_reads: bool,
    /// The longest such wait, in milliseconds.
    pub(crate) delay_ms: u64,
}

/// One end of a connection.
pub(crate) struct End {
    /// The connection's number and which end this is, for the trace.
    pub(crate) label: String,
    /// What this end reads.
    rx: Arc<Mutex<Pipe>>,
    /// What this end writes.
    tx: Arc<Mutex<Pipe>>,
    faults: Faults,
    rng: Rng,
    runtime: SimRuntime,
    /// A wait in progress before the next read.
    read_delay: Option<BoxFuture<()>>,
    /// A wait in progress before the next write.
    write_delay: Option<BoxFuture<()>>,
}

impl std::fmt::Debug for End {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("End")
    }
}

fn lock(pipe: &Mutex<Pipe>) -> MutexGuard<'_, Pipe> {
    pipe.lock().unwrap_or_else(|e| e.into_inner())
}

/// A connection: the client's end and the server's, with a buffer of
/// `capacity` bytes each way.
pub(crate) fn connect(
    number: u64,
    runtime: &SimRuntime,
    rng: &mut Rng,
    capacity: usize,
    client: Faults,
    server: Faults,
) -> (End, End) {
    let up = Arc::new(Mutex::new(Pipe {
        capacity,
        ..Pipe::default()
    }));
    let down = Arc::new(Mutex::new(Pipe {
        capacity,
        ..Pipe::default()
    }));
    let client = End {
        label: format!("#{number} client"),
        rx: Arc::clone(&down),
        tx: Arc::clone(&up),
        faults: client,
        rng: Rng::new(rng.next_u64(), 10),
        runtime: runtime.clone(),
        read_delay: None,
        write_delay: None,
    };
    let server = End {
        label: format!("#{number} server"),
        rx: up,
        tx: down,
        faults: server,
        rng: Rng::new(rng.next_u64(), 11),
        runtime: runtime.clone(),
        read_delay: None,
        write_delay: None,
    };
    (client, server)
}

impl End {
    /// Resets the connection: every read and write on both ends fails
    /// from now on.
    pub(crate) fn reset(&self) {
        for pipe in [&self.rx, &self.tx] {
            let mut p = lock(pipe);
            p.reset = true;
            p.wake_all();
        }
    }

    /// The runtime this end sleeps on.
    pub(crate) fn runtime(&self) -> &SimRuntime {
        &self.runtime
    }

    /// Half-closes this end's sending side: the peer reads end of file.
    pub(crate) fn close_write(&self) {
        let mut p = lock(&self.tx);
        p.closed = true;
        p.wake_all();
    }

    /// Waits first, sometimes: `Pending` while a drawn delay runs.
    fn delayed(&mut self, cx: &mut Context<'_>, read: bool) -> Poll<()> {
        let percent = if read && !self.faults.slow_reads {
            0
        } else {
            self.faults.delay_percent
        };
        let max = self.faults.delay_ms;
        let slot = if read {
            &mut self.read_delay
        } else {
            &mut self.write_delay
        };
        if slot.is_none() && percent > 0 && self.rng.chance(percent) {
            let ms = self.rng.range(1, max.max(1));
            *slot = Some(self.runtime.sleep(Duration::from_millis(ms)));
        }
        if let Some(delay) = slot.as_mut() {
            if delay.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            *slot = None;
        }
        Poll::Ready(())
    }

    fn piece(&mut self, limit: usize, len: usize) -> usize {
        if limit == 0 || len <= 1 {
            return len;
        }
        let max = limit.min(len) as u64;
        self.rng.range(1, max) as usize
    }
}

impl AsyncRead for End {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.delayed(cx, true).is_pending() {
            return Poll::Pending;
        }
        let limit = self.faults.read_piece;
        let want = self.piece(limit, buf.len());
        let mut p = lock(&self.rx);
        if p.reset {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        if p.bytes.is_empty() {
            if p.closed {
                return Poll::Ready(Ok(0));
            }
            p.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = want.min(p.bytes.len());
        for (slot, b) in buf[..n].iter_mut().zip(p.bytes.drain(..n)) {
            *slot = b;
        }
        if let Some(w) = p.writer.take() {
            w.wake();
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for End {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.delayed(cx, false).is_pending() {
            return Poll::Pending;
        }
        let limit = self.faults.write_piece;
        let want = self.piece(limit, buf.len());
        let mut p = lock(&self.tx);
        if p.reset {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        if p.gone || p.closed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let room = p.capacity.saturating_sub(p.bytes.len());
        if room == 0 {
            p.writer = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = want.min(room);
        p.bytes.extend(&buf[..n]);
        if let Some(w) = p.reader.take() {
            w.wake();
        }
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        if lock(&self.tx).reset {
            return Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()));
        }
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.close_write();
        Poll::Ready(Ok(()))
    }
}

impl Drop for End {
    /// A dropped end is a closed socket: the peer reads end of file, and
    /// its writes fail (a reset, as TCP answers data sent to a closed
    /// socket).
    fn drop(&mut self) {
        let ms = self.runtime.elapsed().as_millis();
        self.runtime
            .trace()
            .record(format_args!("{ms} {} dropped", self.label));
        self.close_write();
        let mut p = lock(&self.rx);
        p.gone = true;
        p.bytes.clear();
        p.wake_all();
    }
}
