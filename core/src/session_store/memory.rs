//! [`MemorySessionStore`]: records in this process's memory.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;

use super::{SessionRecord, SessionStore, StoreError};
use crate::clock::{Instant, now};
use crate::id::SessionId;

/// The most records a [`MemorySessionStore::new`] keeps: ten times the
/// engine's default session cap, room for several servers' sessions.
pub const DEFAULT_MAX_RECORDS: usize = 100_000;

/// A [`SessionStore`] in this process's memory: for tests, and for several
/// servers of one process that share their sessions. Replicas in several
/// processes need a shared store (`switchboard-redis`'s `RedisSessionStore`).
///
/// Expiry is lazy: an expired record is gone for every method at once, and
/// its memory is given back when [`create`](SessionStore::create) meets the
/// cap.
#[derive(Debug)]
pub struct MemorySessionStore {
    /// Records with their deadlines.
    map: Mutex<HashMap<SessionId, (SessionRecord, Instant)>>,
    /// The most records kept at once.
    cap: usize,
}

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
        Ok(Self::live(&mut map, id, at).is_some() && map.remove(id).is_some())
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
