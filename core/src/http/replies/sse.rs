//! Server-sent events as the HTTP layer writes them: the body of an SSE
//! response ([`SseBody`]), and [`SseSource`], which drives a live stream for
//! whoever writes it out: our HTTP/1.1 connection (which adds chunk framing
//! and watches for a client that left) and
//! [`ResponseBody`](crate::http::ResponseBody) (the `http`-types body a
//! hyper service sends).
//!
//! The stream log behind the events is [`crate::stream`]; how an event is
//! spelled on the wire is [`crate::http::wire::events`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use super::job::Job;
use super::receiver::StreamReceiver;
use super::shutdown::Shutdown;
use crate::http::shares::Share;
use crate::http::wire::events::encode_event;
use crate::runtime::{BoxFuture, Runtime};
use crate::streams::STANDALONE;

/// Runs when a connection stops writing a stream: with `true` once the final
/// event has been written, `false` if the connection ended first.
///
/// Called exactly once per response, possibly from a destructor; it takes
/// the session's lock, so it must not be called with that lock held.
pub(crate) type DeliveredHook = Box<dyn FnOnce(bool) + Send>;

/// The body of an SSE response: events already known, then live ones.
///
/// Made by the transport when it answers a POST with a stream or a GET;
/// found in [`Body::Sse`](crate::http::Body::Sse). The connection that writes it
/// drives the handler behind it, and if the connection ends first the
/// handler is spawned on the runtime rather than cancelled, so its reply
/// still reaches the stream's log for a resuming client.
///
/// # Examples
///
/// A GET on a session opens its standalone stream:
///
/// ```
/// use switchboard_core::http::wire::parse_head;
/// use switchboard_core::http::{Body, SESSION_HEADER};
/// use switchboard_core::{HttpConfig, HttpServerTransport, McpServerBuilder};
///
/// # futures::executor::block_on(async {
/// let config = HttpConfig::default();
/// let transport = HttpServerTransport::new(config.clone());
/// let _server = McpServerBuilder::new().server_info("demo", "1.0.0").build(transport.clone());
///
/// let init = br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":
///     {"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#;
/// let post = "POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\r\n";
/// let (head, _) = parse_head(post.as_bytes(), &config).unwrap().unwrap();
/// let opened = transport.handle(&head, init.to_vec()).await;
/// let (_, session) = opened.headers.iter().find(|(name, _)| name == SESSION_HEADER).unwrap();
///
/// let get = format!(
///     "GET /mcp HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\nMcp-Session-Id: {}\r\n\r\n",
///     session.to_str().unwrap()
/// );
/// let (head, _) = parse_head(get.as_bytes(), &config).unwrap().unwrap();
/// let response = transport.handle(&head, Vec::new()).await;
/// assert!(matches!(response.body, Body::Sse(_)));
/// # });
/// ```
pub struct SseBody {
    /// The stream's number in its session, the first half of its event ids.
    pub(crate) stream: u64,
    /// Pre-encoded priming and replayed events.
    pub(crate) initial: Vec<u8>,
    /// The initial bytes already hold the final event.
    pub(crate) ended: bool,
    /// Live events; the stream ends when this closes or yields a last event.
    /// `None` when nothing more will come: the response is `initial` alone.
    pub(crate) events: Option<StreamReceiver>,
    /// Told whether the final event reached the client, so the session
    /// forgets the stream or keeps it for resumption.
    pub(crate) delivered: Option<DeliveredHook>,
    /// The handler producing the events, driven by the connection; spawned
    /// if the connection ends first (a disconnect is not a cancellation).
    pub(crate) driver: Option<Job>,
    /// The client's place among its open GET streams (the per-client and
    /// per-principal caps), held until the stream's writer lets it go.
    pub(crate) share: Option<Share>,
}

impl fmt::Debug for SseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseBody")
            .field("stream", &self.stream)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl SseBody {
    /// Splits the body into its initial bytes (to be written first) and the
    /// source of the rest.
    ///
    /// From here on, dropping the source is the client going away: the
    /// handler behind the stream is spawned on `runtime`, and the stream is
    /// reported undelivered so it stays for `Last-Event-ID` resumption (a
    /// stateless request's hook ends its carrier instead, cancelling it).
    pub(crate) fn open(
        self,
        runtime: &Arc<dyn Runtime>,
        keep_alive: Duration,
        shutdown: &Shutdown,
    ) -> (Vec<u8>, SseSource) {
        let ended = if self.ended {
            Some(true)
        } else if self.events.is_none() {
            Some(false)
        } else {
            None
        };
        let source = SseSource {
            stream: self.stream,
            ended,
            events: self.events,
            delivery: Delivery(self.delivered),
            driver: Driver {
                job: self.driver,
                runtime: Arc::clone(runtime),
            },
            runtime: Arc::clone(runtime),
            keep_alive,
            timer: None,
            // Only the standalone stream ends on shutdown; a request's
            // stream goes on until its result (the grace period bounds it).
            stop: (self.stream == STANDALONE).then(|| shutdown.stopped()),
            _observed: crate::observe::http::SseStream::open(self.stream),
            _share: self.share.map(Box::new),
        };
        (self.initial, source)
    }
}

/// What a live stream has next, as [`SseSource::poll_next`] reports it.
#[derive(Debug)]
pub(crate) enum SseNext {
    /// An encoded message event; `last` when it is the stream's final one
    /// (its reply).
    Event {
        /// The event's bytes, unframed.
        bytes: Vec<u8>,
        /// The stream ends with it.
        last: bool,
    },
    /// The keep-alive interval passed without an event: write
    /// [`KEEP_ALIVE`].
    KeepAlive,
    /// The stream ended without a final event: detached (its session
    /// ended, a newer reader took it, this one fell behind), or the
    /// standalone stream at shutdown.
    Closed,
}

/// The live part of an SSE response: the stream's events, the handler that
/// produces them, the keep-alive timer and (for the standalone stream) the
/// shutdown signal, polled together.
///
/// The writer calls [`SseSource::poll_next`] until an event with `last` or
/// [`SseNext::Closed`], writes what it gets, then reports with
/// [`SseSource::finish`] whether the final event went out. Dropped before
/// that, it reports the stream undelivered and spawns the unfinished
/// handler: a client that leaves is not a cancellation.
pub(crate) struct SseSource {
    /// The stream's number, the first half of its event ids.
    stream: u64,
    /// `Some(delivered)` when the initial bytes were the whole stream.
    ended: Option<bool>,
    /// Live events (`None` when nothing more will come).
    events: Option<StreamReceiver>,
    /// Declared before `driver` so it reports first when dropped: the
    /// stream is settled (kept, or a stateless carrier ended) before the
    /// handler is spawned.
    delivery: Delivery,
    /// The handler behind the stream.
    driver: Driver,
    /// Times the keep-alives.
    runtime: Arc<dyn Runtime>,
    /// The quiet spell after which a keep-alive comment goes out.
    keep_alive: Duration,
    /// The running keep-alive timer, started on the first poll.
    timer: Option<BoxFuture<()>>,
    /// Completes on shutdown; only for the standalone stream, and `None`
    /// once it fired or when not watched.
    stop: Option<BoxFuture<()>>,
    /// Counts the stream open (`switchboard_sse_streams_open`) while it is
    /// written; so it drops after the delivery report and the driver.
    _observed: crate::observe::http::SseStream,
    /// The client's place among its open GET streams, given back when the
    /// writer drops the source (boxed: only GET streams hold one, and
    /// `ResponseBody` keeps a source inline).
    _share: Option<Box<Share>>,
}

impl fmt::Debug for SseSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseSource")
            .field("stream", &self.stream)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl SseSource {
    /// `Some(delivered)` when the initial bytes were the whole stream:
    /// write them, then [`SseSource::finish`] with `delivered`, polling
    /// nothing.
    pub(crate) fn ended(&self) -> Option<bool> {
        self.ended
    }

    /// Drives the handler and waits for the stream's next event, a
    /// keep-alive, or its end.
    ///
    /// Cancel-safe: an event is taken from the stream's log only within the
    /// poll that returns it. After `Closed`, or an event with `last`, it is
    /// not to be polled again.
    pub(crate) fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<SseNext> {
        self.driver.poll(cx);
        let Some(events) = self.events.as_mut() else {
            return Poll::Ready(SseNext::Closed);
        };
        if let Poll::Ready(event) = events.poll_event(cx) {
            let Some(event) = event else {
                return Poll::Ready(SseNext::Closed);
            };
            let mut bytes = Vec::with_capacity(event.bytes.len() + 48);
            encode_event(self.stream, &event, &mut bytes);
            self.timer = None;
            return Poll::Ready(SseNext::Event {
                bytes,
                last: event.last,
            });
        }
        if let Some(stop) = self.stop.as_mut() {
            if stop.as_mut().poll(cx).is_ready() {
                self.stop = None;
                return Poll::Ready(SseNext::Closed);
            }
        }
        let timer = self
            .timer
            .get_or_insert_with(|| self.runtime.sleep(self.keep_alive));
        if timer.as_mut().poll(cx).is_ready() {
            self.timer = None;
            return Poll::Ready(SseNext::KeepAlive);
        }
        Poll::Pending
    }

    /// Reports whether the final event was written: `true` has the session
    /// forget the stream, `false` keeps it for resumption. Only the first
    /// report counts.
    pub(crate) fn finish(&mut self, delivered: bool) {
        self.delivery.done(delivered);
    }
}

/// The handler behind a stream, driven by its writer while it lasts and
/// spawned on the runtime when the writer goes first.
struct Driver {
    /// The handler's work; `None` once it completed.
    job: Option<Job>,
    /// Where an unfinished job is spawned on drop.
    runtime: Arc<dyn Runtime>,
}

impl Driver {
    /// Polls the handler once, if it is still running; its completion is
    /// not reported (its messages arrive as stream events).
    fn poll(&mut self, cx: &mut Context<'_>) {
        if let Some(job) = self.job.as_mut() {
            if Pin::new(job).poll(cx).is_ready() {
                self.job = None;
            }
        }
    }
}

/// Spawns a job that has not finished, so dropping the writer is not a
/// cancellation.
impl Drop for Driver {
    fn drop(&mut self) {
        if let Some(job) = self.job.take() {
            self.runtime.spawn(Box::pin(job));
        }
    }
}

/// Calls a stream's delivery hook exactly once: `false` if the writer is
/// dropped or fails before [`Delivery::done`].
struct Delivery(Option<DeliveredHook>);

impl Delivery {
    /// Calls the hook with `delivered`, the first time only.
    fn done(&mut self, delivered: bool) {
        if let Some(hook) = self.0.take() {
            hook(delivered);
        }
    }
}

/// Reports `false` if the hook was not called: the stream may then be kept
/// for a resuming client.
impl Drop for Delivery {
    fn drop(&mut self) {
        self.done(false);
    }
}
