//! A real `redis-server` for the integration tests, and the runtime to
//! reach it from: the suites that share things through Redis (the bus, the
//! task store, the session store) start their own.
//!
//! `redis-server` must be on PATH (Debian: `apt-get install -y
//! redis-server`); the tests that use it fail, not skip, without it.

use std::future::Future;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::DEADLINE;
use crate::server::Rt;

/// A `redis-server` child process on a free port of 127.0.0.1, killed on
/// drop.
#[derive(Debug)]
pub struct Redis {
    port: u16,
    child: Option<Child>,
}

impl Redis {
    /// Starts one and waits (bounded) until it answers. A free port found
    /// by binding and letting go may be taken by another test's server
    /// before this one binds it: then another port is tried.
    pub fn start() -> Self {
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port();
            let mut redis = Self { port, child: None };
            if redis.try_spawn() {
                return redis;
            }
        }
        panic!("redis-server found no free port in 5 tries");
    }

    /// Starts the server again on the same port, after [`stop`](Self::stop).
    pub fn spawn(&mut self) {
        assert!(
            self.try_spawn(),
            "redis-server exited at start (port {} taken?)",
            self.port
        );
    }

    /// Starts the server on its port and waits (bounded) until it answers;
    /// `false` when it exited instead (the port was taken).
    fn try_spawn(&mut self) -> bool {
        let mut child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run redis-server ({e}): these tests need a real Redis; \
                     install it (Debian: apt-get install -y redis-server)"
                )
            });
        // Its own process id in `INFO`: not another test's server that
        // holds the port.
        let ours = format!("process_id:{}\r\n", child.id());
        let start = Instant::now();
        while !self.command("INFO server").contains(&ours) {
            if child.try_wait().unwrap().is_some() {
                return false;
            }
            assert!(start.elapsed() < DEADLINE, "redis-server does not accept");
            std::thread::sleep(Duration::from_millis(20));
        }
        self.child = Some(child);
        true
    }

    /// Kills the server and starts a new one on the same port.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Kills the server (its clients see it gone).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Sends one inline command and returns what came back in one read
    /// (empty when nothing answers).
    pub fn command(&self, command: &str) -> String {
        self.send(format!("{command}\r\n").as_bytes())
            .unwrap_or_default()
    }

    /// Sends `bytes` (RESP or inline) and returns what came back in one
    /// read.
    pub fn send(&self, bytes: &[u8]) -> Option<String> {
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        stream.write_all(bytes).ok()?;
        let mut buf = [0u8; 4096];
        let n = stream.read(&mut buf).ok()?;
        Some(String::from_utf8_lossy(&buf[..n]).into_owned())
    }

    /// How many connections are subscribed to `channel` (`PUBSUB NUMSUB`).
    pub fn subscribers(&self, channel: &str) -> usize {
        let command = format!(
            "*3\r\n$6\r\nPUBSUB\r\n$6\r\nNUMSUB\r\n${}\r\n{channel}\r\n",
            channel.len()
        );
        let reply = self.send(command.as_bytes()).unwrap_or_default();
        // `*2 $len channel :N`: the count is the last line.
        reply
            .lines()
            .last()
            .and_then(|l| l.strip_prefix(':'))
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Runs futures on the test's runtime; a tokio one stays up as long as
/// this does, for the Redis connections opened on it.
#[derive(Debug)]
pub struct Exec {
    tokio: Option<tokio::runtime::Runtime>,
}

impl Exec {
    /// The runtime of `rt`'s adapter: tokio (two workers) or smol.
    pub fn new(rt: Rt) -> Self {
        let tokio = matches!(rt, Rt::Tokio | Rt::TokioLocal).then(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap()
        });
        Self { tokio }
    }

    /// Whether connections come from the tokio adapter.
    pub fn is_tokio(&self) -> bool {
        self.tokio.is_some()
    }

    /// A `RedisSessionStore` on `redis`, from this runtime's adapter.
    pub fn session_store(
        &self,
        redis: &Redis,
    ) -> std::sync::Arc<dyn switchboard_core::session_store::SessionStore> {
        let url = redis.url();
        self.block_on(async {
            let store: std::sync::Arc<dyn switchboard_core::session_store::SessionStore> =
                if self.is_tokio() {
                    std::sync::Arc::new(switchboard_tokio::redis_session_store(&url).await.unwrap())
                } else {
                    std::sync::Arc::new(switchboard_smol::redis_session_store(&url).await.unwrap())
                };
            store
        })
    }

    /// Runs `fut` to its end on this runtime.
    pub fn block_on<T>(&self, fut: impl Future<Output = T>) -> T {
        match &self.tokio {
            Some(runtime) => runtime.block_on(fut),
            None => smol::block_on(fut),
        }
    }
}
