//! Helpers shared by the integration tests: a client over the in-memory
//! transport that waits for the messages a test expects, with a deadline so
//! no test can hang.

use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;

use serde_json::{Value, json};
use switchboard_core::{MemoryClient, Outbound, RequestId, Route, SessionId};

/// How long any single wait in a test may take before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Runs `fut`, panicking if it takes longer than [`DEADLINE`].
///
/// The timer is async-io's, which runs under any executor.
pub async fn deadline<T>(what: &str, fut: impl Future<Output = T>) -> T {
    let timer = async {
        smol::Timer::after(DEADLINE).await;
        panic!("timed out waiting for {what}");
    };
    futures::pin_mut!(fut);
    futures::pin_mut!(timer);
    match futures::future::select(fut, timer).await {
        futures::future::Either::Left((v, _)) => v,
        futures::future::Either::Right((never, _)) => never,
    }
}

/// One message the server sent, decoded.
#[derive(Clone, Debug)]
pub struct Received {
    /// The session it went to.
    pub session: SessionId,
    /// Its route.
    pub route: Route,
    /// Its JSON.
    pub json: Value,
}

/// A test client over [`switchboard_core::memory_pair`].
#[derive(Debug)]
pub struct TestClient {
    client: MemoryClient,
    backlog: VecDeque<Received>,
}

impl TestClient {
    /// Wraps the client end of a memory pair.
    pub fn new(client: MemoryClient) -> Self {
        Self {
            client,
            backlog: VecDeque::new(),
        }
    }

    /// The underlying client end.
    pub fn raw(&self) -> &MemoryClient {
        &self.client
    }

    /// Sends a JSON message in a session.
    pub async fn send(&self, session: &str, message: Value) {
        self.client
            .send_json(&SessionId::new(session), &message)
            .await
            .expect("server end open");
    }

    /// Sends a request.
    pub async fn request(&self, session: &str, id: i64, method: &str, params: Value) {
        self.send(
            session,
            json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        )
        .await;
    }

    /// Sends a `tools/call` request.
    pub async fn call_tool(&self, session: &str, id: i64, name: &str, arguments: Value) {
        self.request(
            session,
            id,
            "tools/call",
            json!({"name": name, "arguments": arguments}),
        )
        .await;
    }

    /// Sends a notification.
    pub async fn notify(&self, session: &str, method: &str, params: Value) {
        self.send(
            session,
            json!({"jsonrpc": "2.0", "method": method, "params": params}),
        )
        .await;
    }

    /// Initializes a session at `version` (with sampling and elicitation
    /// declared) and returns the `initialize` result.
    pub async fn initialize(&mut self, session: &str, version: &str) -> Value {
        self.request(
            session,
            0,
            "initialize",
            json!({"protocolVersion": version, "capabilities": {"sampling": {}, "elicitation": {}},
                   "clientInfo": {"name": "test", "version": "1"}}),
        )
        .await;
        let reply = self.reply(session, 0).await;
        self.notify(session, "notifications/initialized", json!({}))
            .await;
        reply["result"].clone()
    }

    /// Waits for the next message that `pick` accepts; others are kept for later.
    pub async fn next_where(&mut self, what: &str, pick: impl Fn(&Received) -> bool) -> Received {
        if let Some(i) = self.backlog.iter().position(&pick) {
            return self.backlog.remove(i).expect("index is in range");
        }
        loop {
            let out: Outbound = deadline(what, self.client.recv())
                .await
                .expect("server end open");
            let received = Received {
                session: out.session,
                route: out.route,
                // Route-only markers (Cancelled, Disconnect) carry no bytes.
                json: if out.bytes.is_empty() {
                    Value::Null
                } else {
                    serde_json::from_slice(&out.bytes).expect("server sends JSON")
                },
            };
            if pick(&received) {
                return received;
            }
            self.backlog.push_back(received);
        }
    }

    /// Waits for the final reply to request `id` in `session`.
    pub async fn reply(&mut self, session: &str, id: i64) -> Value {
        let want = Route::Reply(Some(RequestId::number(id)));
        self.next_where(&format!("reply {id} in {session}"), |r| {
            r.session.as_str() == session && r.route == want
        })
        .await
        .json
    }

    /// Messages received but not yet taken.
    pub fn backlog(&self) -> &VecDeque<Received> {
        &self.backlog
    }
}

pub mod client;
pub mod hyper_client;
pub mod redis;
pub mod server;
pub mod tasks;

/// Runs each named test body (a `fn(Rt)`) on each of the four runtimes:
/// smol and tokio, and each on one thread, as `smol_runtime::NAME`,
/// `tokio_runtime::NAME`, `smol_local_runtime::NAME` and
/// `tokio_local_runtime::NAME`. The calling file imports `Rt`.
#[macro_export]
macro_rules! on_both_runtimes {
    ($($name:ident),* $(,)?) => {
        mod smol_runtime {
            $( #[test] fn $name() { super::$name(super::Rt::Smol) } )*
        }
        mod tokio_runtime {
            $( #[test] fn $name() { super::$name(super::Rt::Tokio) } )*
        }
        mod smol_local_runtime {
            $( #[test] fn $name() { super::$name(super::Rt::SmolLocal) } )*
        }
        mod tokio_local_runtime {
            $( #[test] fn $name() { super::$name(super::Rt::TokioLocal) } )*
        }
    };
}

/// Polls `cond` every 10 ms until it holds or [`DEADLINE`] passes; returns
/// whether it held. For state that changes asynchronously after a reply.
pub fn eventually(cond: impl Fn() -> bool) -> bool {
    let start = std::time::Instant::now();
    while start.elapsed() < DEADLINE {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    cond()
}

/// Spawns an example server binary with `args` (which should include
/// `--addr 127.0.0.1:0`) and reads the address from its first line,
/// `listening on http://HOST:PORT/mcp`.
///
/// # Panics
///
/// When it does not start or its first line is not that one.
pub fn spawn_example(exe: &str, args: &[&str]) -> (std::process::Child, std::net::SocketAddr) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(exe)
        .args(args)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{exe} starts: {e}"));
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().expect("piped stdout"))
        .read_line(&mut line)
        .expect("a first line from the example");
    let addr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|rest| rest.strip_suffix("/mcp"))
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .parse()
        .expect("HOST:PORT");
    (child, addr)
}

/// The README's code, compiled as doctests here, where every crate it
/// names (smol, tokio, axum, the exporters) is a dependency.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
