//! One HTTP/1.1 connection over `futures::io`: read heads and bodies with
//! limits and deadlines, answer through the endpoint, stream SSE, keep alive.
//!
//! Requests are answered one after another, so pipelined requests get their
//! replies in order. Buffered bytes live in this function's state, never in
//! a future that a timeout could drop.
//!
//! A connection waits on three things at once, in one `poll_fn` rather than
//! a `select!` of futures: the socket, its [`Deadline`] (request or
//! keep-alive timeout), and the shutdown signal. While it writes an SSE
//! stream it also waits on the stream's events, the handler behind them
//! and the keep-alive timer, and goes on reading so it notices a client
//! that left.

use std::io;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::deadline::{Deadline, Deadlines};
use super::server_transport::HttpServerTransport;
use crate::clock::now;
use crate::http::replies::response::{Body, LAST_CHUNK, Response, push_chunk};
use crate::http::replies::shutdown::Shutdown;
use crate::http::replies::sse::SseNext;
use crate::http::rules::cors;
use crate::http::wire::events::KEEP_ALIVE;
use crate::http::wire::{BodyDecoder, HttpError, RequestHead, parse_head};
use crate::runtime::{BoxFuture, Runtime};

/// Largest output buffer a connection keeps between responses: enough for
/// most heads and JSON replies; a buffer grown past it by a large body is
/// freed rather than held for the connection's life.
const REUSED_OUT_BYTES: usize = 16 * 1024;

/// What woke a connection up.
enum Wake {
    /// A read finished: bytes now in `Conn::chunk` (0 at end of input), or
    /// an I/O error.
    Read(io::Result<usize>),
    /// The connection's deadline passed.
    Timer,
    /// The shutdown signal fired (reported once per watch).
    Shutdown,
}

/// What woke a connection writing an SSE stream.
enum SseWake {
    /// A read finished (pipelined bytes, the client's end of input, an error).
    Read(io::Result<usize>),
    /// The stream has something to write, or ended.
    Next(SseNext),
}

/// One connection's state across its requests.
struct Conn<'a, IO> {
    /// The socket, or whatever stream the adapter wraps it in.
    io: IO,
    /// Bytes read but not yet parsed: the rest of a head or body, or a
    /// pipelined request. Survives every cancelled wait.
    buf: Vec<u8>,
    /// The output buffer, reused from one response to the next.
    out: Vec<u8>,
    /// The read buffer each read fills (8 KiB); its bytes are appended to
    /// `buf` right after.
    chunk: Box<[u8]>,
    /// Answers each request.
    transport: &'a HttpServerTransport,
    /// Spawns a stream's handler when the connection ends first, and times
    /// SSE keep-alives.
    runtime: &'a Arc<dyn Runtime>,
    /// The server's shutdown signal, to check between requests.
    shutdown: Shutdown,
    /// Completes on shutdown; one per connection.
    stop: Stop,
    /// The service's deadlines, which set `deadline`.
    deadlines: &'a Deadlines,
    /// This connection's request or keep-alive deadline; unset while a
    /// request is being answered.
    deadline: Arc<Deadline>,
}

/// Serves requests on one connection, from a client at `peer` when the
/// listener knows it, until it closes, errs, times out, or the server
/// shuts down.
///
/// # Errors
///
/// I/O errors of the connection. Protocol errors are answered (400, 408,
/// 413, 431) and end the connection without an error.
///
/// Dropping the future drops the connection: bytes buffered but unread go
/// with it, and a stream's handler is spawned on `runtime` (see `SseSource`).
pub(crate) async fn serve<IO>(
    io: IO,
    transport: &HttpServerTransport,
    runtime: &Arc<dyn Runtime>,
    shutdown: Shutdown,
    deadlines: &Arc<Deadlines>,
    peer: Option<IpAddr>,
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
        stop: Stop {
            fired: shutdown.stopped(),
            waker: None,
        },
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
        let response = transport.handle_from(&head, body, peer).await;
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
    ///
    /// The read is checked first, so bytes that have arrived are taken even
    /// when the deadline has also passed. Cancel-safe: a read that is ready
    /// completes within the poll that returns it, so dropping the future
    /// loses no bytes.
    async fn wait(&mut self, watch_shutdown: bool) -> Wake {
        let Self {
            io,
            chunk,
            stop,
            shutdown,
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
            if watch_shutdown && stop.fired(shutdown, cx) {
                return Poll::Ready(Wake::Shutdown);
            }
            Poll::Pending
        })
        .await
    }

    /// Reads one request. `None` when the connection should end quietly
    /// (closed by the client, idle, shutting down, or answered with an error).
    ///
    /// `first` is the connection's first request, which gets the request
    /// timeout from the start; a later one gets the keep-alive timeout
    /// until its first byte arrives, then the request timeout (at once, if
    /// pipelined bytes are already waiting). Expiry before a later
    /// request's first byte closes quietly; expiry mid-request is answered
    /// 408. Shutdown is only watched while no byte of the next request has
    /// arrived. Answers `Expect: 100-continue` before reading a non-empty
    /// body.
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
            }
        };
        let framing = match head.framing() {
            Ok(f) => f,
            Err(e) => return self.refuse_after(&head, e).await,
        };
        let mut decoder = match BodyDecoder::new(framing, config.max_body_bytes) {
            Ok(d) => d,
            Err(e) => return self.refuse_after(&head, e).await,
        };
        if head.expects_continue() && !decoder.is_done() {
            self.io.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await?;
            self.io.flush().await?;
        }
        let mut body = Vec::new();
        loop {
            let used = match decoder.decode(&self.buf, &mut body) {
                Ok(n) => n,
                Err(e) => return self.refuse_after(&head, e).await,
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
                _ => return self.refuse_after(&head, HttpError::Timeout).await,
            }
        }
    }

    /// Writes `out`, then keeps it as the next response's buffer unless a
    /// large body grew it. Flushes, so a response is never left in an
    /// adapter's write buffer while the connection waits.
    ///
    /// # Errors
    ///
    /// The connection's write errors, and [`io::ErrorKind::TimedOut`] when
    /// a write makes no progress for the write timeout (a client that
    /// stopped reading): the connection then ends and its buffers are freed.
    async fn send(&mut self, mut out: Vec<u8>) -> io::Result<()> {
        self.write_timed(&out).await?;
        if out.capacity() <= REUSED_OUT_BYTES {
            out.clear();
            self.out = out;
        }
        Ok(())
    }

    /// Writes `out` and flushes, within the write timeout (see
    /// [`Conn::send`]).
    async fn write_timed(&mut self, out: &[u8]) -> io::Result<()> {
        let timeout = self.transport.config().write_timeout;
        let Self {
            io,
            deadline,
            deadlines,
            ..
        } = self;
        let mut written = 0;
        // The deadline is armed only once a write has to wait (most replies
        // go out in one write and never read the clock), and moved by each
        // write that makes progress after that.
        let mut armed = false;
        let result = futures::future::poll_fn(|cx| {
            loop {
                // Once armed, a passed deadline ends the write before it is
                // tried again: a retry that finds a little room (async-io
                // really calls send when woken, even by the sweeper) would
                // count as progress and hold a stalled client a second term.
                if armed && deadline.poll_passed(cx).is_ready() {
                    return Poll::Ready(Err(io::ErrorKind::TimedOut.into()));
                }
                let polled = if written < out.len() {
                    Pin::new(&mut *io).poll_write(cx, &out[written..])
                } else {
                    // `usize::MAX` stands for "flushed": no write returns it.
                    Pin::new(&mut *io).poll_flush(cx).map_ok(|()| usize::MAX)
                };
                match polled {
                    Poll::Ready(Ok(usize::MAX)) => return Poll::Ready(Ok(())),
                    Poll::Ready(Ok(0)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                    Poll::Ready(Ok(n)) => {
                        written += n;
                        if armed {
                            deadlines.set(deadline, timeout, now());
                        }
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => {
                        if !armed {
                            armed = true;
                            deadlines.set(deadline, timeout, now());
                        }
                        if deadline.poll_passed(cx).is_ready() {
                            return Poll::Ready(Err(io::ErrorKind::TimedOut.into()));
                        }
                        return Poll::Pending;
                    }
                }
            }
        })
        .await;
        if armed {
            deadline.clear();
        }
        result
    }

    /// Answers a request that could not be read, and ends the connection.
    ///
    /// The answer is plain text with the error's status and
    /// `connection: close`, and the write side is closed after it: the
    /// unread rest of the request cannot be trusted to frame a next one.
    async fn refuse<T>(&mut self, error: HttpError) -> io::Result<Option<T>> {
        let response = Response::text(error.status(), &error.to_string()).closing();
        self.send_refusal(response).await
    }

    /// As [`Self::refuse`], for a request whose head was read (its body
    /// was not): a browser's page may read why, so the CORS grant is added.
    async fn refuse_after<T>(
        &mut self,
        head: &RequestHead,
        error: HttpError,
    ) -> io::Result<Option<T>> {
        let mut response = Response::text(error.status(), &error.to_string()).closing();
        cors::grant_reply(self.transport.config(), head, &mut response);
        self.send_refusal(response).await
    }

    /// Writes a refusal and ends the connection.
    async fn send_refusal<T>(&mut self, response: Response) -> io::Result<Option<T>> {
        let mut out = Vec::new();
        response.encode_head(true, false, &mut out);
        self.send(out).await?;
        self.io.close().await?;
        Ok(None)
    }

    /// Writes a response. Returns whether the connection may carry another request.
    ///
    /// A full body goes out in one write with its head. An SSE body is
    /// written as its initial bytes, then each live event as it comes,
    /// with keep-alive comments in quiet spells, until the stream's final
    /// event, the stream closing, or the client leaving. Meanwhile the
    /// handler behind the stream is polled here, and pipelined bytes are
    /// read into `buf` (up to one request's worth) so a client's close is
    /// seen; it is looked for before each event, so events that are ready
    /// when the client has already left stay in the log, unwritten, for
    /// its resumption.
    ///
    /// On shutdown the standalone stream ends at once; a request's stream
    /// runs to its result and the connection then closes. A client that
    /// leaves mid-stream (end of input, or a failed read) returns
    /// `Ok(false)`: the stream stays for resumption and its handler goes on.
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
            if let Some(body) = response.separate_body() {
                self.write_timed(body).await?;
            }
            return Ok(keep_alive);
        };
        let config = self.transport.config();
        let (initial, mut source) = sse.open(self.runtime, config.sse_keep_alive, &self.shutdown);
        let framed = |out: &mut Vec<u8>, data: &[u8]| {
            if http11 {
                push_chunk(out, data);
            } else {
                out.extend_from_slice(data);
            }
        };
        framed(&mut out, &initial);
        if let Some(delivered) = source.ended() {
            if http11 {
                out.extend_from_slice(LAST_CHUNK);
            }
            self.send(out).await?;
            source.finish(delivered);
            return Ok(keep_alive);
        }
        self.send(out).await?;
        let limit = config.max_head_bytes + config.max_body_bytes;
        loop {
            let wake = {
                let Self { io, chunk, buf, .. } = self;
                let reading = buf.len() <= limit;
                futures::future::poll_fn(|cx: &mut Context<'_>| {
                    // The read side first: a client already gone must not
                    // be written the events it missed, least of all the
                    // final one, which would count as delivered and have
                    // the stream forgotten before the client resumes it.
                    if reading {
                        if let Poll::Ready(r) = Pin::new(&mut *io).poll_read(cx, chunk) {
                            return Poll::Ready(SseWake::Read(r));
                        }
                    }
                    source.poll_next(cx).map(SseWake::Next)
                })
                .await
            };
            let mut out = std::mem::take(&mut self.out);
            let (finish, delivered) = match wake {
                SseWake::Next(SseNext::Event { bytes, last }) => {
                    framed(&mut out, &bytes);
                    (last, last)
                }
                SseWake::Next(SseNext::KeepAlive) => {
                    framed(&mut out, KEEP_ALIVE);
                    (false, false)
                }
                SseWake::Next(SseNext::Closed) => (true, false),
                // The client went away; the stream lives on for resumption
                // (dropping `source` spawns its handler).
                SseWake::Read(Ok(0)) => return Ok(false),
                // So did this one, less politely: its error is the connection's.
                SseWake::Read(Err(e)) => return Err(e),
                SseWake::Read(Ok(n)) => {
                    self.buf.extend_from_slice(&self.chunk[..n]);
                    self.out = out;
                    continue;
                }
            };
            if finish && http11 {
                out.extend_from_slice(LAST_CHUNK);
            }
            self.send(out).await?;
            if finish {
                source.finish(delivered);
                // The standalone stream closed by shutdown ends here too.
                return Ok(keep_alive && !self.shutdown.is_triggered());
            }
        }
    }
}

/// The shutdown signal as one connection watches it.
///
/// Its future is polled only when the connection's task waits with another
/// waker than the one it last registered: a pending future keeps that
/// registration, so between requests the check is an atomic load and a
/// waker comparison rather than a poll of the channel behind the signal.
struct Stop {
    /// Completes on shutdown.
    fired: BoxFuture<()>,
    /// The waker `fired` was last polled with; `None` before the first poll.
    waker: Option<std::task::Waker>,
}

impl Stop {
    /// Whether `shutdown` fired; if not, the task behind `cx` is woken when
    /// it does.
    fn fired(&mut self, shutdown: &Shutdown, cx: &mut Context<'_>) -> bool {
        if shutdown.is_triggered() {
            return true;
        }
        // Registered with this task: the trigger wakes it, and the load
        // above sees it then.
        if self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            return false;
        }
        if self.fired.as_mut().poll(cx).is_ready() {
            return true;
        }
        self.waker = Some(cx.waker().clone());
        false
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::{Value, json};

    use super::*;
    use crate::http::config::HttpConfig;
    use crate::http::wire::testing::{
        ClientEnd, Local, Reply, Shape, duplex, initialize, post, replies, yield_now,
    };
    use crate::{CallToolResult, McpServer, McpServerBuilder, Tool};

    /// A server with `echo`, `steps` (two progress notifications, then the
    /// result) and `wait` (progress, then a wait for the test's gate), over
    /// a transport driven only by its connections.
    struct Harness {
        local: Local,
        rt: Arc<dyn Runtime>,
        transport: HttpServerTransport,
        _server: McpServer,
        deadlines: Arc<Deadlines>,
        gate: async_channel::Sender<()>,
    }

    impl Harness {
        fn new(config: HttpConfig) -> Self {
            #[derive(serde::Deserialize)]
            struct Text {
                text: String,
            }
            let local = Local::default();
            let rt: Arc<dyn Runtime> = Arc::new(local.clone());
            let (gate, opened) = async_channel::bounded::<()>(1);
            let transport = HttpServerTransport::new(config);
            let progress = |ctx: &crate::RequestContext, p: f64| {
                let ctx = ctx.clone();
                async move {
                    ctx.progress(p, None, None)
                        .await
                        .map_err(|e| crate::RpcError::internal(e.to_string()))
                }
            };
            let server = McpServerBuilder::new()
                .server_info("shell", "1")
                .runtime(Arc::clone(&rt))
                .tool(Tool::new("echo", "echo"), |a: Text, _ctx| async move {
                    Ok(CallToolResult::text(a.text))
                })
                .tool(
                    Tool::new("steps", "progress"),
                    move |_: Value, ctx| async move {
                        progress(&ctx, 1.0).await?;
                        progress(&ctx, 2.0).await?;
                        Ok(CallToolResult::text("done"))
                    },
                )
                .tool(
                    Tool::new("wait", "waits for the gate"),
                    move |_: Value, ctx| {
                        let opened = opened.clone();
                        async move {
                            progress(&ctx, 1.0).await?;
                            let _ = opened.recv().await;
                            Ok(CallToolResult::text("late"))
                        }
                    },
                )
                .build(transport.clone());
            Self {
                local,
                rt,
                transport,
                _server: server,
                deadlines: Arc::new(Deadlines::new(Duration::from_secs(10), now())),
                gate,
            }
        }

        /// A new connection: the client's end and the server's work on it.
        fn connect(&self, shape: Shape) -> (ClientEnd, impl Future<Output = ()> + '_) {
            self.connect_until(shape, Shutdown::default())
        }

        /// [`Harness::connect`] for a server that stops on `shutdown`.
        fn connect_until(
            &self,
            shape: Shape,
            shutdown: Shutdown,
        ) -> (ClientEnd, impl Future<Output = ()> + '_) {
            let (client, io) = duplex(shape);
            let served = async move {
                serve(
                    io,
                    &self.transport,
                    &self.rt,
                    shutdown,
                    &self.deadlines,
                    None,
                )
                .await
                .unwrap();
            };
            (client, served)
        }
    }

    /// Yields until `done` holds (bounded: a missing response fails the
    /// test instead of hanging it).
    async fn until(client: &ClientEnd, what: &str, done: impl Fn(&ClientEnd) -> bool) {
        for _ in 0..100_000 {
            if done(client) {
                return;
            }
            yield_now().await;
        }
        let (bytes, closed) = client.received();
        panic!(
            "never saw {what}: got {:?} (closed: {closed})",
            String::from_utf8_lossy(&bytes)
        );
    }

    /// Waits until the client has received `count` responses.
    async fn wait_for(client: &ClientEnd, count: usize) -> Vec<Reply> {
        until(client, &format!("{count} responses"), |c| {
            replies(&c.received().0).len() >= count
        })
        .await;
        replies(&client.received().0)
    }

    /// Initializes a session at 2025-11-25 as the connection's first
    /// request; its id.
    async fn open_session(c: &ClientEnd) -> String {
        c.send(&post("", &initialize("2025-11-25")));
        wait_for(c, 1).await[0]
            .header("mcp-session-id")
            .unwrap()
            .to_owned()
    }

    /// Serves one connection of `shape` while `script` talks to it.
    fn with_connection<F, Fut>(shape: Shape, config: HttpConfig, script: F)
    where
        F: FnOnce(ClientEnd) -> Fut,
        Fut: Future<Output = ()>,
    {
        let h = Harness::new(config);
        let (client, served) = h.connect(shape);
        h.local.run(async {
            futures::join!(served, script(client));
        });
    }

    fn call(id: u64, tool: &str, args: Value) -> String {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": tool, "arguments": args, "_meta": {"progressToken": id}}})
        .to_string()
    }

    /// The `data:` payloads of an SSE body, priming events left out.
    fn sse_data(body: &str) -> Vec<Value> {
        body.lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter(|d| !d.is_empty())
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    }

    #[test]
    fn a_whole_session_over_one_byte_reads_and_pending_writes() {
        with_connection(Shape::TRICKLE, HttpConfig::default(), |c| async move {
            c.send(&post("", &initialize("2025-11-25")));
            let got = wait_for(&c, 1).await;
            assert_eq!(got[0].status, 200);
            let sid = got[0]
                .header("mcp-session-id")
                .expect("a session")
                .to_owned();
            let header = format!("mcp-session-id: {sid}\r\n");
            c.send(&post(
                &header,
                r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
            ));
            c.send(&post(&header, &call(1, "echo", json!({"text": "hi"}))));
            c.send(&post(&header, &call(2, "steps", json!({}))));
            let got = wait_for(&c, 4).await;
            assert_eq!(got[1].status, 202);
            assert_eq!(got[2].json()["result"]["content"][0]["text"], "hi");
            // Progress came first, so the reply became a stream: a priming
            // event, two progress events, the result.
            assert_eq!(got[3].header("content-type"), Some("text/event-stream"));
            let sse = got[3].text();
            assert!(sse.starts_with("id: 2-0\nretry: 1000\ndata: \n\n"), "{sse}");
            let data = sse_data(&sse);
            assert_eq!(data.len(), 3, "{sse}");
            assert_eq!(data[0]["method"], "notifications/progress");
            assert_eq!(data[2]["result"]["content"][0]["text"], "done");
            c.send(format!("DELETE /mcp HTTP/1.1\r\nhost: localhost\r\n{header}\r\n").as_bytes());
            c.send(&post(
                &header,
                r#"{"jsonrpc":"2.0","id":3,"method":"ping"}"#,
            ));
            c.close();
            let got = wait_for(&c, 6).await;
            assert_eq!((got[4].status, got[5].status), (200, 404));
        });
    }

    #[test]
    fn an_idle_connection_is_woken_by_the_shutdown_and_ends() {
        use std::sync::atomic::{AtomicBool, Ordering};
        /// A waker that records being woken.
        struct Flag(AtomicBool);
        impl futures::task::ArcWake for Flag {
            fn wake_by_ref(flag: &Arc<Self>) {
                flag.0.store(true, Ordering::SeqCst);
            }
        }
        let h = Harness::new(HttpConfig::default());
        let shutdown = Shutdown::default();
        let (c, served) = h.connect_until(Shape::WHOLE, shutdown.clone());
        let mut served = std::pin::pin!(served);
        h.local.run(async {
            let script = std::pin::pin!(async {
                let header = format!("mcp-session-id: {}\r\n", open_session(&c).await);
                for id in 1..=3 {
                    c.send(&post(
                        &header,
                        &format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"ping"}}"#),
                    ));
                    wait_for(&c, 1 + id).await;
                }
            });
            if let futures::future::Either::Left(_) =
                futures::future::select(served.as_mut(), script).await
            {
                panic!("the connection ended before its requests");
            }
        });
        // Idle now, its keep-alive timeout far off. Waiting twice with one
        // waker: the second wait keeps the first one's registration.
        let flag = Arc::new(Flag(AtomicBool::new(false)));
        let waker = futures::task::waker(Arc::clone(&flag));
        let mut cx = Context::from_waker(&waker);
        assert!(served.as_mut().poll(&mut cx).is_pending());
        assert!(served.as_mut().poll(&mut cx).is_pending());
        flag.0.store(false, Ordering::SeqCst);
        shutdown.trigger();
        assert!(
            flag.0.load(Ordering::SeqCst),
            "the shutdown did not wake the idle connection"
        );
        assert!(served.as_mut().poll(&mut cx).is_ready(), "it ends");
    }

    #[test]
    fn pipelined_requests_are_answered_in_order() {
        with_connection(Shape::WHOLE, HttpConfig::default(), |c| async move {
            c.send(&post("", &initialize("2025-06-18")));
            let sid = wait_for(&c, 1).await[0]
                .header("mcp-session-id")
                .unwrap()
                .to_owned();
            let header = format!("mcp-session-id: {sid}\r\n");
            let mut both = post(&header, &call(1, "echo", json!({"text": "a"})));
            both.extend(post(&header, &call(2, "echo", json!({"text": "b"}))));
            c.send(&both);
            c.close();
            let got = wait_for(&c, 3).await;
            let ids: Vec<Value> = got[1..].iter().map(|r| r.json()["id"].clone()).collect();
            assert_eq!(ids, vec![json!(1), json!(2)]);
        });
    }

    #[test]
    fn a_large_reply_is_written_whole_after_its_head() {
        // Over 64 KiB, the body goes out on its own (not copied behind the
        // head); through short, sometimes pending writes it arrives whole.
        let shape = Shape {
            read_chunk: 1000,
            write_chunk: 4096,
            pending_writes: true,
        };
        with_connection(shape, HttpConfig::default(), |c| async move {
            c.send(&post("", &initialize("2025-11-25")));
            let sid = wait_for(&c, 1).await[0]
                .header("mcp-session-id")
                .unwrap()
                .to_owned();
            let text = "y".repeat(200 * 1024);
            let header = format!("mcp-session-id: {sid}\r\n");
            c.send(&post(&header, &call(1, "echo", json!({"text": text}))));
            c.close();
            let got = wait_for(&c, 2).await;
            assert_eq!(got[1].status, 200);
            assert_eq!(got[1].json()["result"]["content"][0]["text"], text.as_str());
        });
    }

    #[test]
    fn a_chunked_body_in_one_byte_reads() {
        with_connection(Shape::TRICKLE, HttpConfig::default(), |c| async move {
            let body = initialize("2025-11-25");
            let (a, b) = body.split_at(10);
            let head = "POST /mcp HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\naccept: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            c.send(
                format!(
                    "{head}{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
                    a.len(),
                    b.len()
                )
                .as_bytes(),
            );
            c.close();
            let got = wait_for(&c, 1).await;
            assert_eq!(got[0].status, 200);
            assert_eq!(got[0].json()["result"]["protocolVersion"], "2025-11-25");
        });
    }

    #[test]
    fn limits_are_answered_and_close_the_connection() {
        let closed = |c: &ClientEnd| c.received().1;
        let config = HttpConfig::default().max_head_bytes(64).max_body_bytes(8);
        with_connection(Shape::TRICKLE, config.clone(), |c| async move {
            c.send(
                format!(
                    "GET /mcp HTTP/1.1\r\nhost: localhost\r\nx: {}\r\n\r\n",
                    "y".repeat(100)
                )
                .as_bytes(),
            );
            until(&c, "the close", closed).await;
            assert_eq!(replies(&c.received().0)[0].status, 431);
        });
        with_connection(Shape::WHOLE, config, |c| async move {
            c.send(b"POST /mcp HTTP/1.1\r\nhost: x\r\ncontent-length: 9\r\n\r\n123456789");
            until(&c, "the close", closed).await;
            assert_eq!(replies(&c.received().0)[0].status, 413);
        });
        with_connection(Shape::WHOLE, HttpConfig::default(), |c| async move {
            c.send(b"BREW /mcp HTCPCP/1.0\r\n\r\n");
            until(&c, "the close", closed).await;
            assert_eq!(replies(&c.received().0)[0].status, 400);
        });
    }

    #[test]
    fn events_ready_when_the_client_is_gone_are_left_for_its_resumption() {
        // The client leaves and, before the connection runs again, the
        // handler is let go: its result is ready at the same time as the
        // end of input. Written out anyway, it would count as delivered and
        // the stream would be forgotten, leaving the client that resumes
        // nothing to resume (it would get the standalone stream instead).
        let h = Harness::new(HttpConfig::default());
        let (first, served) = h.connect(Shape::WHOLE);
        let sid = h.local.run(async {
            let script = async {
                let sid = open_session(&first).await;
                let header = format!("mcp-session-id: {sid}\r\n");
                first.send(&post(&header, &call(7, "wait", json!({}))));
                until(&first, "the progress event", |c| {
                    String::from_utf8_lossy(&c.received().0).contains("notifications/progress")
                })
                .await;
                first.close();
                h.gate.try_send(()).unwrap();
                sid
            };
            let ((), sid) = futures::join!(served, script);
            sid
        });
        let (bytes, _) = first.received();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("late"), "written to a client gone: {text}");
        let (second, served) = h.connect(Shape::WHOLE);
        h.local.run(async {
            let script = async {
                second.send(format!("GET /mcp HTTP/1.1\r\nhost: localhost\r\naccept: text/event-stream\r\nmcp-session-id: {sid}\r\nlast-event-id: 1-1\r\n\r\n").as_bytes());
                second.close();
                let got = wait_for(&second, 1).await;
                let data = sse_data(&got[0].text());
                assert_eq!(data.len(), 1, "only what the client missed: {data:?}");
                assert_eq!(data[0]["id"], 7);
                assert_eq!(data[0]["result"]["content"][0]["text"], "late");
            };
            futures::join!(served, script);
        });
    }

    #[test]
    fn a_client_gone_mid_stream_is_no_cancellation_and_can_resume() {
        let h = Harness::new(HttpConfig::default());
        let (first, served) = h.connect(Shape::TRICKLE);
        let sid = h.local.run(async {
            let script = async {
                let sid = open_session(&first).await;
                let header = format!("mcp-session-id: {sid}\r\n");
                first.send(&post(&header, &call(7, "wait", json!({}))));
                // The stream is open (priming and progress written), the
                // handler waits on its gate; then the client goes away.
                until(&first, "the progress event", |c| {
                    String::from_utf8_lossy(&c.received().0).contains("notifications/progress")
                })
                .await;
                first.close();
                sid
            };
            let ((), sid) = futures::join!(served, script);
            sid
        });
        // The connection is gone; its handler went on on the runtime.
        h.gate.try_send(()).unwrap();
        let (second, served) = h.connect(Shape::WHOLE);
        h.local.run(async {
            let script = async {
                second.send(format!("GET /mcp HTTP/1.1\r\nhost: localhost\r\naccept: text/event-stream\r\nmcp-session-id: {sid}\r\nlast-event-id: 1-1\r\n\r\n").as_bytes());
                second.close();
                let got = wait_for(&second, 1).await;
                let data = sse_data(&got[0].text());
                assert_eq!(data.len(), 1, "only what the client missed: {data:?}");
                assert_eq!(data[0]["id"], 7);
                assert_eq!(data[0]["result"]["content"][0]["text"], "late");
            };
            futures::join!(served, script);
        });
    }
}
