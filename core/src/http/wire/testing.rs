//! Test support for the HTTP shell without sockets or a runtime crate: an
//! in-memory duplex connection with partial reads and pending writes, a
//! runtime that runs spawned tasks on the test's own thread, and a reader
//! of raw HTTP/1.1 responses.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};
use futures::stream::{FuturesUnordered, StreamExt};
use futures::task::AtomicWaker;

use crate::runtime::{BoxFuture, Runtime};

/// One direction of a pipe.
#[derive(Default)]
struct Half {
    bytes: VecDeque<u8>,
    closed: bool,
    reader: Option<Waker>,
}

#[derive(Default)]
struct Pipe {
    to_server: Half,
    to_client: Half,
}

/// How the server's end of a [`duplex`] behaves.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Shape {
    /// Most bytes one read returns.
    pub(crate) read_chunk: usize,
    /// Most bytes one write takes.
    pub(crate) write_chunk: usize,
    /// Every other write (and flush) is `Pending` first (and wakes itself).
    pub(crate) pending_writes: bool,
}

impl Shape {
    /// Whole reads and writes, never pending.
    pub(crate) const WHOLE: Self = Self {
        read_chunk: usize::MAX,
        write_chunk: usize::MAX,
        pending_writes: false,
    };
    /// One byte per read, seven per write, every other write pending.
    pub(crate) const TRICKLE: Self = Self {
        read_chunk: 1,
        write_chunk: 7,
        pending_writes: true,
    };
}

/// The server's end of an in-memory connection.
pub(crate) struct ServerEnd {
    pipe: Arc<Mutex<Pipe>>,
    shape: Shape,
    stalled: bool,
}

/// The client's end: the test writes requests and reads what came back.
#[derive(Clone)]
pub(crate) struct ClientEnd {
    pipe: Arc<Mutex<Pipe>>,
}

/// A connected pair.
pub(crate) fn duplex(shape: Shape) -> (ClientEnd, ServerEnd) {
    let pipe = Arc::new(Mutex::new(Pipe::default()));
    (
        ClientEnd {
            pipe: Arc::clone(&pipe),
        },
        ServerEnd {
            pipe,
            shape,
            stalled: false,
        },
    )
}

impl ClientEnd {
    /// Sends bytes to the server.
    pub(crate) fn send(&self, bytes: &[u8]) {
        let mut p = self.pipe.lock().unwrap();
        p.to_server.bytes.extend(bytes);
        if let Some(w) = p.to_server.reader.take() {
            w.wake();
        }
    }

    /// Closes the client's sending side (the server reads end of file).
    pub(crate) fn close(&self) {
        let mut p = self.pipe.lock().unwrap();
        p.to_server.closed = true;
        if let Some(w) = p.to_server.reader.take() {
            w.wake();
        }
    }

    /// Everything the server wrote so far, and whether it closed.
    pub(crate) fn received(&self) -> (Vec<u8>, bool) {
        let p = self.pipe.lock().unwrap();
        (
            p.to_client.bytes.iter().copied().collect(),
            p.to_client.closed,
        )
    }
}

impl ServerEnd {
    /// `Pending` once before every other write when the shape says so.
    fn stall(&mut self, cx: &mut Context<'_>) -> bool {
        if self.shape.pending_writes {
            self.stalled = !self.stalled;
            if self.stalled {
                cx.waker().wake_by_ref();
                return true;
            }
        }
        false
    }
}

impl AsyncRead for ServerEnd {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut p = self.pipe.lock().unwrap();
        let half = &mut p.to_server;
        if half.bytes.is_empty() {
            if half.closed {
                return Poll::Ready(Ok(0));
            }
            half.reader = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.len().min(self.shape.read_chunk).min(half.bytes.len());
        for (slot, byte) in buf.iter_mut().zip(half.bytes.drain(..n)) {
            *slot = byte;
        }
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for ServerEnd {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.stall(cx) {
            return Poll::Pending;
        }
        let n = buf.len().min(self.shape.write_chunk);
        self.pipe.lock().unwrap().to_client.bytes.extend(&buf[..n]);
        Poll::Ready(Ok(n))
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.stall(cx) {
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.pipe.lock().unwrap().to_client.closed = true;
        Poll::Ready(Ok(()))
    }
}

/// A runtime whose tasks run on the test's thread, inside [`Local::run`];
/// its timers never fire (the tests here do not wait for time).
#[derive(Clone, Default)]
pub(crate) struct Local {
    spawned: Arc<Mutex<Vec<BoxFuture<()>>>>,
    /// Tasks outlive one `run`: the next one goes on polling them.
    tasks: Arc<Mutex<FuturesUnordered<BoxFuture<()>>>>,
    waker: Arc<AtomicWaker>,
}

impl std::fmt::Debug for Local {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Local").finish_non_exhaustive()
    }
}

impl Runtime for Local {
    fn spawn(&self, future: BoxFuture<()>) {
        self.spawned.lock().unwrap().push(future);
        self.waker.wake();
    }

    fn sleep(&self, _duration: Duration) -> BoxFuture<()> {
        Box::pin(futures::future::pending())
    }
}

impl Local {
    /// Runs `main` to completion on `futures::executor`, with every task
    /// spawned meanwhile polled beside it.
    pub(crate) fn run<T>(&self, main: impl Future<Output = T>) -> T {
        let mut main = std::pin::pin!(main);
        futures::executor::block_on(futures::future::poll_fn(|cx| {
            loop {
                self.waker.register(cx.waker());
                let mut tasks = self.tasks.lock().unwrap();
                tasks.extend(self.spawned.lock().unwrap().drain(..));
                if let Poll::Ready(out) = main.as_mut().poll(cx) {
                    return Poll::Ready(out);
                }
                while let Poll::Ready(Some(())) = tasks.poll_next_unpin(cx) {}
                if self.spawned.lock().unwrap().is_empty() {
                    return Poll::Pending;
                }
            }
        }))
    }
}

/// One HTTP response read back from raw bytes.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// A header's value (names are case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }

    /// The body as text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("a UTF-8 body")
    }
}

/// Reads the complete responses at the front of `bytes` (Content-Length or
/// chunked bodies); stops at the first incomplete one.
pub(crate) fn replies(mut bytes: &[u8]) -> Vec<Reply> {
    let mut out = Vec::new();
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let Ok(httparse::Status::Complete(n)) = response.parse(bytes) else {
            return out;
        };
        let status = response.code.unwrap_or(0);
        let headers: Vec<(String, String)> = response
            .headers
            .iter()
            .map(|h| {
                (
                    h.name.to_owned(),
                    String::from_utf8_lossy(h.value).into_owned(),
                )
            })
            .collect();
        let mut rest = &bytes[n..];
        let find = |name: &str| {
            headers
                .iter()
                .find(|(h, _)| h.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        let body = if find("transfer-encoding").is_some() {
            let mut body = Vec::new();
            loop {
                let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") else {
                    return out;
                };
                let size = std::str::from_utf8(&rest[..line_end]).unwrap();
                let size = usize::from_str_radix(size, 16).unwrap();
                rest = &rest[line_end + 2..];
                if rest.len() < size + 2 {
                    return out;
                }
                body.extend_from_slice(&rest[..size]);
                rest = &rest[size + 2..];
                if size == 0 {
                    break;
                }
            }
            body
        } else {
            let len: usize = find("content-length").map_or(0, |v| v.parse().unwrap());
            if rest.len() < len {
                return out;
            }
            let body = rest[..len].to_vec();
            rest = &rest[len..];
            body
        };
        out.push(Reply {
            status,
            headers,
            body,
        });
        bytes = rest;
    }
}

/// A POST of `body` to `/mcp` from loopback, with `extra` header lines.
pub(crate) fn post(extra: &str, body: &str) -> Vec<u8> {
    format!(
        "POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\naccept: application/json, text/event-stream\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// An `initialize` body at `version`.
pub(crate) fn initialize(version: &str) -> String {
    format!(
        r#"{{"jsonrpc":"2.0","id":0,"method":"initialize","params":{{"protocolVersion":"{version}","capabilities":{{}},"clientInfo":{{"name":"t","version":"1"}}}}}}"#
    )
}

/// A request head parsed from `raw` with the default limits.
pub(crate) fn head(raw: &str) -> crate::http::wire::RequestHead {
    crate::http::wire::parse_head(raw.as_bytes(), &crate::http::config::HttpConfig::default())
        .unwrap()
        .unwrap()
        .0
}

/// Yields to the executor once.
pub(crate) async fn yield_now() {
    let mut yielded = false;
    futures::future::poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await;
}
