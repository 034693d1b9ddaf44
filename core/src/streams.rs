//! One session's streams: a reply stream per request (or batch) in flight,
//! with the JSON-RPC ids it answers; the standalone stream for messages tied
//! to no request; and finished streams kept for a client that resumes.
//!
//! A session has a handful of these at a time, so they live in one small
//! vector searched in order: a call touches one allocation of its session
//! instead of two hash tables (which showed when calls spread over many
//! sessions no longer fit in cache).
//!
//! The table only does bookkeeping. Which ids may open a stream (no
//! duplicates in flight) is decided by
//! [`SessionState::admit`](crate::session::SessionState::admit).
//!
//! A reply stream's life: [`Streams::open`] when its message is admitted;
//! related messages pushed onto it while its handlers run; the reply ends it
//! ([`Streams::take_answer`], after which it awaits nothing). Then, when its
//! connection lets go ([`Streams::release`]), it is forgotten if the client
//! got the reply, or kept among the undelivered (at most `retained`) for a
//! client that resumes with `Last-Event-ID`.
//!
//! A session shared with other replicas may also hold *copies* of their
//! streams: made when a client resumes one here ([`Streams::copy_of`]),
//! filled from the shared log ([`Streams::fill_copy`]) and then from the
//! events that come as letters ([`Streams::copy_event`]). A copy whose
//! client leaves before it finished is forgotten (the log can make it
//! again); one that finished is kept like a reply stream.

use std::collections::VecDeque;

use crate::jsonrpc::RequestId;
use crate::session_store::LoggedEvent;
use crate::stream::Stream;

/// The finished copies of other replicas' streams kept for a client that
/// resumes again, at least (the transport's own bound when larger).
#[cfg_attr(not(feature = "shared-sessions"), allow(dead_code))]
const RETAINED_COPIES: usize = 8;

/// Adds `event` of another replica's stream to its copy `stream`: an
/// event already there (or the shared log's opening mark, `seq` 0) is
/// skipped; one later than due starts the copy over after the gap
/// ([`Stream::skip_to`]). A sequence number absurdly far ahead (a garbled
/// message) is ignored.
#[cfg_attr(not(feature = "shared-sessions"), allow(dead_code))]
fn add(stream: &mut Stream, event: LoggedEvent, cap: usize) {
    let next = stream.last_seq().saturating_add(1);
    if event.seq < next || event.seq - next > u64::from(u32::MAX) {
        return;
    }
    if event.seq > next {
        stream.skip_to(event.seq - 1);
    }
    stream.push(event.message.into_bytes().into(), event.last, cap);
}

/// Number of a session's standalone stream (the HTTP GET stream): it
/// carries list changes and resource updates, and is never a reply.
pub(crate) const STANDALONE: u64 = 0;

/// The streams of one session, kept under the session's lock.
#[derive(Debug)]
pub(crate) struct Streams {
    /// The number the next opened stream gets: numbers count up (from 1, or
    /// from a random start on each replica sharing the session, see
    /// [`Streams::number_from`]) and are never reused in a session, so a
    /// stale `Last-Event-ID` cannot name a newer stream.
    next_stream: u64,
    /// The number before the GET stream's first event, when it opens: 0,
    /// or a random start on each replica sharing the session (see
    /// [`Streams::number_from`]).
    standalone_from: u64,
    /// Every stream still known, in no particular order.
    slots: Vec<Slot>,
    /// Finished streams nobody has received yet, oldest first.
    undelivered: VecDeque<u64>,
}

impl Default for Streams {
    fn default() -> Self {
        Self {
            next_stream: STANDALONE + 1,
            standalone_from: 0,
            slots: Vec::new(),
            undelivered: VecDeque::new(),
        }
    }
}

/// One stream with its number and the requests whose reply will end it.
#[derive(Debug)]
struct Slot {
    /// Its number in the session ([`STANDALONE`] or a reply stream's).
    number: u64,
    /// What will end it.
    awaiting: Awaiting,
    /// Its log and listener.
    stream: Stream,
    /// Whether it is a copy of a stream another replica writes.
    copy: Copy,
}

/// Whether a stream is a copy of another replica's (made for a client that
/// resumed it here), and how far its copying got.
#[derive(Debug)]
#[cfg_attr(not(feature = "shared-sessions"), allow(dead_code))]
enum Copy {
    /// This replica's own stream.
    No,
    /// Being filled from the shared log: events that come as letters
    /// meanwhile wait here, oldest first, and are added after the log's.
    Filling(Vec<LoggedEvent>),
    /// Filled: events that come as letters are added at once.
    Live,
}

/// The requests whose reply ends a stream.
#[derive(Debug)]
enum Awaiting {
    /// Answered, or never a request's (the standalone stream).
    Nothing,
    /// One request, the common case, kept without a vector.
    One(RequestId),
    /// A batch's requests: their replies go out together, as one message.
    Batch(Vec<RequestId>),
}

impl Awaiting {
    /// Whether the reply to `id` is what ends the stream.
    fn contains(&self, id: &RequestId) -> bool {
        match self {
            Self::Nothing => false,
            Self::One(one) => one == id,
            Self::Batch(ids) => ids.contains(id),
        }
    }
}

impl Streams {
    /// The index in `slots` of stream `number`.
    fn position(&self, number: u64) -> Option<usize> {
        self.slots.iter().position(|s| s.number == number)
    }

    /// Streams known, open or kept (the simulation's table checks).
    #[cfg(feature = "simulation")]
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Opens a stream that the reply to `ids` will end (none: a stream that
    /// only a final event pushed by hand ends). Returns its number.
    ///
    /// The caller has checked that no id is awaited already
    /// ([`SessionState::admit`](crate::session::SessionState::admit)):
    /// otherwise the reply would end whichever stream was found first.
    pub(crate) fn open(&mut self, ids: &[RequestId]) -> u64 {
        let number = self.next_stream;
        self.next_stream += 1;
        let awaiting = match ids {
            [] => Awaiting::Nothing,
            [one] => Awaiting::One(one.clone()),
            many => Awaiting::Batch(many.to_vec()),
        };
        // One slot at first: most sessions have one request at a time, and
        // a vector's first growth would reserve four (some 500 bytes that
        // an idle session would keep).
        if self.slots.capacity() == 0 {
            self.slots.reserve_exact(1);
        }
        self.slots.push(Slot {
            number,
            awaiting,
            stream: Stream::default(),
            copy: Copy::No,
        });
        number
    }

    /// Numbers the streams opened from now on from `first` (at least the
    /// next number already due, so none is reused): a session shared by
    /// replicas draws a random start on each, so that its streams'
    /// numbers, and thus its event ids, do not meet across replicas. The
    /// GET stream, one number on every replica, numbers its events from
    /// `first` instead, when it opens after this.
    pub(crate) fn number_from(&mut self, first: u64) {
        self.next_stream = self.next_stream.max(first);
        self.standalone_from = first;
    }

    #[cfg(feature = "shared-sessions")]
    /// Makes stream `number` here as the copy of a stream another replica
    /// wrote, for a client that saw it up to `after`, unless a stream of
    /// that number is here already; returns whether it made one. It is
    /// filled from the shared log with [`fill_copy`](Self::fill_copy);
    /// events that come as letters go through [`copy_event`](Self::copy_event).
    pub(crate) fn copy_of(&mut self, number: u64, after: u64) -> bool {
        if number == STANDALONE || self.position(number).is_some() {
            return false;
        }
        self.slots.push(Slot {
            number,
            awaiting: Awaiting::Nothing,
            stream: Stream::after(after),
            copy: Copy::Filling(Vec::new()),
        });
        true
    }

    #[cfg(feature = "shared-sessions")]
    /// Fills copy `number` with `log` (the shared log, oldest first), then
    /// with the events that came as letters meanwhile, keeping `cap`.
    /// A client's `Last-Event-ID` later than anything written counts as
    /// the log's end.
    pub(crate) fn fill_copy(&mut self, number: u64, log: Vec<LoggedEvent>, cap: usize) {
        let retained = self.undelivered.len().max(RETAINED_COPIES);
        let Some(i) = self.position(number) else {
            return;
        };
        let slot = &mut self.slots[i];
        let Copy::Filling(mut early) = std::mem::replace(&mut slot.copy, Copy::Live) else {
            return;
        };
        // Added in order, whatever order they came in.
        early.sort_by_key(|e| e.seq);
        let end = log.iter().map(|e| e.seq).max().unwrap_or(0);
        if slot.stream.last_seq() > end {
            slot.stream.skip_to(end);
        }
        for event in log.into_iter().chain(early) {
            add(&mut slot.stream, event, cap);
        }
        self.settle(number, retained);
    }

    #[cfg_attr(not(feature = "shared-sessions"), allow(dead_code))]
    /// Adds `event`, which came as a letter, to copy `number`, if there is
    /// such a copy here (held back while it is being filled).
    pub(crate) fn copy_event(&mut self, number: u64, event: LoggedEvent, cap: usize) {
        let retained = self.undelivered.len().max(RETAINED_COPIES);
        let Some(slot) = self.slots.iter_mut().find(|s| s.number == number) else {
            return;
        };
        match &mut slot.copy {
            Copy::No => {}
            Copy::Filling(early) => {
                if early.len() < cap.max(1) {
                    early.push(event);
                }
            }
            Copy::Live => {
                add(&mut slot.stream, event, cap);
                self.settle(number, retained);
            }
        }
    }

    #[cfg(feature = "shared-sessions")]
    /// Removes copy `number` if no connection listens to it (its shared
    /// log had nothing after all).
    pub(crate) fn drop_copy(&mut self, number: u64) {
        let idle_copy = self
            .slots
            .iter()
            .any(|s| s.number == number && !matches!(s.copy, Copy::No) && !s.stream.attached());
        if idle_copy {
            self.remove(number);
        }
    }

    #[cfg_attr(not(feature = "shared-sessions"), allow(dead_code))]
    /// A copy whose final event came while nobody listened is kept among
    /// the undelivered, like a stream of this replica's.
    fn settle(&mut self, number: u64, retained: usize) {
        let done = self
            .slots
            .iter()
            .any(|s| s.number == number && s.stream.finished && !s.stream.attached());
        if done && !self.undelivered.contains(&number) {
            self.keep_undelivered(number, retained);
        }
    }

    /// The stream numbered `number`; `None` once it was forgotten (delivered,
    /// cancelled, or evicted from the undelivered), or if it never existed.
    pub(crate) fn get_mut(&mut self, number: u64) -> Option<&mut Stream> {
        let i = self.position(number)?;
        Some(&mut self.slots[i].stream)
    }

    /// The standalone stream, opened on first use (the first GET).
    ///
    /// Until then [`Streams::get_mut`] of [`STANDALONE`] is `None`, and the
    /// HTTP transport drops unrelated messages, since nobody could receive
    /// them.
    pub(crate) fn standalone(&mut self) -> &mut Stream {
        let i = match self.position(STANDALONE) {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    number: STANDALONE,
                    awaiting: Awaiting::Nothing,
                    stream: Stream::after(self.standalone_from),
                    copy: Copy::No,
                });
                self.slots.len() - 1
            }
        };
        &mut self.slots[i].stream
    }

    /// Forgets a stream (its listener, if any, is told it ended). Nothing
    /// when there is no such stream. Its number is not reused.
    pub(crate) fn remove(&mut self, number: u64) {
        if let Some(i) = self.position(number) {
            self.slots.swap_remove(i);
        }
    }

    /// The stream that the reply to `id` will end: where the messages
    /// related to request `id` go. `None` once `id` was answered (or was
    /// never admitted here).
    pub(crate) fn answering(&self, id: &RequestId) -> Option<u64> {
        self.slots
            .iter()
            .find(|s| s.awaiting.contains(id))
            .map(|s| s.number)
    }

    /// Takes the reply slot of `id`: the stream it ends, which then awaits
    /// nothing more (a batch's reply ends all of its ids).
    pub(crate) fn take_answer(&mut self, id: &RequestId) -> Option<u64> {
        let slot = self.slots.iter_mut().find(|s| s.awaiting.contains(id))?;
        slot.awaiting = Awaiting::Nothing;
        Some(slot.number)
    }

    /// Every stream, in no particular order (to detach them all when the
    /// session closes).
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut Stream> {
        self.slots.iter_mut().map(|s| &mut s.stream)
    }

    /// Whether any connection listens to any of these streams.
    pub(crate) fn any_attached(&self) -> bool {
        self.slots.iter().any(|s| s.stream.attached())
    }

    /// A connection stopped listening to `number`: forget the stream if its
    /// final event reached the client, otherwise keep a finished one (at
    /// most `retained`) for resumption.
    ///
    /// `delivered` says the connection wrote the final event out. A stream
    /// that has not finished yet stays as it is: its reply is still to
    /// come, and a resuming client may pick it up.
    pub(crate) fn release(&mut self, number: u64, delivered: bool, retained: usize) {
        let copy = self
            .slots
            .iter()
            .find(|s| s.number == number && !matches!(s.copy, Copy::No) && !s.stream.finished);
        if let Some(copy) = copy {
            // The shared log can make it again for the next resumption. A
            // copy a newer connection already resumed stays: this release
            // is the replaced connection's, noticed late.
            if !copy.stream.attached() {
                self.remove(number);
            }
            return;
        }
        if delivered {
            self.remove(number);
            self.undelivered.retain(|&s| s != number);
        } else if self.get_mut(number).is_some_and(|s| s.finished)
            && !self.undelivered.contains(&number)
        {
            self.keep_undelivered(number, retained);
        }
    }

    /// A connection stopped writing SSE stream `number`: keep it (at most
    /// `retained`) once it finished, whether or not its final event was
    /// written.
    ///
    /// Written is not received: a proxy between the server and the client
    /// (HAProxy, nginx) takes the bytes of a client that already left, so
    /// a stream that went out whole may still be resumed with
    /// `Last-Event-ID`. Only JSON replies, which have no event ids, are
    /// forgotten when written ([`Streams::release`] with `delivered`).
    pub(crate) fn release_sse(&mut self, number: u64, retained: usize) {
        self.release(number, false, retained);
    }

    /// Keeps finished stream `number` for a resuming client, forgetting the
    /// oldest past `retained`.
    ///
    /// The bound is what stops a client that never comes back from leaving
    /// finished streams behind without end. A number kept twice would count
    /// twice against it; callers keep a stream once, when its final event
    /// finds no listener or its listener leaves without delivering it.
    pub(crate) fn keep_undelivered(&mut self, number: u64, retained: usize) {
        self.undelivered.push_back(number);
        while self.undelivered.len() > retained {
            if let Some(old) = self.undelivered.pop_front() {
                self.remove(old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(s: &str) -> std::sync::Arc<[u8]> {
        s.as_bytes().into()
    }

    #[cfg(feature = "shared-sessions")]
    fn ev(seq: u64, last: bool) -> LoggedEvent {
        LoggedEvent::new(seq, last, format!("{{\"n\":{seq}}}"))
    }

    #[cfg(feature = "shared-sessions")]
    fn seqs(st: &mut Streams, number: u64) -> Vec<u64> {
        let stream = st.get_mut(number).expect("the copy");
        stream.replay_after(0).map(|e| e.seq).collect()
    }

    #[cfg(feature = "shared-sessions")]
    #[test]
    fn a_copy_holds_the_log_after_the_client_then_what_came_meanwhile() {
        let mut st = Streams::default();
        assert!(st.copy_of(77, 2));
        assert!(!st.copy_of(77, 2), "one copy of a stream");
        assert!(!st.copy_of(STANDALONE, 0), "the GET stream is never copied");
        // Letters that come while the log is read wait for it.
        st.copy_event(77, ev(5, false), 64);
        st.copy_event(77, ev(4, false), 64);
        st.fill_copy(
            77,
            vec![ev(0, false), ev(1, false), ev(2, false), ev(3, false)],
            64,
        );
        assert_eq!(seqs(&mut st, 77), vec![3, 4, 5]);
        // Live now: a repeat is skipped, the next is added.
        st.copy_event(77, ev(5, false), 64);
        st.copy_event(77, ev(6, true), 64);
        assert_eq!(seqs(&mut st, 77), vec![3, 4, 5, 6]);
        assert!(st.get_mut(77).unwrap().finished);
    }

    #[cfg(feature = "shared-sessions")]
    #[test]
    fn a_copy_starts_over_after_a_gap_and_ignores_absurd_numbers() {
        let mut st = Streams::default();
        assert!(st.copy_of(9, 0));
        st.fill_copy(9, vec![ev(0, false), ev(1, false)], 64);
        st.copy_event(9, ev(4, false), 64);
        assert_eq!(
            seqs(&mut st, 9),
            vec![4],
            "the events lost on the way are not invented"
        );
        st.copy_event(9, ev(u64::MAX, false), 64);
        assert_eq!(st.get_mut(9).unwrap().last_seq(), 4);
    }

    #[cfg(feature = "shared-sessions")]
    #[test]
    fn a_client_ahead_of_the_log_counts_as_at_its_end() {
        let mut st = Streams::default();
        assert!(st.copy_of(9, u64::MAX));
        st.fill_copy(9, vec![ev(0, false), ev(1, false)], 64);
        assert_eq!(st.get_mut(9).unwrap().last_seq(), 1);
        st.copy_event(9, ev(2, true), 64);
        assert_eq!(seqs(&mut st, 9), vec![2]);
    }

    #[cfg(feature = "shared-sessions")]
    #[test]
    fn an_unfinished_copy_is_dropped_when_its_listener_leaves() {
        let mut st = Streams::default();
        assert!(st.copy_of(5, 0));
        st.fill_copy(5, vec![ev(0, false), ev(1, false)], 64);
        // Released by a connection a newer one already replaced (its
        // leaving noticed late): the newer one's listener keeps it.
        let _token = st.get_mut(5).unwrap().attach();
        st.release(5, false, 8);
        assert!(st.get_mut(5).is_some(), "resumed by a newer connection");
        st.get_mut(5).unwrap().detach();
        st.release(5, false, 8);
        assert!(st.get_mut(5).is_none(), "the shared log can make it again");
        // A copy that finished with nobody listening is kept, like a reply.
        assert!(st.copy_of(6, 0));
        st.fill_copy(6, vec![ev(1, true)], 64);
        assert!(st.undelivered.contains(&6));
        // And one whose log turned out empty is dropped unless listened to.
        assert!(st.copy_of(7, 0));
        st.drop_copy(7);
        assert!(st.get_mut(7).is_none());
    }

    #[test]
    fn replies_find_their_stream_and_batches_end_together() {
        let mut st = Streams::default();
        let a = st.open(&[RequestId::number(1)]);
        let b = st.open(&[RequestId::number(2), RequestId::from("x")]);
        assert_eq!(st.answering(&RequestId::number(1)), Some(a));
        assert_eq!(st.answering(&RequestId::from("x")), Some(b));
        assert_eq!(st.take_answer(&RequestId::from("x")), Some(b));
        assert_eq!(
            st.answering(&RequestId::number(2)),
            None,
            "the batch is answered"
        );
        assert_eq!(st.take_answer(&RequestId::from("x")), None, "only once");
    }

    #[test]
    fn undelivered_streams_are_kept_up_to_the_limit() {
        let mut st = Streams::default();
        let mut numbers = Vec::new();
        for i in 0..3 {
            let n = st.open(&[RequestId::number(i)]);
            st.get_mut(n).unwrap().push(bytes("{}"), true, 8);
            numbers.push(n);
        }
        for &n in &numbers {
            st.release(n, false, 2);
        }
        assert!(st.get_mut(numbers[0]).is_none(), "the oldest was dropped");
        assert!(st.get_mut(numbers[1]).is_some() && st.get_mut(numbers[2]).is_some());
        st.release(numbers[1], true, 2);
        assert!(
            st.get_mut(numbers[1]).is_none(),
            "delivered streams are forgotten"
        );
        assert!(st.standalone().last_seq() == 0 && st.get_mut(STANDALONE).is_some());
    }

    #[test]
    fn a_written_sse_stream_is_kept_for_a_client_behind_a_proxy() {
        let mut st = Streams::default();
        let n = st.open(&[RequestId::number(1)]);
        st.get_mut(n).unwrap().push(bytes("{}"), true, 4);
        st.release_sse(n, 2);
        assert!(st.get_mut(n).is_some(), "kept, written or not");
        st.release_sse(n, 2);
        let others: Vec<u64> = (0..2)
            .map(|i| {
                let m = st.open(&[RequestId::number(10 + i)]);
                st.get_mut(m).unwrap().push(bytes("{}"), true, 4);
                st.release_sse(m, 2);
                m
            })
            .collect();
        assert!(st.get_mut(n).is_none(), "the oldest goes past the bound");
        assert!(others.iter().all(|&m| st.get_mut(m).is_some()));
    }

    #[test]
    fn an_unfinished_stream_is_not_retained_on_release() {
        let mut st = Streams::default();
        let n = st.open(&[RequestId::number(1)]);
        st.release(n, false, 2);
        assert!(st.get_mut(n).is_some(), "still awaiting its reply");
        assert!(!st.any_attached());
    }
}
