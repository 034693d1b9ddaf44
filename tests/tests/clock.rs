//! Core keeps time with the clock its runtime brings (`Runtime::clock`),
//! never std's behind its back: the way a host without std's clock
//! (`wasm32-unknown-unknown`) hands over its own. Its own test binary, since
//! the clock is one per process.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use switchboard_core::{
    BoxFuture, Clock, HttpConfig, HttpServerTransport, HttpService, McpServerBuilder, Runtime,
    TransportError, clock,
};

/// The host's clock: milliseconds that move only when the test says.
static MONOTONIC_MS: AtomicU64 = AtomicU64::new(1_000);
const UNIX_SECS: u64 = 1_900_000_000;

fn monotonic() -> Duration {
    Duration::from_millis(MONOTONIC_MS.load(Ordering::SeqCst))
}

fn unix() -> Duration {
    Duration::from_secs(UNIX_SECS) + monotonic()
}

/// A thread per task and per timer (timers in real time), and the clock
/// above.
#[derive(Debug)]
struct HostRuntime;

impl Runtime for HostRuntime {
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
    fn clock(&self) -> Clock {
        Clock::new(monotonic, unix)
    }
}

const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;
const PING: &str = r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#;

#[test]
fn sessions_idle_out_on_the_runtime_clock_not_on_std() {
    let runtime: Arc<dyn Runtime> = Arc::new(HostRuntime);
    // A 40 ms idle timeout: swept every 10 ms of real time, but idle is
    // counted on the host's clock, which stands still until moved.
    let transport = HttpServerTransport::new(
        HttpConfig::default().session_idle_timeout(Duration::from_millis(40)),
    );
    let server = McpServerBuilder::new()
        .server_info("clock", "1.0.0")
        .runtime(Arc::clone(&runtime))
        .build(transport.clone());
    assert_eq!(clock::now().since_origin(), Duration::from_millis(1_000));
    assert_eq!(clock::unix_time(), Duration::from_millis(1_900_000_001_000));

    std::thread::spawn(move || futures::executor::block_on(server.run()));
    let service = HttpService::new(&transport, runtime);
    let sweeper = service.clone();
    std::thread::spawn(move || futures::executor::block_on(sweeper.expire_sessions()));

    futures::executor::block_on(async {
        let (session, reply) = transport
            .initialize_session(INIT.as_bytes().to_vec())
            .await
            .expect("a server runs");
        let session = session.unwrap_or_else(|| panic!("no session: {reply:?}"));

        // Ten sweeps' worth of real time: the host's clock has not moved,
        // so the session is not idle.
        std::thread::sleep(Duration::from_millis(100));
        let pong = transport
            .handle_http_request(session.clone(), PING.as_bytes().to_vec())
            .await
            .expect("the session is open while the host's clock stands");
        assert!(String::from_utf8_lossy(&pong).contains(r#""result":{}"#));

        // The host's clock moves a second: the next sweep ends it.
        MONOTONIC_MS.fetch_add(1_000, Ordering::SeqCst);
        let began = Instant::now();
        while transport.session_count() > 0 {
            assert!(
                began.elapsed() < Duration::from_secs(10),
                "the session outlived its idle time on the host's clock"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        let gone = transport
            .handle_http_request(session, PING.as_bytes().to_vec())
            .await;
        assert!(
            matches!(gone, Err(TransportError::UnknownSession)),
            "{gone:?}"
        );
    });
    service.shutdown_signal().trigger();
}
