//! The HTTP shell's spans, events and metrics, for `core/src/http/`.

use super::Span;
#[cfg(feature = "tracing")]
use super::{HTTP, cut};

/// Opens the `http_request` span (DEBUG) of one HTTP request: its
/// `method` and `path` (the path only, never the query), cut to 16 and
/// 64 characters. No header is recorded. Run the request's handling in
/// it with [`Span::instrument`] and pass it to [`responded`].
#[inline]
pub(crate) fn request_span(method: &str, path: &str) -> Span {
    #[cfg(feature = "tracing")]
    {
        // Never the query, whatever the caller passed (a byte search:
        // cheaper than a char searcher on a short path).
        let path = path
            .bytes()
            .position(|b| b == b'?')
            .map_or(path, |q| &path[..q]);
        Span {
            inner: tracing::debug_span!(
                target: HTTP,
                "http_request",
                method = cut(method, 16),
                path = cut(path, 64),
                status = tracing::field::Empty,
            ),
        }
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = (method, path);
        Span {}
    }
}

/// Records the response's `status` on `span`; from 400 on it is a
/// rejection ([`rejected`]), whose reason is read from `body` (the
/// JSON-RPC error's `message`, or the text) when there is one.
#[inline]
pub(crate) fn responded(span: &Span, status: u16, body: Option<&[u8]>) {
    #[cfg(feature = "tracing")]
    span.inner.record("status", status);
    #[cfg(not(feature = "tracing"))]
    let _ = span;
    if status >= 400 {
        span.in_scope(|| rejected_body(status, body));
    }
}

/// [`rejected`] with the reason read from a response body.
fn rejected_body(status: u16, body: Option<&[u8]>) {
    #[cfg(feature = "tracing")]
    {
        let body = body.unwrap_or_default();
        let message = serde_json::from_slice::<serde_json::Value>(body)
            .ok()
            .and_then(|v| v["error"]["message"].as_str().map(str::to_owned));
        let reason = match message {
            Some(message) => message,
            None => String::from_utf8_lossy(body).into_owned(),
        };
        rejected(status, &reason);
    }
    #[cfg(not(feature = "tracing"))]
    {
        let _ = body;
        rejected(status, "");
    }
}

/// Reports an HTTP request answered with `status` (400 or more) for
/// `reason` (what the response tells the client, cut to 120
/// characters): the `request rejected` event and
/// `switchboard_http_rejected_total`.
#[inline]
pub(crate) fn rejected(status: u16, reason: &str) {
    #[cfg(feature = "metrics")]
    metrics::counter!(super::HTTP_REJECTED_TOTAL, "status" => status.to_string()).increment(1);
    #[cfg(feature = "tracing")]
    {
        let reason = cut(reason, 120);
        if status >= 500 {
            tracing::warn!(target: HTTP, status, ?reason, "request rejected");
        } else {
            tracing::info!(target: HTTP, status, ?reason, "request rejected");
        }
    }
    #[cfg(not(any(feature = "tracing", feature = "metrics")))]
    let _ = status;
    #[cfg(not(feature = "tracing"))]
    let _ = reason;
}

/// One HTTP connection being served: `connection opened` now,
/// `connection closed` and the gauge taken back when dropped.
#[derive(Debug)]
#[must_use = "the connection counts as open while this is held"]
pub(crate) struct Connection {
    /// Not made elsewhere.
    _private: (),
}

impl Connection {
    /// Counts a connection open (`switchboard_connections_open`).
    #[inline]
    pub(crate) fn open() -> Self {
        #[cfg(feature = "metrics")]
        metrics::gauge!(super::CONNECTIONS_OPEN).increment(1.0);
        #[cfg(feature = "tracing")]
        tracing::debug!(target: HTTP, "connection opened");
        Self { _private: () }
    }
}

#[cfg(any(feature = "tracing", feature = "metrics"))]
impl Drop for Connection {
    fn drop(&mut self) {
        #[cfg(feature = "metrics")]
        metrics::gauge!(super::CONNECTIONS_OPEN).decrement(1.0);
        #[cfg(feature = "tracing")]
        tracing::debug!(target: HTTP, "connection closed");
    }
}

/// One SSE response being written: `sse stream opened` now, `sse stream
/// closed` and the gauge taken back when dropped.
#[derive(Debug)]
#[must_use = "the stream counts as open while this is held"]
pub(crate) struct SseStream {
    /// The stream's number in its session.
    #[cfg(feature = "tracing")]
    stream: u64,
}

impl SseStream {
    /// Counts an SSE response open (`switchboard_sse_streams_open`), on
    /// stream number `stream` of its session.
    #[inline]
    pub(crate) fn open(stream: u64) -> Self {
        #[cfg(feature = "metrics")]
        metrics::gauge!(super::SSE_STREAMS_OPEN).increment(1.0);
        #[cfg(feature = "tracing")]
        tracing::debug!(target: HTTP, stream, "sse stream opened");
        #[cfg(not(feature = "tracing"))]
        let _ = stream;
        Self {
            #[cfg(feature = "tracing")]
            stream,
        }
    }
}

#[cfg(any(feature = "tracing", feature = "metrics"))]
impl Drop for SseStream {
    fn drop(&mut self) {
        #[cfg(feature = "metrics")]
        metrics::gauge!(super::SSE_STREAMS_OPEN).decrement(1.0);
        #[cfg(feature = "tracing")]
        tracing::debug!(target: HTTP, stream = self.stream, "sse stream closed");
    }
}

/// Reports `count` events of `stream` sent again after a
/// `Last-Event-ID` (`switchboard_sse_events_replayed_total`); nothing
/// when `count` is 0.
#[inline]
pub(crate) fn replayed(stream: u64, count: usize) {
    if count == 0 {
        return;
    }
    #[cfg(feature = "metrics")]
    metrics::counter!(super::EVENTS_REPLAYED_TOTAL).increment(count as u64);
    #[cfg(feature = "tracing")]
    tracing::debug!(target: HTTP, stream, count, "events replayed");
    #[cfg(not(feature = "tracing"))]
    let _ = stream;
}
