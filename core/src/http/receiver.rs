//! The connection's end of a stream: the stream's listener (a position in
//! its log and a waker, kept in the stream), read under the session's lock.

use std::sync::Arc;
use std::task::{Context, Poll};

use super::sse::{Stream, StreamEvent, Take};
use super::transport::HttpSession;

/// Receives one stream's events for the connection that answers with them.
#[derive(Debug)]
pub(crate) struct StreamReceiver {
    session: Arc<HttpSession>,
    stream: u64,
    token: u64,
}

impl StreamReceiver {
    /// Attaches to `stream` (numbered `number` in `session`, whose lock the
    /// caller holds) for the events after its last one.
    pub(crate) fn attach(session: &Arc<HttpSession>, number: u64, stream: &mut Stream) -> Self {
        Self {
            session: Arc::clone(session),
            stream: number,
            token: stream.attach(),
        }
    }

    /// The next event; `None` once the stream ended for this receiver.
    pub(crate) fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<Option<StreamEvent>> {
        let mut st = self.session.state();
        let Some(stream) = st.get_mut(self.stream) else {
            return Poll::Ready(None);
        };
        match stream.take(self.token, cx.waker()) {
            Take::Event(event) => Poll::Ready(Some(event)),
            Take::Wait => Poll::Pending,
            Take::Closed => Poll::Ready(None),
        }
    }

    /// Waits for the next event.
    pub(crate) async fn recv(&mut self) -> Option<StreamEvent> {
        futures::future::poll_fn(|cx| self.poll_event(cx)).await
    }
}

impl Drop for StreamReceiver {
    fn drop(&mut self) {
        // Nobody listens any more: the stream may now expire or be retained.
        if let Some(stream) = self.session.state().get_mut(self.stream) {
            stream.release_listener(self.token);
        }
    }
}
