//! Everything an HTTP MCP server is apart from its socket: the MCP server,
//! its transport and the connection service, bundled so that a listener
//! only binds and accepts.
//!
//! [`HttpServer`](super::listener::HttpServer) is a [`HttpEndpoint`] plus a
//! bound [`Listener`](super::listener::Listener): it passes the listener's
//! accept to [`HttpEndpoint::run`] and prints [`HttpEndpoint::url`] for the
//! address it bound. An adapter that accepts in its own way can do the same.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures::io::{AsyncRead, AsyncWrite};

use super::server_transport::HttpServerTransport;
use super::service::HttpService;
use crate::http::config::HttpConfig;
use crate::http::replies::shutdown::Shutdown;
use crate::runtime::Runtime;
use crate::server::{McpServer, McpServerBuilder};
use crate::transport::TransportError;

/// Where listeners bind by default: loopback only, as the MCP spec
/// recommends for local servers: `127.0.0.1:8080`.
pub const DEFAULT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);
/// How long a graceful shutdown waits for requests in flight: 10 s, then
/// the transport is closed with whatever is still open.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(10);

/// An MCP server over Streamable HTTP, minus the socket: what
/// [`HttpServer`](super::listener::HttpServer) wraps around a listener.
///
/// # Examples
///
/// An endpoint whose shutdown was signalled before it ran: it accepts
/// nothing, closes its transport, and its server's loop ends.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
///
/// use switchboard_core::http::{HttpEndpoint, DEFAULT_ADDR};
/// use switchboard_core::{HttpConfig, McpServerBuilder};
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
/// let builder = McpServerBuilder::new().server_info("demo", "1.0.0");
/// let endpoint = HttpEndpoint::new(builder, HttpConfig::default(), Arc::new(Threads))
///     .grace(Duration::from_secs(1));
/// assert_eq!(endpoint.url(DEFAULT_ADDR), "http://127.0.0.1:8080/mcp");
///
/// endpoint.shutdown_signal().trigger();
/// // A real adapter accepts from its listener; this one never yields a connection.
/// type Conn = futures::io::Cursor<Vec<u8>>;
/// let accept = || futures::future::pending::<std::io::Result<Conn>>();
/// futures::executor::block_on(endpoint.run(accept)).unwrap();
/// ```
pub struct HttpEndpoint {
    /// The MCP server, built over `transport`; run by [`HttpEndpoint::run`].
    server: McpServer,
    /// The transport shared by the server and the service.
    transport: HttpServerTransport,
    /// What each accepted connection is handed to.
    service: HttpService,
    /// How long shutdown waits for open connections.
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
    ///
    /// A runtime set on `builder` before is replaced. Nothing runs until
    /// [`HttpEndpoint::run`]; the grace period starts at [`DEFAULT_GRACE`].
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

    /// Sets how long shutdown waits for requests in flight. Zero closes the
    /// transport as soon as accepting stops.
    #[must_use]
    pub fn grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The endpoint's URL when listening on `addr`, e.g. `http://127.0.0.1:8080/mcp`.
    ///
    /// An unspecified address (`0.0.0.0`) is printed as it is, not as a
    /// name a client could reach; an IPv6 address comes out bracketed.
    pub fn url(&self, addr: SocketAddr) -> String {
        format!("http://{addr}{}", self.transport.config().endpoint_path())
    }

    /// The MCP server, to change registrations or notify clients while it
    /// runs. Take what you need before [`HttpEndpoint::run`], which consumes
    /// the endpoint.
    pub fn server(&self) -> &McpServer {
        &self.server
    }

    /// The signal that stops [`HttpEndpoint::run`] gracefully. A clone:
    /// keep it (say, in a Ctrl-C handler) before `run` consumes the
    /// endpoint; triggering it before `run` makes `run` return at once.
    pub fn shutdown_signal(&self) -> Shutdown {
        self.service.shutdown_signal().clone()
    }

    /// Serves the connections `accept` yields until the shutdown signal,
    /// then shuts down gracefully (see [`HttpService::run`]).
    ///
    /// Runs the server's loop and the session sweeper on the runtime, and
    /// one task per connection. `accept`'s future is dropped when the
    /// signal fires, so it must be cancel-safe (a listener's `accept` is).
    /// Dropping the returned future stops accepting but leaves the spawned
    /// tasks running and the transport open.
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
        self.service.run(self.server, accept, self.grace).await
    }

    /// [`HttpEndpoint::run`] with each connection's client address: `accept`
    /// yields a connection and the address it came from (`None` when it
    /// cannot tell), for the per-client caps
    /// ([`HttpConfig::max_connections_per_client`] and
    /// [`HttpConfig::max_streams_per_client`]). What
    /// [`HttpServer::run`](super::listener::HttpServer::run) calls with
    /// [`Listener::accept_from`](super::listener::Listener::accept_from).
    ///
    /// # Errors
    ///
    /// When the MCP server's loop fails.
    pub async fn run_from<A, Fut, S>(self, accept: A) -> Result<(), TransportError>
    where
        A: FnMut() -> Fut,
        Fut: Future<Output = io::Result<(S, Option<IpAddr>)>>,
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        self.service.run_from(self.server, accept, self.grace).await
    }
}
