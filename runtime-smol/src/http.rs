//! The HTTP listener on smol: the core's [`HttpServer`](switchboard_core::http::HttpServer)
//! over smol's sockets.

use std::io;
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use smol::Async;
use smol::io::{AsyncRead, AsyncWrite};
use switchboard_core::http::{Listener, Shutdown};

use crate::SmolRuntime;

/// An MCP server listening for Streamable HTTP on smol: a TCP listener
/// (TCP_NODELAY on each connection) around the core's
/// [`HttpEndpoint`](switchboard_core::http::HttpEndpoint), on smol's global
/// executor ([`HttpServer::bind`]) or an executor of your own
/// ([`HttpServer::bind_with`]).
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
pub type HttpServer = switchboard_core::http::HttpServer<SmolListener>;

/// The listening socket of smol's [`HttpServer`].
///
/// Once `accept` found no connection waiting, it waits for readability
/// before trying again: the accept loop is polled whenever its task wakes
/// (on an executor's main future, at every reactor turn), and async-io
/// would otherwise try `accept` and re-register the socket each time.
#[derive(Debug)]
pub struct SmolListener {
    io: Async<TcpListener>,
    drained: AtomicBool,
}

impl SmolListener {
    fn poll_accept(&self, cx: &mut Context<'_>) -> Poll<io::Result<(TcpStream, SocketAddr)>> {
        loop {
            if self.drained.load(Ordering::Relaxed) {
                match self.io.poll_readable(cx) {
                    Poll::Ready(Ok(())) => self.drained.store(false, Ordering::Relaxed),
                    Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                    Poll::Pending => return Poll::Pending,
                }
            }
            match self.io.get_ref().accept() {
                Ok(accepted) => return Poll::Ready(Ok(accepted)),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    self.drained.store(true, Ordering::Relaxed);
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl Listener for SmolListener {
    type Conn = SmolConnection;
    type Runtime = SmolRuntime;

    async fn bind(addr: SocketAddr) -> io::Result<Self> {
        Ok(Self {
            io: Async::<TcpListener>::bind(addr)?,
            drained: AtomicBool::new(false),
        })
    }

    /// smol's global executor.
    fn default_runtime() -> SmolRuntime {
        SmolRuntime::global()
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    async fn accept(&self) -> io::Result<SmolConnection> {
        Ok(self.accept_from().await?.0)
    }

    /// Accepts with the peer's address, for the per-client caps.
    async fn accept_from(&self) -> io::Result<(SmolConnection, Option<IpAddr>)> {
        let (stream, peer) = smol::future::poll_fn(|cx| self.poll_accept(cx)).await?;
        let stream = Async::new(stream)?;
        stream.get_ref().set_nodelay(true)?;
        let conn = SmolConnection {
            io: stream,
            drained: false,
        };
        Ok((conn, Some(peer.ip())))
    }

    /// [`shutdown_on_signals`](crate::shutdown_on_signals), watching on `runtime`.
    fn shutdown_on_signals(shutdown: Shutdown, runtime: &SmolRuntime) -> io::Result<()> {
        crate::shutdown_on_signals(shutdown, runtime)
    }
}

/// A connection smol's [`HttpServer`] accepted: a TCP stream that, after a
/// short read, waits for readability before reading again.
///
/// In request/response traffic a short read has emptied the socket, so
/// this saves the read that would only find it empty (async-io tries the
/// read first, then registers interest).
#[derive(Debug)]
pub struct SmolConnection {
    io: Async<TcpStream>,
    drained: bool,
}

impl AsyncRead for SmolConnection {
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

impl AsyncWrite for SmolConnection {
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

#[cfg(test)]
mod tests {
    use switchboard_core::{HttpConfig, McpServerBuilder};

    use super::HttpServer;

    /// Binding and serving can be spawned on a multi-threaded executor, as
    /// they could before the server was generic.
    #[test]
    fn futures_are_send() {
        fn send<T: Send>(_: &T) {}
        fn check(server: HttpServer, builder: McpServerBuilder) {
            send(&HttpServer::bind_default(builder, HttpConfig::default()));
            send(&server.run());
        }
        let _ = check;
    }
}
