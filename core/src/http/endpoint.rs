//! Everything an HTTP MCP server is apart from its socket: the MCP server,
//! its transport and the connection service, bundled so that each runtime
//! adapter only binds a listener and accepts.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};

use super::config::HttpConfig;
use super::service::HttpService;
use super::shutdown::Shutdown;
use super::transport::HttpServerTransport;
use crate::runtime::Runtime;
use crate::{McpServer, McpServerBuilder, TransportError};

/// Where listeners bind by default: loopback only, as the MCP spec
/// recommends for local servers.
pub const DEFAULT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);
/// How long a graceful shutdown waits for requests in flight.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// An MCP server over Streamable HTTP, minus the socket: what the runtime
/// adapters' `HttpServer`s wrap around their listeners.
pub struct HttpEndpoint {
    server: McpServer,
    transport: HttpServerTransport,
    service: HttpService,
    grace: Duration,
}

impl fmt::Debug for HttpEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpEndpoint")
            .field("server", &self.server)
            .field("service", &self.service)
            .field("grace", &self.grace)
            .finish_non_exhaustive()
    }
}

impl HttpEndpoint {
    /// Builds the MCP server over a new HTTP transport; `runtime` becomes the
    /// server's runtime and spawns the connections.
    pub fn new(builder: McpServerBuilder, config: HttpConfig, runtime: Arc<dyn Runtime>) -> Self {
        let transport = HttpServerTransport::new(config);
        let server = builder
            .runtime(Arc::clone(&runtime))
            .build(transport.clone());
        let service = HttpService::new(&transport, runtime);
        Self {
            server,
            transport,
            service,
            grace: DEFAULT_GRACE,
        }
    }

    /// Sets how long shutdown waits for requests in flight.
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The endpoint's URL when listening on `addr`, e.g. `http://127.0.0.1:8080/mcp`.
    pub fn url(&self, addr: SocketAddr) -> String {
        format!("http://{addr}{}", self.transport.config().endpoint_path())
    }

    /// The MCP server, to change registrations or notify clients while it runs.
    pub fn server(&self) -> &McpServer {
        &self.server
    }

    /// The signal that stops [`HttpEndpoint::run`] gracefully.
    pub fn shutdown_signal(&self) -> Shutdown {
        self.service.shutdown_signal().clone()
    }

    /// Serves the connections `accept` yields until the shutdown signal,
    /// then shuts down gracefully (see [`HttpService::run`]).
    ///
    /// # Errors
    ///
    /// When the MCP server's loop fails.
    pub async fn run<A, Fut, S>(self, accept: A) -> Result<(), TransportError>
    where
        A: FnMut() -> Fut,
        Fut: Future<Output = io::Result<S>>,
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        self.service
            .run(self.server, self.transport, accept, self.grace)
            .await
    }
}
