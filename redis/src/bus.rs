//! [`RedisBus`]: the core's [`EventBus`] over a Redis pub/sub channel.

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use switchboard_core::{BusError, Change, EventBus, Runtime};

use crate::link::Link;

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
/// The waits run on the [`Runtime`] given to [`connect_on`](Self::connect_on);
/// the adapters' `RedisBus::connect(url, channel)` gives theirs.
///
/// # Examples
///
/// ```no_run
/// use std::sync::Arc;
/// use switchboard_core::McpServerBuilder;
/// use switchboard_redis::RedisBus;
/// use switchboard_smol::SmolRuntime;
///
/// smol::block_on(async {
///     let runtime = Arc::new(SmolRuntime::global());
///     let bus = RedisBus::connect_on(runtime, "redis://127.0.0.1:6379/", "mcp-changes")
///         .await
///         .expect("Redis is up");
///     let builder = McpServerBuilder::new()
///         .server_info("replica", "1.0.0")
///         .event_bus(Arc::new(bus));
///     # drop(builder);
/// });
/// ```
#[derive(Clone, Debug)]
pub struct RedisBus {
    link: Link,
    channel: String,
}

impl RedisBus {
    /// Connects to the Redis server at `url` (`redis://host:port/db`) to
    /// share changes on `channel`, timing the bus's waits (timeouts,
    /// reconnection backoff) on `runtime`.
    ///
    /// The `redis` crate's connections run on the executor of this crate's
    /// feature (`smol` or `tokio`; with both, tokio inside a tokio runtime and
    /// smol elsewhere).
    ///
    /// # Errors
    ///
    /// [`BusError::Unavailable`] when `url` is not a Redis URL or the
    /// server cannot be reached within 5 s.
    pub async fn connect_on(
        runtime: Arc<dyn Runtime>,
        url: &str,
        channel: impl Into<String>,
    ) -> Result<Self, BusError> {
        let link = Link::open(runtime, url).await.map_err(unavailable)?;
        Ok(Self {
            link,
            channel: channel.into(),
        })
    }

    /// The channel the changes travel on.
    pub fn channel(&self) -> &str {
        &self.channel
    }
}

#[async_trait]
impl EventBus for RedisBus {
    async fn publish(&self, change: &Change) -> Result<(), BusError> {
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(&self.channel).arg(change.to_json());
        self.link.query::<()>(&cmd).await.map_err(unavailable)
    }

    fn subscribe(&self) -> BoxStream<'static, Change> {
        // Text that is not a change is skipped.
        let changes = self.link.messages(self.channel.clone(), None);
        Box::pin(changes.filter_map(|text| async move { Change::from_json(&text).ok() }))
    }
}

fn unavailable(e: redis::RedisError) -> BusError {
    BusError::Unavailable(e.to_string())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use switchboard_smol::SmolRuntime;

    use super::*;
    use crate::link::within;
    use crate::test_server::TestServer;

    #[test]
    fn a_change_published_on_one_bus_reaches_the_subscribers_of_its_channel_only() {
        let server = TestServer::start();
        smol::block_on(async {
            let runtime: Arc<dyn Runtime> = Arc::new(SmolRuntime::global());
            let url = server.url();
            let connect =
                |channel: &'static str| RedisBus::connect_on(runtime.clone(), &url, channel);
            let (a, b, other) = (connect("t").await, connect("t").await, connect("u").await);
            let (a, b, other) = (a.unwrap(), b.unwrap(), other.unwrap());
            assert_eq!(b.channel(), "t");
            let mut changes = b.subscribe();
            let mut elsewhere = other.subscribe();
            let change = Change::ResourceUpdated {
                uri: "notes://1".into(),
            };
            // The subscription starts when first polled: publish until heard.
            let mut heard = None;
            for _ in 0..50 {
                a.publish(&change).await.unwrap();
                let next = changes.next();
                heard = within(&*runtime, Duration::from_millis(100), next).await;
                if heard.is_some() {
                    break;
                }
            }
            assert_eq!(heard.flatten(), Some(change));
            let next = elsewhere.next();
            assert!(
                within(&*runtime, Duration::from_millis(200), next)
                    .await
                    .is_none()
            );
        });
    }

    #[test]
    fn connecting_to_a_server_that_is_not_there_is_unavailable() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let url = format!("redis://127.0.0.1:{port}/");
        let connected = smol::block_on(RedisBus::connect_on(
            Arc::new(SmolRuntime::global()),
            &url,
            "t",
        ));
        assert!(matches!(connected, Err(BusError::Unavailable(_))));
    }
}
