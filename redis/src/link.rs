//! The connection to Redis that everything in this crate goes through:
//! commands on one multiplexed connection (reopened once when it fails),
//! pub/sub on dedicated ones, and every wait bounded by [`TIMEOUT`] and
//! timed by the core's [`Runtime`].

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use futures::stream::BoxStream;
use redis::aio::{MultiplexedConnection, PubSubStream};
use redis::{AsyncConnectionConfig, Cmd, ConnectionAddr, FromRedisValue, RedisResult};
use switchboard_core::Runtime;

use crate::backoff::Backoff;

/// How long connecting, subscribing or one command may take before it
/// counts as a failure: long enough for a busy Redis, short enough that a
/// caller cut off from it hears so instead of hanging.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(5);

/// A Redis server and the runtime whose timers bound the waits on it.
/// Clones share the command connection.
#[derive(Clone)]
pub(crate) struct Link {
    client: redis::Client,
    runtime: Arc<dyn Runtime>,
    /// The command connection; replaced by a fresh one when it fails.
    commands: Arc<Mutex<MultiplexedConnection>>,
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("server", self.server())
            .field("runtime", &self.runtime)
            .finish_non_exhaustive()
    }
}

impl Link {
    /// Opens the command connection to the server at `url`
    /// (`redis://host:port/db`).
    ///
    /// Errors when `url` is not a Redis URL or the server does not answer
    /// within [`TIMEOUT`].
    pub(crate) async fn open(runtime: Arc<dyn Runtime>, url: &str) -> RedisResult<Self> {
        let client = redis::Client::open(url)?;
        let commands = connect(&client).await?;
        Ok(Self {
            client,
            runtime,
            commands: Arc::new(Mutex::new(commands)),
        })
    }

    /// The server's address.
    pub(crate) fn server(&self) -> &ConnectionAddr {
        &self.client.get_connection_info().addr
    }

    /// Runs `future` in the background on the runtime.
    pub(crate) fn spawn(&self, future: switchboard_core::BoxFuture<()>) {
        self.runtime.spawn(future);
    }

    /// Waits `duration` on the runtime's timer.
    pub(crate) async fn sleep(&self, duration: Duration) {
        self.runtime.sleep(duration).await;
    }

    /// Sends `cmd` and reads its reply. When that fails (the connection
    /// dropped, Redis restarted), it is sent once more on a fresh
    /// connection, kept for later commands if it works: only for commands
    /// that may safely run twice. A reply that timed out is not asked
    /// again: a Redis that hangs would take another [`TIMEOUT`] (the
    /// connection stays; a Redis that comes back answers on it, one that
    /// restarted breaks it, and the next call reconnects).
    pub(crate) async fn query<T: FromRedisValue>(&self, cmd: &Cmd) -> RedisResult<T> {
        let mut conn = self
            .commands
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        match cmd.query_async(&mut conn).await {
            Ok(value) => return Ok(value),
            Err(e) if e.is_timeout() => return Err(e),
            Err(_) => {}
        }
        let fresh = connect(&self.client).await?;
        let value = cmd.query_async(&mut fresh.clone()).await?;
        *self.commands.lock().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(value)
    }

    /// Sends `pipe`'s commands at once and reads their replies, without
    /// sending them again on failure (for commands that must not run
    /// twice): the connection is replaced for the next call instead.
    pub(crate) async fn send_once(&self, pipe: &redis::Pipeline) -> RedisResult<()> {
        let mut conn = self
            .commands
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let sent = pipe.query_async::<()>(&mut conn).await;
        if let Err(e) = &sent {
            // A refusal by Redis (out of memory, say) leaves the connection
            // fine; a lost one is replaced.
            if e.is_io_error() || e.is_connection_dropped() || e.is_connection_refusal() {
                if let Ok(fresh) = connect(&self.client).await {
                    *self.commands.lock().unwrap_or_else(|e| e.into_inner()) = fresh;
                }
            }
        }
        sent
    }

    /// A dedicated pub/sub connection subscribed to `channel`, its
    /// `SUBSCRIBE` confirmed; `None` when that fails or takes longer than
    /// [`TIMEOUT`]. Dropping the stream closes the connection.
    pub(crate) async fn subscribe(&self, channel: &str) -> Option<PubSubStream> {
        let attempt = async {
            let mut pubsub = self.client.get_async_pubsub().await.ok()?;
            pubsub.subscribe(channel).await.ok()?;
            Some(pubsub.into_on_message())
        };
        within(&*self.runtime, TIMEOUT, attempt).await.flatten()
    }

    /// The text of every message published on `channel`, for as long as
    /// the stream is kept: a dropped subscription is made again behind a
    /// backoff, and what was published meanwhile is lost. `first` is a
    /// subscription already made (so a caller can report its failure).
    pub(crate) fn messages(
        &self,
        channel: String,
        first: Option<PubSubStream>,
    ) -> BoxStream<'static, String> {
        let listener = Listener {
            link: self.clone(),
            channel,
            messages: first,
            backoff: Backoff::default(),
        };
        Box::pin(futures::stream::unfold(listener, Listener::next))
    }
}

/// The state of a [`Link::messages`] stream.
struct Listener {
    link: Link,
    channel: String,
    /// The subscription, `None` while reconnecting.
    messages: Option<PubSubStream>,
    /// The wait before the next reconnection.
    backoff: Backoff,
}

impl Listener {
    async fn next(mut self) -> Option<(String, Self)> {
        loop {
            let Some(messages) = &mut self.messages else {
                self.link.sleep(self.backoff.wait()).await;
                match self.link.subscribe(&self.channel).await {
                    Some(messages) => {
                        self.messages = Some(messages);
                        self.backoff.succeeded();
                    }
                    None => self.backoff.failed(),
                }
                continue;
            };
            match messages.next().await {
                Some(msg) => {
                    if let Ok(text) = msg.get_payload::<String>() {
                        return Some((text, self));
                    }
                }
                None => self.messages = None,
            }
        }
    }
}

/// A command connection whose connecting and every reply are bounded by
/// [`TIMEOUT`].
async fn connect(client: &redis::Client) -> RedisResult<MultiplexedConnection> {
    let config = AsyncConnectionConfig::new()
        .set_connection_timeout(TIMEOUT)
        .set_response_timeout(TIMEOUT);
    client
        .get_multiplexed_async_connection_with_config(&config)
        .await
}

/// `future`'s output, or `None` when `limit` passes first on `runtime`'s
/// timer (`future` is then dropped).
pub(crate) async fn within<F: Future>(
    runtime: &dyn Runtime,
    limit: Duration,
    future: F,
) -> Option<F::Output> {
    let timer = runtime.sleep(limit);
    futures::pin_mut!(future);
    match futures::future::select(future, timer).await {
        futures::future::Either::Left((output, _)) => Some(output),
        futures::future::Either::Right(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use switchboard_core::BoxFuture;

    use super::*;

    /// A runtime whose timers are threads: enough for `within`.
    #[derive(Debug)]
    struct Threads;

    impl Runtime for Threads {
        fn spawn(&self, future: BoxFuture<()>) {
            std::thread::spawn(move || futures::executor::block_on(future));
        }
        fn sleep(&self, duration: Duration) -> BoxFuture<()> {
            let (tx, rx) = futures::channel::oneshot::channel::<()>();
            std::thread::spawn(move || {
                std::thread::sleep(duration);
                let _ = tx.send(());
            });
            Box::pin(async move {
                let _ = rx.await;
            })
        }
    }

    #[test]
    fn within_gives_the_output_of_a_future_that_finishes_in_time() {
        let output = futures::executor::block_on(within(&Threads, TIMEOUT, async { 7 }));
        assert_eq!(output, Some(7));
    }

    #[test]
    fn within_gives_up_on_a_future_that_never_finishes() {
        let start = Instant::now();
        let output = futures::executor::block_on(within(
            &Threads,
            Duration::from_millis(20),
            futures::future::pending::<()>(),
        ));
        assert_eq!(output, None);
        assert!(start.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    fn a_command_is_sent_again_on_a_fresh_connection_when_the_first_dropped() {
        let server = crate::test_server::TestServer::start();
        smol::block_on(async {
            let runtime = Arc::new(switchboard_smol::SmolRuntime::global());
            let link = Link::open(runtime, &server.url()).await.unwrap();
            let () = link
                .query(redis::cmd("SET").arg("k").arg("v"))
                .await
                .unwrap();
            // The server drops every client but this one: the link's too.
            let mut admin = redis::Client::open(server.url())
                .and_then(|c| c.get_connection())
                .unwrap();
            let killed: i64 = redis::cmd("CLIENT")
                .arg(&["KILL", "TYPE", "normal", "SKIPME", "yes"])
                .query(&mut admin)
                .unwrap();
            assert_eq!(killed, 1);
            let value: String = link.query(redis::cmd("GET").arg("k")).await.unwrap();
            assert_eq!(value, "v");
        });
    }

    #[test]
    fn opening_a_link_to_a_non_redis_url_fails() {
        let opened = futures::executor::block_on(Link::open(Arc::new(Threads), "http://x/"));
        assert!(opened.is_err());
    }
}
