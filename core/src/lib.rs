//! Executor-neutral core of an MCP server: JSON-RPC 2.0, the MCP engine,
//! its transports (in memory, stdio, Streamable HTTP), and the HTTP/1.1
//! framing the runtime adapters share.
//!
//! # What it does
//!
//! A server is declared with [`McpServerBuilder`] (tools, resources,
//! prompts, completion, limits) and built over a [`Transport`]. Messages
//! reach the engine two ways: a transport's queue, which
//! [`McpServer::run`] pulls from ([`memory_pair`], [`StdioTransport`]), or
//! the engine's direct line [`Dispatch`], which a transport calls from its
//! own tasks ([`HttpServerTransport`] does, so each HTTP connection drives
//! its own requests). Either way every outbound message carries its session
//! and a [`Route`], the request it answers or relates to, so each reply
//! finds its own request.
//!
//! ```text
//!  HTTP/1.1 bytes ─▶ http::wire (head, body, limits) ─▶ HttpServerTransport::handle
//!                    (path, Host/Origin, Accept, Content-Type, session and version headers)
//!                       │ initialize: Dispatch::initialize ─▶ a new Session in the engine's table
//!                       │ POST:       Dispatch::dispatch(session, message) ─▶ admit ids, open a reply stream
//!                       ▼
//!  stdio / memory ─▶ Transport::receive ─▶ McpServer::run ─▶ engine: lifecycle, method family ─▶ handler(args, ctx)
//!                                                                                                   │
//!  Transport::send(Outbound { session, route: Related(id) | Reply(id) }) ◀── progress, logs, result ┘
//!     │ HTTP: into the session's stream for that request (logged for Last-Event-ID)
//!     ▼
//!  JSON body, or SSE events on the request's own response ─▶ socket
//! ```
//!
//! Two protocol eras share the endpoint (see [`stateless`]): the session
//! era above, and the stateless 2026-07-28 revision, where a POST whose
//! `_meta` names its revision is served without a session
//! (`Dispatch::dispatch_stateless`), in a carrier made for that one request
//! and ended with its response.
//!
//! In that revision a tool registered with
//! [`McpServerBuilder::task_tool`] can also run as a task (the
//! `io.modelcontextprotocol/tasks` extension, see [`tasks`]): the call is
//! answered with a task id at once and its handler runs on, polled with
//! `tasks/get`.
//!
//! Handlers run concurrently: a slow tool holds nobody else up. Sessions
//! live in one table owned by the engine; what HTTP needs per session (its
//! reply streams and their logs, its activity stamp) hangs off the session.
//!
//! # What it does not do
//!
//! - It opens no socket and spawns nothing itself: anything that needs an
//!   executor (spawning handlers, timers, accepting connections) comes in
//!   through [`Runtime`], which `switchboard-smol` and `switchboard-tokio`
//!   implement, each with an HTTP listener, and [`block_on_pool`], a small
//!   executor on std alone for stdio (no runtime crate; WASI). Without a runtime, handlers run
//!   inside the serve loop (or on the HTTP caller's task) and server→client
//!   requests are refused ([`RequestError::NoRuntime`]), since nothing
//!   could time them out.
//! - It validates tool arguments against `inputSchema` only with the
//!   `validate` feature; otherwise they are deserialized into the handler's
//!   type, and a mismatch is reported as the session's revision says.
//! - It has no TLS and no HTTP/2 of its own: mount the endpoint in a
//!   server that has them through [`HttpService::respond`], over the `http`
//!   crate's types (`switchboard-tokio`'s `hyper` feature does, for hyper
//!   and axum). Authentication is a hook ([`HttpConfig::auth`]): it
//!   verifies no token format itself.
//!
//! # Features
//!
//! - `schemars` (default): schemas generated from types: [`Args<T>`] for a
//!   tool's `inputSchema` or a prompt's arguments, [`Json<T>`] for an
//!   `outputSchema`, [`RequestContext::elicit`] for a form.
//! - `request-state` (default): `requestState` sealed with HMAC-SHA256,
//!   for stateless requests that ask the client for input over several
//!   round trips (`ServerConfig::request_state_keys`). Without it such a
//!   round fails (`-32603`) and a retry's state is refused (`-32602`).
//! - `validate`: tool arguments checked against `inputSchema` before the
//!   handler runs (the `jsonschema` crate; a tool's validator is compiled
//!   at its first call).
//! - `tracing`: spans per HTTP and MCP request, events for refusals,
//!   sessions and handler errors (the `tracing` facade; see the README's
//!   "Tracing" for the names). Nothing at all without it.
//! - `metrics`: sessions, connections and SSE streams open, requests by
//!   method and outcome, refusals by status, handler latency, events
//!   replayed (the `metrics` facade; names in the README's "Metrics").
//!
//! # Examples
//!
//! A server with one typed tool (its `inputSchema` generated from
//! `EchoArgs`), driven over an in-memory transport on `futures::executor`
//! (no runtime crate):
//!
//! ```
//! use serde_json::{json, Value};
//! use switchboard_core::{memory_pair, Args, McpServerBuilder, SessionId, Tool};
//!
//! #[derive(serde::Deserialize, schemars::JsonSchema)]
//! struct EchoArgs {
//!     /// The text to send back.
//!     text: String,
//! }
//!
//! # futures::executor::block_on(async {
//! let (transport, client) = memory_pair(16);
//! let server = McpServerBuilder::new()
//!     .server_info("demo", "1.0.0")
//!     .tool(Tool::new("echo", "Echoes its text"), |Args(args): Args<EchoArgs>, _ctx| async move {
//!         Ok(args.text)
//!     })
//!     .build(transport);
//!
//! let session = SessionId::new("s1");
//! let client_side = async {
//!     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
//!         "params": {"protocolVersion": "2025-11-25", "capabilities": {},
//!                    "clientInfo": {"name": "c", "version": "1"}}})).await.unwrap();
//!     client.recv().await.unwrap();
//!     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
//!         "params": {"name": "echo", "arguments": {"text": "hello"}}})).await.unwrap();
//!     let reply: Value = serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap();
//!     assert_eq!(reply["result"]["content"][0]["text"], "hello");
//!     client.close();
//! };
//! let (served, ()) = futures::join!(server.run(), client_side);
//! served.unwrap();
//! # });
//! ```
//!
//! The same server over Streamable HTTP, through the request→response entry
//! that the adapters' listeners call for every request:
//!
//! ```
//! use switchboard_core::http::wire::parse_head;
//! use switchboard_core::{HttpConfig, HttpServerTransport, McpServerBuilder};
//!
//! # futures::executor::block_on(async {
//! let config = HttpConfig::default();
//! let transport = HttpServerTransport::new(config.clone());
//! let _server = McpServerBuilder::new().server_info("demo", "1.0.0").build(transport.clone());
//!
//! let body = br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":
//!     {"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#;
//! let raw = "POST /mcp HTTP/1.1\r\nHost: localhost\r\nAccept: application/json, text/event-stream\r\n\
//!            Content-Type: application/json\r\n\r\n";
//! let (head, _) = parse_head(raw.as_bytes(), &config).unwrap().unwrap();
//! let response = transport.handle(&head, body.to_vec()).await;
//! assert_eq!(response.status, 200);
//! assert!(response.headers.iter().any(|(name, _)| name == "mcp-session-id"));
//! # });
//! ```
#![forbid(unsafe_code)]

mod base64;
pub mod bus;
pub mod clock;
mod context;
mod facts;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
mod id;
pub mod jsonrpc;
mod observe;
mod principal;
mod protocol;
mod runtime;
mod server;
mod session;
pub mod session_store;
#[cfg(feature = "simulation")]
#[doc(hidden)]
pub mod simulation;
pub mod stateless;
mod stream;
mod streams;
pub mod tasks;
mod transport;
mod typed;
mod uri_template;

pub use bus::{BusError, Change, EventBus, InProcessBus, ListFamily};
pub use clock::Clock;
pub use context::{ContextError, RequestContext, RequestError};
pub use facts::Capability;
pub use http::{HttpConfig, HttpServerTransport, HttpService};
pub use id::SessionId;
pub use jsonrpc::{ErrorCode, Message, Params, RequestId, RpcError};
pub use protocol::{
    CallToolResult, CompleteRequest, Completion, CompletionArgument, Content, CreateMessageRequest,
    CreateMessageResult, Elicitation, GetPromptResult, Implementation, LogLevel, Prompt,
    PromptArgument, PromptArguments, PromptMessage, ProtocolVersion, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, Role, Root, SamplingMessage, Tool, UnsupportedVersion,
};
pub use runtime::{BoxFuture, Runtime};
#[cfg(not(all(target_arch = "wasm32", target_os = "unknown")))]
pub use runtime::{PoolReader, PoolRuntime, block_on_pool};
/// The `schemars` crate this one generates schemas with, for
/// `#[derive(JsonSchema)]` without a dependency of your own (add
/// `#[schemars(crate = "switchboard_core::schemars")]` then).
#[cfg(feature = "schemars")]
pub use schemars;
pub use server::{
    BuildError, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_LISTENERS, DEFAULT_MAX_REQUEST_STATE_BYTES,
    DEFAULT_MAX_SESSIONS, DEFAULT_MAX_STATELESS_IN_FLIGHT, DEFAULT_MAX_SUBSCRIPTIONS,
    DEFAULT_PAGE_SIZE, DEFAULT_REQUEST_STATE_TTL, DEFAULT_REQUEST_TIMEOUT, LocalHandlers,
    LocalMcpServer, LocalServerBuilder, McpServer, McpServerBuilder, ServerConfig,
};
pub use session::Session;
pub use transport::memory::{MemoryClient, MemoryTransport, memory_pair};
pub use transport::stdio::{DEFAULT_MAX_LINE_LEN, StdioTransport};
pub use transport::{
    Dispatch, Dispatched, Inbound, InitializeError, Initialized, Outbound, Refusal, Route,
    Transport, TransportError,
};
#[cfg(feature = "schemars")]
pub use typed::schema_for;
pub use typed::{Args, Json, StringArgs, ToolArgs, ToolError, ToolOutput};
pub use uri_template::TemplateError;
