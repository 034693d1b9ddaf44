//! The HTTP listener on tokio: the core's [`HttpServer`](switchboard_core::http::HttpServer)
//! over tokio's sockets, bridged to `futures::io`.

use std::io;
use std::net::{IpAddr, SocketAddr};

use switchboard_core::http::{Listener, Shutdown};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::compat::{Compat, TokioAsyncReadCompatExt};

use crate::TokioRuntime;

/// An MCP server listening for Streamable HTTP on tokio: a TCP listener
/// (TCP_NODELAY on each connection) around the core's
/// [`HttpEndpoint`](switchboard_core::http::HttpEndpoint), on the current
/// tokio runtime ([`HttpServer::bind`]) or the one you name
/// ([`HttpServer::bind_with`]).
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
pub type HttpServer = switchboard_core::http::HttpServer<TokioListener>;

/// The listening socket of tokio's [`HttpServer`].
#[derive(Debug)]
pub struct TokioListener {
    io: TcpListener,
}

impl Listener for TokioListener {
    type Conn = Compat<TcpStream>;
    type Runtime = TokioRuntime;

    /// Binds `addr` on the current tokio runtime (and panics outside one).
    async fn bind(addr: SocketAddr) -> io::Result<Self> {
        Ok(Self {
            io: TcpListener::bind(addr).await?,
        })
    }

    /// The current tokio runtime (and panics outside one).
    fn default_runtime() -> TokioRuntime {
        TokioRuntime::current()
    }

    fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.local_addr()
    }

    async fn accept(&self) -> io::Result<Compat<TcpStream>> {
        Ok(self.accept_from().await?.0)
    }

    /// Accepts with the peer's address, for the per-client caps.
    async fn accept_from(&self) -> io::Result<(Compat<TcpStream>, Option<IpAddr>)> {
        let (stream, peer) = self.io.accept().await?;
        stream.set_nodelay(true)?;
        Ok((stream.compat(), Some(peer.ip())))
    }

    /// [`shutdown_on_signals`](crate::shutdown_on_signals) inside `runtime`:
    /// its handlers and its watcher are registered there, whichever runtime
    /// the caller is on.
    fn shutdown_on_signals(shutdown: Shutdown, runtime: &TokioRuntime) -> io::Result<()> {
        let _entered = runtime.handle.enter();
        crate::shutdown_on_signals(shutdown)
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
