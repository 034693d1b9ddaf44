//! The connection's end of a stream: the stream's listener (a position in
//! its log and a waker, kept in the stream), read under the session's lock.
//!
//! A stream has at most one receiver that gets events. Attaching a new one
//! (a client resuming elsewhere) ends the old one's response; what the old
//! one had not taken stays in the log for the new one's replay.

use std::sync::Arc;
use std::task::{Context, Poll};

use crate::session::{Session, SessionState};
use crate::stream::{StreamEvent, Take};

/// Receives one stream's events for the response that carries them.
///
/// Holds no events itself: each poll takes the next one from the stream's
/// log, so dropping a receiver (or a poll's future) loses nothing that a
/// resuming client could not replay. Dropping it releases the listener.
#[derive(Debug)]
pub(crate) struct StreamReceiver {
    /// The session whose table holds the stream; kept alive while the
    /// response is written.
    session: Arc<Session>,
    /// The stream's number in that table.
    stream: u64,
    /// This receiver's listener token: once the stream's listener carries
    /// another token, this receiver was replaced and gets nothing more.
    token: u64,
}

impl StreamReceiver {
    /// Attaches to stream `number` of `session` (whose state `st` the
    /// caller holds locked) for the events after its last one. `None` when
    /// the stream is gone.
    ///
    /// Taking the lock from the caller lets it replay the log and attach in
    /// one critical section, so no event falls between the two. Any
    /// previous listener of the stream is detached and woken.
    pub(crate) fn attach(
        session: &Arc<Session>,
        st: &mut SessionState,
        number: u64,
    ) -> Option<Self> {
        // A closed session detached its listeners once and for all; one
        // attached after that would never be woken.
        if st.closed {
            return None;
        }
        let token = st.streams.get_mut(number)?.attach();
        Some(Self {
            session: Arc::clone(session),
            stream: number,
            token,
        })
    }

    /// The next event; `None` once the stream ended for this receiver.
    ///
    /// It ends when the stream is removed (cancelled, its session closed),
    /// detached (SSE polling), handed to a newer receiver, or when this one
    /// fell behind past the log. `Pending` stores `cx`'s waker; a push to
    /// the stream wakes it. Locks the session's state: the caller must not
    /// hold it.
    pub(crate) fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        let mut st = self.session.state();
        let Some(stream) = st.streams.get_mut(self.stream) else {
            return Poll::Ready(None);
        };
        match stream.take(self.token, cx.waker()) {
            Take::Event(event) => Poll::Ready(Some(event)),
            Take::Wait => Poll::Pending,
            Take::Closed => Poll::Ready(None),
        }
    }
}

/// Releases the listener if it is still this receiver's, so the stream can
/// be retained for resumption or forgotten.
impl Drop for StreamReceiver {
    fn drop(&mut self) {
        // Nobody listens any more: the stream may now expire or be retained.
        if let Some(stream) = self.session.state().streams.get_mut(self.stream) {
            stream.release_listener(self.token);
        }
    }
}
