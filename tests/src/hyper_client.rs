//! A hyper client speaking HTTP/1.1 or HTTP/2 (prior knowledge) to any of
//! the test servers, and a test server that mounts
//! [`McpService`] in hyper (HTTP/1.1 and
//! h2c on one port) or in an axum router.
//!
//! Every wait is bounded by [`DEADLINE`](crate::DEADLINE).

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Request};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde_json::Value;
use switchboard_core::http::Shutdown;
use switchboard_core::{HttpConfig, McpServer, ServerConfig};
use switchboard_tokio::McpService;

use crate::client::{Event, parse_events};
use crate::server::{Gates, test_builder_with};

/// Which HTTP version a client speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    /// HTTP/1.1.
    Http1,
    /// HTTP/2 with prior knowledge (h2c).
    Http2,
}

/// A whole response.
#[derive(Debug)]
pub struct Answer {
    /// The status.
    pub status: u16,
    /// The headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The JSON-RPC messages: the body, or each SSE event's data.
    pub fn messages(&self) -> Vec<Value> {
        if self.header("content-type") == Some("text/event-stream") {
            parse_events(&self.body)
                .iter()
                .filter(|e| !e.data.is_empty())
                .map(Event::json)
                .collect()
        } else {
            vec![self.json()]
        }
    }
}

/// A client of one server, each request on a fresh connection.
#[derive(Debug)]
pub struct HyperClient {
    /// Where the server listens.
    pub addr: SocketAddr,
    /// The HTTP version spoken.
    pub proto: Proto,
    rt: Arc<tokio::runtime::Runtime>,
}

/// Runs `fut` on `rt`, failing the test after [`DEADLINE`](crate::DEADLINE).
fn bounded<T>(rt: &tokio::runtime::Runtime, what: &str, fut: impl Future<Output = T>) -> T {
    rt.block_on(async {
        tokio::time::timeout(crate::DEADLINE, fut)
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {what}"))
    })
}

impl HyperClient {
    /// A client of the server at `addr`.
    pub fn new(addr: SocketAddr, proto: Proto) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        Self {
            addr,
            proto,
            rt: Arc::new(rt),
        }
    }

    /// Sends a request and reads its head; the body is left to read.
    pub fn open(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Streaming {
        let uri = format!("http://{}{path}", self.addr);
        let mut request = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_owned())))
            .expect("a valid request");
        self.send(request)
    }

    /// Sends a request with any body and reads its head.
    pub fn send<B>(&self, request: Request<B>) -> Streaming
    where
        B: hyper::body::Body<Data = Bytes> + Send + Unpin + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let addr = self.addr;
        let proto = self.proto;
        let (response, conn) = bounded(&self.rt, "a response head", async move {
            let stream = tokio::net::TcpStream::connect(addr)
                .await
                .expect("connects");
            let io = TokioIo::new(stream);
            match proto {
                Proto::Http1 => {
                    let (mut send, conn) = hyper::client::conn::http1::handshake(io)
                        .await
                        .expect("handshake");
                    let conn = tokio::spawn(async move {
                        let _ = conn.await;
                    });
                    (send.send_request(request).await.expect("a response"), conn)
                }
                Proto::Http2 => {
                    let (mut send, conn) =
                        hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
                            .await
                            .expect("handshake");
                    let conn = tokio::spawn(async move {
                        let _ = conn.await;
                    });
                    (send.send_request(request).await.expect("a response"), conn)
                }
            }
        });
        let (parts, body) = response.into_parts();
        Streaming {
            status: parts.status.as_u16(),
            version: parts.version,
            headers: parts.headers,
            body: Some(body),
            pending: Vec::new(),
            conn: Some(conn),
            rt: Arc::clone(&self.rt),
        }
    }

    /// Sends a request and reads the whole response.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Answer {
        self.open(method, path, headers, body).finish()
    }
}

/// A response whose body is read as it comes.
#[derive(Debug)]
pub struct Streaming {
    /// The status.
    pub status: u16,
    /// The HTTP version it came in.
    pub version: http::Version,
    /// The headers.
    pub headers: HeaderMap,
    body: Option<Incoming>,
    /// Body bytes not yet split into events.
    pending: Vec<u8>,
    conn: Option<tokio::task::JoinHandle<()>>,
    rt: Arc<tokio::runtime::Runtime>,
}

impl Streaming {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The next data frame; `None` at the end of the body.
    pub fn next_bytes(&mut self) -> Option<Bytes> {
        let body = self.body.as_mut()?;
        loop {
            let frame = bounded(&self.rt, "a body frame", body.frame());
            match frame {
                None => return None,
                Some(Err(e)) => panic!("body failed: {e}"),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        return Some(data);
                    }
                }
            }
        }
    }

    /// The next SSE event (comments skipped); `None` at the end.
    pub fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.pending.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.pending.drain(..end + 2).collect();
                if let Some(event) = parse_events(&block).into_iter().next() {
                    return Some(event);
                }
                continue;
            }
            let bytes = self.next_bytes()?;
            self.pending.extend_from_slice(&bytes);
        }
    }

    /// The next event that carries a message, priming events skipped.
    pub fn next_message(&mut self) -> Option<(Option<String>, Value)> {
        loop {
            let event = self.next_event()?;
            if !event.data.is_empty() {
                return Some((event.id.clone(), event.json()));
            }
        }
    }

    /// Reads the rest of the body.
    pub fn finish(mut self) -> Answer {
        let mut body = std::mem::take(&mut self.pending);
        while let Some(bytes) = self.next_bytes() {
            body.extend_from_slice(&bytes);
        }
        Answer {
            status: self.status,
            headers: std::mem::take(&mut self.headers),
            body,
        }
    }

    /// Goes away mid-body, then waits until `gone` holds (the server saw
    /// it). On HTTP/1.1 the connection closes; on HTTP/2 the stream is reset
    /// (the connection runs on meanwhile, so the reset goes out), then the
    /// connection closes too.
    pub fn hang_up_until(mut self, gone: impl Fn() -> bool) {
        drop(self.body.take());
        if self.version != http::Version::HTTP_2 {
            self.close();
        }
        bounded(&self.rt, "the server to see the client go", async {
            while !gone() {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        });
        self.close();
    }

    fn close(&mut self) {
        drop(self.body.take());
        if let Some(conn) = self.conn.take() {
            conn.abort();
            let _ = bounded(&self.rt, "the connection to close", conn);
        }
    }
}

impl Drop for Streaming {
    fn drop(&mut self) {
        self.close();
    }
}

/// How a [`HyperServer`] mounts the service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mount {
    /// The service itself, as a hyper service.
    Hyper,
    /// In an axum router at `/mcp`, beside `GET /health` → `ok`.
    Axum,
}

/// A test server: [`McpService`] on hyper-util's auto builder (HTTP/1.1
/// and h2c on one port), on a tokio runtime in its own thread.
#[derive(Debug)]
pub struct HyperServer {
    /// Its address.
    pub addr: SocketAddr,
    /// Its MCP server handle.
    pub server: McpServer,
    /// The gates its tools wait on.
    pub gates: Gates,
    /// The service mounted.
    pub service: McpService,
    shutdown: Shutdown,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl HyperServer {
    /// Starts a server with the test tools.
    pub fn start(mount: Mount, config: HttpConfig) -> Self {
        let gates = Gates::default();
        let handle = Arc::new(OnceLock::new());
        let builder = test_builder_with(&gates, Arc::clone(&handle))
            .config(ServerConfig::default().list_changed(true));
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime");
            rt.block_on(async move {
                let mcp = McpService::new(builder, config).expect("a service");
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                let stop = mcp.shutdown_signal();
                tx.send((listener.local_addr().unwrap(), mcp.clone(), stop.clone()))
                    .unwrap();
                let router = axum::Router::new()
                    .route("/health", axum::routing::get(|| async { "ok" }))
                    .route_service("/mcp", mcp.clone());
                let http = mcp.connection_builder();
                loop {
                    let accepted = tokio::select! {
                        accepted = listener.accept() => accepted,
                        () = stop.triggered() => break,
                    };
                    let (stream, peer) = accepted.unwrap();
                    let io = TokioIo::new(stream);
                    let served = match mount {
                        Mount::Hyper => {
                            // Told its client, as our own listener is.
                            let service = mcp.for_client(peer.ip());
                            let conn = http.serve_connection(io, service).into_owned();
                            tokio::spawn(async move { drop(conn.await) })
                        }
                        Mount::Axum => {
                            let service =
                                hyper_util::service::TowerToHyperService::new(router.clone());
                            let conn = http.serve_connection(io, service).into_owned();
                            tokio::spawn(async move { drop(conn.await) })
                        }
                    };
                    drop(served);
                }
                mcp.shutdown(Duration::from_secs(2)).await.unwrap();
            });
        });
        let (addr, service, shutdown) = rx.recv_timeout(crate::DEADLINE).expect("server starts");
        let server = service.server().clone();
        let _ = handle.set(server.clone());
        Self {
            addr,
            server,
            gates,
            service,
            shutdown,
            thread: Some(thread),
        }
    }
}

impl HyperServer {
    /// Whether no response is open: hyper has dropped the body of every
    /// client that went away (it learns of that on its own time).
    pub fn no_open_response(&self) -> bool {
        self.service.http_service().exchange_count() == 0
    }
}

impl Drop for HyperServer {
    fn drop(&mut self) {
        self.shutdown.trigger();
        // A panic in the server thread fails the test that owns it.
        let failed = self.thread.take().is_some_and(|t| t.join().is_err());
        if failed && !std::thread::panicking() {
            panic!("server thread panicked");
        }
    }
}
