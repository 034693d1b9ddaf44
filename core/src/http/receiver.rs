//! The connection's end of a stream: the stream's listener (a position in
//! its log and a waker, kept in the stream), read under the session's lock.

use std::sync::Arc;
use std::task::{Context, Poll};

use crate::session::{Session, SessionState};
use crate::stream::{StreamEvent, Take};

/// Receives one stream's events for the response that carries them.
#[derive(Debug)]
pub(crate) struct StreamReceiver {
    session: Arc<Session>,
    stream: u64,
    token: u64,
}

impl StreamReceiver {
    /// Attaches to stream `number` of `session` (whose state `st` the
    /// caller holds locked) for the events after its last one. `None` when
    /// the stream is gone.
    pub(crate) fn attach(
        session: &Arc<Session>,
        st: &mut SessionState,
        number: u64,
    ) -> Option<Self> {
        let token = st.streams.get_mut(number)?.attach();
        Some(Self {
            session: Arc::clone(session),
            stream: number,
            token,
        })
    }

    /// The next event; `None` once the stream ended for this receiver.
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

impl Drop for StreamReceiver {
    fn drop(&mut self) {
        // Nobody listens any more: the stream may now expire or be retained.
        if let Some(stream) = self.session.state().streams.get_mut(self.stream) {
            stream.release_listener(self.token);
        }
    }
}
