//! Server-sent events: how a stream's messages are written on the wire
//! (event ids that name their stream, priming events, keep-alives), and the
//! body of an SSE response.
//!
//! The stream log behind the events is [`crate::stream`]; this module only
//! encodes.
//!
//! On the wire a message event is
//!
//! ```text
//! id: {stream}-{seq}
//! event: message
//! data: {one line of compact JSON}
//!
//! ```
//!
//! and a priming event (sessions at 2025-11-25 and later) carries an id and
//! a `retry:` hint with empty data, so a client that loses the connection
//! before the first message still has an id to resume from.

use std::fmt;
use std::fmt::Write as _;

use super::job::Job;
use super::receiver::StreamReceiver;
use crate::stream::StreamEvent;

/// Runs when a connection stops writing a stream: with `true` once the final
/// event has been written, `false` if the connection ended first.
///
/// Called exactly once per response, possibly from a destructor; it takes
/// the session's lock, so it must not be called with that lock held.
pub(crate) type DeliveredHook = Box<dyn FnOnce(bool) + Send>;

/// The body of an SSE response: events already known, then live ones.
///
/// Made by the transport when it answers a POST with a stream or a GET;
/// found in [`Body::Sse`](super::Body::Sse). The connection that writes it
/// drives the handler behind it, and if the connection ends first the
/// handler is spawned on the runtime rather than cancelled, so its reply
/// still reaches the stream's log for a resuming client.
///
/// # Examples
///
/// A GET on a session opens its standalone stream:
///
/// ```
/// use switchboard_core::http::parse::parse_head;
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
}

impl fmt::Debug for SseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseBody")
            .field("stream", &self.stream)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

/// A comment line that keeps idle connections (and proxies) open. Clients
/// ignore comments, so it carries no id and does not move `Last-Event-ID`.
pub(crate) const KEEP_ALIVE: &[u8] = b": keepalive\n\n";

/// The event id of `seq` on `stream`: `"{stream}-{seq}"`, unique within a
/// session because stream numbers are.
pub(crate) fn event_id(stream: u64, seq: u64) -> String {
    format!("{stream}-{seq}")
}

/// Reads an event id back (a `Last-Event-ID` value, surrounding whitespace
/// allowed); `None` if it is not one of ours. The stream it names may be
/// gone: the caller checks.
pub(crate) fn parse_event_id(id: &str) -> Option<(u64, u64)> {
    let (stream, seq) = id.trim().split_once('-')?;
    Some((stream.parse().ok()?, seq.parse().ok()?))
}

/// Encodes a message event.
///
/// The message must be one line: the engine's compact JSON escapes every
/// newline inside strings, so it is. A raw newline in `event.bytes` would
/// end the `data:` field early.
pub(crate) fn encode_event(stream: u64, event: &StreamEvent, out: &mut Vec<u8>) {
    let mut head = String::with_capacity(40);
    let _ = write!(
        head,
        "id: {}\nevent: message\ndata: ",
        event_id(stream, event.seq)
    );
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(&event.bytes);
    out.extend_from_slice(b"\n\n");
}

/// Encodes a priming event: an id and empty data, with the reconnect hint.
///
/// `seq` is the last sequence number the client has already seen (0 on a
/// new stream), so resuming from this id replays everything after it.
pub(crate) fn encode_priming(stream: u64, seq: u64, retry_ms: u128, out: &mut Vec<u8>) {
    let text = format!(
        "id: {}\nretry: {retry_ms}\ndata: \n\n",
        event_id(stream, seq)
    );
    out.extend_from_slice(text.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> std::sync::Arc<[u8]> {
        s.as_bytes().into()
    }

    #[test]
    fn ids_round_trip() {
        assert_eq!(parse_event_id(&event_id(3, 17)), Some((3, 17)));
        assert_eq!(parse_event_id("x-1"), None);
        assert_eq!(parse_event_id("12"), None);
    }

    #[test]
    fn events_encode_as_sse() {
        let mut out = Vec::new();
        let ev = StreamEvent {
            seq: 2,
            bytes: bytes("{}"),
            last: false,
        };
        encode_event(5, &ev, &mut out);
        assert_eq!(out, b"id: 5-2\nevent: message\ndata: {}\n\n");
        out.clear();
        encode_priming(5, 0, 1000, &mut out);
        assert_eq!(out, b"id: 5-0\nretry: 1000\ndata: \n\n");
    }
}
