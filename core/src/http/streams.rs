//! One session's streams: a reply stream per request in flight (with the
//! JSON-RPC ids it answers), the standalone GET stream, and finished
//! streams kept for a resuming client.
//!
//! A session has a handful of these at a time, so they live in one small
//! vector searched in order: a call touches one allocation of its session
//! instead of two hash tables (which showed when calls spread over many
//! sessions no longer fit in cache).

use std::collections::VecDeque;
use std::time::Instant;

use super::sse::Stream;
use super::transport::{STANDALONE, SlotError};
use crate::jsonrpc::RequestId;

/// The HTTP-side state of one session, behind its lock.
#[derive(Debug)]
pub(crate) struct Streams {
    pub(crate) last_active: Instant,
    next_stream: u64,
    slots: Vec<Slot>,
    /// Finished streams nobody has received yet, oldest first.
    undelivered: VecDeque<u64>,
}

#[derive(Debug)]
struct Slot {
    number: u64,
    awaiting: Awaiting,
    stream: Stream,
}

/// The requests whose reply ends a stream.
#[derive(Debug)]
enum Awaiting {
    /// Answered, or never a request's (the GET stream).
    Nothing,
    One(RequestId),
    Batch(Vec<RequestId>),
}

impl Awaiting {
    fn contains(&self, id: &RequestId) -> bool {
        match self {
            Self::Nothing => false,
            Self::One(one) => one == id,
            Self::Batch(ids) => ids.contains(id),
        }
    }
}

impl Streams {
    pub(crate) fn new(now: Instant) -> Self {
        Self {
            last_active: now,
            next_stream: STANDALONE + 1,
            slots: Vec::new(),
            undelivered: VecDeque::new(),
        }
    }

    fn position(&self, number: u64) -> Option<usize> {
        self.slots.iter().position(|s| s.number == number)
    }

    /// Opens a stream that the reply to `ids` will end.
    pub(crate) fn open(&mut self, ids: &[RequestId]) -> Result<(u64, &mut Stream), SlotError> {
        if ids.iter().any(|id| self.answering(id).is_some()) {
            return Err(SlotError::DuplicateId);
        }
        let number = self.next_stream;
        self.next_stream += 1;
        let awaiting = match ids {
            [] => Awaiting::Nothing,
            [one] => Awaiting::One(one.clone()),
            many => Awaiting::Batch(many.to_vec()),
        };
        self.slots.push(Slot {
            number,
            awaiting,
            stream: Stream::default(),
        });
        let slot = self.slots.last_mut().expect("just pushed");
        Ok((number, &mut slot.stream))
    }

    /// The stream numbered `number`.
    pub(crate) fn get_mut(&mut self, number: u64) -> Option<&mut Stream> {
        let i = self.position(number)?;
        Some(&mut self.slots[i].stream)
    }

    /// The standalone (GET) stream, opened on first use.
    pub(crate) fn standalone(&mut self) -> &mut Stream {
        let i = match self.position(STANDALONE) {
            Some(i) => i,
            None => {
                self.slots.push(Slot {
                    number: STANDALONE,
                    awaiting: Awaiting::Nothing,
                    stream: Stream::default(),
                });
                self.slots.len() - 1
            }
        };
        &mut self.slots[i].stream
    }

    /// Forgets a stream (its listener, if any, is told it ended).
    pub(crate) fn remove(&mut self, number: u64) {
        if let Some(i) = self.position(number) {
            self.slots.swap_remove(i);
        }
    }

    /// The stream that the reply to `id` will end.
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

    /// Every stream.
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
    pub(crate) fn release(&mut self, number: u64, delivered: bool, retained: usize) {
        if delivered {
            self.remove(number);
            self.undelivered.retain(|&s| s != number);
        } else if self.get_mut(number).is_some_and(|s| s.finished)
            && !self.undelivered.contains(&number)
        {
            self.keep_undelivered(number, retained);
        }
    }

    /// Keeps finished stream `number` for a resuming client, forgetting the
    /// oldest past `retained`.
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

    #[test]
    fn replies_find_their_stream_and_batches_end_together() {
        let mut st = Streams::new(Instant::now());
        let (a, _) = st.open(&[RequestId::number(1)]).unwrap();
        let (b, _) = st
            .open(&[RequestId::number(2), RequestId::from("x")])
            .unwrap();
        assert_eq!(
            st.open(&[RequestId::from("x")]).unwrap_err(),
            SlotError::DuplicateId
        );
        assert_eq!(st.answering(&RequestId::number(1)), Some(a));
        assert_eq!(st.take_answer(&RequestId::from("x")), Some(b));
        assert_eq!(
            st.answering(&RequestId::number(2)),
            None,
            "the batch is answered"
        );
        assert!(
            st.open(&[RequestId::number(2)]).is_ok(),
            "its ids are free again"
        );
    }

    #[test]
    fn undelivered_streams_are_kept_up_to_the_limit() {
        let mut st = Streams::new(Instant::now());
        let mut numbers = Vec::new();
        for i in 0..3 {
            let (n, stream) = st.open(&[RequestId::number(i)]).unwrap();
            stream.push(bytes("{}"), true, 8);
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
}
