//! Server-sent events: how a stream's messages are written on the wire
//! (event ids that name their stream, priming events, keep-alives), and the
//! body of an SSE response.
//!
//! The stream log behind the events is [`crate::stream`]; this module only
//! encodes.

use std::fmt;
use std::fmt::Write as _;

use super::receiver::StreamReceiver;
use crate::runtime::BoxFuture;
use crate::stream::StreamEvent;

/// Runs when a connection stops writing a stream: with `true` once the final
/// event has been written, `false` if the connection ended first.
pub(crate) type DeliveredHook = Box<dyn FnOnce(bool) + Send>;

/// The body of an SSE response: events already known, then live ones.
pub struct SseBody {
    pub(crate) stream: u64,
    /// Pre-encoded priming and replayed events.
    pub(crate) initial: Vec<u8>,
    /// The initial bytes already hold the final event.
    pub(crate) ended: bool,
    /// Live events; the stream ends when this closes or yields a last event.
    pub(crate) events: Option<StreamReceiver>,
    pub(crate) delivered: Option<DeliveredHook>,
    /// The handler producing the events, driven by the connection; spawned
    /// if the connection ends first (a disconnect is not a cancellation).
    pub(crate) driver: Option<BoxFuture<()>>,
}

impl fmt::Debug for SseBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SseBody")
            .field("stream", &self.stream)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

/// A comment line that keeps idle connections (and proxies) open.
pub(crate) const KEEP_ALIVE: &[u8] = b": keepalive\n\n";

/// The event id of `seq` on `stream`: `"{stream}-{seq}"`, unique within a
/// session because stream numbers are.
pub(crate) fn event_id(stream: u64, seq: u64) -> String {
    format!("{stream}-{seq}")
}

/// Reads an event id back; `None` if it is not one of ours.
pub(crate) fn parse_event_id(id: &str) -> Option<(u64, u64)> {
    let (stream, seq) = id.trim().split_once('-')?;
    Some((stream.parse().ok()?, seq.parse().ok()?))
}

/// Encodes a message event.
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
