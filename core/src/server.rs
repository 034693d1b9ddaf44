//! The engine: [`McpServerBuilder`] (what a server offers and its limits)
//! and [`McpServer`] (its handle while it runs), with everything between
//! a decoded message and its handler in the modules below.
//!
//! - `config`: [`ServerConfig`], the limits.
//! - `shared`: the state the handle, the serve loop and transports share.
//! - `registry`: tools, resources, templates and prompts with their handlers.
//! - `dispatch`: admission, lifecycle, notifications, in-flight requests;
//!   the engine's side of [`Dispatch`].
//! - `lifecycle`: `initialize` and the capabilities it declares.
//! - `methods`: one file per method family.
//! - `params`, `error`: reading params, encoding results, and the one
//!   conversion of engine errors into JSON-RPC errors.
//! - `run`: the serve loop over [`Transport::receive`].
//!
//! # The life of a request
//!
//! 1. A transport delivers bytes in a session: queued for the serve loop
//!    (`run`), or handed to [`Dispatch::dispatch`] from the transport's own
//!    task (HTTP).
//! 2. The engine decodes them, finds the session (in a session not yet open
//!    only `initialize` and `ping` are served) and *admits* the requests:
//!    their ids are checked against the ones in flight and registered,
//!    synchronously, before any handler is polled. A
//!    `notifications/cancelled` that follows therefore always finds its
//!    request, and the `max_in_flight` cap holds however the work is driven.
//! 3. `methods::route` picks the method family; the family reads the
//!    params, looks the handler up in the registry (the lock is held for the
//!    look-up only, never across an `.await`) and runs it.
//! 4. The result or error is encoded once and sent as
//!    [`Route::Reply`](crate::Route::Reply); a cancelled request gets no
//!    response, only [`Route::Cancelled`](crate::Route::Cancelled), so the
//!    transport can free its reply slot.
//!
//! Every error a client sees is chosen in `error.rs`, which lists the codes.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock, RwLock, Weak};

use serde::de::DeserializeOwned;
use serde_json::json;

use crate::context::{Outlet, RequestContext};
use crate::id::SessionId;
use crate::jsonrpc::RpcError;
use crate::protocol::{
    CallToolResult, CompleteRequest, Completion, GetPromptResult, Implementation, Prompt,
    PromptArguments, ReadResourceResult, Resource, ResourceContents, ResourceTemplate, Tool,
};
use crate::runtime::Runtime;
use crate::session::SessionTable;
use crate::transport::{Dispatch, Transport, TransportError};
use crate::uri_template::TemplateError;

mod config;
mod dispatch;
mod error;
mod lifecycle;
mod methods;
mod params;
mod registry;
mod run;
mod shared;

pub use config::{
    DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_SESSIONS, DEFAULT_MAX_SUBSCRIPTIONS, DEFAULT_PAGE_SIZE,
    DEFAULT_REQUEST_TIMEOUT, ServerConfig,
};
use dispatch::Engine;
use registry::{Registry, remove};
use shared::Shared;

/// Builds an [`McpServer`]: server info, registrations, limits.
///
/// Registrations are keyed: a tool or prompt by its name, a resource by its
/// URI, a template by its URI template. Registering a key again replaces the
/// earlier entry in place (its position in `*/list` stays). The capabilities
/// `initialize` declares follow from what is registered when a session
/// initializes: `tools`, `resources` (with `subscribe`) and `prompts` once one
/// of each is registered, `completions` with a
/// [`completion`](Self::completion) handler, `logging` always.
///
/// The builder holds no executor and starts nothing: the server serves once
/// [`build`](Self::build) made it and [`McpServer::run`] (or the transport's
/// own tasks) drive it.
///
/// # Examples
///
/// ```
/// use switchboard_core::{McpServerBuilder, memory_pair, CallToolResult, Tool};
/// let (transport, _client) = memory_pair(16);
/// let server = McpServerBuilder::new()
///     .server_info("demo", "1.0.0")
///     .tool(Tool::new("hi", "Says hi"), |_: serde_json::Value, _ctx| async {
///         Ok(CallToolResult::text("hi"))
///     })
///     .build(transport);
/// # drop(server);
/// ```
pub struct McpServerBuilder {
    /// The `serverInfo` of every `initialize` result.
    info: Implementation,
    /// The `instructions` of every `initialize` result, when set.
    instructions: Option<String>,
    /// The limits the engine enforces.
    config: ServerConfig,
    /// What the server offers, with the handlers.
    registry: Registry,
    /// The executor handlers are spawned on and timers come from; `None`
    /// runs handlers inside the serve loop and refuses server→client
    /// requests.
    runtime: Option<Arc<dyn Runtime>>,
}

impl fmt::Debug for McpServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpServerBuilder")
            .field("info", &self.info)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Default for McpServerBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl McpServerBuilder {
    /// Returns a builder with server info `switchboard` and this crate's version,
    /// the default limits ([`ServerConfig::default`]), nothing registered and no
    /// runtime.
    pub fn new() -> Self {
        Self {
            info: Implementation {
                name: "switchboard".into(),
                version: env!("CARGO_PKG_VERSION").into(),
            },
            instructions: None,
            config: ServerConfig::default(),
            registry: Registry::default(),
            runtime: None,
        }
    }

    /// Sets the `serverInfo` every `initialize` result carries: the name and
    /// version clients show and log. Replaces the default of [`new`](Self::new);
    /// the example of [`instructions`](Self::instructions) reads both back.
    #[must_use]
    pub fn server_info(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.info = Implementation {
            name: name.into(),
            version: version.into(),
        };
        self
    }

    /// Sets the `instructions` every `initialize` result carries: text a client
    /// may hand its model on how to use the server. Without it the field is left
    /// out.
    ///
    /// # Examples
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use switchboard_core::{MemoryClient, SessionId};
    /// # async fn rpc(client: &MemoryClient, session: &SessionId, id: u64, method: &str, params: Value) -> Value {
    /// #     let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    /// #     client.send_json(session, &body).await.unwrap();
    /// #     serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap()
    /// # }
    /// # async fn initialize(client: &MemoryClient, session: &SessionId) {
    /// #     rpc(client, session, 0, "initialize", json!({"protocolVersion": "2025-11-25",
    /// #         "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}})).await;
    /// #     let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    /// #     client.send_json(session, &initialized).await.unwrap();
    /// #     rpc(client, session, 0, "ping", json!({})).await;
    /// # }
    /// use switchboard_core::{memory_pair, McpServerBuilder};
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .server_info("weather", "2.1.0")
    ///     .instructions("Call forecast with a city name.")
    ///     .build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     let reply = rpc(&client, &session, 1, "initialize", json!({
    ///         "protocolVersion": "2025-11-25", "capabilities": {},
    ///         "clientInfo": {"name": "c", "version": "1"}})).await;
    ///     assert_eq!(reply["result"]["serverInfo"]["name"], "weather");
    ///     assert_eq!(reply["result"]["serverInfo"]["version"], "2.1.0");
    ///     assert_eq!(reply["result"]["instructions"], "Call forecast with a city name.");
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    #[must_use]
    pub fn instructions(mut self, text: impl Into<String>) -> Self {
        self.instructions = Some(text.into());
        self
    }

    /// Sets the limits, replacing the defaults as a whole: build the config
    /// from [`ServerConfig::default`], as its example does.
    #[must_use]
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Gives the server an executor. With one, the serve loop spawns each
    /// message's work on it (so handlers run in parallel on a multi-threaded
    /// runtime), and server→client requests
    /// ([`RequestContext::request`] and friends) are sent and time out after
    /// [`ServerConfig::request_timeout`].
    ///
    /// Without one, handlers run concurrently inside the serve loop (or on the
    /// HTTP caller's task) and a server→client request fails at once with
    /// [`RequestError::NoRuntime`](crate::RequestError::NoRuntime), since nothing
    /// could bound its wait. Either way [`McpServer::run`] returns only after the
    /// work it started has finished, and a panicking handler is answered with
    /// `-32603` rather than left unanswered.
    #[must_use]
    pub fn runtime(mut self, runtime: Arc<dyn Runtime>) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// Registers a tool (replacing one of the same name). Its arguments are
    /// deserialized into `A` (use `serde_json::Value` to take them raw); missing
    /// or `null` `arguments` count as `{}`.
    ///
    /// A failed deserialization is reported as the spec of the session's
    /// revision says: an `isError` tool result from 2025-11-25 on (SEP-1303),
    /// error `-32602` before; the handler does not run. The `inputSchema` is
    /// listed, not enforced. A `tools/call` of an unregistered name is `-32602`;
    /// an `Err` from the handler is sent to the client as it is.
    ///
    /// `handler` is called once per call to make the future; the future runs
    /// as one request in flight, dropped at its next `.await` when the client
    /// cancels it or its session ends.
    ///
    /// # Examples
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use switchboard_core::{MemoryClient, SessionId};
    /// # async fn rpc(client: &MemoryClient, session: &SessionId, id: u64, method: &str, params: Value) -> Value {
    /// #     let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    /// #     client.send_json(session, &body).await.unwrap();
    /// #     serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap()
    /// # }
    /// # async fn initialize(client: &MemoryClient, session: &SessionId) {
    /// #     rpc(client, session, 0, "initialize", json!({"protocolVersion": "2025-11-25",
    /// #         "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}})).await;
    /// #     let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    /// #     client.send_json(session, &initialized).await.unwrap();
    /// #     rpc(client, session, 0, "ping", json!({})).await;
    /// # }
    /// use switchboard_core::{memory_pair, CallToolResult, McpServerBuilder, Tool};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct AddArgs { a: i64, b: i64 }
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .tool(Tool::new("add", "Adds two integers"), |args: AddArgs, _ctx| async move {
    ///         Ok(CallToolResult::text((args.a + args.b).to_string()))
    ///     })
    ///     .build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     let sum = rpc(&client, &session, 1, "tools/call",
    ///         json!({"name": "add", "arguments": {"a": 2, "b": 3}})).await;
    ///     assert_eq!(sum["result"]["content"][0]["text"], "5");
    ///
    ///     // Arguments that do not fit `AddArgs`: at 2025-11-25 a tool error
    ///     // the model can read, not a protocol error.
    ///     let bad = rpc(&client, &session, 2, "tools/call",
    ///         json!({"name": "add", "arguments": {"a": "two"}})).await;
    ///     assert_eq!(bad["result"]["isError"], true);
    ///
    ///     let unknown = rpc(&client, &session, 3, "tools/call", json!({"name": "sub"})).await;
    ///     assert_eq!(unknown["error"]["code"], -32602);
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    #[must_use]
    pub fn tool<A, F, Fut>(mut self, tool: Tool, handler: F) -> Self
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(A, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, RpcError>> + Send + 'static,
    {
        self.registry.put_tool(registry::tool_entry(tool, handler));
        self
    }

    /// Registers a resource (replacing one of the same URI) whose contents
    /// `handler` produces on each `resources/read`; it gets the URI read. A
    /// direct resource wins over a template that matches the same URI. An `Err`
    /// from the handler is sent to the client as it is.
    ///
    /// # Examples
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use switchboard_core::{MemoryClient, SessionId};
    /// # async fn rpc(client: &MemoryClient, session: &SessionId, id: u64, method: &str, params: Value) -> Value {
    /// #     let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    /// #     client.send_json(session, &body).await.unwrap();
    /// #     serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap()
    /// # }
    /// # async fn initialize(client: &MemoryClient, session: &SessionId) {
    /// #     rpc(client, session, 0, "initialize", json!({"protocolVersion": "2025-11-25",
    /// #         "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}})).await;
    /// #     let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    /// #     client.send_json(session, &initialized).await.unwrap();
    /// #     rpc(client, session, 0, "ping", json!({})).await;
    /// # }
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use switchboard_core::{memory_pair, McpServerBuilder, ReadResourceResult, Resource, ResourceContents};
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let reads = Arc::new(AtomicU64::new(0));
    /// let server = McpServerBuilder::new()
    ///     .resource(Resource::new("mem://reads", "reads"), move |uri, _ctx| {
    ///         let n = reads.fetch_add(1, Ordering::Relaxed) + 1;
    ///         async move {
    ///             Ok(ReadResourceResult::new(vec![ResourceContents::text(uri, "text/plain", n.to_string())]))
    ///         }
    ///     })
    ///     .build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     for expected in ["1", "2"] {
    ///         let read = rpc(&client, &session, 1, "resources/read", json!({"uri": "mem://reads"})).await;
    ///         assert_eq!(read["result"]["contents"][0]["text"], expected);
    ///     }
    ///     let missing = rpc(&client, &session, 2, "resources/read", json!({"uri": "mem://other"})).await;
    ///     assert_eq!(missing["error"]["code"], -32002);
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    #[must_use]
    pub fn resource<F, Fut>(mut self, resource: Resource, handler: F) -> Self
    where
        F: Fn(String, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, RpcError>> + Send + 'static,
    {
        self.registry
            .put_resource(registry::resource_entry(resource, handler));
        self
    }

    /// Registers a resource with fixed text contents, served under the
    /// resource's `mimeType` (`text/plain` when it has none).
    ///
    /// # Examples
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use switchboard_core::{MemoryClient, SessionId};
    /// # async fn rpc(client: &MemoryClient, session: &SessionId, id: u64, method: &str, params: Value) -> Value {
    /// #     let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    /// #     client.send_json(session, &body).await.unwrap();
    /// #     serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap()
    /// # }
    /// # async fn initialize(client: &MemoryClient, session: &SessionId) {
    /// #     rpc(client, session, 0, "initialize", json!({"protocolVersion": "2025-11-25",
    /// #         "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}})).await;
    /// #     let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    /// #     client.send_json(session, &initialized).await.unwrap();
    /// #     rpc(client, session, 0, "ping", json!({})).await;
    /// # }
    /// use switchboard_core::{memory_pair, McpServerBuilder, Resource};
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .text_resource(Resource::new("mem://motd", "motd"), "Welcome!")
    ///     .build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     let read = rpc(&client, &session, 1, "resources/read", json!({"uri": "mem://motd"})).await;
    ///     assert_eq!(read["result"]["contents"][0]["text"], "Welcome!");
    ///     assert_eq!(read["result"]["contents"][0]["mimeType"], "text/plain");
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    #[must_use]
    pub fn text_resource(self, resource: Resource, text: impl Into<String>) -> Self {
        let text: Arc<str> = text.into().into();
        let mime = resource
            .mime_type
            .clone()
            .unwrap_or_else(|| "text/plain".into());
        self.resource(resource, move |uri, _ctx| {
            let contents = ResourceContents::text(uri, mime.clone(), &*text);
            async move {
                Ok(ReadResourceResult {
                    contents: vec![contents],
                })
            }
        })
    }

    /// Registers a URI template (replacing one with the same template text);
    /// `handler` gets the URI read and its variables by name. A `{var}`
    /// matches a non-empty value without `/`, a `{+var}` one that may hold
    /// `/`. A URI is served by a direct resource first, then by the first
    /// template, in registration order, that matches all of it. Clients may
    /// subscribe to matching URIs.
    ///
    /// # Errors
    ///
    /// [`TemplateError`] when the template is not a level-1 URI template: an
    /// unclosed or empty `{}`, a name that is not ASCII letters, digits and `_`,
    /// or two variables side by side.
    ///
    /// # Examples
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use switchboard_core::{MemoryClient, SessionId};
    /// # async fn rpc(client: &MemoryClient, session: &SessionId, id: u64, method: &str, params: Value) -> Value {
    /// #     let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    /// #     client.send_json(session, &body).await.unwrap();
    /// #     serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap()
    /// # }
    /// # async fn initialize(client: &MemoryClient, session: &SessionId) {
    /// #     rpc(client, session, 0, "initialize", json!({"protocolVersion": "2025-11-25",
    /// #         "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}})).await;
    /// #     let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    /// #     client.send_json(session, &initialized).await.unwrap();
    /// #     rpc(client, session, 0, "ping", json!({})).await;
    /// # }
    /// use switchboard_core::{memory_pair, McpServerBuilder, ReadResourceResult, ResourceContents, ResourceTemplate};
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .resource_template(
    ///         ResourceTemplate::new("users://{id}/profile", "profiles"),
    ///         |uri, vars, _ctx| async move {
    ///             let text = format!("profile of user {}", vars["id"]);
    ///             Ok(ReadResourceResult::new(vec![ResourceContents::text(uri, "text/plain", text)]))
    ///         },
    ///     )
    ///     .expect("a level-1 template")
    ///     .build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     let read = rpc(&client, &session, 1, "resources/read",
    ///         json!({"uri": "users://42/profile"})).await;
    ///     assert_eq!(read["result"]["contents"][0]["text"], "profile of user 42");
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    ///
    /// let broken = McpServerBuilder::new().resource_template(
    ///     ResourceTemplate::new("users://{id", "broken"),
    ///     |_uri, _vars, _ctx| async { Ok(ReadResourceResult::new(vec![])) },
    /// );
    /// assert!(broken.is_err());
    /// # });
    /// ```
    pub fn resource_template<F, Fut>(
        mut self,
        template: ResourceTemplate,
        handler: F,
    ) -> Result<Self, TemplateError>
    where
        F: Fn(String, HashMap<String, String>, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, RpcError>> + Send + 'static,
    {
        self.registry
            .put_template(registry::template_entry(template, handler)?);
        Ok(self)
    }

    /// Registers a prompt (replacing one of the same name). A `prompts/get`
    /// that lacks a required argument is answered with `-32602` ("missing
    /// required arguments: …") before `handler` runs, so the handler may index
    /// its required arguments. An unknown prompt name is `-32602` too.
    ///
    /// # Examples
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use switchboard_core::{MemoryClient, SessionId};
    /// # async fn rpc(client: &MemoryClient, session: &SessionId, id: u64, method: &str, params: Value) -> Value {
    /// #     let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    /// #     client.send_json(session, &body).await.unwrap();
    /// #     serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap()
    /// # }
    /// # async fn initialize(client: &MemoryClient, session: &SessionId) {
    /// #     rpc(client, session, 0, "initialize", json!({"protocolVersion": "2025-11-25",
    /// #         "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}})).await;
    /// #     let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    /// #     client.send_json(session, &initialized).await.unwrap();
    /// #     rpc(client, session, 0, "ping", json!({})).await;
    /// # }
    /// use switchboard_core::{
    ///     memory_pair, Content, GetPromptResult, McpServerBuilder, Prompt, PromptArguments, PromptMessage,
    /// };
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let forecast = Prompt::new("forecast", "Asks for a city's forecast")
    ///     .argument("city", "The city", true);
    /// let server = McpServerBuilder::new()
    ///     .prompt(forecast, |args: PromptArguments, _ctx| async move {
    ///         let text = format!("What is the forecast for {}?", args["city"]);
    ///         Ok(GetPromptResult::new(vec![PromptMessage::user(Content::text(text))]))
    ///     })
    ///     .build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     let missing = rpc(&client, &session, 1, "prompts/get", json!({"name": "forecast"})).await;
    ///     assert_eq!(missing["error"]["code"], -32602);
    ///     assert_eq!(missing["error"]["message"], "missing required arguments: city");
    ///
    ///     let got = rpc(&client, &session, 2, "prompts/get",
    ///         json!({"name": "forecast", "arguments": {"city": "Oslo"}})).await;
    ///     assert_eq!(got["result"]["messages"][0]["content"]["text"], "What is the forecast for Oslo?");
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    #[must_use]
    pub fn prompt<F, Fut>(mut self, prompt: Prompt, handler: F) -> Self
    where
        F: Fn(PromptArguments, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GetPromptResult, RpcError>> + Send + 'static,
    {
        self.registry
            .put_prompt(registry::prompt_entry(prompt, handler));
        self
    }

    /// Handles `completion/complete` with `handler` (replacing an earlier one)
    /// and declares the `completions` capability. Without a handler the method
    /// is `-32601`. An answer of more than 100 values is cut to 100, with
    /// `hasMore` set and `total` set to the full count unless the handler set it.
    ///
    /// # Examples
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use switchboard_core::{MemoryClient, SessionId};
    /// # async fn rpc(client: &MemoryClient, session: &SessionId, id: u64, method: &str, params: Value) -> Value {
    /// #     let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    /// #     client.send_json(session, &body).await.unwrap();
    /// #     serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap()
    /// # }
    /// # async fn initialize(client: &MemoryClient, session: &SessionId) {
    /// #     rpc(client, session, 0, "initialize", json!({"protocolVersion": "2025-11-25",
    /// #         "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}})).await;
    /// #     let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    /// #     client.send_json(session, &initialized).await.unwrap();
    /// #     rpc(client, session, 0, "ping", json!({})).await;
    /// # }
    /// use switchboard_core::{memory_pair, CompleteRequest, Completion, McpServerBuilder};
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .completion(|request: CompleteRequest, _ctx| async move {
    ///         let values = ["Paris", "Perth", "Porto"]
    ///             .into_iter()
    ///             .filter(|city| city.starts_with(request.argument.value.as_str()))
    ///             .map(String::from)
    ///             .collect();
    ///         Ok(Completion::new(values))
    ///     })
    ///     .build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     let done = rpc(&client, &session, 1, "completion/complete", json!({
    ///         "ref": {"type": "ref/prompt", "name": "forecast"},
    ///         "argument": {"name": "city", "value": "Pe"}})).await;
    ///     assert_eq!(done["result"]["completion"]["values"], json!(["Perth"]));
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    #[must_use]
    pub fn completion<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(CompleteRequest, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Completion, RpcError>> + Send + 'static,
    {
        self.registry.completion = Some(Arc::new(move |req, ctx| Box::pin(handler(req, ctx))));
        self
    }

    /// Builds the server over a transport, handing the transport a direct
    /// line into it ([`Transport::attach`], held weakly: the transport does not
    /// keep the server alive). Nothing is received until [`McpServer::run`],
    /// though a transport that keeps the line (HTTP) can serve through it as
    /// soon as this returns.
    ///
    /// A transport that already serves another server (a clone of an
    /// [`HttpServerTransport`](crate::HttpServerTransport) given to a second
    /// builder, say) refuses the line; this server's `run` then fails at once
    /// with [`TransportError::AlreadyAttached`]. `build` itself never fails;
    /// the refusal surfaces at `run`.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::{HttpConfig, HttpServerTransport, McpServerBuilder, TransportError};
    ///
    /// let transport = HttpServerTransport::new(HttpConfig::default());
    /// let _first = McpServerBuilder::new().build(transport.clone());
    /// let second = McpServerBuilder::new().build(transport);
    /// let refused = futures::executor::block_on(second.run());
    /// assert!(matches!(refused, Err(TransportError::AlreadyAttached)));
    /// ```
    pub fn build(self, transport: impl Transport) -> McpServer {
        let transport: Arc<dyn Transport> = Arc::new(transport);
        let shared = Engine::new(Shared {
            info: self.info,
            instructions: self.instructions,
            sessions: SessionTable::new(self.config.max_sessions),
            outlet: Arc::new(Outlet {
                transport: Arc::clone(&transport),
                runtime: self.runtime,
                request_timeout: self.config.request_timeout,
            }),
            config: self.config,
            registry: RwLock::new(self.registry),
            attach_error: OnceLock::new(),
        });
        let line: Weak<dyn Dispatch> = Arc::downgrade(&shared) as Weak<dyn Dispatch>;
        if let Err(e) = transport.attach(line) {
            let _ = shared.attach_error.set(e);
        }
        McpServer { shared }
    }
}

/// An MCP server over one transport. Cheap to clone; clones share everything.
///
/// [`McpServer::run`] serves until the transport closes. The other methods
/// change what the server offers while it runs and tell clients about it:
/// a change applies to every request that looks its handler up afterwards
/// (requests already running keep the handler they found), and the
/// `list_changed` notification goes to every session that sent
/// `notifications/initialized`. The capabilities a session was told at
/// `initialize` are not revised.
#[derive(Clone)]
pub struct McpServer {
    /// The engine; transports hold it weakly through [`Dispatch`].
    shared: Arc<Engine>,
}

impl fmt::Debug for McpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpServer")
            .field("info", &self.shared.info)
            .field("sessions", &self.shared.sessions.len())
            .finish_non_exhaustive()
    }
}

impl McpServer {
    /// Returns the number of open sessions, over every transport: those an
    /// `initialize` opened and nothing has closed yet (whether or not the client
    /// has sent `notifications/initialized`). It counts against
    /// [`ServerConfig::max_sessions`].
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::{memory_pair, McpServerBuilder};
    ///
    /// let (transport, _client) = memory_pair(16);
    /// let server = McpServerBuilder::new().build(transport);
    /// assert_eq!(server.session_count(), 0);
    /// ```
    ///
    /// [`close_session`](Self::close_session) shows it change.
    pub fn session_count(&self) -> usize {
        self.shared.sessions.len()
    }

    /// Adds (or replaces, by name) a tool, as [`McpServerBuilder::tool`]
    /// would, then sends `notifications/tools/list_changed` to every
    /// initialized session. A session whose client is gone is skipped; each
    /// send is awaited, so over a bounded queue (memory, stdio) a client that
    /// does not read holds the call up.
    ///
    /// # Cancel safety
    ///
    /// The tool is registered on the first poll, before anything is sent:
    /// dropping the future after that leaves it registered, and some sessions
    /// may miss the notification.
    ///
    /// # Examples
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use switchboard_core::{MemoryClient, SessionId};
    /// # async fn rpc(client: &MemoryClient, session: &SessionId, id: u64, method: &str, params: Value) -> Value {
    /// #     let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    /// #     client.send_json(session, &body).await.unwrap();
    /// #     serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap()
    /// # }
    /// # async fn initialize(client: &MemoryClient, session: &SessionId) {
    /// #     rpc(client, session, 0, "initialize", json!({"protocolVersion": "2025-11-25",
    /// #         "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}})).await;
    /// #     let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    /// #     client.send_json(session, &initialized).await.unwrap();
    /// #     rpc(client, session, 0, "ping", json!({})).await;
    /// # }
    /// use switchboard_core::{memory_pair, CallToolResult, McpServerBuilder, Tool};
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new().build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     server
    ///         .add_tool(Tool::new("now", "Says when"), |_: Value, _ctx| async {
    ///             Ok(CallToolResult::text("now"))
    ///         })
    ///         .await;
    ///     let note: Value = serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap();
    ///     assert_eq!(note["method"], "notifications/tools/list_changed");
    ///
    ///     let called = rpc(&client, &session, 1, "tools/call", json!({"name": "now"})).await;
    ///     assert_eq!(called["result"]["content"][0]["text"], "now");
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    pub async fn add_tool<A, F, Fut>(&self, tool: Tool, handler: F)
    where
        A: DeserializeOwned + Send + 'static,
        F: Fn(A, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<CallToolResult, RpcError>> + Send + 'static,
    {
        self.shared
            .registry_mut()
            .put_tool(registry::tool_entry(tool, handler));
        self.list_changed("tools").await;
    }

    /// Removes the tool named `name` and returns whether there was one; only
    /// then sends `notifications/tools/list_changed` to every initialized
    /// session. Calls already running finish; later calls of the name are
    /// `-32602`. Cancel safety as for [`add_tool`](Self::add_tool).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::{memory_pair, CallToolResult, McpServerBuilder, Tool};
    ///
    /// let (transport, _client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .tool(Tool::new("hi", "Says hi"), |_: serde_json::Value, _ctx| async {
    ///         Ok(CallToolResult::text("hi"))
    ///     })
    ///     .build(transport);
    /// futures::executor::block_on(async {
    ///     assert!(server.remove_tool("hi").await);
    ///     assert!(!server.remove_tool("hi").await); // nothing removed, nothing sent
    /// });
    /// ```
    pub async fn remove_tool(&self, name: &str) -> bool {
        let removed = remove(&mut self.shared.registry_mut().tools, name, |e| {
            &e.tool.name
        });
        if removed {
            self.list_changed("tools").await;
        }
        removed
    }

    /// Adds (or replaces, by URI) a resource, as
    /// [`McpServerBuilder::resource`] would, then sends
    /// `notifications/resources/list_changed` to every initialized session.
    /// Subscribers to the URI are not sent `resources/updated`; call
    /// [`notify_resource_updated`](Self::notify_resource_updated) for that.
    /// Cancel safety as for [`add_tool`](Self::add_tool).
    pub async fn add_resource<F, Fut>(&self, resource: Resource, handler: F)
    where
        F: Fn(String, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, RpcError>> + Send + 'static,
    {
        self.shared
            .registry_mut()
            .put_resource(registry::resource_entry(resource, handler));
        self.list_changed("resources").await;
    }

    /// Removes the resource with this URI and returns whether there was one;
    /// only then sends `notifications/resources/list_changed` to every
    /// initialized session. Templates are not touched, so a template that
    /// matches the URI serves it from then on. Subscriptions to the URI stay
    /// until the client unsubscribes. Cancel safety as for
    /// [`add_tool`](Self::add_tool).
    pub async fn remove_resource(&self, uri: &str) -> bool {
        let removed = remove(&mut self.shared.registry_mut().resources, uri, |e| {
            &e.resource.uri
        });
        if removed {
            self.list_changed("resources").await;
        }
        removed
    }

    /// Adds (or replaces, by name) a prompt, as [`McpServerBuilder::prompt`]
    /// would (required arguments are checked before `handler` runs), then sends
    /// `notifications/prompts/list_changed` to every initialized session.
    /// Cancel safety as for [`add_tool`](Self::add_tool).
    pub async fn add_prompt<F, Fut>(&self, prompt: Prompt, handler: F)
    where
        F: Fn(PromptArguments, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GetPromptResult, RpcError>> + Send + 'static,
    {
        self.shared
            .registry_mut()
            .put_prompt(registry::prompt_entry(prompt, handler));
        self.list_changed("prompts").await;
    }

    /// Removes the prompt named `name` and returns whether there was one; only
    /// then sends `notifications/prompts/list_changed` to every initialized
    /// session. Later `prompts/get` of the name is `-32602`. Cancel safety as
    /// for [`add_tool`](Self::add_tool).
    pub async fn remove_prompt(&self, name: &str) -> bool {
        let removed = remove(&mut self.shared.registry_mut().prompts, name, |e| {
            &e.prompt.name
        });
        if removed {
            self.list_changed("prompts").await;
        }
        removed
    }

    /// Sends `notifications/resources/updated` with `uri` to every initialized
    /// session subscribed to exactly that URI (`resources/subscribe`). Nothing
    /// is sent when none is, and a session whose client is gone is skipped.
    /// Call it after the resource's contents changed; clients then read it
    /// again.
    ///
    /// # Examples
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use switchboard_core::{MemoryClient, SessionId};
    /// # async fn rpc(client: &MemoryClient, session: &SessionId, id: u64, method: &str, params: Value) -> Value {
    /// #     let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    /// #     client.send_json(session, &body).await.unwrap();
    /// #     serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap()
    /// # }
    /// # async fn initialize(client: &MemoryClient, session: &SessionId) {
    /// #     rpc(client, session, 0, "initialize", json!({"protocolVersion": "2025-11-25",
    /// #         "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}})).await;
    /// #     let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    /// #     client.send_json(session, &initialized).await.unwrap();
    /// #     rpc(client, session, 0, "ping", json!({})).await;
    /// # }
    /// use switchboard_core::{memory_pair, McpServerBuilder, Resource};
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .text_resource(Resource::new("mem://status", "status"), "green")
    ///     .build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     rpc(&client, &session, 1, "resources/subscribe", json!({"uri": "mem://status"})).await;
    ///     server.notify_resource_updated("mem://status").await;
    ///     let note: Value = serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap();
    ///     assert_eq!(note["method"], "notifications/resources/updated");
    ///     assert_eq!(note["params"]["uri"], "mem://status");
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    pub async fn notify_resource_updated(&self, uri: &str) {
        self.shared
            .broadcast(
                "notifications/resources/updated",
                json!({ "uri": uri }),
                |s| s.state().subscriptions.contains(uri),
            )
            .await;
    }

    /// Sends `notifications/{family}/list_changed` to every initialized
    /// session.
    async fn list_changed(&self, family: &str) {
        let method = format!("notifications/{family}/list_changed");
        self.shared.broadcast(&method, json!({}), |_| true).await;
    }

    /// Ends a session: cancels its handlers (each is dropped at its next
    /// `.await` and sends no response), fails its server→client requests with
    /// [`RequestError::SessionClosed`](crate::RequestError::SessionClosed),
    /// ends the HTTP responses listening to it, and forgets it. Returns whether
    /// it existed. Transports report ended sessions with
    /// [`Inbound::Closed`](crate::Inbound::Closed), which does the same.
    ///
    /// Afterwards the id names no session: a request in it is refused with
    /// `-32600` until an `initialize` opens it again (over HTTP, the client gets
    /// 404 and must initialize anew).
    ///
    /// # Examples
    ///
    /// ```
    /// # use serde_json::{json, Value};
    /// # use switchboard_core::{MemoryClient, SessionId};
    /// # async fn rpc(client: &MemoryClient, session: &SessionId, id: u64, method: &str, params: Value) -> Value {
    /// #     let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    /// #     client.send_json(session, &body).await.unwrap();
    /// #     serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap()
    /// # }
    /// # async fn initialize(client: &MemoryClient, session: &SessionId) {
    /// #     rpc(client, session, 0, "initialize", json!({"protocolVersion": "2025-11-25",
    /// #         "capabilities": {}, "clientInfo": {"name": "c", "version": "1"}})).await;
    /// #     let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    /// #     client.send_json(session, &initialized).await.unwrap();
    /// #     rpc(client, session, 0, "ping", json!({})).await;
    /// # }
    /// use switchboard_core::{memory_pair, McpServerBuilder};
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new().build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     assert_eq!(server.session_count(), 1);
    ///     assert!(server.close_session(&session));
    ///     assert!(!server.close_session(&session));
    ///     assert_eq!(server.session_count(), 0);
    ///
    ///     let refused = rpc(&client, &session, 1, "tools/list", json!({})).await;
    ///     assert_eq!(refused["error"]["code"], -32600);
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    pub fn close_session(&self, session: &SessionId) -> bool {
        self.shared.sessions.close(session)
    }

    /// Serves until the transport reports [`TransportError::Closed`], then
    /// lets the requests in flight finish (those it drives itself and those it
    /// spawned on the runtime) and returns `Ok(())`. Errors the transport calls
    /// recoverable ([`TransportError::is_recoverable`]) are skipped. Call it
    /// once per server; the crate root's example shows it driven next to a
    /// client with `futures::join!`.
    ///
    /// Over a transport that hands messages to the engine itself (HTTP), this
    /// only waits for the transport to close; the requests are driven by the
    /// transport's tasks.
    ///
    /// # Errors
    ///
    /// [`TransportError::AlreadyAttached`] at once when the transport serves
    /// another server (see [`McpServerBuilder::build`]); any other error
    /// `receive` returns that is not recoverable (an I/O error, say), after the
    /// requests in flight finished.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the handlers it drives itself (their requests
    /// get no response, and leave the in-flight table); handlers spawned on the
    /// runtime keep running. A message being received is not lost if the
    /// transport keeps [`Transport::receive`]'s contract, so calling `run`
    /// again resumes.
    pub async fn run(&self) -> Result<(), TransportError> {
        run::serve(&self.shared).await
    }
}
