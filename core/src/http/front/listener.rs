//! The seam between the server and an executor's sockets: the [`Listener`]
//! trait an adapter implements, and the [`HttpServer`] written once over it.
//!
//! Everything an adapter's `HttpServer` used to repeat (binding with its
//! runtime, the grace period, the URL, the shutdown signal, the run) lives
//! here; each adapter keeps its sockets, its timers and its spawn, and names
//! its server `HttpServer<ItsListener>`, as trillium's adapters do.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};

use super::endpoint::{DEFAULT_ADDR, HttpEndpoint};
use crate::http::config::HttpConfig;
use crate::http::replies::shutdown::Shutdown;
use crate::runtime::Runtime;
use crate::server::{McpServer, McpServerBuilder};
use crate::transport::TransportError;

/// A bound socket that yields connections, with what the server around it
/// needs from the same adapter: the runtime it runs on by default and how
/// it watches for shutdown signals.
///
/// The runtime adapters implement it (`switchboard_smol::SmolListener`,
/// `switchboard_tokio::TokioListener`); implement it yourself to serve
/// from another kind of socket with [`HttpServer`]. `Sync` because each
/// accept future borrows the listener and must be `Send` for the server's
/// future to be.
pub trait Listener: fmt::Debug + Send + Sync + Sized + 'static {
    /// An accepted connection, ready to be served (TCP_NODELAY set, say).
    type Conn: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    /// The runtime the server's tasks are spawned on.
    type Runtime: Runtime + Clone;

    /// Binds `addr`.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    fn bind(addr: SocketAddr) -> impl Future<Output = io::Result<Self>> + Send;

    /// The runtime [`HttpServer::bind`] uses.
    fn default_runtime() -> Self::Runtime;

    /// The bound address.
    ///
    /// # Errors
    ///
    /// When the OS cannot tell.
    fn local_addr(&self) -> io::Result<SocketAddr>;

    /// Accepts the next connection and prepares it.
    ///
    /// Must be cancel-safe: the server drops the future when its shutdown
    /// signal fires, and no connection may be lost then.
    ///
    /// # Errors
    ///
    /// When accepting or preparing one connection fails (a full file table,
    /// an aborted handshake); the server waits 10 ms and accepts again.
    fn accept(&self) -> impl Future<Output = io::Result<Self::Conn>> + Send;

    /// Accepts the next connection and prepares it, with the address of the
    /// client it came from, for the per-client caps
    /// ([`HttpConfig::max_connections_per_client`]); what
    /// [`HttpServer::run`] calls.
    ///
    /// The provided method calls [`Listener::accept`] and tells no address
    /// (`None`: the per-address caps do not apply); a listener that knows
    /// its peers overrides it. The same contract as `accept` otherwise.
    ///
    /// # Errors
    ///
    /// As [`Listener::accept`].
    fn accept_from(&self) -> impl Future<Output = io::Result<(Self::Conn, Option<IpAddr>)>> + Send {
        async move { Ok((self.accept().await?, None)) }
    }

    /// Triggers `shutdown` on SIGINT or SIGTERM, watching on `runtime`; the
    /// contract of [`HttpServer::shutdown_on_signals`].
    ///
    /// # Errors
    ///
    /// When the operating system refuses the signal handlers.
    fn shutdown_on_signals(shutdown: Shutdown, runtime: &Self::Runtime) -> io::Result<()>;
}

/// An MCP server listening for Streamable HTTP: a [`Listener`] around an
/// [`HttpEndpoint`], on the listener's runtime.
///
/// Each runtime adapter names one (`switchboard_smol::HttpServer`,
/// `switchboard_tokio::HttpServer`), whose docs have the examples.
pub struct HttpServer<L: Listener> {
    /// Where the connections come from.
    listener: L,
    /// The MCP server, its transport and the connection service.
    endpoint: HttpEndpoint,
    /// Kept for the signal watch; the endpoint holds its own handle.
    runtime: L::Runtime,
}

impl<L: Listener> fmt::Debug for HttpServer<L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpServer")
            .field("listener", &self.listener)
            .field("endpoint", &self.endpoint)
            .field("runtime", &self.runtime)
            .finish()
    }
}

impl<L: Listener> HttpServer<L> {
    /// Binds `addr` and builds the MCP server over an HTTP transport, with
    /// the listener's default runtime (smol's global executor; the current
    /// tokio runtime).
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    ///
    /// # Panics
    ///
    /// When the listener's runtime is missing (tokio's, outside a tokio
    /// runtime).
    pub async fn bind(
        addr: SocketAddr,
        builder: McpServerBuilder,
        config: HttpConfig,
    ) -> io::Result<Self> {
        Self::bind_with(addr, builder, config, L::default_runtime()).await
    }

    /// [`HttpServer::bind`] with tasks spawned through `runtime` (an
    /// executor of your own, say).
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    pub async fn bind_with(
        addr: SocketAddr,
        builder: McpServerBuilder,
        config: HttpConfig,
        runtime: L::Runtime,
    ) -> io::Result<Self> {
        let listener = L::bind(addr).await?;
        let endpoint = HttpEndpoint::new(builder, config, Arc::new(runtime.clone()));
        Ok(Self {
            listener,
            endpoint,
            runtime,
        })
    }

    /// [`HttpServer::bind`] on [`DEFAULT_ADDR`], 127.0.0.1:8080.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    ///
    /// # Panics
    ///
    /// As [`HttpServer::bind`].
    pub async fn bind_default(builder: McpServerBuilder, config: HttpConfig) -> io::Result<Self> {
        Self::bind(DEFAULT_ADDR, builder, config).await
    }

    /// Sets how long shutdown waits for requests in flight (default 10 s).
    #[must_use]
    pub fn grace(self, grace: Duration) -> Self {
        Self {
            endpoint: self.endpoint.grace(grace),
            ..self
        }
    }

    /// The bound address.
    ///
    /// # Errors
    ///
    /// When the OS cannot tell.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The endpoint's URL, e.g. `http://127.0.0.1:8080/mcp`.
    ///
    /// # Errors
    ///
    /// When the OS cannot tell the bound address.
    pub fn url(&self) -> io::Result<String> {
        Ok(self.endpoint.url(self.local_addr()?))
    }

    /// The MCP server, to change registrations or notify clients while it runs.
    pub fn server(&self) -> &McpServer {
        self.endpoint.server()
    }

    /// The signal that stops [`HttpServer::run`] gracefully.
    pub fn shutdown_signal(&self) -> Shutdown {
        self.endpoint.shutdown_signal()
    }

    /// Shuts the server down gracefully on SIGINT or SIGTERM (SIGINT only,
    /// off Unix), and exits at once, with status 128 + the signal's number,
    /// on a second one (see the adapter's `shutdown_on_signals`).
    ///
    /// # Errors
    ///
    /// When the operating system refuses the signal handlers.
    ///
    /// # Panics
    ///
    /// When the listener's runtime is missing (tokio's, outside a tokio
    /// runtime with its I/O driver enabled).
    pub fn shutdown_on_signals(self) -> io::Result<Self> {
        L::shutdown_on_signals(self.shutdown_signal(), &self.runtime)?;
        Ok(self)
    }

    /// Serves until the shutdown signal, then shuts down gracefully (see
    /// [`HttpEndpoint::run`]). Connections come from
    /// [`Listener::accept_from`], with their client's address for the
    /// per-client caps.
    ///
    /// # Errors
    ///
    /// When the MCP server's loop fails.
    pub async fn run(self) -> Result<(), TransportError> {
        // A copied reference, so each accept future borrows the listener,
        // not the closure.
        let listener = &self.listener;
        self.endpoint.run_from(move || listener.accept_from()).await
    }
}
