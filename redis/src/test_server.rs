//! A `redis-server` child process for this crate's tests, on a free port of
//! 127.0.0.1, killed on drop. `redis-server` must be on PATH (Debian:
//! `apt-get install -y redis-server`); the tests that use it fail without it.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`.
pub(crate) struct TestServer {
    port: u16,
    child: Child,
}

impl TestServer {
    /// Starts one and waits until it answers.
    pub(crate) fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server on PATH (apt-get install -y redis-server)");
        let server = Self { port, child };
        let start = Instant::now();
        while redis::Client::open(server.url())
            .and_then(|c| c.get_connection())
            .is_err()
        {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "redis-server does not accept"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// Its URL.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
