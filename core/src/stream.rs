//! One stream of messages that answer a request (or, for the standalone
//! stream, that belong to no request): a bounded log that a reconnecting
//! client replays from, and at most one listener reading it live.
//!
//! Transport-neutral: the HTTP layer writes a stream out as server-sent
//! events, but the log, the listener's position and its wake-ups are plain
//! data here, driven by tests without any I/O.
//!
//! # The listener's token
//!
//! A connection that [`Stream::attach`]es gets a token, and presents it on
//! every [`Stream::take`] and when it goes away
//! ([`Stream::release_listener`]). Attaching again (a client that resumes
//! on a new connection) replaces the listener, and the old connection's
//! token stops matching: its next `take` is [`Take::Closed`], and its late
//! release cannot detach the new listener. Tokens count up per stream and
//! are never reused.
//!
//! # Why a slow listener is detached
//!
//! The log is bounded, and it is the listener's only queue. A listener
//! that falls so far behind that its next event drops out of the log could
//! only skip that event; instead it is detached: its response ends, and
//! the client resumes with `Last-Event-ID` from what the log still holds.
//! So a slow client costs at most the log's bound, never unbounded memory,
//! and no response has a silent gap in the middle.

use std::collections::VecDeque;
use std::sync::Arc;
use std::task::Waker;

/// One JSON-RPC message on a stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StreamEvent {
    /// Position in its stream, from 1, one more for each push: the event id
    /// a client resumes after.
    pub(crate) seq: u64,
    /// The message's JSON, shared between the log and the listener that
    /// takes it (so taking copies no bytes).
    pub(crate) bytes: Arc<[u8]>,
    /// Whether this is the stream's final message (a response).
    pub(crate) last: bool,
}

/// One stream's state: its log for replay and the connection listening to it.
///
/// The log doubles as the listener's queue: a listener is a position in it
/// and a waker, so attaching costs no allocation (a request/reply stream
/// used to cost a whole channel).
#[derive(Debug, Default)]
pub(crate) struct Stream {
    /// The sequence number of the last event pushed; `start` before the first.
    last_seq: u64,
    /// The number before its first event: 0, or, for the GET stream of a
    /// session shared by replicas, a random start on each (see
    /// [`numbered`](Self::numbered)).
    start: u64,
    /// The newest events, oldest first, with consecutive sequence numbers
    /// ending at `last_seq`; bounded by the `cap` of each push.
    log: VecDeque<StreamEvent>,
    /// A final event was pushed; it stays set even once that event has left
    /// the log.
    pub(crate) finished: bool,
    /// Its events go to the shared log too (a stream of a shared session
    /// that went out as SSE), for a client that resumes on another replica.
    pub(crate) shared: bool,
    /// The connection reading the stream live, if any.
    listener: Option<Listener>,
    /// Counts attaches, so a listener that was replaced knows it.
    attaches: u64,
}

/// The connection listening to a stream.
#[derive(Debug)]
struct Listener {
    /// Names this listener; see the module's notes on the token.
    token: u64,
    /// The next sequence number it will take.
    next: u64,
    /// Woken by a push, a detach or a replacement; set by a `take` that
    /// found nothing.
    waker: Option<Waker>,
}

/// What a listener finds when it polls its stream.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Take {
    /// The next event; the listener's position moves past it.
    Event(StreamEvent),
    /// Nothing yet; the waker is stored.
    Wait,
    /// The stream ended for this listener (detached, replaced, or it fell
    /// behind past the log).
    Closed,
}

impl Stream {
    /// Appends a message, keeping at most `cap` events, and wakes the
    /// listener. A listener whose next event fell out of the log is
    /// detached; the client can resume from the log.
    ///
    /// `last` marks the stream's final message (the reply it exists for);
    /// the stream is then [`finished`](Self::finished). A `cap` of 0 counts
    /// as 1, so the newest event is always kept. Nothing stops a push after
    /// the final one; the callers send none.
    pub(crate) fn push(&mut self, bytes: Arc<[u8]>, last: bool, cap: usize) {
        self.last_seq += 1;
        self.finished |= last;
        if self.log.len() >= cap.max(1) {
            self.log.pop_front();
        }
        self.log.push_back(StreamEvent {
            seq: self.last_seq,
            bytes,
            last,
        });
        let first = self.log.front().map_or(self.last_seq, |e| e.seq);
        if self.listener.as_ref().is_some_and(|l| l.next < first) {
            self.detach();
        } else if let Some(waker) = self.listener.as_mut().and_then(|l| l.waker.take()) {
            waker.wake();
        }
    }

    /// An empty stream whose next event will be `seq + 1`: the copy of a
    /// stream another replica wrote up to `seq`, which a client resumes
    /// here (see [`Streams::copy_of`](crate::streams::Streams::copy_of)), or
    /// a shared session's GET stream numbered from its random start.
    pub(crate) fn after(seq: u64) -> Self {
        let mut stream = Self::default();
        stream.last_seq = seq;
        stream.start = seq;
        stream
    }

    /// Whether `seq` is a number this stream gave out: its start (the id
    /// of a priming event sent before any event) or one of its events'.
    /// Replicas number a shared session's GET stream each from their own
    /// random start, so an id another replica gave out is none of these.
    pub(crate) fn numbered(&self, seq: u64) -> bool {
        (self.start..=self.last_seq).contains(&seq)
    }

    #[cfg_attr(not(feature = "shared-sessions"), allow(dead_code))]
    /// Starts over after `seq`, forgetting the log and detaching the
    /// listener: the copy of another replica's stream whose next event is
    /// later than the one due (the events between were lost on the way).
    /// As when a listener falls out of the log, its client resumes from
    /// what is kept rather than read past a silent gap.
    pub(crate) fn skip_to(&mut self, seq: u64) {
        self.log.clear();
        self.last_seq = seq;
        self.detach();
    }

    /// The last sequence number used; 0 before the first push. A client
    /// that resumes after it receives only what comes next.
    pub(crate) fn last_seq(&self) -> u64 {
        self.last_seq
    }

    /// Logged events after `seq`, oldest first, for a client resuming with
    /// `Last-Event-ID: seq`.
    ///
    /// Events that already left the log are not there: when the first one
    /// returned is later than `seq + 1`, the client missed some.
    pub(crate) fn replay_after(&self, seq: u64) -> impl Iterator<Item = &StreamEvent> {
        self.log.iter().filter(move |e| e.seq > seq)
    }

    /// Whether a live connection listens. A session with a listener on any
    /// stream does not expire.
    pub(crate) fn attached(&self) -> bool {
        self.listener.is_some()
    }

    /// Attaches a new listener for the events after the current last one,
    /// replacing (and waking) any old one. Returns its token.
    ///
    /// What is already logged is not delivered to it: a caller that wants
    /// it replays the log ([`Stream::replay_after`]) under the same lock,
    /// so that nothing falls between the replay and the live events.
    pub(crate) fn attach(&mut self) -> u64 {
        self.detach();
        self.attaches += 1;
        self.listener = Some(Listener {
            token: self.attaches,
            next: self.last_seq + 1,
            waker: None,
        });
        self.attaches
    }

    /// Detaches the listener, ending its response (what it had not taken
    /// stays in the log).
    ///
    /// Its waker is woken, so the response notices at once: its next
    /// `take` is [`Take::Closed`]. Nothing when no one listens.
    pub(crate) fn detach(&mut self) {
        if let Some(waker) = self.listener.take().and_then(|l| l.waker) {
            waker.wake();
        }
    }

    /// Detaches the listener `token` if it is still the one (it went away).
    ///
    /// Called when a connection's receiver is dropped. A stale token (the
    /// listener was replaced or detached since) releases nothing, so a
    /// connection that went away late cannot detach its successor. Unlike
    /// [`Stream::detach`] it wakes nobody: the listener is the one leaving.
    pub(crate) fn release_listener(&mut self, token: u64) {
        if self.listener.as_ref().is_some_and(|l| l.token == token) {
            self.listener = None;
        }
    }

    /// The next event for listener `token`, or what to do instead. Once
    /// detached or replaced, a listener gets nothing more: what it missed
    /// stays in the log for the client's resumption.
    ///
    /// On [`Take::Wait`] the waker is kept (replacing an older one unless it
    /// would wake the same task) and is woken by the next push or detach:
    /// poll-style, like `Future::poll`, so a caller inside `poll` may
    /// return `Pending` on it.
    pub(crate) fn take(&mut self, token: u64, waker: &Waker) -> Take {
        let first = self.log.front().map_or(self.last_seq + 1, |e| e.seq);
        let Some(listener) = self.listener.as_mut().filter(|l| l.token == token) else {
            return Take::Closed;
        };
        let next = listener.next;
        let index = next
            .checked_sub(first)
            .and_then(|i| usize::try_from(i).ok());
        match index.and_then(|i| self.log.get(i)) {
            Some(event) => {
                listener.next = next + 1;
                Take::Event(event.clone())
            }
            None if next > self.last_seq => {
                if !listener.waker.as_ref().is_some_and(|w| w.will_wake(waker)) {
                    listener.waker = Some(waker.clone());
                }
                Take::Wait
            }
            // Fell out of the log (push detaches first; this is belt and braces).
            None => Take::Closed,
        }
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        // A forgotten stream (cancelled, evicted) ends its listener's response.
        self.detach();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> Arc<[u8]> {
        s.as_bytes().into()
    }

    #[test]
    fn a_stream_knows_the_numbers_it_gave_out() {
        let mut s = Stream::after(1000);
        assert!(s.numbered(1000), "the priming id before any event");
        assert!(!s.numbered(1001) && !s.numbered(999) && !s.numbered(0));
        s.push(bytes("a"), false, 8);
        s.push(bytes("b"), false, 8);
        assert!(s.numbered(1001) && s.numbered(1002));
        assert!(!s.numbered(1003));
        let seqs: Vec<u64> = s.replay_after(1000).map(|e| e.seq).collect();
        assert_eq!(seqs, [1001, 1002]);
        assert!(Stream::default().numbered(0));
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

    fn take(s: &mut Stream, token: u64) -> Take {
        s.take(token, futures::task::noop_waker_ref())
    }

    #[test]
    fn a_listener_takes_events_in_order_then_waits() {
        let mut s = Stream::default();
        let t = s.attach();
        assert_eq!(take(&mut s, t), Take::Wait);
        s.push(bytes("a"), false, 8);
        s.push(bytes("b"), true, 8);
        assert!(matches!(take(&mut s, t), Take::Event(e) if e.seq == 1));
        assert!(matches!(take(&mut s, t), Take::Event(e) if e.seq == 2 && e.last));
        assert_eq!(take(&mut s, t), Take::Wait);
    }

    #[test]
    fn a_slow_replaced_or_gone_listener_is_detached() {
        let mut s = Stream::default();
        let t = s.attach();
        s.push(bytes("a"), false, 2);
        s.push(bytes("b"), false, 2);
        assert!(s.attached(), "two events fit a log of two");
        s.push(bytes("c"), false, 2);
        assert!(
            !s.attached(),
            "event 1 fell out of the log before it was taken"
        );
        assert_eq!(take(&mut s, t), Take::Closed);

        let old = s.attach();
        let new = s.attach();
        assert_eq!(take(&mut s, old), Take::Closed, "replaced");
        assert_eq!(take(&mut s, new), Take::Wait);
        s.release_listener(old);
        assert!(s.attached(), "a stale token releases nothing");
        s.release_listener(new);
        assert!(!s.attached());
    }
}
