//! The HTTP listener on tokio.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use switchboard_core::http::{DEFAULT_ADDR, HttpEndpoint, Shutdown};
use switchboard_core::{HttpConfig, McpServer, McpServerBuilder, TransportError};
use tokio::net::TcpListener;
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

use crate::TokioRuntime;

/// An MCP server listening for Streamable HTTP on tokio: a TCP listener
/// (TCP_NODELAY on each connection) around the core's [`HttpEndpoint`].
///
/// # Examples
///
/// ```no_run
/// use switchboard_core::{HttpConfig, McpServerBuilder};
/// use switchboard_tokio::HttpServer;
///
/// #[tokio::main]
/// async fn main() -> std::io::Result<()> {
///     let builder = McpServerBuilder::new().server_info("demo", "1.0.0");
///     let server = HttpServer::bind("127.0.0.1:0".parse().unwrap(), builder, HttpConfig::default()).await?;
///     println!("listening on {}", server.url()?);
///     server.run().await.map_err(std::io::Error::other)
/// }
/// ```
#[derive(Debug)]
pub struct HttpServer {
    listener: TcpListener,
    endpoint: HttpEndpoint,
}

impl HttpServer {
    /// Binds `addr` and builds the MCP server over an HTTP transport, with
    /// the current tokio runtime as its runtime.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub async fn bind(
        addr: SocketAddr,
        builder: McpServerBuilder,
        config: HttpConfig,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let endpoint = HttpEndpoint::new(builder, config, Arc::new(TokioRuntime::current()));
        Ok(Self { listener, endpoint })
    }

    /// Binds 127.0.0.1:8080.
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
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

    /// Shuts the server down gracefully on SIGINT or SIGTERM, and exits at
    /// once on a second one (see [`shutdown_on_signals`](crate::shutdown_on_signals)).
    ///
    /// # Errors
    ///
    /// When the operating system refuses the signal handlers.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime with its I/O driver enabled.
    pub fn shutdown_on_signals(self) -> io::Result<Self> {
        crate::shutdown_on_signals(self.shutdown_signal())?;
        Ok(self)
    }

    /// Serves until the shutdown signal, then shuts down gracefully.
    ///
    /// # Errors
    ///
    /// When the MCP server's loop fails.
    pub async fn run(self) -> Result<(), TransportError> {
        let listener = self.listener;
        let accept = || async {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            Ok::<Compat<tokio::net::TcpStream>, io::Error>(stream.compat())
        };
        self.endpoint.run(accept).await
    }
}
