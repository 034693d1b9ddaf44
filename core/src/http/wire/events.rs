//! How a stream's messages are spelled on the wire: event ids that name
//! their stream, message and priming events, keep-alives.
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

use std::fmt::Write as _;

use crate::stream::StreamEvent;

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
