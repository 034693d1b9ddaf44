//! The request→response entry over the `http` crate's types:
//! [`HttpService::respond`] and the [`ResponseBody`] it answers with.
//!
//! The core of the endpoint is [`HttpServerTransport::handle`] (a parsed
//! head and the whole body in, a [`Response`] out); `respond` is its front
//! door for servers that speak `http::Request`/`http::Response`, such as
//! hyper on HTTP/1.1 or HTTP/2 and axum. Our own HTTP/1.1 listener goes
//! through `handle` too, so both apply the very same rules:
//!
//! ```text
//! our listener: bytes ─▶ parse_head ───────────┐
//!                                              ├─▶ HttpServerTransport::handle ─▶ Response
//! respond: http::Request ─▶ RequestHead::from_parts ┘        │
//!                                                            ▼
//!            conn: head + body, chunked SSE (SseSource)
//!            respond: http::Response<ResponseBody> (SseSource)
//! ```
//!
//! `respond` fills the same [`RequestHead`] our parser fills, straight
//! from the request's parts (nothing is written out as text to be parsed
//! again), so duplicates, the Host and Origin checks and the head limits
//! are decided exactly as for our listener. An HTTP/2 request has no
//! `Host` header, only the URI's authority: it stands in for `Host`.
//!
//! [`HttpServerTransport::handle`]: crate::HttpServerTransport::handle
//! [`parse_head`]: crate::http::wire::parse_head

use std::convert::Infallible;
use std::fmt;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use futures::{Stream, StreamExt};
use http::header::CONNECTION;
use http::{HeaderValue, Version};

use super::service::{HttpService, Slot};
use crate::http::replies::response::{Body, Response};
use crate::http::replies::sse::{SseNext, SseSource};
use crate::http::rules::cors;
use crate::http::wire::events::KEEP_ALIVE;
use crate::http::wire::{Framing, HttpError, RequestHead};

/// One piece of a response body: a whole JSON body, or an SSE stream's
/// initial bytes, one event or one keep-alive comment.
///
/// It owns its bytes (`AsRef<[u8]> + Send + 'static`), so an adapter hands
/// it on without copying: `bytes::Bytes::from_owner(chunk)`, or
/// `Vec::from(chunk)` (which copies only a body shared with a stream's
/// log, or a keep-alive).
pub struct Chunk(Bytes);

/// Where a chunk's bytes live.
enum Bytes {
    /// Encoded for this response.
    Owned(Vec<u8>),
    /// Shared with the stream log entry the reply was taken from.
    Shared(Arc<[u8]>),
    /// A constant (keep-alive comments).
    Static(&'static [u8]),
}

impl Chunk {
    /// The number of bytes.
    pub fn len(&self) -> usize {
        self.as_ref().len()
    }

    /// Whether it holds no byte (no chunk that [`ResponseBody`] yields does).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl AsRef<[u8]> for Chunk {
    fn as_ref(&self) -> &[u8] {
        match &self.0 {
            Bytes::Owned(v) => v,
            Bytes::Shared(a) => a,
            Bytes::Static(s) => s,
        }
    }
}

impl From<Chunk> for Vec<u8> {
    fn from(chunk: Chunk) -> Self {
        match chunk.0 {
            Bytes::Owned(v) => v,
            Bytes::Shared(a) => a.to_vec(),
            Bytes::Static(s) => s.to_vec(),
        }
    }
}

impl fmt::Debug for Chunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chunk").field("len", &self.len()).finish()
    }
}

/// The body of a response from [`HttpService::respond`]: a stream of
/// [`Chunk`]s that never fails.
///
/// - an empty or JSON body is at most one chunk, its length known at once
///   ([`ResponseBody::exact_len`]);
/// - an SSE body yields its initial bytes (a priming event, replayed
///   events), then each event as it comes and a keep-alive comment after
///   each quiet spell of [`HttpConfig::sse_keep_alive`](crate::HttpConfig::sse_keep_alive), and ends after the
///   stream's final event or when the stream closes; the standalone (GET)
///   stream ends on the service's shutdown signal.
///
/// Polling it drives the handler behind the stream. **Dropping it means the
/// client went away**, as when a client leaves one of our HTTP/1.1
/// connections mid-stream: a session's handler is spawned on the runtime
/// and goes on, its stream kept for `Last-Event-ID` resumption; a
/// stateless (2026-07-28) request is cancelled. The server around it
/// decides when that is: an event taken from the body before the server
/// noticed the client left counts as written (our listener looks at the
/// socket before each event; hyper drops the body when it sees the
/// connection close or the HTTP/2 stream reset).
///
/// It counts as open for [`HttpService::drain`] until it ends or is
/// dropped.
pub struct ResponseBody {
    /// What is left to yield.
    inner: Inner,
    /// Counts this response in the service's open exchanges.
    _slot: Option<Slot>,
}

/// What a [`ResponseBody`] has left.
enum Inner {
    /// Nothing (more).
    Done,
    /// One whole body, not yet taken.
    Full(Chunk),
    /// A stream: its initial bytes (until taken), then its source.
    Sse {
        initial: Option<Chunk>,
        source: SseSource,
        /// The final event was yielded: the next poll reports it delivered.
        last_sent: bool,
    },
}

impl fmt::Debug for ResponseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.inner {
            Inner::Done => "done",
            Inner::Full(_) => "full",
            Inner::Sse { .. } => "sse",
        };
        f.debug_struct("ResponseBody")
            .field("kind", &kind)
            .field("exact_len", &self.exact_len())
            .finish_non_exhaustive()
    }
}

impl ResponseBody {
    /// An empty body.
    pub fn empty() -> Self {
        Self {
            inner: Inner::Done,
            _slot: None,
        }
    }

    /// The number of bytes still to come when known: always for an empty
    /// or JSON body (what `Content-Length` says), never for a stream.
    pub fn exact_len(&self) -> Option<u64> {
        match &self.inner {
            Inner::Done => Some(0),
            Inner::Full(chunk) => Some(chunk.len() as u64),
            Inner::Sse { .. } => None,
        }
    }

    /// Whether the body has nothing more to yield (the next poll would
    /// return `None`). A stream is not at its end right after its final
    /// event: the poll after it reports the event delivered.
    pub fn is_end_stream(&self) -> bool {
        matches!(self.inner, Inner::Done)
    }

    /// Whether this is an SSE stream (`text/event-stream`).
    pub fn is_stream(&self) -> bool {
        matches!(self.inner, Inner::Sse { .. })
    }

    /// The body for `body`, counted in `slot`.
    fn new(body: Body, service: &HttpService, slot: Slot) -> Self {
        let inner = match body {
            Body::Empty => Inner::Done,
            Body::Full(v) => Inner::Full(Chunk(Bytes::Owned(v))),
            Body::Shared(a) => Inner::Full(Chunk(Bytes::Shared(a))),
            Body::Sse(sse) => {
                let config = service.transport.config();
                let (initial, source) =
                    sse.open(&service.runtime, config.sse_keep_alive, &service.shutdown);
                Inner::Sse {
                    initial: (!initial.is_empty()).then_some(Chunk(Bytes::Owned(initial))),
                    source,
                    last_sent: false,
                }
            }
        };
        Self {
            inner,
            _slot: Some(slot),
        }
    }

    /// Ends the body, releasing its slot.
    fn end(&mut self) -> Poll<Option<Result<Chunk, Infallible>>> {
        self.inner = Inner::Done;
        self._slot = None;
        Poll::Ready(None)
    }
}

impl Stream for ResponseBody {
    type Item = Result<Chunk, Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let (source, last_sent) = match &mut this.inner {
            Inner::Done => return this.end(),
            Inner::Full(_) => {
                let Inner::Full(chunk) = std::mem::replace(&mut this.inner, Inner::Done) else {
                    unreachable!("matched above");
                };
                this._slot = None;
                return Poll::Ready(Some(Ok(chunk)));
            }
            Inner::Sse {
                initial,
                source,
                last_sent,
            } => {
                if let Some(chunk) = initial.take() {
                    return Poll::Ready(Some(Ok(chunk)));
                }
                (source, last_sent)
            }
        };
        // Asked for more after the final event: it was taken to be written.
        if *last_sent {
            source.finish(true);
            return this.end();
        }
        if let Some(delivered) = source.ended() {
            source.finish(delivered);
            return this.end();
        }
        match source.poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(SseNext::Event { bytes, last }) => {
                *last_sent = last;
                Poll::Ready(Some(Ok(Chunk(Bytes::Owned(bytes)))))
            }
            Poll::Ready(SseNext::KeepAlive) => {
                Poll::Ready(Some(Ok(Chunk(Bytes::Static(KEEP_ALIVE)))))
            }
            Poll::Ready(SseNext::Closed) => {
                source.finish(false);
                this.end()
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            Inner::Done => (0, Some(0)),
            Inner::Full(_) => (1, Some(1)),
            Inner::Sse { .. } => (0, None),
        }
    }
}

impl HttpService {
    /// Answers one request given as `http` types: the front door onto
    /// [`HttpServerTransport::handle`](crate::http::HttpServerTransport::handle)
    /// for servers such as hyper (HTTP/1.1 and HTTP/2) and axum.
    ///
    /// The head is checked as our listener checks it (the limits, then
    /// every endpoint rule); `Host` is taken from the URI's authority when
    /// the request has none (HTTP/2). The body is read once, into one
    /// buffer, with [`HttpConfig::max_body_bytes`](crate::HttpConfig::max_body_bytes) enforced while reading:
    /// a `Content-Length` over it, or more bytes than it, is answered 413
    /// at once without reading the rest; a body that fails to arrive is
    /// answered 400.
    ///
    /// The response carries its own headers; the framing is the caller's
    /// (`Content-Length` from [`ResponseBody::exact_len`], chunked or
    /// HTTP/2 frames for a stream). A response that asks the connection to
    /// close (a refusal, shutdown) carries `Connection: close` on HTTP/1.x.
    ///
    /// Dropping the future before it returns cancels the request, as a
    /// client that leaves before its reply does; dropping the body later is
    /// described at [`ResponseBody`].
    ///
    /// # Examples
    ///
    /// ```
    /// use std::convert::Infallible;
    /// use std::sync::Arc;
    ///
    /// use futures::StreamExt;
    /// use switchboard_core::{HttpConfig, HttpServerTransport, HttpService, McpServerBuilder};
    /// # use std::time::Duration;
    /// # use switchboard_core::{BoxFuture, Runtime};
    /// # #[derive(Debug)]
    /// # struct Threads;
    /// # impl Runtime for Threads {
    /// #     fn spawn(&self, future: BoxFuture<()>) {
    /// #         std::thread::spawn(move || futures::executor::block_on(future));
    /// #     }
    /// #     fn sleep(&self, duration: Duration) -> BoxFuture<()> {
    /// #         Box::pin(async move { std::thread::sleep(duration) })
    /// #     }
    /// # }
    ///
    /// let transport = HttpServerTransport::new(HttpConfig::default());
    /// let _server = McpServerBuilder::new().server_info("demo", "1.0.0").build(transport.clone());
    /// let service = HttpService::new(&transport, Arc::new(Threads));
    ///
    /// let init = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":
    ///     {"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#;
    /// let body = futures::stream::iter([Ok::<_, Infallible>(init.as_bytes())]);
    /// let request = http::Request::post("http://localhost/mcp")
    ///     .version(http::Version::HTTP_2)
    ///     .header("content-type", "application/json")
    ///     .header("accept", "application/json, text/event-stream")
    ///     .body(body)
    ///     .unwrap();
    ///
    /// # futures::executor::block_on(async {
    /// let response = service.respond(request).await;
    /// assert_eq!(response.status(), 200);
    /// assert!(response.headers().contains_key("mcp-session-id"));
    /// let mut body = response.into_body();
    /// let json = body.next().await.unwrap().unwrap();
    /// let reply: serde_json::Value = serde_json::from_slice(json.as_ref()).unwrap();
    /// assert_eq!(reply["result"]["protocolVersion"], "2025-11-25");
    /// assert!(body.next().await.is_none());
    /// # });
    /// ```
    pub async fn respond<B, D, E>(&self, request: http::Request<B>) -> http::Response<ResponseBody>
    where
        B: Stream<Item = Result<D, E>> + Send,
        D: AsRef<[u8]>,
    {
        self.respond_from(request, None).await
    }

    /// [`HttpService::respond`] for a client at `peer` (the address its
    /// connection came from, `None` when unknown): a GET stream then counts
    /// against the client's cap,
    /// [`HttpConfig::max_streams_per_client`](crate::HttpConfig::max_streams_per_client),
    /// and past it is answered 429 with `Retry-After`. The per-principal
    /// stream cap applies either way; connections are the server's to count.
    pub async fn respond_from<B, D, E>(
        &self,
        request: http::Request<B>,
        peer: Option<IpAddr>,
    ) -> http::Response<ResponseBody>
    where
        B: Stream<Item = Result<D, E>> + Send,
        D: AsRef<[u8]>,
    {
        let slot = Slot::take(&self.exchanges);
        let (parts, body) = request.into_parts();
        let http1 = parts.version < Version::HTTP_2;
        let config = self.transport.config();
        let response = match RequestHead::from_parts(&parts, config) {
            Err(e) => refusal(e),
            Ok(head) => match read_body(&head, body, config.max_body_bytes).await {
                Err(e) => {
                    // The head was read: a browser may read why.
                    let mut refused = refusal(e);
                    cors::grant_reply(config, &head, &mut refused);
                    refused
                }
                Ok(body) => self.transport.handle_from(&head, body, peer).await,
            },
        };
        let close = response.close || self.shutdown.is_triggered();
        let mut out = http::Response::new(ResponseBody::new(response.body, self, slot));
        *out.status_mut() = response.status;
        let headers = out.headers_mut();
        for (name, value) in response.headers {
            headers.append(name, value);
        }
        // HTTP/2 has no connection-specific headers (RFC 9113 §8.2.2).
        if close && http1 {
            out.headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
        }
        out
    }

    /// Responses from [`HttpService::respond`] not yet finished: being
    /// answered, or with a body not yet at its end nor dropped.
    pub fn exchange_count(&self) -> usize {
        self.exchanges.load(Ordering::Acquire)
    }
}

/// A plain-text refusal of a request that could not be read, closing the
/// connection (as our listener answers one).
fn refusal(error: HttpError) -> Response {
    Response::text(error.status(), &error.to_string()).closing()
}

/// Reads the whole body into one buffer, stopping at once past `limit`.
///
/// # Errors
///
/// [`HttpError::BodyTooLarge`] (413) when `Content-Length` or the bytes
/// read exceed `limit`; [`HttpError::Malformed`] (400) when the body
/// stream fails.
async fn read_body<B, D, E>(head: &RequestHead, body: B, limit: usize) -> Result<Vec<u8>, HttpError>
where
    B: Stream<Item = Result<D, E>>,
    D: AsRef<[u8]>,
{
    // The framing is the server's (hyper's) business; a length it let
    // through is only a size to check and to reserve.
    let announced = match head.framing() {
        Ok(Framing::Length(n)) => Some(n),
        _ => None,
    };
    if announced.is_some_and(|n| n > limit as u64) {
        return Err(HttpError::BodyTooLarge);
    }
    let mut out = Vec::with_capacity(announced.map_or(0, |n| n as usize));
    futures::pin_mut!(body);
    while let Some(data) = body.next().await {
        let data = data.map_err(|_| HttpError::Malformed)?;
        let data = data.as_ref();
        if out.len() + data.len() > limit {
            return Err(HttpError::BodyTooLarge);
        }
        out.extend_from_slice(data);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize};

    use serde_json::{Value, json};

    use super::*;
    use crate::http::config::HttpConfig;
    use crate::http::wire::testing::{Local, initialize, yield_now};
    use crate::runtime::Runtime;
    use crate::{CallToolResult, McpServer, McpServerBuilder, Tool};
    use http::header::CONTENT_TYPE;

    /// A server with `wait` (progress, then a wait for the test's gate,
    /// noting when it is dropped unfinished) behind a service on [`Local`].
    struct Harness {
        local: Local,
        service: HttpService,
        _server: McpServer,
        gate: async_channel::Sender<()>,
        dropped: Arc<AtomicBool>,
    }

    /// Sets its flag when dropped: a handler that never finished.
    struct Flag(Arc<AtomicBool>);

    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }

    impl Harness {
        fn new(config: HttpConfig) -> Self {
            let local = Local::default();
            let rt: Arc<dyn Runtime> = Arc::new(local.clone());
            let (gate, opened) = async_channel::bounded::<()>(1);
            let dropped = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&dropped);
            let transport = crate::http::HttpServerTransport::new(config);
            let server = McpServerBuilder::new()
                .server_info("exchange", "1")
                .runtime(Arc::clone(&rt))
                .tool(
                    Tool::new("wait", "waits for the gate"),
                    move |_: Value, ctx| {
                        let opened = opened.clone();
                        let flag = Flag(Arc::clone(&flag));
                        async move {
                            ctx.progress(1.0, None, None)
                                .await
                                .map_err(|e| crate::RpcError::internal(e.to_string()))?;
                            let _ = opened.recv().await;
                            std::mem::forget(flag);
                            Ok(CallToolResult::text("late"))
                        }
                    },
                )
                .build(transport.clone());
            let service = HttpService::new(&transport, rt);
            Self {
                local,
                service,
                _server: server,
                gate,
                dropped,
            }
        }

        fn ask(&self, request: http::Request<Vec<u8>>) -> http::Response<ResponseBody> {
            let request = request.map(|b| futures::stream::iter([Ok::<_, Infallible>(b)]));
            self.local.run(self.service.respond(request))
        }
    }

    fn post(headers: &[(&str, &str)], body: &str) -> http::Request<Vec<u8>> {
        let mut r = http::Request::post("http://localhost/mcp")
            .version(Version::HTTP_2)
            .header("content-type", "application/json")
            .header("accept", "application/json, text/event-stream");
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        r.body(body.as_bytes().to_vec()).unwrap()
    }

    /// The whole rest of a body, as text.
    fn rest(local: &Local, body: &mut ResponseBody) -> String {
        let mut out = Vec::new();
        local.run(async {
            while let Some(Ok(chunk)) = body.next().await {
                out.extend_from_slice(chunk.as_ref());
            }
        });
        String::from_utf8(out).unwrap()
    }

    /// Lets the tasks spawned on `local` run a while (bounded).
    fn settle(local: &Local) {
        local.run(async {
            for _ in 0..1000 {
                yield_now().await;
            }
        });
    }

    /// The `data:` payloads of SSE text, priming events left out.
    fn data(text: &str) -> Vec<Value> {
        text.lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter(|d| !d.is_empty())
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    }

    fn call_wait(id: u64, meta: Value) -> String {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
               "params": {"name": "wait", "arguments": {}, "_meta": meta}})
        .to_string()
    }

    #[test]
    fn a_json_reply_is_one_chunk_of_known_length_and_host_comes_from_the_authority() {
        let h = Harness::new(HttpConfig::default());
        let response = h.ask(post(&[], &initialize("2025-11-25")));
        assert_eq!(response.status(), 200);
        assert!(response.headers().contains_key("mcp-session-id"));
        assert!(!response.headers().contains_key(CONNECTION), "HTTP/2");
        let mut body = response.into_body();
        let len = body.exact_len().unwrap();
        let text = rest(&h.local, &mut body);
        assert_eq!(text.len() as u64, len);
        assert!(body.is_end_stream());
        assert_eq!(h.service.exchange_count(), 0);
        // The authority is checked as Host is.
        let evil = http::Request::post("http://evil.example/mcp")
            .version(Version::HTTP_2)
            .header("content-type", "application/json")
            .body(initialize("2025-11-25").into_bytes())
            .unwrap();
        assert_eq!(h.ask(evil).status(), 403);
    }

    #[test]
    fn bodies_over_the_limit_are_refused_without_reading_the_rest() {
        let h = Harness::new(HttpConfig::default().max_body_bytes(8));
        let polled = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&polled);
        let body = futures::stream::repeat_with(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            Ok::<_, Infallible>(vec![b'x'; 5])
        });
        let request = http::Request::post("/mcp")
            .header("host", "localhost")
            .body(body)
            .unwrap();
        let response = h.local.run(h.service.respond(request));
        assert_eq!(response.status(), 413);
        assert_eq!(response.headers()[CONNECTION], "close");
        assert_eq!(polled.load(Ordering::SeqCst), 2, "stopped at the limit");
        // An announced length over the limit reads nothing at all.
        let request = http::Request::post("/mcp")
            .header("host", "localhost")
            .header("content-length", "9")
            .body(futures::stream::pending::<Result<Vec<u8>, Infallible>>())
            .unwrap();
        assert_eq!(h.local.run(h.service.respond(request)).status(), 413);
        // A body that fails is a bad request.
        let request = http::Request::post("/mcp")
            .header("host", "localhost")
            .body(futures::stream::iter([Err::<Vec<u8>, _>("reset")]))
            .unwrap();
        assert_eq!(h.local.run(h.service.respond(request)).status(), 400);
    }

    #[test]
    fn a_dropped_session_stream_goes_on_and_can_be_resumed() {
        let h = Harness::new(HttpConfig::default());
        let init = h.ask(post(&[], &initialize("2025-11-25")));
        let sid = init.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_owned();
        drop(init);
        let headers = [("mcp-session-id", sid.as_str())];
        let response = h.ask(post(&headers, &call_wait(7, json!({"progressToken": 7}))));
        assert_eq!(response.headers()[CONTENT_TYPE], "text/event-stream");
        let mut body = response.into_body();
        assert!(body.is_stream() && body.exact_len().is_none());
        // The progress came first and decided for SSE: it is in the initial
        // bytes, after the priming event.
        let initial = h.local.run(async { body.next().await.unwrap().unwrap() });
        let initial = String::from_utf8(initial.into()).unwrap();
        assert!(initial.starts_with("id: 1-0\nretry:"), "{initial}");
        assert_eq!(data(&initial)[0]["method"], "notifications/progress");
        // The client goes away: the handler is spawned, not cancelled.
        drop(body);
        assert_eq!(h.service.exchange_count(), 0);
        h.gate.try_send(()).unwrap();
        let resume = http::Request::get("http://localhost/mcp")
            .version(Version::HTTP_2)
            .header("accept", "text/event-stream")
            .header("mcp-session-id", sid.as_str())
            .header("last-event-id", "1-1")
            .body(Vec::new())
            .unwrap();
        let mut body = h.ask(resume).into_body();
        let text = rest(&h.local, &mut body);
        let got = data(&text);
        assert_eq!(got.len(), 1, "only what the client missed: {text}");
        assert_eq!(got[0]["result"]["content"][0]["text"], "late");
        assert!(!h.dropped.load(Ordering::SeqCst));
    }

    #[test]
    fn a_dropped_stateless_stream_cancels_its_request() {
        let h = Harness::new(HttpConfig::default());
        let meta = json!({"progressToken": 1,
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
            "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}});
        let headers = [
            ("mcp-protocol-version", "2026-07-28"),
            ("mcp-method", "tools/call"),
            ("mcp-name", "wait"),
        ];
        let response = h.ask(post(&headers, &call_wait(1, meta)));
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()[CONTENT_TYPE], "text/event-stream");
        let mut body = response.into_body();
        let first = h.local.run(async { body.next().await.unwrap().unwrap() });
        let first = String::from_utf8(first.into()).unwrap();
        assert_eq!(data(&first)[0]["method"], "notifications/progress");
        drop(body);
        settle(&h.local);
        assert!(
            h.dropped.load(Ordering::SeqCst),
            "the handler was cancelled"
        );
    }

    #[test]
    fn the_standalone_stream_ends_on_shutdown() {
        let h = Harness::new(HttpConfig::default());
        let init = h.ask(post(&[], &initialize("2025-11-25")));
        let sid = init.headers()["mcp-session-id"]
            .to_str()
            .unwrap()
            .to_owned();
        drop(init);
        let get = http::Request::get("/mcp")
            .header("host", "localhost")
            .header("accept", "text/event-stream")
            .header("mcp-session-id", sid.as_str())
            .body(Vec::new())
            .unwrap();
        let mut body = h.ask(get).into_body();
        h.local.run(async { body.next().await.unwrap().unwrap() });
        assert_eq!(h.service.exchange_count(), 1);
        h.service.shutdown_signal().trigger();
        rest(&h.local, &mut body);
        assert!(body.is_end_stream());
        assert_eq!(h.service.exchange_count(), 0);
    }
}
