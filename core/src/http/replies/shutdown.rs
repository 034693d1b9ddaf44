//! A shutdown signal: cheap to clone, triggered once, seen by every clone.

use crate::runtime::BoxFuture;

/// A signal that is triggered once and stays triggered; every clone sees it.
///
/// # Examples
///
/// ```
/// use switchboard_core::http::Shutdown;
///
/// let signal = Shutdown::default();
/// let seen_by = signal.clone();
/// assert!(!seen_by.is_triggered());
/// signal.trigger();
/// futures::executor::block_on(seen_by.triggered());
/// assert!(seen_by.is_triggered());
/// ```
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: async_channel::Sender<()>,
    rx: async_channel::Receiver<()>,
}

impl Default for Shutdown {
    fn default() -> Self {
        let (tx, rx) = async_channel::bounded(1);
        Self { tx, rx }
    }
}

impl Shutdown {
    /// Triggers the signal (again: no effect).
    pub fn trigger(&self) {
        self.tx.close();
    }

    /// Whether it was triggered.
    pub fn is_triggered(&self) -> bool {
        self.rx.is_closed()
    }

    /// Completes once triggered (at once if it was).
    pub async fn triggered(&self) {
        // A closed channel is the signal; nothing is ever sent.
        let _ = self.rx.recv().await;
    }

    /// An owned future that completes once triggered.
    pub(crate) fn stopped(&self) -> BoxFuture<()> {
        let rx = self.rx.clone();
        Box::pin(async move {
            let _ = rx.recv().await;
        })
    }
}
