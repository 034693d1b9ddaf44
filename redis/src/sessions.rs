//! [`RedisSessionStore`]: the core's [`SessionStore`] in Redis, so that any
//! replica serves any session.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use switchboard_core::session_store::{
    Letter, LoggedEvent, SessionRecord, SessionStore, StoreError,
};
use switchboard_core::{Runtime, SessionId};

use crate::link::Link;

/// The key prefix of [`RedisSessionStore::connect_on`]'s records.
pub const SESSION_PREFIX: &str = "switchboard:session:";

/// A [`SessionStore`] in Redis: one string key per session, `PREFIX{id}`,
/// holding the record's JSON, with the session's time to live as the key's.
///
/// | store call | Redis command |
/// |---|---|
/// | `create` | `SET key json NX PX ttl` |
/// | `load` | `GETEX key PX ttl` (Redis 6.2 or later) |
/// | `update` | `SET key json XX KEEPTTL` |
/// | `remove` | `DEL key` |
/// | `read_log` | `LRANGE log 0 -1` |
///
/// Letters go out on the pub/sub channel `PREFIX letters` (`PUBLISH`), and
/// a reply stream's shared log is a list, `PREFIX log:{id}:{stream}`, each
/// append `RPUSH`, `LTRIM` to the cap and `PEXPIRE`. Both are queued
/// (at most [`WRITE_QUEUE`] waiting; past it they are dropped) and sent in order
/// by one writer task, as many at once as are waiting, so a request never
/// waits for them.
///
/// Each is one command, atomic in Redis, on the multiplexed connection
/// `switchboard-redis` shares (sent once more on a fresh connection when
/// the connection failed; never when the answer timed out); an answer
/// that does not come within 5 s is [`StoreError::Unavailable`], so a
/// request never hangs on a Redis that is down, and the next one finds it
/// again once it is back. A shared log is not removed with its session:
/// it expires with the time to live it was given.
///
/// # Examples
///
/// ```no_run
/// use std::sync::Arc;
/// use switchboard_core::McpServerBuilder;
/// use switchboard_redis::RedisSessionStore;
/// use switchboard_smol::SmolRuntime;
///
/// smol::block_on(async {
///     let runtime = Arc::new(SmolRuntime::global());
///     let store = RedisSessionStore::connect_on(runtime, "redis://127.0.0.1:6379/")
///         .await
///         .expect("Redis is up");
///     let builder = McpServerBuilder::new()
///         .server_info("replica", "1.0.0")
///         .session_store(Arc::new(store));
///     # drop(builder);
/// });
/// ```
#[derive(Clone, Debug)]
pub struct RedisSessionStore {
    link: Link,
    prefix: String,
    /// The writer task's queue of letters and appends.
    queue: async_channel::Sender<Write>,
}

/// The most letters and appends waiting for the writer task.
pub const WRITE_QUEUE: usize = 65_536;

/// What the writer task sends, in order.
#[derive(Debug)]
enum Write {
    /// `PUBLISH channel text`.
    Publish { channel: String, text: String },
    /// `RPUSH key text`, `LTRIM key -cap -1`, `PEXPIRE key ttl`.
    Append {
        key: String,
        text: String,
        cap: usize,
        ttl: u64,
    },
}

impl Write {
    /// Adds its commands to `pipe`.
    fn add_to(&self, pipe: &mut redis::Pipeline) {
        match self {
            Self::Publish { channel, text } => {
                pipe.cmd("PUBLISH").arg(channel).arg(text).ignore();
            }
            Self::Append {
                key,
                text,
                cap,
                ttl,
            } => {
                let keep = -i64::try_from((*cap).max(1)).unwrap_or(i64::MAX);
                pipe.cmd("RPUSH").arg(key).arg(text).ignore();
                pipe.cmd("LTRIM").arg(key).arg(keep).arg(-1).ignore();
                pipe.cmd("PEXPIRE").arg(key).arg(*ttl).ignore();
            }
        }
    }
}

/// The writer task: sends what is queued, in order, as many at once as
/// are waiting (at most 256), until every store handle is dropped. A batch
/// Redis refuses is dropped (letters and logs are at most once).
async fn write(link: Link, queue: async_channel::Receiver<Write>) {
    while let Ok(first) = queue.recv().await {
        let mut pipe = redis::pipe();
        first.add_to(&mut pipe);
        for _ in 1..256 {
            match queue.try_recv() {
                Ok(next) => next.add_to(&mut pipe),
                Err(_) => break,
            }
        }
        let _ = link.send_once(&pipe).await;
    }
}

impl RedisSessionStore {
    /// Connects to the Redis server at `url` (`redis://host:port/db`),
    /// keeping records under [`SESSION_PREFIX`] and timing its waits on
    /// `runtime`.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when `url` is not a Redis URL or the
    /// server cannot be reached within 5 s.
    pub async fn connect_on(runtime: Arc<dyn Runtime>, url: &str) -> Result<Self, StoreError> {
        let link = Link::open(runtime, url).await.map_err(unavailable)?;
        let (queue, queued) = async_channel::bounded(WRITE_QUEUE);
        link.spawn(Box::pin(write(link.clone(), queued)));
        Ok(Self {
            link,
            prefix: SESSION_PREFIX.to_owned(),
            queue,
        })
    }

    /// Keeps records under `prefix` instead (several deployments on one
    /// Redis, or tests that must not meet).
    #[must_use]
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// The key of session `id`.
    fn key(&self, id: &SessionId) -> String {
        format!("{}{}", self.prefix, id.as_str())
    }

    /// The key of the shared log of stream `stream` of session `id`.
    fn log_key(&self, id: &SessionId, stream: u64) -> String {
        format!("{}log:{}:{stream}", self.prefix, id.as_str())
    }

    /// The pub/sub channel of letters.
    fn channel(&self) -> String {
        format!("{}letters", self.prefix)
    }
}

/// A time to live in whole milliseconds, at least one.
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn create(
        &self,
        id: &SessionId,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let key = self.key(id);
        let json = record.to_json();
        let mut set = redis::cmd("SET");
        set.arg(&key)
            .arg(&json)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl));
        let done: Option<String> = self.link.query(&set).await.map_err(unavailable)?;
        if done.is_some() {
            return Ok(true);
        }
        // A command sent twice (its first answer lost) finds its own record:
        // ids are random, so an equal record under the id is this one.
        let held: Option<String> = self
            .link
            .query(redis::cmd("GET").arg(&key))
            .await
            .map_err(unavailable)?;
        Ok(held.as_deref() == Some(json.as_str()))
    }

    async fn load(
        &self,
        id: &SessionId,
        ttl: Duration,
    ) -> Result<Option<SessionRecord>, StoreError> {
        let mut getex = redis::cmd("GETEX");
        getex.arg(self.key(id)).arg("PX").arg(millis(ttl));
        let held: Option<String> = self.link.query(&getex).await.map_err(unavailable)?;
        held.as_deref().map(SessionRecord::from_json).transpose()
    }

    async fn update(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
        let mut set = redis::cmd("SET");
        set.arg(self.key(id))
            .arg(record.to_json())
            .arg("XX")
            .arg("KEEPTTL");
        let done: Option<String> = self.link.query(&set).await.map_err(unavailable)?;
        Ok(done.is_some())
    }

    async fn remove(&self, id: &SessionId) -> Result<bool, StoreError> {
        let removed: i64 = self
            .link
            .query(redis::cmd("DEL").arg(self.key(id)))
            .await
            .map_err(unavailable)?;
        Ok(removed > 0)
    }

    fn post(&self, letter: Letter) {
        let write = Write::Publish {
            channel: self.channel(),
            text: letter.to_json(),
        };
        // Full: the letter is dropped, as one lost on the way would be.
        let _ = self.queue.try_send(write);
    }

    fn letters(&self) -> Option<BoxStream<'static, Letter>> {
        let texts = self.link.messages(self.channel(), None);
        Some(Box::pin(texts.filter_map(|text| async move {
            Letter::from_json(&text).ok()
        })))
    }

    fn append(&self, id: &SessionId, stream: u64, event: LoggedEvent, cap: usize, ttl: Duration) {
        let write = Write::Append {
            key: self.log_key(id, stream),
            text: event.to_json(),
            cap,
            ttl: millis(ttl),
        };
        let _ = self.queue.try_send(write);
    }

    async fn read_log(
        &self,
        id: &SessionId,
        stream: u64,
        after: u64,
    ) -> Result<Option<Vec<LoggedEvent>>, StoreError> {
        let mut range = redis::cmd("LRANGE");
        range.arg(self.log_key(id, stream)).arg(0).arg(-1);
        let texts: Vec<String> = self.link.query(&range).await.map_err(unavailable)?;
        if texts.is_empty() {
            return Ok(None);
        }
        let events = texts
            .iter()
            .map(|t| LoggedEvent::from_json(t).map_err(|e| StoreError::Malformed(e.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(events.into_iter().filter(|e| e.seq > after).collect()))
    }
}

/// A Redis failure as the store's error.
fn unavailable(e: redis::RedisError) -> StoreError {
    StoreError::Unavailable(e.to_string())
}

#[cfg(test)]
mod tests {
    use switchboard_core::session_store::contract;
    use switchboard_smol::SmolRuntime;

    use super::*;
    use crate::test_server::TestServer;

    fn runtime() -> Arc<dyn Runtime> {
        Arc::new(SmolRuntime::global())
    }

    #[test]
    fn the_redis_store_keeps_the_contract() {
        let server = TestServer::start();
        smol::block_on(async {
            let url = server.url();
            contract::check_all(|| async {
                RedisSessionStore::connect_on(runtime(), &url)
                    .await
                    .expect("the test server is up")
            })
            .await
            .unwrap();
        });
    }

    #[test]
    fn replicas_on_one_redis_share_letters_and_logs() {
        let server = TestServer::start();
        smol::block_on(async {
            let url = server.url();
            let a = RedisSessionStore::connect_on(runtime(), &url)
                .await
                .unwrap();
            let b = RedisSessionStore::connect_on(runtime(), &url)
                .await
                .unwrap();
            let wait = |d: Duration| smol::Timer::after(d);
            contract::check_sharing(&a, &b, |d| async move {
                wait(d).await;
            })
            .await
            .unwrap();
        });
    }

    #[test]
    fn records_live_under_the_prefix_as_json() {
        let server = TestServer::start();
        smol::block_on(async {
            let store = RedisSessionStore::connect_on(runtime(), &server.url())
                .await
                .unwrap()
                .with_prefix("t:");
            let id = SessionId::new("abc");
            let record = SessionRecord::new("2025-11-25");
            assert!(
                store
                    .create(&id, &record, Duration::from_secs(60))
                    .await
                    .unwrap()
            );
            let mut admin = redis::Client::open(server.url())
                .and_then(|c| c.get_connection())
                .unwrap();
            let held: String = redis::cmd("GET").arg("t:abc").query(&mut admin).unwrap();
            assert_eq!(held, record.to_json());
            let () = redis::cmd("SET")
                .arg("t:abc")
                .arg("not json")
                .query(&mut admin)
                .unwrap();
            let read = store.load(&id, Duration::from_secs(60)).await;
            assert!(matches!(read, Err(StoreError::Malformed(_))), "{read:?}");
        });
    }

    #[test]
    fn a_store_whose_redis_is_gone_fails_at_once_and_recovers() {
        let server = TestServer::start();
        let url = server.url();
        smol::block_on(async {
            let store = RedisSessionStore::connect_on(runtime(), &url)
                .await
                .unwrap();
            let id = SessionId::new("gone");
            let ttl = Duration::from_secs(60);
            assert!(
                store
                    .create(&id, &SessionRecord::new("2025-11-25"), ttl)
                    .await
                    .unwrap()
            );
            drop(server);
            let start = std::time::Instant::now();
            let read = store.load(&id, ttl).await;
            assert!(matches!(read, Err(StoreError::Unavailable(_))), "{read:?}");
            assert!(start.elapsed() < Duration::from_secs(11), "bounded wait");
        });
    }

    #[test]
    fn connecting_to_nothing_is_unavailable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let opened = smol::block_on(RedisSessionStore::connect_on(
            runtime(),
            &format!("redis://127.0.0.1:{port}/"),
        ));
        assert!(matches!(opened, Err(StoreError::Unavailable(_))));
    }
}
