//! [`RedisBus`], the core's [`EventBus`] over Redis pub/sub, and
//! [`RedisSessionStore`], the core's session store in Redis, on tokio, for
//! replicas on several machines (the `redis` feature).
//!
//! Both are `switchboard-redis`'s, shared with `switchboard-smol`;
//! this module only gives them tokio's timers.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use switchboard_core::session_store::{SessionRecord, SessionStore, StoreError};
use switchboard_core::{BusError, Change, EventBus, SessionId};

use crate::TokioRuntime;

/// An [`EventBus`] over a Redis pub/sub channel, its waits on tokio's timers:
/// every server built with a `RedisBus` on the same Redis server and channel
/// hears every change.
///
/// This is [`switchboard_redis::RedisBus`] (see it for the delivery
/// contract: at most once, reconnecting with a 100 ms to 5 s backoff,
/// every wait bounded by 5 s), connected with [`TokioRuntime::current`].
///
/// # Examples
///
/// ```no_run
/// use std::sync::Arc;
/// use switchboard_core::McpServerBuilder;
/// use switchboard_core::HttpConfig;
/// use switchboard_tokio::{HttpServer, RedisBus};
///
/// #[tokio::main]
/// async fn main() {
///     let bus = RedisBus::connect("redis://127.0.0.1:6379/", "mcp-changes")
///         .await
///         .expect("Redis is up");
///     let builder = McpServerBuilder::new()
///         .server_info("replica", "1.0.0")
///         .event_bus(Arc::new(bus));
///     let server = HttpServer::bind_default(builder, HttpConfig::default())
///         .await
///         .unwrap();
///     server.run().await.unwrap();
/// }
/// ```
#[derive(Clone, Debug)]
pub struct RedisBus(switchboard_redis::RedisBus);

impl RedisBus {
    /// Connects to the Redis server at `url` (`redis://host:port/db`) to
    /// share changes on `channel`; the connections' tasks and the bus's
    /// timers run on the tokio runtime it is called in (a
    /// [`block_on_local`](crate::block_on_local) one included), which must
    /// outlive the bus.
    ///
    /// # Errors
    ///
    /// [`BusError::Unavailable`] when `url` is not a Redis URL or the
    /// server cannot be reached.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub async fn connect(url: &str, channel: impl Into<String>) -> Result<Self, BusError> {
        let runtime = Arc::new(TokioRuntime::current());
        switchboard_redis::RedisBus::connect_on(runtime, url, channel)
            .await
            .map(Self)
    }

    /// The channel the changes travel on.
    pub fn channel(&self) -> &str {
        self.0.channel()
    }
}

impl From<RedisBus> for switchboard_redis::RedisBus {
    fn from(bus: RedisBus) -> Self {
        bus.0
    }
}

#[async_trait]
impl EventBus for RedisBus {
    async fn publish(&self, change: &Change) -> Result<(), BusError> {
        self.0.publish(change).await
    }

    fn subscribe(&self) -> BoxStream<'static, Change> {
        self.0.subscribe()
    }
}

/// The core's [`SessionStore`] in Redis, its waits on tokio's timers: every
/// server built with one on the same Redis serves every session any of them
/// opened (see [`McpServerBuilder::session_store`](switchboard_core::McpServerBuilder::session_store)).
///
/// This is [`switchboard_redis::RedisSessionStore`] (see it for the
/// commands and the 5 s bound on every wait), connected with
/// [`TokioRuntime`].
#[derive(Clone, Debug)]
pub struct RedisSessionStore(switchboard_redis::RedisSessionStore);

impl RedisSessionStore {
    /// Connects to the Redis server at `url` (`redis://host:port/db`),
    /// its connections' tasks and timers on the tokio runtime it is called in, which must outlive the store.
    ///
    /// # Errors
    ///
    /// [`StoreError::Unavailable`] when `url` is not a Redis URL or the
    /// server cannot be reached.
    ///
    /// # Panics
    ///
    /// When called outside a tokio runtime.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let runtime = Arc::new(TokioRuntime::current());
        switchboard_redis::RedisSessionStore::connect_on(runtime, url)
            .await
            .map(Self)
    }

    /// Keeps records under `prefix` instead of
    /// [`switchboard_redis::DEFAULT_PREFIX`].
    #[must_use]
    pub fn with_prefix(self, prefix: impl Into<String>) -> Self {
        Self(self.0.with_prefix(prefix))
    }
}

impl From<RedisSessionStore> for switchboard_redis::RedisSessionStore {
    fn from(store: RedisSessionStore) -> Self {
        store.0
    }
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn create(
        &self,
        id: &SessionId,
        record: &SessionRecord,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        self.0.create(id, record, ttl).await
    }

    async fn load(
        &self,
        id: &SessionId,
        ttl: Duration,
    ) -> Result<Option<SessionRecord>, StoreError> {
        self.0.load(id, ttl).await
    }

    async fn update(&self, id: &SessionId, record: &SessionRecord) -> Result<bool, StoreError> {
        self.0.update(id, record).await
    }

    async fn remove(&self, id: &SessionId) -> Result<bool, StoreError> {
        self.0.remove(id).await
    }
}
