//! A request's work as the HTTP layer carries it: the handler (and the
//! sending of its reply), tied to the reply stream it will end.
//!
//! The work is driven by whoever answers the request: `rules` while it
//! waits for a JSON reply, the connection while it writes an SSE stream
//! (which spawns it when the connection ends first, so a disconnect is not a
//! cancellation). A job dropped before it finished (the caller of
//! [`HttpServerTransport::handle`](crate::http::HttpServerTransport::handle) gave
//! up, an SSE body was dropped unwritten) will never send its reply, so it
//! frees the stream that awaited it: the request's id is not taken for the
//! rest of the session.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use crate::runtime::BoxFuture;
use crate::session::Session;

/// The work of one request (or batch) and the stream its reply ends.
pub(crate) struct Job {
    work: BoxFuture<()>,
    session: Arc<Session>,
    stream: u64,
    done: bool,
}

impl Job {
    /// `work` that ends stream `stream` of `session`.
    pub(crate) fn new(work: BoxFuture<()>, session: &Arc<Session>, stream: u64) -> Self {
        Self {
            work,
            session: Arc::clone(session),
            stream,
            done: false,
        }
    }
}

impl Future for Job {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let polled = self.work.as_mut().poll(cx);
        if polled.is_ready() {
            self.done = true;
        }
        polled
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // Never to be answered: forget the stream unless its reply is in
        // (the handler may have finished just before the drop).
        let mut st = self.session.state();
        if st.streams.get_mut(self.stream).is_some_and(|s| !s.finished) {
            st.streams.remove(self.stream);
        }
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Job")
            .field("stream", &self.stream)
            .field("done", &self.done)
            .finish_non_exhaustive()
    }
}
