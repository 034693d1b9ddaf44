//! The HTTP listener on smol.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use std::net::{TcpListener, TcpStream};
use std::pin::Pin;
use std::task::{Context, Poll};

use smol::Async;
use smol::io::{AsyncRead, AsyncWrite};
use switchboard_core::http::{DEFAULT_ADDR, HttpEndpoint, Shutdown};
use switchboard_core::{HttpConfig, McpServer, McpServerBuilder, TransportError};

use crate::SmolRuntime;

/// An MCP server listening for Streamable HTTP on smol: a TCP listener
/// (TCP_NODELAY on each connection) around the core's [`HttpEndpoint`].
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
    listener: Async<TcpListener>,
    endpoint: HttpEndpoint,
    runtime: SmolRuntime,
}

impl HttpServer {
    /// Binds `addr` and builds the MCP server over an HTTP transport, with
    /// smol's global executor as its runtime.
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
        let listener = Async::<TcpListener>::bind(addr)?;
        let endpoint = HttpEndpoint::new(builder, config, Arc::new(runtime.clone()));
        Ok(Self {
            listener,
            endpoint,
            runtime,
        })
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
        self.listener.get_ref().local_addr()
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
    pub fn shutdown_on_signals(self) -> io::Result<Self> {
        crate::shutdown_on_signals(self.shutdown_signal(), &self.runtime)?;
        Ok(self)
    }

    /// Serves until the shutdown signal, then shuts down gracefully.
    ///
    /// # Errors
    ///
    /// When the MCP server's loop fails.
    pub async fn run(self) -> Result<(), TransportError> {
        let listener = Listener {
            io: self.listener,
            drained: AtomicBool::new(false),
        };
        let accept = || async {
            let stream = Async::new(smol::future::poll_fn(|cx| listener.poll_accept(cx)).await?)?;
            stream.get_ref().set_nodelay(true)?;
            Ok::<Connection, io::Error>(Connection {
                io: stream,
                drained: false,
            })
        };
        self.endpoint.run(accept).await
    }
}

/// The listening socket. Once `accept` found no connection waiting, it waits
/// for readability before trying again: the accept loop is polled whenever
/// its task wakes (on an executor's main future, at every reactor turn), and
/// async-io would otherwise try `accept` and re-register the socket each time.
#[derive(Debug)]
struct Listener {
    io: Async<TcpListener>,
    drained: AtomicBool,
}

impl Listener {
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<TcpStream>> {
        loop {
            if self.drained.load(Ordering::Relaxed) {
                match self.io.poll_readable(cx) {
                    Poll::Ready(Ok(())) => self.drained.store(false, Ordering::Relaxed),
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
            match self.io.get_ref().accept() {
                Ok((stream, _)) => return Poll::Ready(Ok(stream)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.drained.store(true, Ordering::Relaxed);
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

/// A TCP connection that, after a short read, waits for readability before
/// reading again. In request/response traffic a short read has emptied the
/// socket, so this saves the read that would only find it empty (async-io
/// tries the read first, then registers interest).
#[derive(Debug)]
struct Connection {
    io: Async<TcpStream>,
    drained: bool,
}

impl AsyncRead for Connection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        if self.drained {
            match self.io.poll_readable(cx) {
                Poll::Ready(Ok(())) => self.drained = false,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => return Poll::Pending,
            }
        }
        let n = match Pin::new(&mut &self.io).poll_read(cx, buf) {
            Poll::Ready(Ok(n)) => n,
            other => return other,
        };
        self.drained = n > 0 && n < buf.len();
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for Connection {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &self.io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &self.io).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &self.io).poll_close(cx)
    }
}
