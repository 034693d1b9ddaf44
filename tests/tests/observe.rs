//! What switchboard-core reports with its `tracing` and `metrics` features:
//! the spans and events of a scripted session (captured by a
//! tracing-subscriber fmt layer writing to a buffer), and the metrics it
//! records (metrics-util's `DebuggingRecorder`).
//!
//! The scripts run in process, on `futures::executor` on the test's own
//! thread, through `HttpServerTransport::handle` (the one request→response
//! entry): the subscriber and the recorder are the thread's own
//! (`with_default`, `with_local_recorder`), so tests running in parallel do
//! not see each other's. One test goes through real sockets on smol, with
//! the recorder installed globally once (`OnceLock`); it alone reads the
//! global recorder.

use std::collections::HashMap;
use std::io;
use std::sync::{Arc, Mutex, OnceLock};

use metrics_util::MetricKind;
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use serde_json::{Value, json};
use switchboard_core::http::wire::parse_head;
use switchboard_core::{
    HttpConfig, HttpServerTransport, McpServer, McpServerBuilder, RequestId, Route, RpcError,
    SessionId, Tool, ToolError, Transport,
};
use tests::client::Conn;
use tests::deadline;
use tests::server::{POST_HEADERS, Rt, Session, TestServer};

/// A server with a tool that works, one that fails (an `isError` result)
/// and one that fails with a JSON-RPC error.
fn builder() -> McpServerBuilder {
    McpServerBuilder::new()
        .server_info("observe", "1")
        .tool(Tool::new("echo", "Echoes"), |args: Value, _ctx| async move {
            Ok(args["text"].as_str().unwrap_or_default().to_owned())
        })
        .tool(Tool::new("fail", "Fails"), |_: Value, _ctx| async move {
            Err::<String, _>(ToolError::new("boom"))
        })
        .tool(Tool::new("refuse", "Refuses"), |_: Value, _ctx| async move {
            Err::<String, _>(ToolError::protocol(RpcError::invalid_params("no, thanks")))
        })
}

const INIT: &str = r#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"t","version":"1"}}}"#;

fn call(id: i64, tool: &str) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": tool, "arguments": {"text": "hi"}}})
    .to_string()
    .into_bytes()
}

/// An in-process server over the HTTP transport.
fn in_process() -> (HttpServerTransport, McpServer) {
    let transport = HttpServerTransport::new(HttpConfig::default());
    let server = builder().build(transport.clone());
    (transport, server)
}

/// Opens a session through the transport.
async fn initialize(transport: &HttpServerTransport) -> SessionId {
    let (session, _) = transport
        .initialize_session(INIT.as_bytes().to_vec())
        .await
        .unwrap();
    session.expect("initialize opens a session")
}

/// Sends `tools/call` of `tool` and returns the reply.
async fn call_tool(
    transport: &HttpServerTransport,
    session: &SessionId,
    id: i64,
    tool: &str,
) -> Value {
    let reply = transport
        .handle_http_request(session.clone(), call(id, tool))
        .await
        .unwrap();
    serde_json::from_slice(&reply).unwrap()
}

/// Ends the session with a DELETE; returns the status.
async fn delete(transport: &HttpServerTransport, session: &SessionId) -> u16 {
    let raw = format!(
        "DELETE /mcp HTTP/1.1\r\nHost: localhost\r\nMcp-Session-Id: {}\r\n\r\n",
        session.as_str()
    );
    let (head, _) = parse_head(raw.as_bytes(), transport.config())
        .unwrap()
        .unwrap();
    transport.handle(&head, Vec::new()).await.status.as_u16()
}

/// The script both in-process tests run: initialize, a call that works, a
/// tool error, a JSON-RPC error from a tool, a DELETE. `between` runs after
/// the initialize and after the DELETE.
async fn script(transport: &HttpServerTransport, between: impl Fn(&str)) -> SessionId {
    let session = initialize(transport).await;
    between("initialized");
    let ok = call_tool(transport, &session, 1, "echo").await;
    assert_eq!(ok["result"]["content"][0]["text"], "hi", "{ok}");
    let failed = call_tool(transport, &session, 2, "fail").await;
    assert_eq!(failed["result"]["isError"], true, "{failed}");
    let refused = call_tool(transport, &session, 3, "refuse").await;
    assert_eq!(refused["error"]["code"], -32602, "{refused}");
    let ok = call_tool(transport, &session, 4, "echo").await;
    assert!(ok["result"].is_object(), "{ok}");
    assert_eq!(delete(transport, &session).await, 200);
    between("deleted");
    session
}

/// A writer into a shared buffer, for the fmt layer.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// The log of this binary: a global fmt subscriber (`switchboard=debug`,
/// span closes included) writing into a buffer, installed once. Global,
/// not a `with_default` per test: tracing caches each callsite's interest
/// process-wide, and a thread-local subscriber racing with tests that have
/// none can miss events. Tests pick their own lines out by session id.
fn log() -> &'static Buffer {
    static LOG: OnceLock<Buffer> = OnceLock::new();
    LOG.get_or_init(|| {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_env_filter(tracing_subscriber::EnvFilter::new("switchboard=debug"))
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        buffer
    })
}

#[test]
fn a_session_is_traced_without_its_full_id() {
    let buffer = log();
    // Its metrics go nowhere: only the socket test records globally.
    let session = metrics::with_local_recorder(&metrics::NoopRecorder, || {
        let (transport, server) = in_process();
        futures::executor::block_on(async {
            let client = async {
                let session = script(&transport, |_| {}).await;
                transport.close().await.unwrap();
                session
            };
            let (served, session) = futures::join!(server.run(), deadline("the script", client));
            served.unwrap();
            session
        })
    });
    let log = buffer.text();
    let full = session.as_str();
    let prefix = &full[..8];
    assert_eq!(full.len(), 32, "a minted id");
    assert!(
        !log.contains(full),
        "the whole session id is never logged:\n{log}"
    );

    // This test's lines: those naming its session (other tests log too).
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(prefix)).collect();
    let with = |words: &[&str]| {
        lines
            .iter()
            .filter(|l| words.iter().all(|w| l.contains(w)))
            .count()
    };
    // Each call's span (its close, and the events inside it) names the
    // method and the session's prefix.
    assert!(
        with(&["mcp_request", "tools/call", prefix, "close"]) >= 4,
        "a span per request:\n{log}"
    );
    assert!(with(&["mcp_request", "initialize", prefix]) >= 1, "{log}");
    assert!(with(&["era", "session"]) >= 4, "{log}");
    assert_eq!(with(&["session opened", prefix, "2025-11-25"]), 1, "{log}");
    assert_eq!(with(&["session closed", prefix, "deleted"]), 1, "{log}");
    // The tool's `Err` (an isError result), and the JSON-RPC error.
    assert_eq!(
        with(&[
            "WARN",
            "tool returned an error result",
            "fail",
            "tools/call",
            prefix
        ]),
        1,
        "{log}"
    );
    assert_eq!(
        with(&["WARN", "request failed", "-32602", "tools/call", prefix]),
        1,
        "{log}"
    );
    assert_eq!(with(&["request finished", "outcome=\"ok\""]), 3, "{log}");
    // No header, and so no token, is ever recorded.
    assert!(!log.to_ascii_lowercase().contains("authorization"), "{log}");
}

/// Metrics as they accumulate over snapshots (each snapshot of a
/// `DebuggingRecorder` takes what was recorded since the last one, gauges
/// included, so gauges are summed too).
#[derive(Debug, Default)]
struct Seen(HashMap<MetricId, f64>);

/// A metric's kind, name and labels (sorted).
type MetricId = (MetricKind, String, Vec<(String, String)>);

impl Seen {
    fn take(&mut self, snapshotter: &Snapshotter) {
        for (key, _, _, value) in snapshotter.snapshot().into_vec() {
            let (kind, key) = key.into_parts();
            let mut labels: Vec<(String, String)> = key
                .labels()
                .map(|l| (l.key().to_owned(), l.value().to_owned()))
                .collect();
            labels.sort();
            let amount = match value {
                DebugValue::Counter(n) => n as f64,
                DebugValue::Gauge(g) => g.0,
                DebugValue::Histogram(samples) => samples.len() as f64,
            };
            *self
                .0
                .entry((kind, key.name().to_owned(), labels))
                .or_default() += amount;
        }
    }

    fn get(&self, kind: MetricKind, name: &str, labels: &[(&str, &str)]) -> f64 {
        let mut labels: Vec<(String, String)> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        labels.sort();
        self.0
            .get(&(kind, name.to_owned(), labels))
            .copied()
            .unwrap_or_default()
    }

    fn sessions_open(&self) -> f64 {
        self.get(MetricKind::Gauge, "switchboard_sessions_open", &[])
    }

    fn requests(&self, method: &str, outcome: &str) -> f64 {
        self.get(
            MetricKind::Counter,
            "switchboard_requests_total",
            &[("method", method), ("outcome", outcome)],
        )
    }

    fn handler_samples(&self, method: &str) -> f64 {
        self.get(
            MetricKind::Histogram,
            "switchboard_handler_duration_seconds",
            &[("method", method)],
        )
    }
}

#[test]
fn a_session_is_counted_and_timed() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let seen = Mutex::new(Seen::default());
    let gauge_steps = Mutex::new(Vec::new());
    metrics::with_local_recorder(&recorder, || {
        let (transport, server) = in_process();
        futures::executor::block_on(async {
            let client = async {
                script(&transport, |_| {
                    let mut seen = seen.lock().unwrap();
                    seen.take(&snapshotter);
                    gauge_steps.lock().unwrap().push(seen.sessions_open());
                })
                .await;
                transport.close().await.unwrap();
            };
            let (served, ()) = futures::join!(server.run(), deadline("the script", client));
            served.unwrap();
        });
        drop(server);
    });
    let mut seen = seen.into_inner().unwrap();
    seen.take(&snapshotter);
    assert_eq!(*gauge_steps.lock().unwrap(), [1.0, 0.0], "{seen:?}");
    assert_eq!(seen.sessions_open(), 0.0, "{seen:?}");
    assert_eq!(seen.requests("initialize", "ok"), 1.0, "{seen:?}");
    assert_eq!(seen.requests("tools/call", "ok"), 2.0, "{seen:?}");
    assert_eq!(seen.requests("tools/call", "tool_error"), 1.0, "{seen:?}");
    assert_eq!(seen.requests("tools/call", "error"), 1.0, "{seen:?}");
    assert_eq!(seen.requests("tools/call", "cancelled"), 0.0, "{seen:?}");
    // One sample per handler that ran; `initialize` has none.
    assert_eq!(seen.handler_samples("tools/call"), 4.0, "{seen:?}");
    assert_eq!(seen.handler_samples("initialize"), 0.0, "{seen:?}");
}

#[test]
fn made_up_methods_are_counted_as_other() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let (transport, _server) = in_process();
        futures::executor::block_on(deadline("the requests", async {
            let session = initialize(&transport).await;
            for (id, method) in [(1, "made/up"), (2, "also/made-up")] {
                let body = json!({"jsonrpc": "2.0", "id": id, "method": method});
                let reply = transport
                    .handle_http_request(session.clone(), body.to_string().into_bytes())
                    .await
                    .unwrap();
                let reply: Value = serde_json::from_slice(&reply).unwrap();
                assert_eq!(reply["error"]["code"], -32601, "{reply}");
            }
        }));
    });
    let mut seen = Seen::default();
    seen.take(&snapshotter);
    assert_eq!(seen.requests("other", "error"), 2.0, "{seen:?}");
    let methods: Vec<&str> = seen
        .0
        .keys()
        .flat_map(|(_, _, labels)| labels.iter())
        .filter(|(k, _)| k == "method")
        .map(|(_, v)| v.as_str())
        .collect();
    assert!(
        methods.iter().all(|m| ["initialize", "other"].contains(m)),
        "{methods:?}"
    );
    // The server (and its session) dropped: the gauge is back to zero.
    assert_eq!(seen.sessions_open(), 0.0, "{seen:?}");
}

/// The recorder of this binary's global metrics, installed once. Only
/// [`over_a_socket_the_session_gauge_follows_initialize_and_delete`] reads it: the
/// other tests record into recorders of their own threads.
fn global() -> &'static Snapshotter {
    static GLOBAL: OnceLock<Snapshotter> = OnceLock::new();
    GLOBAL.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder.install().expect("the only global recorder");
        snapshotter
    })
}

#[test]
fn over_a_socket_the_session_gauge_follows_initialize_and_delete() {
    let snapshotter = global();
    let mut seen = Seen::default();
    let server = TestServer::start_builder(Rt::Smol, builder(), HttpConfig::default());
    let session = Session::initialize(server.addr, "2025-11-25");
    seen.take(snapshotter);
    assert_eq!(seen.sessions_open(), 1.0, "{seen:?}");
    for (id, tool) in [(1, "echo"), (2, "fail")] {
        let replies = session.call(id, "tools/call", json!({"name": tool, "arguments": {}}));
        assert!(replies[0]["result"].is_object(), "{replies:?}");
    }
    let mut conn = Conn::connect(server.addr);
    let r = conn.request("DELETE", "/mcp", &[("mcp-session-id", &session.id)], "");
    assert_eq!(r.status(), 200);
    // A refused HTTP request is no MCP request.
    let r = conn.request("POST", "/mcp", &POST_HEADERS, "{}");
    assert!(r.status() >= 400);
    seen.take(snapshotter);
    assert_eq!(seen.sessions_open(), 0.0, "{seen:?}");
    assert_eq!(seen.requests("initialize", "ok"), 1.0, "{seen:?}");
    assert_eq!(seen.requests("tools/call", "ok"), 1.0, "{seen:?}");
    assert_eq!(seen.requests("tools/call", "tool_error"), 1.0, "{seen:?}");
    assert_eq!(seen.handler_samples("tools/call"), 2.0, "{seen:?}");
}

#[test]
fn a_cancelled_request_is_counted_cancelled_and_its_session_closes_with_the_transport() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let (transport, client) = switchboard_core::memory_pair(16);
        let server = builder()
            .tool(
                Tool::new("hang", "Never answers"),
                |_: Value, _ctx| async move {
                    futures::future::pending::<()>().await;
                    Ok::<String, ToolError>(String::new())
                },
            )
            .build(transport);
        let mut client = tests::TestClient::new(client);
        futures::executor::block_on(async {
            let script = async {
                client.initialize("s1", "2025-11-25").await;
                client.call_tool("s1", 1, "hang", json!({})).await;
                client
                    .notify("s1", "notifications/cancelled", json!({"requestId": 1}))
                    .await;
                let cancelled = Route::Cancelled(RequestId::number(1));
                client
                    .next_where("the cancellation", |r| r.route == cancelled)
                    .await;
                // The client leaving closes its session (`Inbound::Closed`).
                client.raw().close();
            };
            let (served, ()) = futures::join!(server.run(), deadline("the script", script));
            served.unwrap();
        });
    });
    let mut seen = Seen::default();
    seen.take(&snapshotter);
    assert_eq!(seen.requests("tools/call", "cancelled"), 1.0, "{seen:?}");
    assert_eq!(seen.handler_samples("tools/call"), 1.0, "{seen:?}");
    assert_eq!(seen.sessions_open(), 0.0, "{seen:?}");
}
