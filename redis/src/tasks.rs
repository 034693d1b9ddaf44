//! [`RedisTaskStore`]: the core's [`TaskStore`] in Redis, shared by every
//! replica on the same Redis server and prefix.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use redis::{ErrorKind, FromRedisValue, RedisError};
use serde_json::json;
use switchboard_core::Runtime;
use switchboard_core::tasks::{
    Change, Owner, StoreError, Task, TaskCaps, TaskId, TaskOutcome, TaskSignal, TaskStore, apply,
};

use crate::link::Link;

/// How long a replica's lease lasts unless renewed: 10 s. A replica renews
/// it every third of that while it listens for signals; a replica that
/// stops (crash, SIGKILL, cut off from Redis) leaves its unfinished tasks
/// `working` for at most this long, after which the first reader marks
/// them `failed`.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(10);

/// The key prefix by default: `switchboard:tasks`.
pub const DEFAULT_PREFIX: &str = "switchboard:tasks";

/// How long a task's key outlives its time to live in Redis: its expiry is
/// decided by the replicas' clocks (the record is not returned once
/// expired), Redis's own only collects it, a minute later, so clocks a
/// little apart never lose a task early.
const SLACK_MS: u64 = 60_000;

/// Rounds of read, apply, compare-and-set before a change gives up (others
/// changed the task each time in between).
const MAX_ROUNDS: usize = 64;

/// Expired ids forgotten per purge call (the rest at the next).
const PURGE_BATCH: usize = 500;

/// The least time between two purges by one replica, in the time the
/// callers pass: the engine purges before every create, which would be a
/// round trip per task, while an expired record is never returned anyway
/// and Redis drops it itself; a purge within this of the last one is skipped.
const PURGE_EVERY_MS: u64 = 1_000;

/// The message of the error a task of a stopped replica fails with.
pub const LEASE_LAPSED: &str =
    "the replica running this task stopped before it ended (its lease lapsed)";

/// KEYS: task, all, owner. ARGV: now, id, score, total cap, owner cap,
/// record, runner, key TTL ms (0: none). 1 kept (or kept already, the same
/// record: a create sent twice), -1 another task of that id, -2 full, -3
/// the owner full.
const CREATE: &str = r"
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now)
local old = redis.call('HGET', KEYS[1], 'body')
if old then
  if old == ARGV[6] then return 1 end
  return -1
end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[4]) then return -2 end
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[5]) then return -3 end
redis.call('HSET', KEYS[1], 'rev', '1', 'body', ARGV[6], 'runner', ARGV[7])
local ttl = tonumber(ARGV[8])
if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[2])
local last = redis.call('ZRANGE', KEYS[3], -1, -1, 'WITHSCORES')
local top = tonumber(last[2])
if ttl > 0 and top and top < math.huge then
  redis.call('PEXPIRE', KEYS[3], math.max(ttl, top - now + 60000))
else
  redis.call('PERSIST', KEYS[3])
end
return 1
";

/// KEYS: task. ARGV: the lease key prefix. nil, or {rev, record, whether
/// the runner's lease is alive (1 when there is no runner)}.
const GET: &str = r"
local v = redis.call('HMGET', KEYS[1], 'rev', 'body', 'runner')
if not v[1] then return false end
local alive = 1
if v[3] and v[3] ~= '' then alive = redis.call('EXISTS', ARGV[1] .. v[3]) end
return {v[1], v[2], alive}
";

/// KEYS: task. ARGV: the revision read, the new record. 1 written, 0 the
/// task changed (or left) since it was read.
const SWAP: &str = r"
if redis.call('HGET', KEYS[1], 'rev') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'rev', tostring(tonumber(ARGV[1]) + 1), 'body', ARGV[2])
return 1
";

/// KEYS: all. ARGV: now, the task key prefix, the batch. The ids expired
/// at now, their keys deleted.
const PURGE: &str = r"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('DEL', ARGV[2] .. id) end
if #ids > 0 then redis.call('ZREM', KEYS[1], unpack(ids)) end
return ids
";

/// KEYS: the owner's set. ARGV: now, the task key prefix, the lease key
/// prefix. `{record, whether its runner's lease is alive}` for each of the
/// owner's tasks not expired at now.
const LIST: &str = r"
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')
local out = {}
for _, id in ipairs(ids) do
  local v = redis.call('HMGET', ARGV[2] .. id, 'body', 'runner')
  if v[1] then
    local alive = 1
    if v[2] and v[2] ~= '' then alive = redis.call('EXISTS', ARGV[3] .. v[2]) end
    table.insert(out, {v[1], alive})
  end
end
return out
";

/// The scripts, by index into [`Scripts`].
const SCRIPTS: [&str; 5] = [CREATE, GET, SWAP, PURGE, LIST];

/// The SHA1s Redis gave the scripts (`SCRIPT LOAD`), loaded when first
/// used and again after Redis forgot them (a restart).
type Scripts = Mutex<[Option<String>; 5]>;

/// A [`TaskStore`] in Redis: every replica built with one on the same
/// server and prefix reads every task, and the `tasks/update` and
/// `tasks/cancel` of a task reach the replica running it.
///
/// What is where (prefix `P`, [`DEFAULT_PREFIX`] by default):
///
/// - `P:t:{id}`, a hash: the record as JSON ([`Task::to_record`]), a
///   revision, the runner. Changes are compare-and-set on the revision (a
///   Lua script), [`apply`] run in between, so every replica moves tasks
///   alike and none is lost to a race. Redis expires the key a minute
///   after the task's time to live (replicas stop returning it at once).
/// - `P:all` and `P:o:{owner}`, sorted sets of ids by expiry: the caps
///   (counted in the create script, atomically) and the purge.
/// - `P:lease:{replica}`: this replica's lease, set with a TTL of the lease
///   ([`DEFAULT_LEASE`], [`lease`](Self::lease)) and renewed every third
///   of it while the replica listens. A reader that finds a task unfinished
///   and its runner's lease gone marks it `failed` with the `-32603` error
///   [`LEASE_LAPSED`].
/// - channel `P:signal:{replica}`: the [`TaskSignal`]s for it (Redis
///   pub/sub, at most once: a signal sent while its runner is reconnecting
///   is lost, and [`signal`](TaskStore::signal) says it reached nobody).
///
/// Nothing is cached in the replica: every `tasks/get` reads Redis (one
/// round trip, two when it marks a task failed). [`purge`](TaskStore::purge)
/// runs at most once a second per replica (the engine calls it before
/// every create; the create script already leaves expired tasks out of the
/// caps, and Redis drops expired records itself). Every command fails after
/// 5 s without an answer, so with Redis down task requests fail
/// ([`StoreError::Unavailable`], `-32603`) rather than hang. The scripts
/// read keys they are not given (a runner's lease): one Redis server, not
/// Redis Cluster.
///
/// # Examples
///
/// ```no_run
/// use std::sync::Arc;
/// use std::time::Duration;
/// use switchboard_core::ServerConfig;
/// use switchboard_core::tasks::TaskConfig;
/// use switchboard_redis::RedisTaskStore;
/// use switchboard_smol::SmolRuntime;
///
/// smol::block_on(async {
///     let runtime = Arc::new(SmolRuntime::global());
///     let store = RedisTaskStore::connect_on(runtime, "redis://127.0.0.1:6379/")
///         .await
///         .expect("Redis is up")
///         .lease(Duration::from_secs(5));
///     let config = ServerConfig::default().tasks(TaskConfig::default().store(Arc::new(store)));
///     # drop(config);
/// });
/// ```
#[derive(Clone)]
pub struct RedisTaskStore {
    /// The connection.
    link: Link,
    /// The key prefix.
    prefix: Arc<str>,
    /// This replica's name: 128 random bits in hex.
    replica: Arc<str>,
    /// The lease.
    lease: Duration,
    /// The scripts' SHA1s.
    scripts: Arc<Scripts>,
    /// When this replica last purged, plus one (0: never).
    purged: Arc<AtomicU64>,
}

impl std::fmt::Debug for RedisTaskStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisTaskStore")
            .field("server", self.link.server())
            .field("prefix", &self.prefix)
            .field("replica", &self.replica)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

impl RedisTaskStore {
    /// Connects to the Redis server at `url` (`redis://host:port/db`),
    /// timing the store's waits (timeouts, lease renewals, reconnection
    /// backoff) on `runtime`. The replica gets a new random name: a
    /// restarted process is a new replica, and its predecessor's tasks fail
    /// when that one's lease lapses.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when `url` is not a Redis URL or the
    /// server cannot be reached within 5 s.
    pub async fn connect_on(runtime: Arc<dyn Runtime>, url: &str) -> Result<Self, StoreError> {
        let link = Link::open(runtime, url).await.map_err(unavailable)?;
        let replica = TaskId::random().map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self {
            link,
            prefix: DEFAULT_PREFIX.into(),
            replica: replica.as_str().into(),
            lease: DEFAULT_LEASE,
            scripts: Arc::default(),
            purged: Arc::default(),
        })
    }

    /// Keeps tasks under `prefix` ([`DEFAULT_PREFIX`]): replicas share
    /// tasks when they share a server and a prefix.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into().into();
        self
    }

    /// Sets the lease ([`DEFAULT_LEASE`], at least 100 ms): how long this
    /// replica's tasks stay `working` after it stops, at most, before a
    /// reader fails them. Shorter costs more renewals (one `SET` every
    /// third of it) and risks failing the tasks of a replica that is only
    /// slow to reach Redis.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(100));
        self
    }

    /// The lease.
    pub fn lease_duration(&self) -> Duration {
        self.lease
    }

    /// The key of task `id`.
    fn task_key(&self, id: &str) -> String {
        format!("{}:t:{id}", self.prefix)
    }

    /// The key of `owner`'s set of tasks by expiry.
    fn owner_key(&self, owner: &Owner) -> String {
        format!("{}:o:{}", self.prefix, owner.key())
    }

    /// The key of `replica`'s lease.
    fn lease_key(&self, replica: &str) -> String {
        format!("{}:lease:{replica}", self.prefix)
    }

    /// The channel of `replica`'s signals.
    fn channel(&self, replica: &str) -> String {
        format!("{}:signal:{replica}", self.prefix)
    }

    /// Runs script `which` with `keys` and `args`, loading it first when
    /// Redis does not have it.
    async fn eval<T: FromRedisValue>(
        &self,
        which: usize,
        keys: &[&str],
        args: &[&str],
    ) -> Result<T, RedisError> {
        for _ in 0..2 {
            let sha = self.sha(which).await?;
            let mut cmd = redis::cmd("EVALSHA");
            cmd.arg(&sha).arg(keys.len()).arg(keys).arg(args);
            match self.link.query(&cmd).await {
                Err(e) if e.kind() == ErrorKind::NoScriptError => {
                    self.scripts.lock().unwrap_or_else(|e| e.into_inner())[which] = None;
                }
                done => return done,
            }
        }
        let mut cmd = redis::cmd("EVAL");
        cmd.arg(SCRIPTS[which]).arg(keys.len()).arg(keys).arg(args);
        self.link.query(&cmd).await
    }

    /// The SHA1 of script `which`, loaded into Redis if not known.
    async fn sha(&self, which: usize) -> Result<String, RedisError> {
        let known = self.scripts.lock().unwrap_or_else(|e| e.into_inner())[which].clone();
        if let Some(sha) = known {
            return Ok(sha);
        }
        let mut cmd = redis::cmd("SCRIPT");
        cmd.arg("LOAD").arg(SCRIPTS[which]);
        let sha: String = self.link.query(&cmd).await?;
        self.scripts.lock().unwrap_or_else(|e| e.into_inner())[which] = Some(sha.clone());
        Ok(sha)
    }

    /// Reads task `id` of `owner` unexpired at `now_ms`, applies `change`
    /// (and, for an unfinished task whose runner's lease is gone, the
    /// failure that says so), and writes it back if it changed, again
    /// from the read when another replica wrote in between.
    async fn modify(
        &self,
        id: &TaskId,
        owner: &Owner,
        change: Option<Change>,
        now_ms: u64,
    ) -> Result<Option<(Task, bool)>, StoreError> {
        let key = self.task_key(id.as_str());
        let leases = self.lease_key("");
        for _ in 0..MAX_ROUNDS {
            let read: Option<(String, String, i64)> = self
                .eval(1, &[&key], &[&leases])
                .await
                .map_err(unavailable)?;
            let Some((rev, body, alive)) = read else {
                return Ok(None);
            };
            let mut task = serde_json::from_str(&body)
                .ok()
                .and_then(|v| Task::from_record(&v))
                .ok_or_else(|| StoreError::Unavailable(format!("task {id}: a broken record")))?;
            if &task.owner != owner || task.expired(now_ms) {
                return Ok(None);
            }
            let mut changed = false;
            if alive == 0 && task.runner.is_some() {
                let error = json!({"code": -32603, "message": LEASE_LAPSED});
                changed |= apply(&mut task, Change::Finish(TaskOutcome::Error(error)), now_ms);
            }
            if let Some(change) = change.clone() {
                changed |= apply(&mut task, change, now_ms);
            }
            if !changed {
                return Ok(Some((task, false)));
            }
            let record = task.to_record().to_string();
            let swapped: i64 = self
                .eval(2, &[&key], &[&rev, &record])
                .await
                .map_err(unavailable)?;
            if swapped == 1 {
                return Ok(Some((task, true)));
            }
        }
        Err(StoreError::Unavailable(format!(
            "task {id} changed under this replica {MAX_ROUNDS} times in a row"
        )))
    }

    /// Sets this replica's lease.
    async fn renew(&self) -> Result<(), RedisError> {
        let mut cmd = redis::cmd("SET");
        let ms = u64::try_from(self.lease.as_millis()).unwrap_or(u64::MAX);
        cmd.arg(self.lease_key(&self.replica))
            .arg("1")
            .arg("PX")
            .arg(ms);
        self.link.query::<()>(&cmd).await
    }
}

#[async_trait]
impl TaskStore for RedisTaskStore {
    async fn create(&self, task: Task, caps: TaskCaps, now_ms: u64) -> Result<(), StoreError> {
        let key = self.task_key(task.id.as_str());
        let all = format!("{}:all", self.prefix);
        let owner = self.owner_key(&task.owner);
        let (score, ttl) = match task.expires_ms() {
            Some(at) => (at.to_string(), at.saturating_sub(now_ms) + SLACK_MS),
            None => ("+inf".to_owned(), 0),
        };
        let args = [
            now_ms.to_string(),
            task.id.as_str().to_owned(),
            score,
            caps.total.to_string(),
            caps.per_owner.to_string(),
            task.to_record().to_string(),
            task.runner.clone().unwrap_or_default(),
            ttl.to_string(),
        ];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let kept: i64 = self
            .eval(0, &[&key, &all, &owner], &args)
            .await
            .map_err(unavailable)?;
        match kept {
            1 => Ok(()),
            -2 => Err(StoreError::Full(caps.total)),
            -3 => Err(StoreError::OwnerFull(caps.per_owner)),
            _ => Err(StoreError::Duplicate),
        }
    }

    async fn get(
        &self,
        id: &TaskId,
        owner: &Owner,
        now_ms: u64,
    ) -> Result<Option<Task>, StoreError> {
        Ok(self.modify(id, owner, None, now_ms).await?.map(|(t, _)| t))
    }

    async fn change(
        &self,
        id: &TaskId,
        owner: &Owner,
        change: Change,
        now_ms: u64,
    ) -> Result<Option<(Task, bool)>, StoreError> {
        self.modify(id, owner, Some(change), now_ms).await
    }

    async fn purge(&self, now_ms: u64) -> Vec<TaskId> {
        let last = self.purged.load(Ordering::Relaxed);
        if last != 0 && now_ms.saturating_add(1) < last.saturating_add(PURGE_EVERY_MS) {
            return Vec::new();
        }
        self.purged
            .store(now_ms.saturating_add(1), Ordering::Relaxed);
        let all = format!("{}:all", self.prefix);
        let tasks = self.task_key("");
        let args = [now_ms.to_string(), tasks, PURGE_BATCH.to_string()];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let ids: Result<Vec<String>, _> = self.eval(3, &[&all], &args).await;
        ids.unwrap_or_default()
            .iter()
            .map(|id| TaskId::new(id))
            .collect()
    }

    async fn list(
        &self,
        owner: &Owner,
        after: Option<(u64, TaskId)>,
        limit: usize,
        now_ms: u64,
    ) -> Option<(Vec<Task>, bool)> {
        let key = self.owner_key(owner);
        let args = [now_ms.to_string(), self.task_key(""), self.lease_key("")];
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let rows: Vec<(String, i64)> = self.eval(4, &[&key], &args).await.ok()?;
        let mut mine = Vec::with_capacity(rows.len());
        for (body, alive) in rows {
            let task = serde_json::from_str(&body)
                .ok()
                .and_then(|v| Task::from_record(&v))?;
            if &task.owner != owner || task.expired(now_ms) {
                continue;
            }
            if alive == 0 && task.runner.is_some() && !task.status.is_terminal() {
                // Its runner stopped: failed here as on a read.
                let failed = self.modify(&task.id, owner, None, now_ms).await.ok()?;
                mine.extend(failed.map(|(t, _)| t));
            } else {
                mine.push(task);
            }
        }
        mine.retain(|t| {
            after
                .as_ref()
                .is_none_or(|(at, id)| (t.created_ms, &t.id) > (*at, id))
        });
        mine.sort_unstable_by(|a, b| (a.created_ms, &a.id).cmp(&(b.created_ms, &b.id)));
        let more = mine.len() > limit;
        mine.truncate(limit);
        Some((mine, more))
    }

    fn replica(&self) -> Option<&str> {
        Some(&self.replica)
    }

    fn can_list(&self) -> bool {
        true
    }

    async fn listen(&self) -> Result<Option<BoxStream<'static, TaskSignal>>, StoreError> {
        self.renew().await.map_err(unavailable)?;
        let channel = self.channel(&self.replica);
        let messages =
            self.link.subscribe(&channel).await.ok_or_else(|| {
                StoreError::Unavailable(format!("could not subscribe to {channel}"))
            })?;
        // The lease lives as long as the stream: renewed every third of it.
        let token = Arc::new(());
        let renewer = Renewer {
            store: self.clone(),
            token: Arc::downgrade(&token),
        };
        self.link.spawn(Box::pin(renewer.run()));
        // Text that is not a signal is skipped; the stream holds the
        // token, so the lease lives as long as it does.
        let signals = self.link.messages(channel, Some(messages));
        Ok(Some(Box::pin(signals.filter_map(move |text| {
            let _lease = &token;
            let signal = serde_json::from_str(&text)
                .ok()
                .and_then(|value| TaskSignal::from_json(&value));
            async move { signal }
        }))))
    }

    async fn signal(&self, runner: &str, signal: TaskSignal) -> Result<bool, StoreError> {
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(self.channel(runner))
            .arg(signal.to_json().to_string());
        let heard: i64 = self.link.query(&cmd).await.map_err(unavailable)?;
        Ok(heard > 0)
    }
}

/// Renews a replica's lease while its signal stream lives.
struct Renewer {
    /// The store (its link and lease).
    store: RedisTaskStore,
    /// Gone when the stream is dropped.
    token: Weak<()>,
}

impl Renewer {
    /// Renews every third of the lease until the stream is dropped; a
    /// failed renewal is tried again at the next third.
    async fn run(self) {
        let every = self.store.lease / 3;
        loop {
            self.store.link.sleep(every).await;
            if self.token.strong_count() == 0 {
                return;
            }
            let _ = self.store.renew().await;
        }
    }
}

/// A Redis failure as the store's.
fn unavailable(e: RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use switchboard_core::tasks::{TaskStatus, contract};
    use switchboard_smol::SmolRuntime;

    use super::*;
    use crate::link::within;
    use crate::test_server::TestServer;

    fn runtime() -> Arc<dyn Runtime> {
        Arc::new(SmolRuntime::global())
    }

    /// A store on `url` under a prefix of its own.
    async fn store(url: &str) -> RedisTaskStore {
        let prefix = format!("t{}", TaskId::random().unwrap());
        RedisTaskStore::connect_on(runtime(), url)
            .await
            .unwrap()
            .prefix(prefix)
    }

    const CAPS: TaskCaps = TaskCaps {
        per_owner: 10,
        total: 10,
    };

    #[test]
    fn the_redis_store_keeps_the_contract() {
        let server = TestServer::start();
        let url = server.url();
        smol::block_on(contract::check_all(|| store(&url))).unwrap();
    }

    #[test]
    fn two_replicas_on_one_prefix_see_one_task_and_ids_stay_bound_to_their_owner() {
        let server = TestServer::start();
        smol::block_on(async {
            let a = store(&server.url()).await;
            let b = a.clone();
            let b = RedisTaskStore {
                replica: "b".into(),
                ..b
            };
            let owner = Owner::default();
            let t = Task::new(TaskId::random().unwrap(), owner.clone(), 0, None, None);
            a.create(t.clone(), CAPS, 0).await.unwrap();
            assert_eq!(b.get(&t.id, &owner, 1).await.unwrap(), Some(t.clone()));
            let (seen, changed) = b
                .change(&t.id, &owner, Change::Progress("half".into()), 2)
                .await
                .unwrap()
                .unwrap();
            assert!(changed);
            assert_eq!(a.get(&t.id, &owner, 3).await.unwrap(), Some(seen));
            // Another prefix is another store.
            let other = store(&server.url()).await;
            assert_eq!(other.get(&t.id, &owner, 3).await.unwrap(), None);
        });
    }

    #[test]
    fn a_purge_within_a_second_of_the_last_is_skipped() {
        let server = TestServer::start();
        smol::block_on(async {
            let s = store(&server.url()).await;
            let owner = Owner::default();
            let t = Task::new(
                TaskId::random().unwrap(),
                owner.clone(),
                0,
                Some(1_000),
                None,
            );
            s.create(t.clone(), CAPS, 0).await.unwrap();
            assert!(s.purge(500).await.is_empty());
            // Expired, but purged 700 ms ago: skipped, and never returned.
            assert!(s.purge(1_200).await.is_empty());
            assert_eq!(s.get(&t.id, &owner, 1_200).await.unwrap(), None);
            assert_eq!(s.purge(1_600).await, vec![t.id]);
        });
    }

    #[test]
    fn a_task_of_a_replica_whose_lease_lapsed_is_failed_by_its_reader() {
        let server = TestServer::start();
        smol::block_on(async {
            let lease = Duration::from_millis(300);
            let a = store(&server.url()).await.lease(lease);
            let reader = a.clone();
            let signals = a.listen().await.unwrap().expect("a stream");
            let owner = Owner::default();
            let mut t = Task::new(TaskId::random().unwrap(), owner.clone(), 0, None, None);
            t.runner = a.replica().map(str::to_owned);
            a.create(t.clone(), CAPS, 0).await.unwrap();
            // Renewed while a listens: working past several leases.
            SmolRuntime::global().sleep(lease * 3).await;
            let seen = reader.get(&t.id, &owner, 1).await.unwrap().unwrap();
            assert_eq!(seen.status, TaskStatus::Working);
            // a stops: within the lease (and a renewal period) it is failed.
            drop(signals);
            let stopped = Instant::now();
            let mut failed = None;
            for _ in 0..100 {
                let seen = reader.get(&t.id, &owner, 2).await.unwrap().unwrap();
                if seen.status == TaskStatus::Failed {
                    failed = Some((seen, stopped.elapsed()));
                    break;
                }
                SmolRuntime::global().sleep(Duration::from_millis(20)).await;
            }
            let (seen, after) = failed.expect("failed within 2 s");
            assert!(
                after <= lease + lease / 3 + Duration::from_millis(200),
                "{after:?}"
            );
            assert_eq!(seen.status_message.as_deref(), Some(LEASE_LAPSED));
            let Some(TaskOutcome::Error(error)) = &seen.outcome else {
                panic!("no error: {seen:?}");
            };
            assert_eq!(error["code"], -32603);
            // Final: a late result from the stopped replica changes nothing.
            let late = Change::Finish(TaskOutcome::Result(json!({"content": []})));
            let (after, changed) = a.change(&t.id, &owner, late, 3).await.unwrap().unwrap();
            assert!(!changed);
            assert_eq!(after.status, TaskStatus::Failed);
        });
    }

    #[test]
    fn a_signal_reaches_the_replica_it_names_and_no_other() {
        let server = TestServer::start();
        smol::block_on(async {
            let a = store(&server.url()).await;
            let b = RedisTaskStore {
                replica: "b".into(),
                ..a.clone()
            };
            let mut signals = a.listen().await.unwrap().expect("a stream");
            let signal = TaskSignal::Cancel {
                id: TaskId::new("t"),
                owner: Owner::default(),
            };
            let runner = a.replica().unwrap().to_owned();
            assert!(b.signal(&runner, signal.clone()).await.unwrap());
            let heard = within(&*runtime(), Duration::from_secs(5), signals.next()).await;
            assert_eq!(heard.flatten(), Some(signal.clone()));
            assert!(!b.signal("nobody", signal).await.unwrap());
        });
    }

    #[test]
    fn with_redis_gone_the_store_fails_in_bounded_time_rather_than_hang() {
        let server = TestServer::start();
        smol::block_on(async {
            let s = store(&server.url()).await;
            let owner = Owner::default();
            let t = Task::new(TaskId::random().unwrap(), owner.clone(), 0, None, None);
            s.create(t.clone(), CAPS, 0).await.unwrap();
            drop(server);
            let start = Instant::now();
            let got = s.get(&t.id, &owner, 1).await;
            assert!(matches!(got, Err(StoreError::Unavailable(_))), "{got:?}");
            let changed = s.change(&t.id, &owner, Change::Cancel, 1).await;
            assert!(matches!(changed, Err(StoreError::Unavailable(_))));
            let created = s.create(t, CAPS, 1).await;
            assert!(matches!(created, Err(StoreError::Unavailable(_))));
            assert!(s.listen().await.is_err());
            assert!(s.purge(1).await.is_empty());
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "{:?}",
                start.elapsed()
            );
        });
    }
}
