//! The MCP endpoint as a `tower::Service` (and a hyper `Service`), for
//! axum, hyper on HTTP/1.1 or HTTP/2, and any tower stack.
//!
//! [`McpService`] answers each request through the core's
//! [`HttpService::respond`], the same entry our own listener
//! ([`HttpServer`](crate::HttpServer)) ends in, so every endpoint rule is
//! the same. What hyper does not do for it, [`McpService::new`] starts on
//! the current tokio runtime: the MCP server's serve loop and the
//! session-expiry sweeper. [`McpService::shutdown`] stops them gracefully.
//!
//! **Mind the path**: the request's URI path must be the configured one
//! ([`HttpConfig::path`](switchboard_core::HttpConfig), `/mcp` by default),
//! else it is answered 404. `axum::Router::route_service("/mcp", svc)`
//! keeps the path as it is; `nest_service` strips its prefix, so configure
//! the path that remains.
//!
//! What stays with the server around it: connection limits and timeouts
//! (`HttpConfig::max_connections` and `max_connections_per_client`, the
//! request, keep-alive and write timeouts apply to our listener only) and
//! TLS. The per-client stream cap needs the client's address: serve each
//! connection with [`McpService::for_client`].
//!
//! # Examples
//!
//! axum, with an ordinary route beside MCP:
//!
//! ```no_run
//! use switchboard_core::{HttpConfig, McpServerBuilder};
//! use switchboard_tokio::McpService;
//!
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     let builder = McpServerBuilder::new().server_info("demo", "1.0.0");
//!     let mcp = McpService::new(builder, HttpConfig::default()).map_err(std::io::Error::other)?;
//!     let app = axum::Router::new()
//!         .route("/health", axum::routing::get(|| async { "ok" }))
//!         .route_service("/mcp", mcp.clone());
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     let stop = mcp.shutdown_signal();
//!     axum::serve(listener, app)
//!         .with_graceful_shutdown(async move { stop.triggered().await })
//!         .await?;
//!     mcp.shutdown(std::time::Duration::from_secs(10)).await.map_err(std::io::Error::other)
//! }
//! ```
//!
//! A plain hyper server takes it through
//! [`hyper_util::service::TowerToHyperService`] or as a
//! `hyper::service::Service` directly:
//! `mcp.connection_builder().serve_connection(TokioIo::new(stream), mcp.clone())`
//! serves HTTP/1.1 and HTTP/2 (h2c prior knowledge) on one port, with the
//! timer and the limits our own listener keeps
//! ([`McpService::connection_builder`]). A bare
//! `auto::Builder::new(TokioExecutor::new())` has no timer, so its header
//! read timeout never fires: a client trickling a head byte by byte holds
//! its connection forever.
//!
//! [`HttpService::respond`]: switchboard_core::HttpService::respond

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use ::hyper::http;
use bytes::{Buf, Bytes};
use futures::Stream;
use http_body::{Body, Frame, SizeHint};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use switchboard_core::http::{ResponseBody, Serving, Shutdown};
use switchboard_core::{
    HttpConfig, HttpServerTransport, HttpService, McpServer, McpServerBuilder, TransportError,
};

use crate::TokioRuntime;

/// The MCP endpoint as a service of `http::Request` → `http::Response`:
/// a `tower_service::Service` (what axum and tower take) and a
/// `hyper::service::Service` (what hyper takes).
///
/// Cheap to clone: clones share the server, its sessions and the shutdown
/// signal. Never fails (`Error = Infallible`): every problem is a response.
#[derive(Clone)]
pub struct McpService {
    inner: Arc<Inner>,
    /// The client this clone serves, when known ([`McpService::for_client`]).
    client: Option<IpAddr>,
}

/// What the clones share.
struct Inner {
    /// The endpoint's configuration, for the connection builder's limits.
    config: HttpConfig,
    /// Answers the requests.
    service: HttpService,
    /// The MCP server, for its handle.
    server: McpServer,
    /// What `new` started; taken by the first `shutdown`.
    serving: Mutex<Option<Serving>>,
}

/// The last clone gone without [`McpService::shutdown`]: stop what `new`
/// started (the serve loop, the sweeper, the sessions), with no grace, on
/// the runtime still around; so a router rebuilt or a test ended leaks
/// nothing.
impl Drop for Inner {
    fn drop(&mut self) {
        let serving = self
            .serving
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(serving) = serving {
            self.service.shutdown_signal().trigger();
            if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                let service = self.service.clone();
                runtime.spawn(async move {
                    let _ = service.stop(serving, Duration::ZERO).await;
                });
            }
        }
    }
}

impl fmt::Debug for McpService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpService")
            .field("service", &self.inner.service)
            .field("client", &self.client)
            .finish_non_exhaustive()
    }
}

impl McpService {
    /// Builds the MCP server over a Streamable HTTP transport with this
    /// configuration, and starts its serve loop and session sweeper on the
    /// current tokio runtime (which also runs its handlers).
    ///
    /// # Errors
    ///
    /// Only if the builder's server cannot be attached to the new
    /// transport, which does not happen with a fresh builder.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub fn new(builder: McpServerBuilder, config: HttpConfig) -> Result<Self, TransportError> {
        let runtime: Arc<dyn switchboard_core::Runtime> = Arc::new(TokioRuntime::current());
        let transport = HttpServerTransport::new(config.clone());
        let server = builder
            .runtime(Arc::clone(&runtime))
            .build(transport.clone());
        let service = HttpService::new(&transport, runtime);
        let serving = service.start(server.clone())?;
        Ok(Self {
            inner: Arc::new(Inner {
                config,
                service,
                server,
                serving: Mutex::new(Some(serving)),
            }),
            client: None,
        })
    }

    /// A clone that serves the client at `client` (its connection's peer
    /// address): its GET streams then count against the client's cap,
    /// [`HttpConfig::max_streams_per_client`], and past it are answered
    /// 429 with `Retry-After`. Make one per accepted connection. Without
    /// it, only the per-principal stream cap applies (the service cannot
    /// tell one client's address from another's); the per-client
    /// connection cap is the server's (hyper's) to keep.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use hyper_util::rt::TokioIo;
    /// # use switchboard_core::{HttpConfig, McpServerBuilder};
    /// # use switchboard_tokio::McpService;
    /// # async fn serve(mcp: McpService) -> std::io::Result<()> {
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    /// loop {
    ///     let (stream, peer) = listener.accept().await?;
    ///     let service = mcp.for_client(peer.ip());
    ///     let builder = mcp.connection_builder();
    ///     tokio::spawn(async move {
    ///         let _ = builder.serve_connection(TokioIo::new(stream), service).await;
    ///     });
    /// }
    /// # }
    /// ```
    #[must_use]
    pub fn for_client(&self, client: IpAddr) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
            client: Some(client),
        }
    }

    /// A hyper-util connection builder (HTTP/1.1 and h2c on one port) set
    /// up as our own listener is: a tokio timer, so that a head not received
    /// within [`HttpConfig::request_time_limit`] ends its connection (a
    /// slowloris client cannot hold it); at most
    /// [`HttpConfig::header_limit`] headers and
    /// [`HttpConfig::head_byte_limit`] bytes of head (HTTP/2: of header
    /// list); at most 256 concurrent HTTP/2 streams per connection (the
    /// engine's default in-flight cap per session), with keep-alive pings
    /// every [`HttpConfig::keep_alive_limit`] to find dead peers.
    ///
    /// Connection counting and the write timeout stay with our listener;
    /// put a connection cap in front of a hyper server yourself.
    pub fn connection_builder(&self) -> auto::Builder<TokioExecutor> {
        let config = &self.inner.config;
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(config.request_time_limit())
            .max_headers(config.header_limit())
            // hyper's read buffer has a floor of 8 KiB.
            .max_buf_size(config.head_byte_limit().max(8192));
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(config.head_byte_limit()).unwrap_or(u32::MAX))
            .max_concurrent_streams(256)
            .keep_alive_interval(config.keep_alive_limit());
        builder
    }

    /// The MCP server, to change registrations or notify clients while it
    /// runs.
    pub fn server(&self) -> &McpServer {
        &self.inner.server
    }

    /// The core's service behind this one (open exchanges, drain).
    pub fn http_service(&self) -> &HttpService {
        &self.inner.service
    }

    /// The shutdown signal. Triggering it ends standalone (GET) streams and
    /// `subscriptions/listen` streams, and marks HTTP/1.1 responses
    /// `Connection: close`; requests still arriving are answered. Hand
    /// [`Shutdown::triggered`] to the server's graceful shutdown (axum's
    /// `with_graceful_shutdown`, hyper-util's `GracefulShutdown`) so open
    /// streams do not hold it, then call [`McpService::shutdown`].
    pub fn shutdown_signal(&self) -> Shutdown {
        self.inner.service.shutdown_signal().clone()
    }

    /// Shuts down gracefully: triggers the shutdown signal, waits up to
    /// `grace` for responses in progress, then closes the transport (every
    /// session ends, later requests are answered 503) and waits for the
    /// serve loop. A second call returns at once.
    ///
    /// # Errors
    ///
    /// When the MCP server's loop failed.
    pub async fn shutdown(&self, grace: Duration) -> Result<(), TransportError> {
        let serving = self
            .inner
            .serving
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        match serving {
            Some(serving) => self.inner.service.stop(serving, grace).await,
            None => Ok(()),
        }
    }

    /// Answers one request (what both `Service` impls call).
    fn answer<B>(&self, request: http::Request<B>) -> ResponseFuture
    where
        B: Body + Send + 'static,
        B::Data: Send,
    {
        let inner = Arc::clone(&self.inner);
        let client = self.client;
        Box::pin(async move {
            let request = request.map(|body| DataStream(Box::pin(body)));
            let response = inner.service.respond_from(request, client).await;
            Ok(response.map(McpBody))
        })
    }
}

/// The future of one response; it never fails.
pub type ResponseFuture =
    Pin<Box<dyn Future<Output = Result<http::Response<McpBody>, Infallible>> + Send>>;

impl<B> tower_service::Service<http::Request<B>> for McpService
where
    B: Body + Send + 'static,
    B::Data: Send,
{
    type Response = http::Response<McpBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    /// Always ready: limits are applied per request.
    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        self.answer(request)
    }
}

impl<B> ::hyper::service::Service<http::Request<B>> for McpService
where
    B: Body + Send + 'static,
    B::Data: Send,
{
    type Response = http::Response<McpBody>;
    type Error = Infallible;
    type Future = ResponseFuture;

    fn call(&self, request: http::Request<B>) -> Self::Future {
        self.answer(request)
    }
}

/// A request body as the stream of data the core reads; trailers are
/// skipped.
struct DataStream<B>(Pin<Box<B>>);

impl<B: Body> Stream for DataStream<B> {
    type Item = Result<Bytes, B::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let frame = match self.0.as_mut().poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(frame))) => frame,
            };
            // `copy_to_bytes` of a `Bytes` (hyper's, axum's) is not a copy.
            if let Ok(mut data) = frame.into_data() {
                let len = data.remaining();
                return Poll::Ready(Some(Ok(data.copy_to_bytes(len))));
            }
        }
    }
}

/// The body of an MCP response as an `http_body::Body` of [`Bytes`]: a
/// JSON body with its exact length, or an SSE stream.
///
/// Dropping it is the client going away, as described at
/// [`ResponseBody`]: a session's stream stays for `Last-Event-ID`
/// resumption, a stateless request is cancelled.
#[derive(Debug)]
pub struct McpBody(ResponseBody);

impl McpBody {
    /// The core's body inside.
    pub fn into_inner(self) -> ResponseBody {
        self.0
    }
}

impl Body for McpBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.0)
            .poll_next(cx)
            .map(|chunk| chunk.map(|c| c.map(|c| Frame::data(Bytes::from_owner(c)))))
    }

    fn is_end_stream(&self) -> bool {
        self.0.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        match self.0.exact_len() {
            Some(n) => SizeHint::with_exact(n),
            None => SizeHint::default(),
        }
    }
}
