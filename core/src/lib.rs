//! Executor-neutral core of an MCP server: JSON-RPC 2.0, the MCP engine,
//! transports, and (for the runtime adapters) HTTP/1.1 framing.
//!
//! This crate opens no sockets and spawns nothing by itself. Transports hand
//! messages in; everything that needs an executor (spawning handlers, timers)
//! comes in through [`Runtime`], which `switchboard-smol` and
//! `switchboard-tokio` implement.
//!
//! ```text
//!  Transport::receive ──▶ decode ──▶ session table ──▶ dispatch ──▶ handler(ctx)
//!                                                                     │ related messages,
//!  Transport::send ◀── Outbound { session, route: Reply/Related(id) } ◀┘ then the result
//! ```
//!
//! Each request gets its own reply route (session + JSON-RPC id), and
//! handlers run concurrently: a slow tool holds nobody else up.
//!
//! # Examples
//!
//! A server with one tool, driven over an in-memory transport:
//!
//! ```
//! use serde_json::{json, Value};
//! use switchboard_core::{memory_pair, CallToolResult, McpServerBuilder, SessionId, Tool};
//!
//! #[derive(serde::Deserialize)]
//! struct EchoArgs { text: String }
//!
//! # futures::executor::block_on(async {
//! let (transport, client) = memory_pair(16);
//! let server = McpServerBuilder::new()
//!     .server_info("demo", "1.0.0")
//!     .tool(Tool::new("echo", "Echoes its text"), |args: EchoArgs, _ctx| async move {
//!         Ok(CallToolResult::text(args.text))
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
#![forbid(unsafe_code)]

mod context;
mod facts;
pub mod http;
mod id;
pub mod jsonrpc;
mod protocol;
mod runtime;
mod server;
mod session;
mod stream;
mod streams;
mod transport;
mod uri_template;

pub use context::{ContextError, RequestContext, RequestError};
pub use http::{HttpConfig, HttpServerTransport, HttpService};
pub use id::SessionId;
pub use jsonrpc::{ErrorCode, Message, Params, RequestId, RpcError};
pub use protocol::{
    CallToolResult, CompleteRequest, Completion, CompletionArgument, Content, GetPromptResult,
    Implementation, LogLevel, Prompt, PromptArgument, PromptArguments, PromptMessage,
    ProtocolVersion, ReadResourceResult, Resource, ResourceContents, ResourceTemplate, Role, Tool,
    UnsupportedVersion,
};
pub use runtime::{BoxFuture, Runtime};
pub use server::{
    DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_SESSIONS, DEFAULT_MAX_SUBSCRIPTIONS, DEFAULT_PAGE_SIZE,
    DEFAULT_REQUEST_TIMEOUT, McpServer, McpServerBuilder, ServerConfig,
};
pub use session::Session;
pub use transport::memory::{MemoryClient, MemoryTransport, memory_pair};
pub use transport::stdio::{DEFAULT_MAX_LINE_LEN, StdioTransport};
pub use transport::{
    Dispatch, Dispatched, Inbound, InitializeError, Initialized, Outbound, Refusal, Route,
    Transport, TransportError,
};
pub use uri_template::TemplateError;
