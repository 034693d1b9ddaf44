//! Server-sent events: encoding, event ids that name their stream, and the
//! bounded per-stream log that `Last-Event-ID` replays from.

use std::collections::VecDeque;
use std::fmt;
use std::fmt::Write as _;
use std::sync::Arc;

/// One JSON-RPC message on a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StreamEvent {
    /// Position in its stream, from 1.
    pub(crate) seq: u64,
    /// The message's JSON.
    pub(crate) bytes: Arc<[u8]>,
    /// Whether this is the stream's final message (a response).
    pub(crate) last: bool,
}

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
    pub(crate) events: Option<async_channel::Receiver<StreamEvent>>,
    pub(crate) delivered: Option<DeliveredHook>,
    /// The handler producing the events, driven by the connection; spawned
    /// if the connection ends first (a disconnect is not a cancellation).
    pub(crate) driver: Option<crate::runtime::BoxFuture<()>>,
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

/// One stream's state: its log for replay and the connection listening to it.
#[derive(Debug, Default)]
pub(crate) struct Stream {
    last_seq: u64,
    log: VecDeque<StreamEvent>,
    pub(crate) finished: bool,
    listener: Option<async_channel::Sender<StreamEvent>>,
}

impl Stream {
    /// Appends a message, keeping at most `cap` events, and hands it to the
    /// listener. A listener that is gone or too slow is detached; the log
    /// still has the event for its resumption.
    pub(crate) fn push(&mut self, bytes: Arc<[u8]>, last: bool, cap: usize) {
        self.last_seq += 1;
        let event = StreamEvent {
            seq: self.last_seq,
            bytes,
            last,
        };
        self.finished |= last;
        if let Some(listener) = &self.listener {
            if listener.try_send(event.clone()).is_err() {
                self.listener = None;
            }
        }
        if self.log.len() >= cap.max(1) {
            self.log.pop_front();
        }
        self.log.push_back(event);
    }

    /// The last sequence number used.
    pub(crate) fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Logged events after `seq`.
    pub(crate) fn replay_after(&self, seq: u64) -> impl Iterator<Item = &StreamEvent> {
        self.log.iter().filter(move |e| e.seq > seq)
    }

    /// Whether a live connection listens.
    pub(crate) fn attached(&self) -> bool {
        self.listener.as_ref().is_some_and(|l| !l.is_closed())
    }

    /// Attaches a new listener (replacing any old one) and returns its end.
    pub(crate) fn attach(&mut self, capacity: usize) -> async_channel::Receiver<StreamEvent> {
        let (tx, rx) = async_channel::bounded(capacity.max(1));
        self.listener = Some(tx);
        rx
    }

    /// Detaches the listener, ending its response.
    pub(crate) fn detach(&mut self) {
        self.listener = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> Arc<[u8]> {
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

    #[test]
    fn log_is_bounded_and_replays_after_an_id() {
        let mut s = Stream::default();
        for i in 0..5 {
            s.push(bytes(&i.to_string()), i == 4, 3);
        }
        let seqs: Vec<u64> = s.replay_after(3).map(|e| e.seq).collect();
        assert_eq!(seqs, vec![4, 5]);
        let all: Vec<u64> = s.replay_after(0).map(|e| e.seq).collect();
        assert_eq!(all, vec![3, 4, 5], "only the last 3 are kept");
        assert!(s.finished);
    }

    #[test]
    fn a_slow_or_gone_listener_is_detached() {
        let mut s = Stream::default();
        let rx = s.attach(1);
        s.push(bytes("a"), false, 8);
        assert!(s.attached());
        s.push(bytes("b"), false, 8);
        assert!(!s.attached(), "full channel detaches");
        assert_eq!(rx.try_recv().unwrap().seq, 1);
        let rx = s.attach(4);
        drop(rx);
        assert!(!s.attached());
    }
}
