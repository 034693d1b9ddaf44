//! What an adapter's listener hands each accepted connection to: the
//! connection cap, graceful shutdown, and the session-expiry sweeper.

use std::fmt;
use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use http::StatusCode;

use super::conn;
use super::deadline::Deadlines;
use super::response::Response;
use super::shutdown::Shutdown;
use super::transport::HttpServerTransport;
use crate::jsonrpc::ErrorCode;
use crate::runtime::{Runtime, now};

/// Serves connections for one [`HttpServerTransport`]: what both runtime
/// adapters share. Cheap to clone.
#[derive(Clone)]
pub struct HttpService {
    transport: HttpServerTransport,
    runtime: Arc<dyn Runtime>,
    shutdown: Shutdown,
    connections: Arc<AtomicUsize>,
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

/// Releases a connection slot when the connection ends.
struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HttpService {
    /// A service for this transport, keeping time with `runtime`.
    pub fn new(transport: &HttpServerTransport, runtime: Arc<dyn Runtime>) -> Self {
        let config = transport.config();
        let deadlines =
            Deadlines::new(config.request_timeout.min(config.keep_alive_timeout), now());
        Self {
            transport: transport.clone(),
            runtime,
            shutdown: Shutdown::default(),
            connections: Arc::new(AtomicUsize::new(0)),
            deadlines: Arc::new(deadlines),
        }
    }

    /// Serves one accepted connection to its end. Past the connection cap it
    /// is answered 503 and closed.
    ///
    /// # Errors
    ///
    /// The connection's I/O errors (a reset client, say); they concern this
    /// connection only.
    pub async fn serve_connection<IO>(&self, mut io: IO) -> io::Result<()>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let previous = self.connections.fetch_add(1, Ordering::AcqRel);
        let _slot = Slot(Arc::clone(&self.connections));
        if previous >= self.transport.config().max_connections || self.shutdown.is_triggered() {
            let mut out = Vec::new();
            Response::rpc_error(
                StatusCode::SERVICE_UNAVAILABLE,
                ErrorCode::SERVER_BUSY,
                "too many connections",
            )
            .closing()
            .encode_head(true, false, &mut out);
            io.write_all(&out).await?;
            io.flush().await?;
            return io.close().await;
        }
        conn::serve(
            io,
            &self.transport,
            &self.runtime,
            self.shutdown.clone(),
            &self.deadlines,
        )
        .await
    }

    /// Open connections.
    pub fn connection_count(&self) -> usize {
        self.connections.load(Ordering::Acquire)
    }

    /// The shutdown signal: triggering it makes idle connections close,
    /// SSE streams end, and new connections be refused.
    pub fn shutdown_signal(&self) -> &Shutdown {
        &self.shutdown
    }

    /// Waits until every connection has ended or `grace` has passed; returns
    /// whether all ended.
    pub async fn drain(&self, grace: Duration) -> bool {
        let deadline = now() + grace;
        while self.connection_count() > 0 {
            if now() >= deadline {
                return false;
            }
            self.runtime.sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// Ends idle sessions until shutdown: a sweep every quarter of the idle
    /// timeout (between 10 ms and 30 s).
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
    /// finish for up to `grace` (SSE streams end at once), and closes the
    /// transport.
    ///
    /// `accept` is the adapter's: it accepts one connection and prepares it
    /// (TCP_NODELAY, an I/O wrapper). Its errors (a full file table, an
    /// aborted handshake) concern one connection: the loop waits 10 ms and
    /// goes on.
    ///
    /// # Errors
    ///
    /// When the server's serve loop fails.
    pub async fn run<A, Fut, S>(
        &self,
        server: crate::McpServer,
        transport: HttpServerTransport,
        mut accept: A,
        grace: Duration,
    ) -> Result<(), crate::TransportError>
    where
        A: FnMut() -> Fut,
        Fut: std::future::Future<Output = io::Result<S>>,
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (engine_done_tx, engine_done) = async_channel::bounded(1);
        self.runtime.spawn(Box::pin(async move {
            let result = server.run().await;
            let _ = engine_done_tx.send(result).await;
        }));
        let sweeper = self.clone();
        self.runtime
            .spawn(Box::pin(async move { sweeper.expire_sessions().await }));
        loop {
            let stop = self.shutdown.triggered();
            let next = accept();
            futures::pin_mut!(stop);
            futures::pin_mut!(next);
            match futures::future::select(next, stop).await {
                futures::future::Either::Left((Ok(io), _)) => {
                    let service = self.clone();
                    self.runtime.spawn(Box::pin(async move {
                        // A connection's I/O error (a reset client) ends that connection only.
                        let _ = service.serve_connection(io).await;
                    }));
                }
                futures::future::Either::Left((Err(_), _)) => {
                    self.runtime.sleep(Duration::from_millis(10)).await;
                }
                futures::future::Either::Right(_) => break,
            }
        }
        self.drain(grace).await;
        crate::Transport::close(&transport).await?;
        engine_done.recv().await.unwrap_or(Ok(()))
    }
}
