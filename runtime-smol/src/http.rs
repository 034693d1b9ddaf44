//! The HTTP listener on smol.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use smol::net::{TcpListener, TcpStream};
use switchboard_core::http::Shutdown;
use switchboard_core::{
    HttpConfig, HttpServerTransport, HttpService, McpServer, McpServerBuilder, TransportError,
};

use crate::SmolRuntime;

/// Where [`HttpServer::bind_default`] listens: loopback only, as the MCP
/// spec recommends for local servers.
pub const DEFAULT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);
/// How long a graceful shutdown waits for requests in flight.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// An MCP server listening for Streamable HTTP on smol.
///
/// # Examples
///
/// ```no_run
/// use switchboard_core::{HttpConfig, McpServerBuilder};
/// use switchboard_smol::HttpServer;
///
/// smol::block_on(async {
///     let builder = McpServerBuilder::new().server_info("demo", "1.0.0");
///     let server = HttpServer::bind("127.0.0.1:0".parse().unwrap(), builder, HttpConfig::default()).await?;
///     println!("listening on {}", server.url()?);
///     server.run().await.map_err(std::io::Error::other)
/// })
/// .unwrap();
/// ```
#[derive(Debug)]
pub struct HttpServer {
    listener: TcpListener,
    service: HttpService,
    transport: HttpServerTransport,
    server: McpServer,
    grace: Duration,
}

impl HttpServer {
    /// Binds `addr` and builds the MCP server over an HTTP transport (the
    /// builder gets smol as its runtime).
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    pub async fn bind(
        addr: SocketAddr,
        builder: McpServerBuilder,
        config: HttpConfig,
    ) -> io::Result<Self> {
        Self::bind_with(addr, builder, config, SmolRuntime::global()).await
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
        runtime: SmolRuntime,
    ) -> io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let transport = HttpServerTransport::new(config);
        let runtime = Arc::new(runtime);
        let server = builder.runtime(runtime.clone()).build(transport.clone());
        let service = HttpService::new(&transport, runtime);
        Ok(Self {
            listener,
            service,
            transport,
            server,
            grace: DEFAULT_GRACE,
        })
    }

    /// Binds [`DEFAULT_ADDR`] (127.0.0.1:8080).
    ///
    /// # Errors
    ///
    /// When the address cannot be bound.
    pub async fn bind_default(builder: McpServerBuilder, config: HttpConfig) -> io::Result<Self> {
        Self::bind(DEFAULT_ADDR, builder, config).await
    }

    /// Sets how long shutdown waits for requests in flight.
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
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
        Ok(format!(
            "http://{}{}",
            self.local_addr()?,
            self.transport.config().endpoint_path()
        ))
    }

    /// The MCP server, to change registrations or notify clients while it runs.
    pub fn server(&self) -> &McpServer {
        &self.server
    }

    /// The signal that stops [`HttpServer::run`] gracefully.
    pub fn shutdown_signal(&self) -> Shutdown {
        self.service.shutdown_signal().clone()
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
            Ok::<TcpStream, io::Error>(stream)
        };
        self.service
            .run(self.server, self.transport, accept, self.grace)
            .await
    }
}
