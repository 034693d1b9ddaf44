//! [`RedisBus`]: the core's [`EventBus`] over Redis pub/sub, on tokio, for
//! replicas on several machines (the `redis` feature).
//!
//! The core cannot depend on Redis or on a runtime, so each adapter has its
//! own copy of this small module (`switchboard-smol` has the same bus on
//! smol): they differ only in the runtime the `redis` crate is built for and
//! in the timer of the reconnection backoff.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use redis::AsyncConnectionConfig;
use redis::aio::{MultiplexedConnection, PubSubStream};
use switchboard_core::{BusError, Change, EventBus};

/// The first wait before reconnecting a dropped subscription; it doubles on
/// each failure up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(100);
/// The longest wait between two reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// How long connecting, subscribing or publishing may take before it counts
/// as a failure.
const TIMEOUT: Duration = Duration::from_secs(5);

/// An [`EventBus`] over a Redis pub/sub channel: every server built with a
/// `RedisBus` on the same Redis server and channel hears every change.
///
/// [`publish`](EventBus::publish) is `PUBLISH channel <change JSON>` on a
/// multiplexed connection (reopened once when it fails); connecting,
/// subscribing and publishing each fail after 5 s without an answer.
/// [`subscribe`](EventBus::subscribe) opens a dedicated pub/sub connection
/// when first polled and yields the changes published after its `SUBSCRIBE`
/// was confirmed; messages that are not a [`Change`] are skipped. When that
/// connection drops, the stream reconnects behind it, waiting 100 ms
/// doubling to 5 s between attempts, for as long as the stream lives:
/// changes published while it is disconnected are lost (Redis pub/sub
/// keeps nothing). Dropping the stream closes its connection.
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
#[derive(Clone)]
pub struct RedisBus {
    client: redis::Client,
    channel: String,
    publisher: Arc<Mutex<MultiplexedConnection>>,
}

impl std::fmt::Debug for RedisBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBus")
            .field("server", &self.client.get_connection_info().addr)
            .field("channel", &self.channel)
            .finish_non_exhaustive()
    }
}

impl RedisBus {
    /// Connects to the Redis server at `url` (`redis://host:port/db`) to
    /// share changes on `channel`; call it inside a tokio runtime.
    ///
    /// # Errors
    ///
    /// [`BusError::Unavailable`] when `url` is not a Redis URL or the
    /// server cannot be reached.
    pub async fn connect(url: &str, channel: impl Into<String>) -> Result<Self, BusError> {
        let client = redis::Client::open(url).map_err(unavailable)?;
        let publisher = client
            .get_multiplexed_async_connection_with_config(&config())
            .await
            .map_err(unavailable)?;
        Ok(Self {
            client,
            channel: channel.into(),
            publisher: Arc::new(Mutex::new(publisher)),
        })
    }

    /// The channel the changes travel on.
    pub fn channel(&self) -> &str {
        &self.channel
    }

    async fn publish_on(
        &self,
        mut conn: MultiplexedConnection,
        text: &str,
    ) -> redis::RedisResult<()> {
        redis::cmd("PUBLISH")
            .arg(&self.channel)
            .arg(text)
            .query_async::<()>(&mut conn)
            .await
    }
}

#[async_trait]
impl EventBus for RedisBus {
    async fn publish(&self, change: &Change) -> Result<(), BusError> {
        let text = change.to_json();
        let conn = self
            .publisher
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if self.publish_on(conn, &text).await.is_ok() {
            return Ok(());
        }
        // The connection may have dropped: one fresh one, kept if it works.
        let fresh = self
            .client
            .get_multiplexed_async_connection_with_config(&config())
            .await
            .map_err(unavailable)?;
        self.publish_on(fresh.clone(), &text)
            .await
            .map_err(unavailable)?;
        *self.publisher.lock().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(())
    }

    fn subscribe(&self) -> BoxStream<'static, Change> {
        let listener = Listener {
            client: self.client.clone(),
            channel: self.channel.clone(),
            messages: None,
            backoff: Duration::ZERO,
        };
        Box::pin(futures::stream::unfold(listener, Listener::next))
    }
}

/// The state of a subscription stream.
struct Listener {
    client: redis::Client,
    channel: String,
    messages: Option<PubSubStream>,
    /// The wait before the next connection attempt.
    backoff: Duration,
}

impl Listener {
    async fn next(mut self) -> Option<(Change, Self)> {
        loop {
            let Some(messages) = &mut self.messages else {
                tokio::time::sleep(self.backoff).await;
                match subscribed(&self.client, &self.channel).await {
                    Some(messages) => {
                        self.messages = Some(messages);
                        self.backoff = FIRST_BACKOFF;
                    }
                    None => self.backoff = (self.backoff * 2).clamp(FIRST_BACKOFF, MAX_BACKOFF),
                }
                continue;
            };
            match messages.next().await {
                Some(msg) => {
                    let change = msg.get_payload::<String>().ok();
                    if let Some(change) = change.and_then(|t| Change::from_json(&t).ok()) {
                        return Some((change, self));
                    }
                }
                None => self.messages = None,
            }
        }
    }
}

/// A pub/sub connection subscribed to `channel`, within [`TIMEOUT`].
async fn subscribed(client: &redis::Client, channel: &str) -> Option<PubSubStream> {
    let attempt = async {
        let mut pubsub = client.get_async_pubsub().await.ok()?;
        pubsub.subscribe(channel).await.ok()?;
        Some(pubsub.into_on_message())
    };
    let timer = tokio::time::sleep(TIMEOUT);
    futures::pin_mut!(attempt, timer);
    match futures::future::select(attempt, timer).await {
        futures::future::Either::Left((messages, _)) => messages,
        futures::future::Either::Right(_) => None,
    }
}

/// The publishing connection's timeouts.
fn config() -> AsyncConnectionConfig {
    AsyncConnectionConfig::new()
        .set_connection_timeout(TIMEOUT)
        .set_response_timeout(TIMEOUT)
}

fn unavailable(e: redis::RedisError) -> BusError {
    BusError::Unavailable(e.to_string())
}
