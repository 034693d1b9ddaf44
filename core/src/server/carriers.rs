//! The carriers of stateless requests: the session objects they run in,
//! outside the session table (see [`stateless`](super::stateless)).

use crate::clock::Instant;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::facts::ClientFacts;
use crate::id::{IdMap, SessionId};
use crate::session::Session;

/// The carriers of stateless requests in flight, by id.
#[derive(Default)]
pub(crate) struct Carriers {
    /// Open carriers. An HTTP carrier's id is `~` and a count, which no
    /// minted session id looks like; a connection's carrier has the
    /// connection's session id.
    map: Mutex<IdMap<SessionId, Arc<Session>>>,
    /// Counts HTTP carriers, for their ids.
    next: AtomicU64,
}

impl Carriers {
    /// Locks the table (poison is taken: each update is one insert or
    /// removal).
    fn map(&self) -> MutexGuard<'_, IdMap<SessionId, Arc<Session>>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A new carrier for one request at `now` with `facts`, unless `cap`
    /// carriers are open.
    pub(crate) fn open(
        &self,
        facts: ClientFacts,
        now: Instant,
        cap: usize,
    ) -> Option<Arc<Session>> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let id = carrier_id(n);
        let carrier = Arc::new(Session::new(id.clone(), facts, now));
        let mut map = self.map();
        if map.len() >= cap {
            return None;
        }
        map.insert(id, Arc::clone(&carrier));
        Some(carrier)
    }

    /// The carrier of connection `id` (stdio, memory), opened on first use
    /// unless `cap` carriers are open.
    pub(crate) fn of_connection(
        &self,
        id: &SessionId,
        facts: ClientFacts,
        now: Instant,
        cap: usize,
    ) -> Option<Arc<Session>> {
        let mut map = self.map();
        if let Some(carrier) = map.get(id) {
            return Some(Arc::clone(carrier));
        }
        if map.len() >= cap {
            return None;
        }
        let carrier = Arc::new(Session::new(id.clone(), facts, now));
        map.insert(id.clone(), Arc::clone(&carrier));
        Some(carrier)
    }

    /// The open carrier `id`.
    pub(crate) fn get(&self, id: &SessionId) -> Option<Arc<Session>> {
        self.map().get(id).cloned()
    }

    /// Every open carrier (the simulation's table checks).
    #[cfg(feature = "simulation")]
    pub(crate) fn all(&self) -> Vec<Arc<Session>> {
        self.map().values().cloned().collect()
    }

    /// Ends carrier `id`: forgets it and cancels what still runs in it.
    pub(crate) fn end(&self, id: &SessionId) {
        let carrier = self.map().remove(id);
        if let Some(carrier) = carrier {
            carrier.close();
        }
    }
}

/// `~` and `n` in decimal: an HTTP carrier's id (written by hand, on the
/// stack: one per request, and `format!` costs more than the rest of the
/// id's life).
fn carrier_id(mut n: u64) -> SessionId {
    let mut text = [0u8; 21];
    let mut at = text.len();
    loop {
        at -= 1;
        text[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    at -= 1;
    text[at] = b'~';
    // Only `~` and ASCII digits were written.
    SessionId::new(std::str::from_utf8(&text[at..]).unwrap_or("~"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carrier_ids_count_in_decimal() {
        assert_eq!(carrier_id(0).as_str(), "~0");
        assert_eq!(carrier_id(907).as_str(), "~907");
        assert_eq!(carrier_id(u64::MAX).as_str(), format!("~{}", u64::MAX));
    }
}
