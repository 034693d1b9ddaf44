//! One HTTP/1.1 connection over `futures::io`: read heads and bodies with
//! limits and deadlines, answer through the endpoint, stream SSE, keep alive.
//!
//! Requests are answered one after another, so pipelined requests get their
//! replies in order. Buffered bytes live in this function's state, never in
//! a future that a timeout could drop.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::deadline::{Deadline, Deadlines};
use super::parse::{BodyDecoder, HttpError, RequestHead, parse_head};
use super::response::{Body, LAST_CHUNK, Response, push_chunk};
use super::shutdown::Shutdown;
use super::sse::{DeliveredHook, KEEP_ALIVE, encode_event};
use super::transport::HttpServerTransport;
use crate::runtime::{BoxFuture, Runtime, now};
use crate::stream::StreamEvent;
use crate::streams::STANDALONE;

/// Largest output buffer a connection keeps between responses.
const REUSED_OUT_BYTES: usize = 16 * 1024;

/// What woke a connection up.
enum Wake {
    Read(io::Result<usize>),
    Timer,
    Shutdown,
    Event(Option<StreamEvent>),
    KeepAlive,
}

struct Conn<'a, IO> {
    io: IO,
    buf: Vec<u8>,
    /// The output buffer, reused from one response to the next.
    out: Vec<u8>,
    chunk: Box<[u8]>,
    transport: &'a HttpServerTransport,
    runtime: &'a Arc<dyn Runtime>,
    shutdown: Shutdown,
    /// Completes on shutdown; one per connection, `None` once it fired.
    stop: Option<BoxFuture<()>>,
    deadlines: &'a Deadlines,
    deadline: Arc<Deadline>,
}

/// Serves requests on one connection until it closes, errs, times out, or
/// the server shuts down.
///
/// # Errors
///
/// I/O errors of the connection. Protocol errors are answered (400, 408,
/// 413, 431) and end the connection without an error.
pub(crate) async fn serve<IO>(
    io: IO,
    transport: &HttpServerTransport,
    runtime: &Arc<dyn Runtime>,
    shutdown: Shutdown,
    deadlines: &Arc<Deadlines>,
) -> io::Result<()>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send,
{
    let mut conn = Conn {
        io,
        buf: Vec::new(),
        out: Vec::new(),
        chunk: vec![0u8; 8192].into_boxed_slice(),
        transport,
        runtime,
        stop: Some(shutdown.stopped()),
        shutdown,
        deadlines,
        deadline: deadlines.register(runtime),
    };
    let mut first = true;
    loop {
        let Some((head, body)) = conn.read_request(first).await? else {
            return Ok(());
        };
        first = false;
        let keep_alive = head.keep_alive();
        let http11 = head.http11;
        let response = transport.handle(&head, body).await;
        let keep_alive = keep_alive && !response.close && !conn.shutdown.is_triggered();
        let keep_going = conn.write_response(response, http11, keep_alive).await?;
        if !keep_going {
            conn.io.close().await?;
            return Ok(());
        }
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin + Send> Conn<'_, IO> {
    /// Polls the read side, the connection's deadline and optionally the
    /// shutdown signal.
    async fn wait(&mut self, watch_shutdown: bool) -> Wake {
        let Self {
            io,
            chunk,
            stop,
            deadline,
            ..
        } = self;
        futures::future::poll_fn(|cx| {
            if let Poll::Ready(r) = Pin::new(&mut *io).poll_read(cx, chunk) {
                return Poll::Ready(Wake::Read(r));
            }
            if deadline.poll_passed(cx).is_ready() {
                return Poll::Ready(Wake::Timer);
            }
            if watch_shutdown && stopped(stop, cx) {
                return Poll::Ready(Wake::Shutdown);
            }
            Poll::Pending
        })
        .await
    }

    /// Reads one request. `None` when the connection should end quietly
    /// (closed by the client, idle, shutting down, or answered with an error).
    async fn read_request(&mut self, first: bool) -> io::Result<Option<(RequestHead, Vec<u8>)>> {
        let config = &self.transport.config();
        let mut started = first || !self.buf.is_empty();
        let wait_for = if started {
            config.request_timeout
        } else {
            config.keep_alive_timeout
        };
        self.deadlines.set(&self.deadline, wait_for, now());
        let head = loop {
            if !self.buf.is_empty() {
                match parse_head(&self.buf, config) {
                    Ok(Some((head, n))) => {
                        self.buf.drain(..n);
                        break head;
                    }
                    Ok(None) => {}
                    Err(e) => return self.refuse(e).await,
                }
            }
            match self.wait(self.buf.is_empty()).await {
                Wake::Read(Ok(0)) | Wake::Shutdown => return Ok(None),
                Wake::Read(Ok(n)) => {
                    if !started {
                        started = true;
                        self.deadlines
                            .set(&self.deadline, config.request_timeout, now());
                    }
                    self.buf.extend_from_slice(&self.chunk[..n]);
                }
                Wake::Read(Err(e)) => return Err(e),
                Wake::Timer if self.buf.is_empty() && !first => return Ok(None),
                Wake::Timer => return self.refuse(HttpError::Timeout).await,
                Wake::Event(_) | Wake::KeepAlive => unreachable!("not polled here"),
            }
        };
        let framing = match head.framing() {
            Ok(f) => f,
            Err(e) => return self.refuse(e).await,
        };
        let mut decoder = match BodyDecoder::new(framing, config.max_body_bytes) {
            Ok(d) => d,
            Err(e) => return self.refuse(e).await,
        };
        if head.expects_continue() && !decoder.is_done() {
            self.io.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
            self.io.flush().await?;
        }
        let mut body = Vec::new();
        loop {
            let used = match decoder.decode(&self.buf, &mut body) {
                Ok(n) => n,
                Err(e) => return self.refuse(e).await,
            };
            self.buf.drain(..used);
            if decoder.is_done() {
                self.deadline.clear();
                return Ok(Some((head, body)));
            }
            match self.wait(false).await {
                Wake::Read(Ok(0)) => return Ok(None),
                Wake::Read(Ok(n)) => self.buf.extend_from_slice(&self.chunk[..n]),
                Wake::Read(Err(e)) => return Err(e),
                _ => return self.refuse(HttpError::Timeout).await,
            }
        }
    }

    /// Writes `out`, then keeps it as the next response's buffer unless a
    /// large body grew it.
    async fn send(&mut self, mut out: Vec<u8>) -> io::Result<()> {
        self.io.write_all(&out).await?;
        self.io.flush().await?;
        if out.capacity() <= REUSED_OUT_BYTES {
            out.clear();
            self.out = out;
        }
        Ok(())
    }

    /// Answers a request that could not be read, and ends the connection.
    async fn refuse<T>(&mut self, error: HttpError) -> io::Result<Option<T>> {
        let response = Response::text(error.status(), &error.to_string()).closing();
        let mut out = Vec::new();
        response.encode_head(true, false, &mut out);
        self.send(out).await?;
        self.io.close().await?;
        Ok(None)
    }

    /// Writes a response. Returns whether the connection may carry another request.
    async fn write_response(
        &mut self,
        response: Response,
        http11: bool,
        keep_alive: bool,
    ) -> io::Result<bool> {
        // Without chunked framing (HTTP/1.0) a stream ends by closing.
        let keep_alive = keep_alive && (http11 || !matches!(response.body, Body::Sse(_)));
        let mut out = std::mem::take(&mut self.out);
        response.encode_head(http11, keep_alive, &mut out);
        let Body::Sse(sse) = response.body else {
            self.send(out).await?;
            return Ok(keep_alive);
        };
        let sse = *sse;
        // Declared before the writes: however this ends, the handler goes on.
        let mut driver = Driver {
            job: sse.driver,
            runtime: Arc::clone(self.runtime),
        };
        let mut hook = Delivery(sse.delivered);
        let framed = |out: &mut Vec<u8>, data: &[u8]| {
            if http11 {
                push_chunk(out, data);
            } else {
                out.extend_from_slice(data);
            }
        };
        framed(&mut out, &sse.initial);
        if sse.ended || sse.events.is_none() {
            if http11 {
                out.extend_from_slice(LAST_CHUNK);
            }
            self.send(out).await?;
            hook.done(sse.ended);
            return Ok(keep_alive);
        }
        self.send(out).await?;
        let mut events = sse.events.expect("checked above");
        // On shutdown the standalone stream ends at once; a request's stream
        // goes on until its result (the grace period bounds it).
        let mut watch_shutdown = true;
        let mut keepalive = self.runtime.sleep(self.transport.config().sse_keep_alive);
        let limit = self.transport.config().max_head_bytes + self.transport.config().max_body_bytes;
        loop {
            let wake = {
                let Self {
                    io,
                    chunk,
                    buf,
                    stop,
                    ..
                } = self;
                let reading = buf.len() <= limit;
                futures::future::poll_fn(|cx: &mut Context<'_>| {
                    driver.poll(cx);
                    if let Poll::Ready(ev) = events.poll_event(cx) {
                        return Poll::Ready(Wake::Event(ev));
                    }
                    if watch_shutdown && stopped(stop, cx) {
                        watch_shutdown = false;
                        return Poll::Ready(Wake::Shutdown);
                    }
                    if reading {
                        if let Poll::Ready(r) = Pin::new(&mut *io).poll_read(cx, chunk) {
                            return Poll::Ready(Wake::Read(r));
                        }
                    }
                    if keepalive.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Wake::KeepAlive);
                    }
                    Poll::Pending
                })
                .await
            };
            let mut out = std::mem::take(&mut self.out);
            let (finish, delivered, keep) = match wake {
                Wake::Event(Some(event)) => {
                    let mut text = Vec::new();
                    encode_event(sse.stream, &event, &mut text);
                    framed(&mut out, &text);
                    keepalive = self.runtime.sleep(self.transport.config().sse_keep_alive);
                    (event.last, event.last, keep_alive)
                }
                // The stream was detached (session ended, or this reader fell behind).
                Wake::Event(None) => (true, false, keep_alive),
                Wake::Shutdown if sse.stream == STANDALONE => (true, false, false),
                Wake::Shutdown => continue,
                Wake::KeepAlive => {
                    framed(&mut out, KEEP_ALIVE);
                    keepalive = self.runtime.sleep(self.transport.config().sse_keep_alive);
                    (false, false, keep_alive)
                }
                // The client went away; the stream lives on for resumption.
                Wake::Read(Ok(0)) | Wake::Read(Err(_)) => return Ok(false),
                Wake::Read(Ok(n)) => {
                    self.buf.extend_from_slice(&self.chunk[..n]);
                    continue;
                }
                Wake::Timer => unreachable!("no timer polled here"),
            };
            if finish && http11 {
                out.extend_from_slice(LAST_CHUNK);
            }
            self.send(out).await?;
            if finish {
                hook.done(delivered);
                return Ok(keep && !self.shutdown.is_triggered());
            }
        }
    }
}

/// Whether the shutdown signal fired (it stays fired).
fn stopped(stop: &mut Option<BoxFuture<()>>, cx: &mut Context<'_>) -> bool {
    if let Some(s) = stop {
        if s.as_mut().poll(cx).is_pending() {
            return false;
        }
        *stop = None;
    }
    true
}

/// The handler behind a stream, driven by the connection while it lasts and
/// spawned on the runtime when the connection ends first.
struct Driver {
    job: Option<BoxFuture<()>>,
    runtime: Arc<dyn Runtime>,
}

impl Driver {
    fn poll(&mut self, cx: &mut Context<'_>) {
        if let Some(job) = self.job.as_mut() {
            if job.as_mut().poll(cx).is_ready() {
                self.job = None;
            }
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(job) = self.job.take() {
            self.runtime.spawn(job);
        }
    }
}

/// Calls a stream's delivery hook exactly once: `false` if the connection
/// is dropped or fails before [`Delivery::done`].
struct Delivery(Option<DeliveredHook>);

impl Delivery {
    fn done(&mut self, delivered: bool) {
        if let Some(hook) = self.0.take() {
            hook(delivered);
        }
    }
}

impl Drop for Delivery {
    fn drop(&mut self) {
        self.done(false);
    }
}
