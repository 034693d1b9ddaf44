//! The serve loop: receive from the transport while driving every handler in
//! flight, so that a slow handler never holds the next message back.
//!
//! The loop is the only place core drives handlers itself, and it does so
//! without an executor: one `poll_fn` polls the set of handlers and the
//! pending `receive` together, on the caller's task.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use futures::stream::{FuturesUnordered, StreamExt};

use super::dispatch::Engine;
use crate::runtime::BoxFuture;
use crate::transport::{Inbound, TransportError};

/// What one `receive` yields.
type Received = Result<Inbound, TransportError>;

/// Returns a boxed `receive` on the server's transport that owns its `Arc`,
/// so the loop can keep it across iterations (and across polls of the
/// handlers) instead of re-creating, and thus cancelling, it.
fn receive(shared: &Arc<Engine>) -> Pin<Box<dyn Future<Output = Received> + Send>> {
    let transport = Arc::clone(&shared.outlet.transport);
    Box::pin(async move { transport.receive().await })
}

/// Serves until the transport closes, then waits for the handlers in flight.
///
/// With a runtime, each handler is spawned on it; without one, handlers live
/// in a `FuturesUnordered` polled alongside `receive`. The receive future is
/// kept across iterations, so no message is lost to a cancelled read.
/// Each event is accepted before the next is received, so events of a
/// session take effect in the order they arrived (a cancellation after its
/// request, say), while the handlers they start overlap.
///
/// Spawned jobs are counted by the senders of a channel nobody sends on:
/// each job holds a clone and drops it when done, so the final `recv`
/// returns once the last job ended, without the runtime having to offer
/// join handles.
///
/// # Errors
///
/// [`TransportError::AlreadyAttached`] at once when the transport refused
/// this server at build (any other refusal is reported as
/// [`TransportError::Closed`], as the error is not `Clone`); the first
/// unrecoverable `receive` error, after the handlers in flight finished.
/// Recoverable errors are skipped.
///
/// # Cancel safety
///
/// Dropping the future drops the handlers it holds (their in-flight entries
/// leave with them, and they send nothing) and the pending `receive`, which
/// [`Transport::receive`](crate::Transport::receive)'s contract keeps from
/// losing a message. Spawned handlers keep running.
pub(crate) async fn serve(shared: &Arc<Engine>) -> Result<(), TransportError> {
    let letters = match &shared.session_store {
        Some(store) if cfg!(feature = "shared-sessions") => store.letters(),
        _ => None,
    };
    if shared.bus.is_none() && letters.is_none() {
        return serve_loop(shared).await;
    }
    // Changes any replica published, this one's own included, told to this
    // server's clients while it serves; the subscription ends with it.
    let changes = async {
        if let Some(bus) = &shared.bus {
            let mut changes = bus.subscribe();
            while let Some(change) = changes.next().await {
                shared.deliver(&change).await;
            }
        }
    };
    // Letters about shared sessions (see `relay`), taken in order.
    #[cfg(feature = "shared-sessions")]
    let letters = async {
        if let Some(mut letters) = letters {
            while let Some(letter) = letters.next().await {
                shared.receive(letter).await;
            }
        }
    };
    #[cfg(not(feature = "shared-sessions"))]
    let letters = async move {
        drop(letters);
    };
    let delivered = async {
        futures::future::join(changes, letters).await;
        // A bus or store that ended delivers nothing more; serving goes on.
        futures::future::pending::<()>().await;
    };
    let served = serve_loop(shared);
    futures::pin_mut!(delivered, served);
    match futures::future::select(served, delivered).await {
        futures::future::Either::Left((result, _)) => result,
        futures::future::Either::Right(((), _)) => unreachable!("delivery never ends"),
    }
}

/// [`serve`] without the bus: the transport's messages and their handlers.
async fn serve_loop(shared: &Arc<Engine>) -> Result<(), TransportError> {
    if let Some(error) = shared.attach_error.get() {
        // The same error on every call (the transport refused the line once).
        return Err(match error {
            TransportError::Closed => TransportError::Closed,
            TransportError::Io(e) => {
                TransportError::Io(std::io::Error::new(e.kind(), e.to_string()))
            }
            TransportError::UnknownSession => TransportError::UnknownSession,
            TransportError::NoReplySlot => TransportError::NoReplySlot,
            TransportError::AlreadyAttached => TransportError::AlreadyAttached,
        });
    }
    let mut work: FuturesUnordered<BoxFuture<()>> = FuturesUnordered::new();
    // Spawned jobs each hold a sender; when all are dropped, they are all done.
    let (spawned, all_done) = async_channel::bounded::<()>(1);
    let mut next = receive(shared);
    let result = loop {
        let received = futures::future::poll_fn(|cx| {
            while let Poll::Ready(Some(())) = work.poll_next_unpin(cx) {}
            next.as_mut().poll(cx)
        })
        .await;
        next = receive(shared);
        let job = match received {
            Ok(inbound) => shared.accept(inbound),
            Err(TransportError::Closed) => break Ok(()),
            Err(e) if e.is_recoverable() => None,
            Err(e) => break Err(e),
        };
        if let Some(job) = job {
            match &shared.outlet.runtime {
                Some(rt) => {
                    let token = spawned.clone();
                    rt.spawn(Box::pin(async move {
                        job.await;
                        drop(token);
                    }));
                }
                None => work.push(job),
            }
        }
    };
    while work.next().await.is_some() {}
    drop(spawned);
    // Err means every sender is gone: no spawned job is left.
    let _ = all_done.recv().await;
    result
}
