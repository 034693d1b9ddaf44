//! [`RedisBus`]: the core's [`EventBus`] over Redis pub/sub, on tokio, for
//! replicas on several machines (the `redis` feature).
//!
//! The bus itself is `switchboard-redis`'s, shared with `switchboard-smol`;
//! this module only gives it tokio's timers.

use std::sync::Arc;

use async_trait::async_trait;
use futures::stream::BoxStream;
use switchboard_core::{BusError, Change, EventBus};

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

/// The task store in Redis (tasks on every replica): see
/// [`switchboard_redis::RedisTaskStore`] for what is kept where, the lease
/// and the signals.
pub use switchboard_redis::RedisTaskStore;

/// Connects a [`RedisTaskStore`] to the Redis server at `url`
/// (`redis://host:port/db`), its waits and lease renewals on the tokio
/// runtime it is called in, which must outlive the store. Give it to the
/// server with `ServerConfig::tasks(TaskConfig::default().store(Arc::new(store)))`.
///
/// # Errors
///
/// [`StoreError::Unavailable`](switchboard_core::tasks::StoreError::Unavailable)
/// when `url` is not a Redis URL or the server cannot be reached.
///
/// # Panics
///
/// When called outside a tokio runtime.
pub async fn redis_task_store(
    url: &str,
) -> Result<RedisTaskStore, switchboard_core::tasks::StoreError> {
    RedisTaskStore::connect_on(Arc::new(TokioRuntime::current()), url).await
}

/// The session store in Redis (any replica serves any session): see
/// [`switchboard_redis::RedisSessionStore`] for what is kept and how.
pub use switchboard_redis::RedisSessionStore;

/// Connects a [`RedisSessionStore`] to the Redis server at `url`
/// (`redis://host:port/db`), its waits on the tokio
/// runtime it is called in ([`TokioRuntime::current`], which must outlive it). Give it to the server with
/// `McpServerBuilder::session_store(Arc::new(store))`.
///
/// # Errors
///
/// [`StoreError::Unavailable`](switchboard_core::session_store::StoreError::Unavailable)
/// when `url` is not a Redis URL or the server cannot be reached.
///
/// # Panics
///
/// When called outside a tokio runtime.
pub async fn redis_session_store(
    url: &str,
) -> Result<RedisSessionStore, switchboard_core::session_store::StoreError> {
    RedisSessionStore::connect_on(Arc::new(TokioRuntime::current()), url).await
}
