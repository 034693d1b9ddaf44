//! [`MemorySessionStore`]: records in this process's memory.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;

use super::{Letter, LoggedEvent, SessionRecord, SessionStore, StoreError};
use crate::clock::{Instant, now};
use crate::id::SessionId;

/// The most records a [`MemorySessionStore::new`] keeps: ten times the
/// engine's default session cap, room for several servers' sessions.
pub const DEFAULT_MAX_RECORDS: usize = 100_000;

/// The most stream logs a [`MemorySessionStore`] keeps at once; past it,
/// an append to a new stream is dropped until old logs expire.
const MAX_LOGS: usize = 10_000;

/// Letters queued for one subscriber that has not taken them; past it,
/// new letters to it are dropped (letters are at most once).
const LETTER_QUEUE: usize = 4_096;

/// A [`SessionStore`] in this process's memory: for tests, and for several
/// servers of one process that share their sessions. Replicas in several
/// processes need a shared store (`switchboard-redis`'s `RedisSessionStore`).
///
/// Expiry is lazy: an expired record is gone for every method at once, and
/// its memory is given back when [`create`](SessionStore::create) meets the
/// cap.
///
/// Servers sharing one store also share its letters and stream logs, as
/// replicas sharing a Redis store do.
#[derive(Debug)]
pub struct MemorySessionStore {
    /// Records with their deadlines.
    map: Mutex<HashMap<SessionId, (SessionRecord, Instant)>>,
    /// The most records kept at once.
    cap: usize,
    /// Where [`SessionStore::post`] delivers: one queue per subscription.
    subscribers: Mutex<Vec<async_channel::Sender<Letter>>>,
    /// Reply streams' shared logs, with their deadlines.
    logs: Mutex<Logs>,
}

/// Stream logs by (session, stream), each with its deadline.
type Logs = HashMap<(SessionId, u64), (VecDeque<LoggedEvent>, Instant)>;

impl Default for MemorySessionStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemorySessionStore {
    /// An empty store of at most [`DEFAULT_MAX_RECORDS`].
    pub fn new() -> Self {
        Self::with_capacity(DEFAULT_MAX_RECORDS)
    }

    /// An empty store of at most `cap` records (at least one).
    pub fn with_capacity(cap: usize) -> Self {
        Self {
            map: Mutex::new(HashMap::new()),
            cap: cap.max(1),
            subscribers: Mutex::new(Vec::new()),
            logs: Mutex::new(HashMap::new()),
        }
    }

    /// Locks the map; a poisoned lock holds plain data and is used as is.
    fn map(&self) -> MutexGuard<'_, HashMap<SessionId, (SessionRecord, Instant)>> {
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The live record under `id` in `map` at `at`, an expired one removed.
    fn live<'a>(
        map: &'a mut HashMap<SessionId, (SessionRecord, Instant)>,
        id: &SessionId,
        at: Instant,
    ) -> Option<&'a mut (SessionRecord, Instant)> {
        if map.get(id).is_some_and(|(_, deadline)| *deadline <= at) {
            map.remove(id);
        }
        map.get_mut(id)
    }
}

#[async_trait]
impl SessionStore for MemorySessionStore {
    async fn create(
        &self,
        id: &SessionId,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let at = now();
        let mut map = self.map();
        if Self::live(&mut map, id, at).is_some() {
            return Ok(false);
        }
        if map.len() >= self.cap {
            map.retain(|_, (_, deadline)| *deadline > at);
            if map.len() >= self.cap {
                return Err(StoreError::Full);
            }
        }
        map.insert(id.clone(), (record.clone(), at + ttl));
        Ok(true)
    }

    async fn load(
        &self,
        id: &SessionId,
        ttl: Duration,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let at = now();
        let mut map = self.map();
        Ok(Self::live(&mut map, id, at).map(|(record, deadline)| {
            *deadline = at + ttl;
            record.clone()
        }))
    }

    async fn update(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
        let mut map = self.map();
        Ok(Self::live(&mut map, id, now())
            .map(|(kept, _)| *kept = record.clone())
            .is_some())
    }

    async fn remove(&self, id: &SessionId) -> Result<bool, StoreError> {
        let at = now();
        let mut map = self.map();
        let removed = Self::live(&mut map, id, at).is_some() && map.remove(id).is_some();
        drop(map);
        // Its streams' logs go with it.
        let mut logs = self.logs.lock().unwrap_or_else(|e| e.into_inner());
        logs.retain(|(session, _), _| session != id);
        Ok(removed)
    }

    fn post(&self, letter: Letter) {
        let mut subscribers = self.subscribers.lock().unwrap_or_else(|e| e.into_inner());
        subscribers.retain(|s| !s.is_closed());
        for subscriber in subscribers.iter() {
            // A subscriber that does not keep up loses letters, not memory.
            let _ = subscriber.try_send(letter.clone());
        }
    }

    fn letters(&self) -> Option<BoxStream<'static, Letter>> {
        let (tx, rx) = async_channel::bounded(LETTER_QUEUE);
        self.subscribers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(tx);
        Some(Box::pin(rx))
    }

    fn append(&self, id: &SessionId, stream: u64, event: LoggedEvent, cap: usize, ttl: Duration) {
        let at = now();
        let mut logs = self.logs.lock().unwrap_or_else(|e| e.into_inner());
        let key = (id.clone(), stream);
        if !logs.contains_key(&key) && logs.len() >= MAX_LOGS {
            logs.retain(|_, (_, deadline)| *deadline > at);
            if logs.len() >= MAX_LOGS {
                return;
            }
        }
        let (log, deadline) = logs.entry(key).or_insert_with(|| (VecDeque::new(), at));
        log.push_back(event);
        while log.len() > cap.max(1) {
            log.pop_front();
        }
        *deadline = at + ttl;
    }

    async fn read_log(
        &self,
        id: &SessionId,
        stream: u64,
        after: u64,
    ) -> Result<Option<Vec<LoggedEvent>>, StoreError> {
        let at = now();
        let mut logs = self.logs.lock().unwrap_or_else(|e| e.into_inner());
        let key = (id.clone(), stream);
        if logs.get(&key).is_some_and(|(_, deadline)| *deadline <= at) {
            logs.remove(&key);
        }
        Ok(logs
            .get(&key)
            .map(|(log, _)| log.iter().filter(|e| e.seq > after).cloned().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_store_keeps_the_contract() {
        futures::executor::block_on(super::super::contract::check_all(|| async {
            MemorySessionStore::new()
        }))
        .unwrap();
    }

    #[test]
    fn servers_sharing_a_memory_store_share_letters_and_logs() {
        let store = MemorySessionStore::new();
        let wait = |d: Duration| async move { std::thread::sleep(d) };
        futures::executor::block_on(super::super::contract::check_sharing(&store, &store, wait))
            .unwrap();
    }

    #[test]
    fn a_full_store_refuses_until_a_record_expires() {
        futures::executor::block_on(async {
            let store = MemorySessionStore::with_capacity(1);
            let record = SessionRecord::new("2025-11-25");
            let short = Duration::from_millis(20);
            assert!(
                store
                    .create(&SessionId::new("a"), &record, short)
                    .await
                    .unwrap()
            );
            let refused = store.create(&SessionId::new("b"), &record, short).await;
            assert_eq!(refused, Err(StoreError::Full));
            std::thread::sleep(short * 2);
            assert!(
                store
                    .create(&SessionId::new("b"), &record, short)
                    .await
                    .unwrap()
            );
        });
    }
}
