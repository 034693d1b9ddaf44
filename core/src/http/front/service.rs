//! What an adapter's listener hands each accepted connection to: the
//! connection caps (in all, and per client address), graceful shutdown,
//! and the session-expiry sweeper.
//!
//! An adapter either calls [`HttpService::run`] with its accept function, or
//! drives the pieces itself: [`HttpService::start`] (the server's serve
//! loop and the session sweeper), then per accepted socket
//! [`HttpService::serve_connection_from`] (with the client's address, for
//! the per-client caps), or per request of another HTTP server
//! (hyper, axum) [`HttpService::respond`]; and on shutdown
//! [`HttpService::stop`].

use std::fmt;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use http::StatusCode;

use super::conn;
use super::deadline::Deadlines;
use super::server_transport::HttpServerTransport;
use crate::clock::now;
use crate::http::replies::refusals::{over_cap, shutting_down};
use crate::http::replies::shutdown::Shutdown;
use crate::runtime::{Runtime, adopt_clock};

/// Serves connections for one [`HttpServerTransport`]: what both runtime
/// adapters share. Cheap to clone: clones share the connection count, the
/// shutdown signal and the deadline sweeper.
///
/// # Examples
///
/// One connection over an in-memory stream (a request, then the client's
/// end of input), on a runtime of a thread per task:
///
/// ```
/// use std::io;
/// use std::pin::Pin;
/// use std::sync::Arc;
/// use std::task::{Context, Poll};
/// use std::time::Duration;
///
/// use futures::io::{AsyncRead, AsyncWrite, Cursor};
/// use switchboard_core::{HttpConfig, HttpServerTransport, HttpService, McpServerBuilder};
/// # use switchboard_core::{BoxFuture, Runtime};
///
/// // The thread-per-task runtime of the `Runtime` example.
/// # #[derive(Debug)]
/// # struct Threads;
/// # impl Runtime for Threads {
/// #     fn spawn(&self, future: BoxFuture<()>) {
/// #         std::thread::spawn(move || futures::executor::block_on(future));
/// #     }
/// #     fn sleep(&self, duration: Duration) -> BoxFuture<()> {
/// #         let (tx, rx) = futures::channel::oneshot::channel::<()>();
/// #         std::thread::spawn(move || {
/// #             std::thread::sleep(duration);
/// #             let _ = tx.send(());
/// #         });
/// #         Box::pin(async move {
/// #             let _ = rx.await;
/// #         })
/// #     }
/// # }
///
/// /// What the client sent, and what the server wrote back.
/// struct Script { input: Cursor<Vec<u8>>, output: Vec<u8> }
///
/// impl AsyncRead for Script {
///     fn poll_read(
///         mut self: Pin<&mut Self>,
///         cx: &mut Context<'_>,
///         buf: &mut [u8],
///     ) -> Poll<io::Result<usize>> {
///         Pin::new(&mut self.input).poll_read(cx, buf)
///     }
/// }
///
/// impl AsyncWrite for Script {
///     fn poll_write(
///         mut self: Pin<&mut Self>,
///         _: &mut Context<'_>,
///         buf: &[u8],
///     ) -> Poll<io::Result<usize>> {
///         self.output.extend_from_slice(buf);
///         Poll::Ready(Ok(buf.len()))
///     }
///     fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
///         Poll::Ready(Ok(()))
///     }
///     fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
///         Poll::Ready(Ok(()))
///     }
/// }
///
/// let transport = HttpServerTransport::new(HttpConfig::default());
/// let _server = McpServerBuilder::new().server_info("demo", "1.0.0").build(transport.clone());
/// let service = HttpService::new(&transport, Arc::new(Threads));
///
/// let body = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":
///     {"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#;
/// let request = format!(
///     "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
///      Content-Length: {}\r\n\r\n{body}",
///     body.len()
/// );
/// let mut conn = Script { input: Cursor::new(request.into_bytes()), output: Vec::new() };
/// futures::executor::block_on(service.serve_connection(&mut conn)).unwrap();
///
/// let written = String::from_utf8(conn.output).unwrap();
/// assert!(written.starts_with("HTTP/1.1 200 OK\r\n"));
/// assert!(written.contains("mcp-session-id: "));
/// assert_eq!(service.connection_count(), 0, "the connection has ended");
/// ```
#[derive(Clone)]
pub struct HttpService {
    /// The transport whose requests the connections answer.
    pub(super) transport: HttpServerTransport,
    /// Spawns the sweepers and the handlers a closed connection leaves
    /// behind; provides every sleep.
    pub(super) runtime: Arc<dyn Runtime>,
    /// This service's shutdown signal (not the transport's close).
    pub(super) shutdown: Shutdown,
    /// Fires when a graceful shutdown's grace has run out: every connection
    /// still open is dropped where it stands, so its client sees it cut
    /// (not a stream that ends cleanly without its result), and nothing of
    /// ours outlives [`HttpService::run`].
    cut: Shutdown,
    /// Connections being served, refused ones included while they are
    /// answered.
    connections: Arc<AtomicUsize>,
    /// Requests answered through [`HttpService::respond`] whose response
    /// has not ended yet.
    pub(super) exchanges: Arc<AtomicUsize>,
    /// The request and keep-alive deadlines of every connection.
    deadlines: Arc<Deadlines>,
}

impl fmt::Debug for HttpService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpService")
            .field("connections", &self.connection_count())
            .field("shut_down", &self.shutdown.is_triggered())
            .finish_non_exhaustive()
    }
}

/// Releases a connection (or exchange) slot when the connection ends,
/// however it ends (an error, a panic, or the future being dropped).
pub(super) struct Slot(Arc<AtomicUsize>);

impl Slot {
    /// Counts one more in `count`, until the slot is dropped.
    pub(super) fn take(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Self(Arc::clone(count))
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HttpService {
    /// A service for this transport, keeping time with `runtime`.
    ///
    /// Spawns nothing yet: the deadline sweeper starts with the first
    /// connection. The deadlines' pace follows the shorter of the
    /// transport's request, keep-alive and write timeouts.
    pub fn new(transport: &HttpServerTransport, runtime: Arc<dyn Runtime>) -> Self {
        adopt_clock(&*runtime);
        let config = transport.config();
        let shortest = config
            .request_timeout
            .min(config.keep_alive_timeout)
            .min(config.write_timeout);
        let deadlines = Deadlines::new(shortest, now());
        Self {
            transport: transport.clone(),
            runtime,
            shutdown: Shutdown::default(),
            cut: Shutdown::default(),
            connections: Arc::new(AtomicUsize::new(0)),
            exchanges: Arc::new(AtomicUsize::new(0)),
            deadlines: Arc::new(deadlines),
        }
    }

    /// Serves one accepted connection to its end, from a client whose
    /// address is not known: [`HttpService::serve_connection_from`] with
    /// `None`, so no per-client cap applies to it.
    ///
    /// # Errors
    ///
    /// As [`HttpService::serve_connection_from`].
    pub async fn serve_connection<IO>(&self, io: IO) -> io::Result<()>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send,
    {
        self.serve_connection_from(io, None).await
    }

    /// Serves one accepted connection from a client at `peer` (the address
    /// the listener accepted it from, `None` when it cannot tell) to its
    /// end.
    ///
    /// Some connections are answered and closed at once instead: every
    /// one after the shutdown signal (503); past the connection cap (503
    /// with `Retry-After`); past the client's own cap,
    /// [`HttpConfig::max_connections_per_client`](crate::HttpConfig::max_connections_per_client)
    /// (429 with `Retry-After`). GET streams on the connection count
    /// against the client's stream cap.
    ///
    /// Requests on it are answered in order; it ends when the client
    /// closes, a timeout passes, a request cannot be read (answered 400,
    /// 408, 413 or 431 first), a response asks to close, or the server shuts
    /// down. Spawn one call per connection: the future runs as long as the
    /// connection does.
    ///
    /// Dropping the future closes the connection (by dropping `io`). A
    /// handler whose SSE stream it was writing is spawned on the runtime and
    /// goes on, its reply kept in the stream's log; a handler still awaited
    /// for a JSON reply is dropped with it.
    ///
    /// # Errors
    ///
    /// The connection's I/O errors (a reset client, say); they concern this
    /// connection only.
    pub async fn serve_connection_from<IO>(&self, io: IO, peer: Option<IpAddr>) -> io::Result<()>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let previous = self.connections.fetch_add(1, Ordering::AcqRel);
        let _slot = Slot(Arc::clone(&self.connections));
        let served = self.serve_admitted(io, peer, previous);
        let cut = self.cut.triggered();
        futures::pin_mut!(served, cut);
        match futures::future::select(served, cut).await {
            futures::future::Either::Left((result, _)) => result,
            // Dropped with its I/O: the client sees the connection cut.
            futures::future::Either::Right(((), _)) => Ok(()),
        }
    }

    /// [`HttpService::serve_connection_from`] without the cut at the end
    /// of the grace: admits the connection (`previous` others were open
    /// when it came) or refuses it, then serves it.
    async fn serve_admitted<IO>(
        &self,
        mut io: IO,
        peer: Option<IpAddr>,
        previous: usize,
    ) -> io::Result<()>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let _observed = crate::observe::http::Connection::open();
        let config = self.transport.config();
        let admitted = if self.shutdown.is_triggered() {
            Err((shutting_down(), "server is shutting down"))
        } else if previous >= config.max_connections {
            let why = "too many connections";
            let busy = over_cap(StatusCode::SERVICE_UNAVAILABLE, why, config.retry_after);
            Err((busy, why))
        } else {
            self.transport
                .state
                .shares
                .connection(peer)
                .map_err(|over| {
                    let why = over.message();
                    let busy = over_cap(StatusCode::TOO_MANY_REQUESTS, why, config.retry_after);
                    (busy, why)
                })
        };
        // Held as long as the connection is served.
        let _share = match admitted {
            Ok(share) => share,
            Err((response, why)) => {
                // Answered, then closed: a client told why can wait and retry.
                crate::observe::http::rejected(response.status.as_u16(), why);
                let mut out = Vec::new();
                response.closing().encode_head(true, false, &mut out);
                io.write_all(&out).await?;
                io.flush().await?;
                return io.close().await;
            }
        };
        conn::serve(
            io,
            &self.transport,
            &self.runtime,
            self.shutdown.clone(),
            &self.deadlines,
            peer,
        )
        .await
    }

    /// Open connections, including any being refused at the moment.
    pub fn connection_count(&self) -> usize {
        self.connections.load(Ordering::Acquire)
    }

    /// The shutdown signal: triggering it makes idle connections close,
    /// SSE streams end, and new connections be refused.
    ///
    /// More exactly: a connection waiting for its next request closes; a
    /// standalone (GET) stream ends; a request's stream goes on until its
    /// result, then its connection closes; a response in progress is
    /// written with `connection: close`. Triggering it does not close the
    /// transport.
    pub fn shutdown_signal(&self) -> &Shutdown {
        &self.shutdown
    }

    /// Waits until every connection and every [`HttpService::respond`]
    /// exchange has ended, and every request of a session shared with
    /// other replicas too (its client may resume it on another), or
    /// `grace` has passed; returns whether all ended.
    ///
    /// It checks every 10 ms and closes nothing itself: call it after
    /// triggering the shutdown signal. Cancel-safe: dropping it changes
    /// nothing.
    pub async fn drain(&self, grace: Duration) -> bool {
        let deadline = now() + grace;
        let shared_busy = || {
            self.transport
                .state
                .engine()
                .is_some_and(|e| e.shared_requests_in_flight() > 0)
        };
        while self.connection_count() > 0 || self.exchange_count() > 0 || shared_busy() {
            if now() >= deadline {
                return false;
            }
            self.runtime.sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// Ends idle sessions until shutdown: a sweep every quarter of the idle
    /// timeout (between 10 ms and 30 s).
    ///
    /// A session is idle when it has had no request and no listening
    /// stream for the configured `session_idle_timeout`; ending one ends its
    /// streams. Spawn it once per service; it returns soon after the
    /// shutdown signal, and sweeps nothing while no server is attached.
    /// Cancel-safe: dropping it only stops the sweeps.
    pub async fn expire_sessions(&self) {
        let idle = self.transport.config().session_idle_timeout;
        let every = (idle / 4).clamp(Duration::from_millis(10), Duration::from_secs(30));
        while !self.shutdown.is_triggered() {
            let tick = self.runtime.sleep(every);
            let stop = self.shutdown.triggered();
            futures::pin_mut!(stop);
            if let futures::future::Either::Right(_) = futures::future::select(tick, stop).await {
                return;
            }
            if let Some(engine) = self.transport.state.engine() {
                engine.expire_sessions(now(), idle);
            }
        }
    }
}

impl HttpService {
    /// Runs a whole HTTP MCP server until the shutdown signal: the server's
    /// serve loop, the session sweeper, and an accept loop that spawns
    /// [`HttpService::serve_connection`] for each connection `accept` yields.
    /// Then it shuts down gracefully: stops accepting, lets connections
    /// finish for up to `grace` (GET streams end at once, listen streams
    /// with their `complete` result), and closes the
    /// transport.
    ///
    /// `accept` is the adapter's: it accepts one connection and prepares it
    /// (TCP_NODELAY, an I/O wrapper). Its errors (a full file table, an
    /// aborted handshake) concern one connection: the loop waits 10 ms and
    /// goes on. The pending `accept` future is dropped when the shutdown
    /// signal fires, so it must be cancel-safe.
    ///
    /// `server` is the one built over this service's transport, which is
    /// closed at the end; that ends the serve loop. A `drain` that runs out
    /// of `grace` is not an error: the connections still open are then cut
    /// (see [`HttpService::stop`]).
    ///
    /// # Errors
    ///
    /// [`TransportError::AlreadyAttached`](crate::transport::TransportError::AlreadyAttached)
    /// at once when `server` is not the one built over this service's
    /// transport; otherwise when the server's serve loop fails, or closing
    /// the transport does.
    pub async fn run<A, Fut, S>(
        &self,
        server: crate::server::McpServer,
        mut accept: A,
        grace: Duration,
    ) -> Result<(), crate::transport::TransportError>
    where
        A: FnMut() -> Fut,
        Fut: std::future::Future<Output = io::Result<S>>,
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let accept = move || futures::TryFutureExt::map_ok(accept(), |io| (io, None));
        self.run_from(server, accept, grace).await
    }

    /// [`HttpService::run`] with each connection's client address: `accept`
    /// yields a connection and the address it came from (`None` when it
    /// cannot tell), and each is served with
    /// [`HttpService::serve_connection_from`], so the per-client caps apply.
    ///
    /// # Errors
    ///
    /// As [`HttpService::run`].
    pub async fn run_from<A, Fut, S>(
        &self,
        server: crate::server::McpServer,
        mut accept: A,
        grace: Duration,
    ) -> Result<(), crate::transport::TransportError>
    where
        A: FnMut() -> Fut,
        Fut: std::future::Future<Output = io::Result<(S, Option<IpAddr>)>>,
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let serving = self.start(server)?;
        loop {
            let stop = self.shutdown.triggered();
            let next = accept();
            futures::pin_mut!(stop);
            futures::pin_mut!(next);
            match futures::future::select(next, stop).await {
                futures::future::Either::Left((Ok((io, peer)), _)) => {
                    let service = self.clone();
                    self.runtime.spawn(Box::pin(async move {
                        // A connection's I/O error (a reset client) ends that connection only.
                        let _ = service.serve_connection_from(io, peer).await;
                    }));
                }
                futures::future::Either::Left((Err(_), _)) => {
                    self.runtime.sleep(Duration::from_millis(10)).await;
                }
                futures::future::Either::Right(_) => break,
            }
        }
        // The listener goes with `accept`: closed now, a connection made
        // during the drain is refused at once instead of waiting in the
        // backlog, unserved, until the grace ends.
        drop(accept);
        self.stop(serving, grace).await
    }
}

/// The server's serve loop and the session sweeper, as
/// [`HttpService::start`] spawned them; [`HttpService::stop`] ends them.
#[derive(Debug)]
#[must_use = "the server runs until HttpService::stop is given this"]
pub struct Serving {
    /// Yields the serve loop's result once it ended.
    engine_done: async_channel::Receiver<Result<(), crate::transport::TransportError>>,
}

impl HttpService {
    /// Spawns what serves requests besides the connections: `server`'s
    /// serve loop and the session sweeper ([`HttpService::expire_sessions`]),
    /// and a watch that ends `subscriptions/listen` streams (with their
    /// `complete` result) when the shutdown signal fires, so they do not
    /// hold a graceful shutdown.
    ///
    /// For an adapter that accepts connections itself (hyper, axum); then
    /// [`HttpService::stop`] at the end. [`HttpService::run`] does both.
    ///
    /// # Errors
    ///
    /// [`TransportError::AlreadyAttached`](crate::transport::TransportError::AlreadyAttached)
    /// when `server` is not the one built over this service's transport.
    pub fn start(
        &self,
        server: crate::server::McpServer,
    ) -> Result<Serving, crate::transport::TransportError> {
        // Another server would never see this transport's requests, and
        // closing the transport would not end its serve loop.
        if !self.transport.state.serves(&server) {
            return Err(crate::transport::TransportError::AlreadyAttached);
        }
        let (engine_done_tx, engine_done) = async_channel::bounded(1);
        self.runtime.spawn(Box::pin(async move {
            let result = server.run().await;
            let _ = engine_done_tx.send(result).await;
        }));
        let sweeper = self.clone();
        self.runtime
            .spawn(Box::pin(async move { sweeper.expire_sessions().await }));
        let state = Arc::clone(&self.transport.state);
        let stop = self.shutdown.stopped();
        self.runtime.spawn(Box::pin(async move {
            let closed = state.closed.stopped();
            if let futures::future::Either::Left(_) = futures::future::select(stop, closed).await {
                // Listen streams never end by themselves.
                if let Some(engine) = state.engine() {
                    engine.end_listeners();
                    // A call waiting on its client would wait out the grace.
                    engine.fail_client_requests();
                }
            }
        }));
        Ok(Serving { engine_done })
    }

    /// Shuts down gracefully what [`HttpService::start`] started: triggers
    /// the shutdown signal (standalone streams end, new connections are
    /// refused), ends listen streams, waits up to `grace` for connections
    /// and exchanges to finish ([`HttpService::drain`]), closes the
    /// transport (every session ends) and waits for the serve loop.
    ///
    /// A `drain` that runs out of `grace` is not an error: the connections
    /// still open are then cut where they stand (dropped with their I/O), so
    /// a client whose call had not finished sees its connection fail, not a
    /// stream that ends cleanly without the result, and no connection of
    /// ours goes on writing after the run. Responses given through
    /// [`HttpService::respond`] belong to the adapter's connections (hyper's)
    /// and are left to it.
    ///
    /// # Errors
    ///
    /// When the server's serve loop failed, or closing the transport does.
    pub async fn stop(
        &self,
        serving: Serving,
        grace: Duration,
    ) -> Result<(), crate::transport::TransportError> {
        self.shutdown.trigger();
        // Also done by the watch `start` spawned; here too so it precedes
        // the drain whatever the runtime schedules first.
        if let Some(engine) = self.transport.state.engine() {
            engine.end_listeners();
            engine.fail_client_requests();
        }
        if !self.drain(grace).await {
            // Out of grace: what is still open is cut, not left to finish
            // on its own after `run` returned. The signal wakes each
            // connection, which drops its I/O at once.
            self.cut.trigger();
        }
        crate::transport::Transport::close(&self.transport).await?;
        serving.engine_done.recv().await.unwrap_or(Ok(()))
    }
}
