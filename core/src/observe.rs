//! Tracing and metrics: what the server reports about itself, behind the
//! optional `tracing` and `metrics` features (nothing at all without them).
//!
//! Every call site in the engine and the HTTP shell goes through this one
//! module, so the names below are the whole vocabulary. Without either
//! feature each function here is an empty `#[inline]` one, every type is a
//! zero-sized struct without a destructor, and a future handed to
//! [`Span::instrument`] comes back unchanged: the default build links
//! neither crate and pays nothing.
//!
//! # Tracing (feature `tracing`)
//!
//! Every target starts with `switchboard`, so `RUST_LOG=switchboard=debug`
//! (an `EnvFilter`) turns all of it on, and `switchboard::mcp=info` one part.
//!
//! | kind | name / message | target | level | fields |
//! |---|---|---|---|---|
//! | span | `mcp_request` | `switchboard::mcp` | INFO | `method`, `id`, `era`, `session`, `outcome` |
//! | event | `request finished` | `switchboard::mcp` | DEBUG | `outcome`, `elapsed_us` (from the handler's start) |
//! | event | `request failed` | `switchboard::mcp` | WARN | `method`, `code` |
//! | event | `tool returned an error result` | `switchboard::mcp` | WARN | `method`, `tool` |
//! | event | `session opened` | `switchboard::session` | INFO | `session`, `version` |
//! | event | `session closed` | `switchboard::session` | INFO | `session`, `reason` |
//! | event | `sessions closed` | `switchboard::session` | INFO | `count`, `reason` |
//! | event | `session expired` | `switchboard::session` | INFO | `session`, `idle_secs` |
//! | span | `http_request` | `switchboard::http` | DEBUG | `method`, `path`, `status` |
//! | event | `request rejected` | `switchboard::http` | INFO below 500, WARN from 500 | `status`, `reason` |
//! | event | `connection opened` / `connection closed` | `switchboard::http` | DEBUG | |
//! | event | `sse stream opened` / `sse stream closed` | `switchboard::http` | DEBUG | `stream` |
//! | event | `events replayed` | `switchboard::http` | DEBUG | `stream`, `count` |
//!
//! Levels, on purpose: a request's span is INFO, so every event inside a
//! request (the handler's own included) names the request it belongs to at
//! the default level; the HTTP span around it is DEBUG, being mostly
//! framing. A rejection is a client's mistake below 500 (INFO) and the
//! server's trouble from 500 on (WARN). A failed request is WARN.
//!
//! What the fields hold, and what they never hold:
//!
//! - `session`: the first 8 characters of the session id, never the whole
//!   id (whoever holds an id can act in the session). Empty for `initialize`
//!   until its session exists, and for stateless requests, which have none.
//! - `era`: `"session"`, or `"stateless"` for the 2026-07-28 revision.
//! - `method`: one of the methods the server knows, or `"other"`; a
//!   client's made-up method name never reaches a log line or a label.
//! - `id`: the request id as JSON writes it, strings cut to 64 characters.
//! - `outcome`: `ok`, `tool_error`, `error` or `cancelled` (below).
//! - `path`: the request target's path (never its query), cut to 64
//!   characters; `method` there is the HTTP method. No header is recorded,
//!   so neither `Authorization` nor any token is.
//! - `reason` of a rejection: the message the response tells the client.
//!   `reason` of a closed session: `deleted` (HTTP DELETE),
//!   `transport closed` (the client's connection to a memory or stdio
//!   transport ended), `closed by the server` ([`McpServer::close_session`])
//!   or `server closing` (every session, at shutdown).
//!
//! # Metrics (feature `metrics`)
//!
//! Through the `metrics` facade: nothing is recorded until the application
//! installs a recorder (a Prometheus exporter, say). Names are Prometheus
//! style, every one under `switchboard_`; label values come from fixed sets.
//!
//! | name | kind | labels | what |
//! |---|---|---|---|
//! | `switchboard_sessions_open` | gauge | | sessions in the server's table |
//! | `switchboard_connections_open` | gauge | | HTTP connections being served |
//! | `switchboard_sse_streams_open` | gauge | | SSE responses being written |
//! | `switchboard_requests_total` | counter | `method`, `outcome` | MCP requests answered or abandoned |
//! | `switchboard_handler_duration_seconds` | histogram | `method` | from a handler's start to its end |
//! | `switchboard_http_rejected_total` | counter | `status` | HTTP responses with a status of 400 or more |
//! | `switchboard_sse_events_replayed_total` | counter | | events sent again after `Last-Event-ID` |
//!
//! `outcome` is `ok` (a result), `tool_error` (a `tools/call` result with
//! `isError`: the tool's own failure), `error` (a JSON-RPC error response,
//! the engine's refusals included) or `cancelled` (no response:
//! `notifications/cancelled`, the session closed, or the work dropped).
//! `method` is as in the spans: a known method or `other`.
//! `switchboard_requests_total` counts every request that reached a method
//! (`initialize` and `ping` too), once; requests refused whole before that
//! (a duplicate id, a batch where the revision has none) are the HTTP
//! layer's rejections. `switchboard_handler_duration_seconds` has one
//! sample per request whose handler started, cancelled ones included.
//!
//! Gauges balance on every path: each increment is owned by a guard (a
//! session table's tally, a connection, an SSE response) whose drop takes
//! it back. The sessions gauge follows the table itself: after every open,
//! close or expiry the server's tally is brought to the table's size, and
//! a server dropped with sessions open takes its whole tally back.
//!
//! [`McpServer::close_session`]: crate::McpServer::close_session

#[cfg(any(feature = "tracing", feature = "metrics"))]
use crate::clock::Instant;
#[cfg(any(feature = "tracing", feature = "metrics"))]
use std::sync::atomic::{AtomicBool, Ordering};

#[cfg(any(feature = "tracing", feature = "metrics"))]
use self::request::{Method, Outcome};
use crate::id::SessionId;
use crate::jsonrpc::RequestId;

/// The target of request spans and their events.
#[cfg(feature = "tracing")]
const MCP: &str = "switchboard::mcp";
/// The target of session events.
#[cfg(feature = "tracing")]
const SESSION: &str = "switchboard::session";
/// The target of the HTTP shell's spans and events.
#[cfg(feature = "tracing")]
const HTTP: &str = "switchboard::http";

/// Gauge: sessions open.
#[cfg(feature = "metrics")]
const SESSIONS_OPEN: &str = "switchboard_sessions_open";
/// Gauge: HTTP connections open.
#[cfg(feature = "metrics")]
const CONNECTIONS_OPEN: &str = "switchboard_connections_open";
/// Gauge: SSE responses being written.
#[cfg(feature = "metrics")]
const SSE_STREAMS_OPEN: &str = "switchboard_sse_streams_open";
/// Counter: MCP requests, by `method` and `outcome`.
#[cfg(feature = "metrics")]
const REQUESTS_TOTAL: &str = "switchboard_requests_total";
/// Histogram: handler latency in seconds, by `method`.
#[cfg(feature = "metrics")]
const HANDLER_SECONDS: &str = "switchboard_handler_duration_seconds";
/// Counter: HTTP responses of status 400 or more, by `status`.
#[cfg(feature = "metrics")]
const HTTP_REJECTED_TOTAL: &str = "switchboard_http_rejected_total";
/// Counter: SSE events replayed after `Last-Event-ID`.
#[cfg(feature = "metrics")]
const EVENTS_REPLAYED_TOTAL: &str = "switchboard_sse_events_replayed_total";
/// Gauge: task handlers running in this process.
#[cfg(feature = "metrics")]
const TASKS_RUNNING: &str = "switchboard_tasks_running";
/// Counter: tasks whose handler ended, by `status`.
#[cfg(feature = "metrics")]
const TASKS_ENDED_TOTAL: &str = "switchboard_tasks_ended_total";

/// Describes every metric to the installed recorder (units and help
/// texts, which a Prometheus exporter prints as `# HELP`). Called at each
/// build: a recorder installed after the first server is built still
/// learns them from the next, and describing twice is harmless.
#[inline]
pub(crate) fn describe_metrics() {
    #[cfg(feature = "metrics")]
    {
        use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
        describe_gauge!(SESSIONS_OPEN, Unit::Count, "MCP sessions open.");
        describe_gauge!(CONNECTIONS_OPEN, Unit::Count, "HTTP connections open.");
        describe_gauge!(
            SSE_STREAMS_OPEN,
            Unit::Count,
            "SSE responses being written."
        );
        describe_counter!(
            REQUESTS_TOTAL,
            Unit::Count,
            "MCP requests by method and outcome (ok, tool_error, error, cancelled)."
        );
        describe_histogram!(
            HANDLER_SECONDS,
            Unit::Seconds,
            "Time from a request handler's start to its end, by method."
        );
        describe_counter!(
            HTTP_REJECTED_TOTAL,
            Unit::Count,
            "HTTP responses with a status of 400 or more, by status."
        );
        describe_counter!(
            EVENTS_REPLAYED_TOTAL,
            Unit::Count,
            "SSE events sent again after a Last-Event-ID."
        );
        describe_gauge!(
            TASKS_RUNNING,
            Unit::Count,
            "Task handlers running in this process."
        );
        describe_counter!(
            TASKS_ENDED_TOTAL,
            Unit::Count,
            "Tasks whose handler ended, by status (completed, failed, cancelled)."
        );
    }
}

/// Which protocol era a request belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Era {
    /// A request in a session that `initialize` opened.
    Session,
    /// A request of the stateless 2026-07-28 revision, in no session.
    Stateless,
}

#[cfg(feature = "tracing")]
impl Era {
    /// The `era` field's value.
    fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Stateless => "stateless",
        }
    }
}

/// The longest session id prefix recorded: enough to tell sessions apart in
/// a log, far too little to act in one.
#[cfg(feature = "tracing")]
const SESSION_PREFIX: usize = 8;

/// The first [`SESSION_PREFIX`] characters of a session id.
#[cfg(feature = "tracing")]
fn session_prefix(id: &SessionId) -> &str {
    let id = id.as_str();
    match id.char_indices().nth(SESSION_PREFIX) {
        Some((end, _)) => &id[..end],
        None => id,
    }
}

/// `s` cut to its first `max` characters.
#[cfg(feature = "tracing")]
fn cut(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

/// A request id as a field: as JSON writes it, a string cut to 64
/// characters (a client picks it, and may pick a long one).
#[cfg(feature = "tracing")]
struct ShortId<'a>(&'a RequestId);

#[cfg(feature = "tracing")]
impl std::fmt::Display for ShortId<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            RequestId::Number(n) => write!(f, "{n}"),
            RequestId::String(s) => write!(f, "{:?}", cut(s, 64)),
        }
    }
}

/// A span to run work in: a `tracing` span with the `tracing` feature,
/// nothing without it.
#[derive(Clone, Debug)]
pub(crate) struct Span {
    /// The span itself.
    #[cfg(feature = "tracing")]
    inner: tracing::Span,
}

impl Span {
    /// Returns `fut` running inside this span (entered on each poll).
    #[cfg(feature = "tracing")]
    #[inline]
    pub(crate) fn instrument<F: Future>(self, fut: F) -> tracing::instrument::Instrumented<F> {
        tracing::Instrument::instrument(fut, self.inner)
    }

    /// Returns `fut` unchanged: without the `tracing` feature there is no
    /// span to enter.
    #[cfg(not(feature = "tracing"))]
    #[inline]
    pub(crate) fn instrument<F: Future>(self, fut: F) -> F {
        fut
    }

    /// Runs `f` inside this span.
    #[inline]
    pub(crate) fn in_scope<T>(&self, f: impl FnOnce() -> T) -> T {
        #[cfg(feature = "tracing")]
        {
            self.inner.in_scope(f)
        }
        #[cfg(not(feature = "tracing"))]
        {
            f()
        }
    }
}

/// One MCP request, observed from its admission to its end: its
/// `mcp_request` span, and the counting and timing of its outcome.
///
/// Made when the engine takes the request; ended with
/// [`finish`](Self::finish) once its response is known. Dropped without
/// `finish` (the request was cancelled, or its work dropped), it ends as
/// `cancelled`. Zero-sized without the features.
#[derive(Debug)]
pub(crate) struct RequestScope {
    /// The `mcp_request` span.
    #[cfg(feature = "tracing")]
    span: tracing::Span,
    /// The method, as a label.
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    method: Method,
    /// When the handler started ([`begin`](Self::begin)); `None` for a
    /// request answered without one.
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    started: Option<Instant>,
    /// The result is a tool's `isError` result.
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    tool_error: AtomicBool,
    /// The outcome has been recorded.
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    ended: bool,
}

impl RequestScope {
    /// Observes request `id` of `method`: in `session` (`None` for a
    /// stateless request, or an `initialize` whose session is not open
    /// yet), in `era`. Opens its span under the current one.
    #[inline]
    pub(crate) fn new(era: Era, session: Option<&SessionId>, method: &str, id: &RequestId) -> Self {
        #[cfg(not(any(feature = "tracing", feature = "metrics")))]
        {
            let _ = (era, session, method, id);
            Self {}
        }
        #[cfg(any(feature = "tracing", feature = "metrics"))]
        {
            let method = Method::of(method);
            #[cfg(not(feature = "tracing"))]
            let _ = (era, session, id);
            #[cfg(feature = "tracing")]
            let span = {
                let span = tracing::info_span!(
                    target: MCP,
                    "mcp_request",
                    method = method.as_str(),
                    id = %ShortId(id),
                    era = era.as_str(),
                    session = tracing::field::Empty,
                    outcome = tracing::field::Empty,
                );
                // Nothing listens, most often: then no prefix to cut.
                if let Some(session) = session.filter(|_| !span.is_disabled()) {
                    span.record("session", session_prefix(session));
                }
                span
            };
            Self {
                #[cfg(feature = "tracing")]
                span,
                method,
                started: None,
                tool_error: AtomicBool::new(false),
                ended: false,
            }
        }
    }

    /// The request's span, to run its work in.
    #[inline]
    pub(crate) fn span(&self) -> Span {
        Span {
            #[cfg(feature = "tracing")]
            inner: self.span.clone(),
        }
    }

    /// Names the session the request opened (`initialize`), which it did not
    /// have when the scope was made.
    #[inline]
    pub(crate) fn set_session(&self, session: &SessionId) {
        #[cfg(feature = "tracing")]
        if !self.span.is_disabled() {
            self.span.record("session", session_prefix(session));
        }
        #[cfg(not(feature = "tracing"))]
        let _ = session;
    }

    /// Marks the handler's start: the latency sample runs from here.
    #[inline]
    pub(crate) fn begin(&mut self) {
        #[cfg(any(feature = "tracing", feature = "metrics"))]
        {
            self.started = Some(crate::clock::now());
        }
    }

    /// Records that `tool` answered with an `isError` result: the request
    /// ends `tool_error` rather than `ok`, with its event.
    #[inline]
    pub(crate) fn tool_error(&self, tool: &str) {
        #[cfg(any(feature = "tracing", feature = "metrics"))]
        self.tool_error.store(true, Ordering::Relaxed);
        #[cfg(feature = "tracing")]
        tracing::warn!(
            target: MCP,
            parent: &self.span,
            method = self.method.as_str(),
            tool = cut(tool, 64),
            "tool returned an error result"
        );
        #[cfg(not(feature = "tracing"))]
        let _ = tool;
    }

    /// Ends the request with its response: a result (`error` is `None`) or
    /// a JSON-RPC error of that code.
    #[inline]
    pub(crate) fn finish(mut self, error: Option<i32>) {
        #[cfg(any(feature = "tracing", feature = "metrics"))]
        self.end(Some(error));
        #[cfg(not(any(feature = "tracing", feature = "metrics")))]
        let _ = (&mut self, error);
    }

    /// Records the outcome once: `None` for no response (cancelled).
    #[cfg(any(feature = "tracing", feature = "metrics"))]
    fn end(&mut self, response: Option<Option<i32>>) {
        self.ended = true;
        let outcome = match response {
            None => Outcome::Cancelled,
            Some(Some(_)) => Outcome::Error,
            Some(None) if self.tool_error.load(Ordering::Relaxed) => Outcome::ToolError,
            Some(None) => Outcome::Ok,
        };
        let elapsed = self
            .started
            .map(|started| crate::clock::now().saturating_duration_since(started));
        #[cfg(feature = "metrics")]
        {
            request::count(self.method, outcome);
            if let Some(elapsed) = elapsed {
                request::time(self.method, elapsed.as_secs_f64());
            }
        }
        #[cfg(feature = "tracing")]
        {
            let outcome = outcome.as_str();
            self.span.record("outcome", outcome);
            if let Some(Some(code)) = response {
                tracing::warn!(
                    target: MCP,
                    parent: &self.span,
                    method = self.method.as_str(),
                    code,
                    "request failed"
                );
            }
            let elapsed_us = elapsed.map(|e| u64::try_from(e.as_micros()).unwrap_or(u64::MAX));
            tracing::debug!(target: MCP, parent: &self.span, outcome, elapsed_us, "request finished");
        }
        #[cfg(not(feature = "tracing"))]
        let _ = (outcome, elapsed);
    }
}

#[cfg(any(feature = "tracing", feature = "metrics"))]
impl Drop for RequestScope {
    fn drop(&mut self) {
        if !self.ended {
            self.end(None);
        }
    }
}

/// Why a session closed, for the `session closed` event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CloseReason {
    /// The client deleted it (HTTP DELETE).
    Deleted,
    /// The transport reported the client gone (memory, stdio).
    TransportClosed,
    /// The application closed it
    /// ([`McpServer::close_session`](crate::McpServer::close_session)).
    ByServer,
    /// The server is closing every session.
    ServerClosing,
}

#[cfg(feature = "tracing")]
impl CloseReason {
    /// The `reason` field's value.
    fn as_str(self) -> &'static str {
        match self {
            Self::Deleted => "deleted",
            Self::TransportClosed => "transport closed",
            Self::ByServer => "closed by the server",
            Self::ServerClosing => "server closing",
        }
    }
}

/// Reports that task `id`'s handler started (its `tools/call` became a
/// task).
#[inline]
pub(crate) fn task_started(id: &str) {
    #[cfg(feature = "tracing")]
    tracing::debug!(target: MCP, task = cut(id, 64), "task started");
    #[cfg(feature = "metrics")]
    metrics::gauge!(TASKS_RUNNING).increment(1.0);
    #[cfg(not(feature = "tracing"))]
    let _ = id;
}

/// Reports that task `id`'s handler ended with `status` (`completed`,
/// `failed` or `cancelled`).
#[inline]
pub(crate) fn task_ended(id: &str, status: &'static str) {
    #[cfg(feature = "tracing")]
    tracing::debug!(target: MCP, task = cut(id, 64), status, "task ended");
    #[cfg(feature = "metrics")]
    {
        metrics::gauge!(TASKS_RUNNING).decrement(1.0);
        metrics::counter!(TASKS_ENDED_TOTAL, "status" => status).increment(1);
    }
    #[cfg(not(feature = "tracing"))]
    let _ = (id, status);
}

/// Reports that `session` opened at revision `version`.
#[inline]
pub(crate) fn session_opened(session: &SessionId, version: &str) {
    #[cfg(feature = "tracing")]
    tracing::info!(
        target: SESSION,
        session = session_prefix(session),
        version,
        "session opened"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (session, version);
}

/// Reports that `session` closed, for `reason`.
#[inline]
pub(crate) fn session_closed(session: &SessionId, reason: CloseReason) {
    #[cfg(feature = "tracing")]
    tracing::info!(
        target: SESSION,
        session = session_prefix(session),
        reason = reason.as_str(),
        "session closed"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (session, reason);
}

/// Reports that every session closed at once, about `count` of them.
#[inline]
pub(crate) fn sessions_closed(count: usize, reason: CloseReason) {
    #[cfg(feature = "tracing")]
    tracing::info!(target: SESSION, count, reason = reason.as_str(), "sessions closed");
    #[cfg(not(feature = "tracing"))]
    let _ = (count, reason);
}

/// Reports that `session` expired after `idle` without activity (it
/// reached the idle timeout).
#[inline]
pub(crate) fn session_expired(session: &SessionId, idle: std::time::Duration) {
    #[cfg(feature = "tracing")]
    tracing::info!(
        target: SESSION,
        session = session_prefix(session),
        idle_secs = idle.as_secs(),
        "session expired"
    );
    #[cfg(not(feature = "tracing"))]
    let _ = (session, idle);
}

/// One server's share of `switchboard_sessions_open`: what it last added
/// to the gauge, brought to its session table's size after each change and
/// taken back whole when the server is dropped.
///
/// Bringing the tally to the table's size, rather than counting opens and
/// closes, keeps the gauge right whichever way sessions leave (one, every
/// one, the idle ones). The size is read under the tally's lock, so the
/// last sync to run sees every change before it.
#[derive(Debug, Default)]
pub(crate) struct SessionsGauge {
    /// What this server has added to the gauge.
    #[cfg(feature = "metrics")]
    reported: std::sync::Mutex<usize>,
}

impl SessionsGauge {
    /// Brings the gauge to `open()`, the number of sessions in the table
    /// now (not called without the `metrics` feature).
    #[inline]
    pub(crate) fn sync(&self, open: impl FnOnce() -> usize) {
        #[cfg(feature = "metrics")]
        {
            let mut reported = self.reported.lock().unwrap_or_else(|e| e.into_inner());
            let open = open();
            let gauge = metrics::gauge!(SESSIONS_OPEN);
            if open >= *reported {
                gauge.increment((open - *reported) as f64);
            } else {
                gauge.decrement((*reported - open) as f64);
            }
            *reported = open;
        }
        #[cfg(not(feature = "metrics"))]
        let _ = open;
    }
}

#[cfg(feature = "metrics")]
impl Drop for SessionsGauge {
    fn drop(&mut self) {
        let reported = *self.reported.get_mut().unwrap_or_else(|e| e.into_inner());
        if reported > 0 {
            metrics::gauge!(SESSIONS_OPEN).decrement(reported as f64);
        }
    }
}

/// The HTTP shell's spans, events and metrics, for `core/src/http/`.
pub(crate) mod http;
/// A request's labels, and the metric keys they name.
#[cfg(any(feature = "tracing", feature = "metrics"))]
mod request;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_the_features_the_types_are_empty() {
        if cfg!(not(any(feature = "tracing", feature = "metrics"))) {
            assert_eq!(size_of::<RequestScope>(), 0);
            assert_eq!(size_of::<SessionsGauge>(), 0);
            assert!(!std::mem::needs_drop::<RequestScope>());
            assert!(!std::mem::needs_drop::<http::Connection>());
            assert!(!std::mem::needs_drop::<http::SseStream>());
        }
        if cfg!(not(feature = "tracing")) {
            assert_eq!(size_of::<Span>(), 0);
        }
    }

    #[cfg(feature = "tracing")]
    #[test]
    fn only_a_prefix_of_the_session_id_is_kept() {
        let id = SessionId::new("0123456789abcdef0123456789abcdef");
        assert_eq!(session_prefix(&id), "01234567");
        assert_eq!(session_prefix(&SessionId::new("s1")), "s1");
        assert_eq!(session_prefix(&SessionId::new("ééééééééé")), "éééééééé");
        let long = RequestId::from("x".repeat(100).as_str());
        assert_eq!(ShortId(&long).to_string(), format!("{:?}", "x".repeat(64)));
        assert_eq!(ShortId(&RequestId::number(7)).to_string(), "7");
    }
}
