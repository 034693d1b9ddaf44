//! The serve loop: receive from the transport while driving every handler in
//! flight, so that a slow handler never holds the next message back.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use futures::stream::{FuturesUnordered, StreamExt};

use super::dispatch::Engine;
use crate::runtime::BoxFuture;
use crate::transport::{Inbound, TransportError};

type Received = Result<Inbound, TransportError>;

fn receive(shared: &Arc<Engine>) -> Pin<Box<dyn Future<Output = Received> + Send>> {
    let transport = Arc::clone(&shared.outlet.transport);
    Box::pin(async move { transport.receive().await })
}

/// Serves until the transport closes, then waits for the handlers in flight.
///
/// With a runtime, each handler is spawned on it; without one, handlers live
/// in a `FuturesUnordered` polled alongside `receive`. The receive future is
/// kept across iterations, so no message is lost to a cancelled read.
pub(crate) async fn serve(shared: &Arc<Engine>) -> Result<(), TransportError> {
    if let Some(error) = shared.attach_error.get() {
        return Err(match error {
            TransportError::AlreadyAttached => TransportError::AlreadyAttached,
            _ => TransportError::Closed,
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
