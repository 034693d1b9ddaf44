//! Starting a test MCP server over HTTP on smol or tokio, in its own thread,
//! and speaking MCP to it through [`Conn`].

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Value, json};
use switchboard_core::http::Shutdown;
use switchboard_core::{
    CallToolResult, CreateMessageRequest, HttpConfig, McpServer, McpServerBuilder, Resource,
    RpcError, SamplingMessage, ServerConfig, Tool,
};

use crate::client::{Conn, Reply};

/// Which runtime a test server runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rt {
    /// smol.
    Smol,
    /// tokio, multi-threaded.
    Tokio,
    /// smol on one thread (`switchboard_smol::block_on_local`).
    SmolLocal,
    /// tokio on one thread (`switchboard_tokio::block_on_local`).
    TokioLocal,
}

/// Named one-shot gates a test opens to let a waiting tool go on.
#[derive(Clone, Default, Debug)]
pub struct Gates(Arc<Mutex<HashMap<String, Gate>>>);

type Gate = (smol::channel::Sender<()>, smol::channel::Receiver<()>);

impl Gates {
    fn get(&self, name: &str) -> Gate {
        let mut map = self.0.lock().unwrap();
        map.entry(name.to_owned())
            .or_insert_with(|| smol::channel::bounded(1))
            .clone()
    }

    /// Opens a gate (once).
    pub fn open(&self, name: &str) {
        self.get(name).0.try_send(()).expect("gate opened once");
    }

    /// Whether a gate was opened and not yet passed.
    pub fn is_open(&self, name: &str) -> bool {
        !self.get(name).1.is_empty()
    }

    /// Waits for a gate.
    pub async fn wait(&self, name: &str) {
        let rx = self.get(name).1;
        rx.recv().await.expect("gate sender kept");
    }
}

#[derive(Deserialize)]
struct TextArgs {
    text: String,
    #[serde(default)]
    ms: u64,
}

#[derive(Deserialize)]
struct GateArgs {
    #[serde(default)]
    text: String,
    gate: String,
}

/// Opens gate `dropped:{name}` when dropped: a handler holds one to show
/// it was dropped (cancelled).
struct DropFlag(Gates, String);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.open(&format!("dropped:{}", self.1));
    }
}

/// The tools every HTTP test server has.
pub fn test_builder(gates: &Gates) -> McpServerBuilder {
    test_builder_with(gates, Arc::new(OnceLock::new()))
}

/// The tools every HTTP test server has, with `server` for the tools that
/// need the server itself (set once it is built).
pub fn test_builder_with(gates: &Gates, server: Arc<OnceLock<McpServer>>) -> McpServerBuilder {
    let g1 = gates.clone();
    let g2 = gates.clone();
    let g3 = gates.clone();
    McpServerBuilder::new()
        .server_info("http-test", "0.0.1")
        .tool(
            Tool::new("echo", "echo, after `ms` milliseconds"),
            |a: TextArgs, ctx| async move {
                if a.ms > 0 {
                    let rt = ctx
                        .runtime()
                        .cloned()
                        .ok_or_else(|| RpcError::internal("no runtime"))?;
                    rt.sleep(Duration::from_millis(a.ms)).await;
                }
                Ok(CallToolResult::text(a.text))
            },
        )
        .tool(
            Tool::new("gated", "returns text once its gate opens"),
            move |a: GateArgs, _ctx| {
                let gates = g1.clone();
                async move {
                    gates.wait(&a.gate).await;
                    Ok(CallToolResult::text(a.text))
                }
            },
        )
        .tool(
            Tool::new("steps", "progress 1, waits for its gate, progress 2 and 3"),
            move |a: GateArgs, ctx| {
                let gates = g2.clone();
                async move {
                    ctx.progress(1.0, Some(3.0), None).await.ok();
                    gates.wait(&a.gate).await;
                    ctx.progress(2.0, Some(3.0), None).await.ok();
                    ctx.progress(3.0, Some(3.0), None).await.ok();
                    Ok(CallToolResult::text("steps done"))
                }
            },
        )
        .tool(
            Tool::new("sample", "asks the client's LLM"),
            |a: TextArgs, ctx| async move {
                let request = CreateMessageRequest::new(vec![SamplingMessage::user(a.text)], 100);
                Ok(match ctx.create_message(request).await {
                    Ok(r) => CallToolResult::text(format!("LLM response: {}", r.text())),
                    Err(e) => CallToolResult::error(e.to_string()),
                })
            },
        )
        .tool(
            Tool::new("poll", "closes its stream, then answers"),
            |_: Value, ctx| async move {
                ctx.close_sse_stream()
                    .await
                    .map_err(|e| RpcError::internal(e.to_string()))?;
                Ok(CallToolResult::text("polled"))
            },
        )
        .tool(
            Tool::new(
                "ask",
                "asks the user's name (a multi round-trip request when stateless)",
            ),
            |_: Value, ctx| async move {
                let params = json!({"message": "Name?", "requestedSchema": {"type": "object",
                "properties": {"name": {"type": "string"}}}});
                let answer = ctx.input("name", "elicitation/create", params).await?;
                Ok(CallToolResult::text(format!(
                    "hello {}",
                    answer["content"]["name"].as_str().unwrap_or("?")
                )))
            },
        )
        .tool(
            Tool::new(
                "ask_twice",
                "asks a name, then a city (two rounds when stateless)",
            ),
            |_: Value, ctx| async move {
                let schema = |field: &str| {
                    json!({"message": field, "requestedSchema":
                    {"type": "object", "properties": {field: {"type": "string"}}}})
                };
                let name = ctx
                    .input("name", "elicitation/create", schema("name"))
                    .await?;
                let city = ctx
                    .input("city", "elicitation/create", schema("city"))
                    .await?;
                Ok(CallToolResult::text(format!(
                    "{} from {}",
                    name["content"]["name"].as_str().unwrap_or("?"),
                    city["content"]["city"].as_str().unwrap_or("?")
                )))
            },
        )
        .tool(
            Tool::new("guarded", "progress, then waits until dropped"),
            move |a: GateArgs, ctx| {
                let gates = g3.clone();
                async move {
                    let _flag = DropFlag(gates, a.gate);
                    ctx.progress(1.0, None, None).await.ok();
                    futures::future::pending::<()>().await;
                    Ok(CallToolResult::text("never"))
                }
            },
        )
        .tool(
            Tool::new("announce", "announces a tool list change"),
            move |_: Value, _ctx| {
                let server = Arc::clone(&server);
                async move {
                    if let Some(server) = server.get() {
                        server.notify_tools_changed().await;
                    }
                    Ok(CallToolResult::text("announced"))
                }
            },
        )
        .text_resource(Resource::new("test://a", "a"), "A")
}

/// A running test server.
#[derive(Debug)]
pub struct TestServer {
    /// Its address.
    pub addr: SocketAddr,
    /// Its MCP server handle.
    pub server: McpServer,
    /// The gates its tools wait on.
    pub gates: Gates,
    shutdown: Shutdown,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Starts a server with the test tools on `rt`; its lists may change
    /// (`listChanged`), as the `announce` tool says they do.
    pub fn start(rt: Rt, config: HttpConfig) -> Self {
        Self::start_with(rt, config, ServerConfig::default().list_changed(true))
    }

    /// Starts a server with the test tools on `rt`, with engine limits too.
    pub fn start_with(rt: Rt, config: HttpConfig, limits: ServerConfig) -> Self {
        let gates = Gates::default();
        let handle = Arc::new(OnceLock::new());
        let builder = test_builder_with(&gates, Arc::clone(&handle)).config(limits);
        let mut server = Self::start_builder(rt, builder, config);
        let _ = handle.set(server.server.clone());
        server.gates = gates;
        server
    }

    /// Starts a server of `builder`'s on `rt` (its `gates` are unused).
    pub fn start_builder(rt: Rt, builder: McpServerBuilder, config: HttpConfig) -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let addr: SocketAddr = "127.0.0.1:0".parse().unwrap();
            // Serves until the shutdown signal, after telling the test
            // where, on whichever runtime `rt` names.
            macro_rules! serve {
                ($server:expr) => {
                    async move {
                        let server = $server.await.unwrap();
                        tx.send((
                            server.local_addr().unwrap(),
                            server.server().clone(),
                            server.shutdown_signal(),
                        ))
                        .unwrap();
                        server.grace(Duration::from_secs(2)).run().await.unwrap();
                    }
                };
            }
            match rt {
                Rt::Smol => smol::block_on(serve!(switchboard_smol::HttpServer::bind(
                    addr, builder, config
                ))),
                Rt::Tokio => {
                    let runtime = tokio::runtime::Builder::new_multi_thread()
                        .worker_threads(2)
                        .enable_all()
                        .build()
                        .unwrap();
                    runtime.block_on(serve!(switchboard_tokio::HttpServer::bind(
                        addr, builder, config
                    )));
                }
                Rt::SmolLocal => switchboard_smol::block_on_local(|runtime| {
                    serve!(switchboard_smol::HttpServer::bind_with(
                        addr, builder, config, runtime
                    ))
                }),
                Rt::TokioLocal => switchboard_tokio::block_on_local(|runtime| {
                    serve!(switchboard_tokio::HttpServer::bind_with(
                        addr, builder, config, runtime
                    ))
                })
                .unwrap(),
            }
        });
        let (addr, server, shutdown) = rx.recv_timeout(crate::DEADLINE).expect("server starts");
        Self {
            addr,
            server,
            gates: Gates::default(),
            shutdown,
            thread: Some(thread),
        }
    }

    /// Triggers a graceful shutdown (the server thread ends on its own).
    pub fn shut_down(&self) {
        self.shutdown.trigger();
    }

    /// A new connection.
    pub fn conn(&self) -> Conn {
        Conn::connect(self.addr)
    }

    /// Initializes a new session at 2025-11-25.
    pub fn session(&self) -> Session {
        Session::initialize(self.addr, "2025-11-25")
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown.trigger();
        if let Some(t) = self.thread.take() {
            // A panic in the server thread fails the test that owns it.
            if t.join().is_err() && !std::thread::panicking() {
                panic!("server thread panicked");
            }
        }
    }
}

/// The `_meta` of a stateless request at 2026-07-28 declaring
/// `capabilities`.
pub fn stateless_meta(capabilities: Value) -> Value {
    json!({"io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": capabilities,
        "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"}})
}

/// The headers of a stateless POST of `method` (with `Mcp-Name: name`).
pub fn stateless_headers(method: &str, name: Option<&str>) -> Vec<(String, String)> {
    let mut h: Vec<(String, String)> = POST_HEADERS
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    h.push(("mcp-protocol-version".into(), "2026-07-28".into()));
    h.push(("mcp-method".into(), method.into()));
    if let Some(name) = name {
        h.push(("mcp-name".into(), name.into()));
    }
    h
}

/// Owned header pairs as the `(&str, &str)` pairs [`Conn`] sends.
pub fn header_refs(headers: &[(String, String)]) -> Vec<(&str, &str)> {
    headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// POSTs stateless request `id` (`params` gets the `_meta` unless it has
/// one) with its proper headers, on a fresh connection.
pub fn stateless(addr: SocketAddr, id: i64, method: &str, mut params: Value) -> Reply {
    if params.get("_meta").is_none() {
        params["_meta"] = stateless_meta(json!({"elicitation": {}, "sampling": {}}));
    }
    let name = params
        .get("name")
        .or_else(|| params.get("uri"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let headers = stateless_headers(method, name.as_deref());
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let headers = header_refs(&headers);
    Conn::connect(addr).request("POST", "/mcp", &headers, &body.to_string())
}

/// The headers every POST carries.
pub const POST_HEADERS: [(&str, &str); 2] = [
    ("content-type", "application/json"),
    ("accept", "application/json, text/event-stream"),
];

/// An initialized MCP session.
#[derive(Clone, Debug)]
pub struct Session {
    /// The server's address.
    pub addr: SocketAddr,
    /// The `Mcp-Session-Id`.
    pub id: String,
    /// The negotiated version.
    pub version: String,
}

impl Session {
    /// Initializes a session (with sampling declared) and sends `initialized`.
    pub fn initialize(addr: SocketAddr, version: &str) -> Self {
        Self::initialize_with(addr, version, json!({"sampling": {}}))
    }

    /// Initializes a session declaring `capabilities` and sends `initialized`.
    pub fn initialize_with(addr: SocketAddr, version: &str, capabilities: Value) -> Self {
        let mut conn = Conn::connect(addr);
        let body = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": version, "capabilities": capabilities,
                       "clientInfo": {"name": "t", "version": "1"}}});
        let reply = conn.request("POST", "/mcp", &POST_HEADERS, &body.to_string());
        assert_eq!(reply.status(), 200, "{reply:?}");
        let id = reply
            .head
            .header("mcp-session-id")
            .expect("a session id")
            .to_owned();
        let session = Self {
            addr,
            id,
            version: reply.json()["result"]["protocolVersion"]
                .as_str()
                .unwrap()
                .to_owned(),
        };
        let r = session.post(
            &mut conn,
            &json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        );
        assert_eq!(r.status(), 202);
        assert!(r.body.is_empty());
        session
    }

    /// Opens the session's GET stream on a connection of its own, resuming
    /// after `last_event_id` if given; returns the connection with the
    /// response's head read.
    pub fn open_get(&self, last_event_id: Option<&str>) -> (Conn, crate::client::Head) {
        let mut conn = Conn::connect(self.addr);
        let mut headers = vec![
            ("accept", "text/event-stream"),
            ("mcp-session-id", self.id.as_str()),
            ("mcp-protocol-version", self.version.as_str()),
        ];
        if let Some(id) = last_event_id {
            headers.push(("last-event-id", id));
        }
        conn.send("GET", "/mcp", &headers, "");
        let head = conn.read_head();
        (conn, head)
    }

    /// The session and version headers plus the POST headers.
    pub fn headers(&self) -> Vec<(&str, &str)> {
        let mut h = POST_HEADERS.to_vec();
        h.push(("mcp-session-id", &self.id));
        h.push(("mcp-protocol-version", &self.version));
        h
    }

    /// POSTs a message on `conn` and reads the whole reply.
    pub fn post(&self, conn: &mut Conn, message: &Value) -> Reply {
        conn.request("POST", "/mcp", &self.headers(), &message.to_string())
    }

    /// Sends a request on a fresh connection and returns its reply messages.
    pub fn call(&self, id: i64, method: &str, params: Value) -> Vec<Value> {
        let mut conn = Conn::connect(self.addr);
        let reply = self.post(
            &mut conn,
            &json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}),
        );
        assert_eq!(reply.status(), 200, "{reply:?}");
        reply.messages()
    }

    /// Calls a tool and returns the text of its first content block.
    pub fn tool_text(&self, id: i64, name: &str, args: Value) -> String {
        let messages = self.call(id, "tools/call", json!({"name": name, "arguments": args}));
        let last = messages.last().expect("a reply");
        assert_eq!(last["id"], id);
        last["result"]["content"][0]["text"]
            .as_str()
            .unwrap_or_else(|| panic!("{last}"))
            .to_owned()
    }
}
