//! The engine: [`McpServerBuilder`] (what a server offers and its limits)
//! and [`McpServer`] (its handle while it runs), with everything between
//! a decoded message and its handler in the modules below.
//!
//! - `config`: [`ServerConfig`], the limits.
//! - `shared`: the state the handle, the serve loop and transports share.
//! - `registry`: tools, resources, templates and prompts with their handlers.
//! - `dispatch`: admission, lifecycle, notifications, in-flight requests;
//!   the engine's side of [`Dispatch`](crate::Dispatch).
//! - `lifecycle`: `initialize` and the capabilities it declares.
//! - `methods`: one file per method family.
//! - `params`, `error`: reading params, encoding results, and the one
//!   conversion of engine errors into JSON-RPC errors.
//! - `run`: the serve loop over [`Transport::receive`].

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
    info: Implementation,
    instructions: Option<String>,
    config: ServerConfig,
    registry: Registry,
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
    /// A builder with server info `switchboard` and the crate's version.
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

    /// Sets `serverInfo`.
    #[must_use]
    pub fn server_info(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.info = Implementation {
            name: name.into(),
            version: version.into(),
        };
        self
    }

    /// Sets the `instructions` returned by `initialize`.
    #[must_use]
    pub fn instructions(mut self, text: impl Into<String>) -> Self {
        self.instructions = Some(text.into());
        self
    }

    /// Sets the limits.
    #[must_use]
    pub fn config(mut self, config: ServerConfig) -> Self {
        self.config = config;
        self
    }

    /// Gives the server an executor: handlers are spawned on it (so they run
    /// in parallel on a multi-threaded runtime) and server→client requests
    /// time out. Without one, handlers run concurrently inside the serve loop.
    #[must_use]
    pub fn runtime(mut self, runtime: Arc<dyn Runtime>) -> Self {
        self.runtime = Some(runtime);
        self
    }

    /// Registers a tool. Its arguments are deserialized into `A` (use
    /// `serde_json::Value` to take them raw); missing `arguments` count as `{}`.
    ///
    /// A failed deserialization is reported as the spec of the session's
    /// revision says: an `isError` tool result from 2025-11-25 on (SEP-1303),
    /// error `-32602` before. The `inputSchema` is listed, not enforced.
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

    /// Registers a resource whose contents `handler` produces on each read.
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

    /// Registers a resource with fixed text contents.
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

    /// Registers a URI template; `handler` gets the URI and its variables.
    ///
    /// # Errors
    ///
    /// When the template is not a level-1 URI template (`{var}` or `{+var}`).
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

    /// Registers a prompt. Missing required arguments are answered with
    /// `-32602` before `handler` runs.
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

    /// Handles `completion/complete` (and declares `completions`).
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
    /// line into it ([`Transport::attach`]). Nothing runs until
    /// [`McpServer::run`].
    ///
    /// A transport that already serves another server (a clone of an
    /// [`HttpServerTransport`](crate::HttpServerTransport) given to a second
    /// builder, say) refuses the line; this server's `run` then fails at once
    /// with [`TransportError::AlreadyAttached`].
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
/// change what the server offers while it runs and tell clients about it.
#[derive(Clone)]
pub struct McpServer {
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
    /// The number of initialized sessions.
    pub fn session_count(&self) -> usize {
        self.shared.sessions.len()
    }

    /// Adds (or replaces) a tool and sends `notifications/tools/list_changed`.
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

    /// Removes a tool; if there was one, sends `notifications/tools/list_changed`.
    pub async fn remove_tool(&self, name: &str) -> bool {
        let removed = remove(&mut self.shared.registry_mut().tools, name, |e| {
            &e.tool.name
        });
        if removed {
            self.list_changed("tools").await;
        }
        removed
    }

    /// Adds (or replaces) a resource and sends `notifications/resources/list_changed`.
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

    /// Removes a resource by URI; if there was one, sends `list_changed`.
    pub async fn remove_resource(&self, uri: &str) -> bool {
        let removed = remove(&mut self.shared.registry_mut().resources, uri, |e| {
            &e.resource.uri
        });
        if removed {
            self.list_changed("resources").await;
        }
        removed
    }

    /// Adds (or replaces) a prompt and sends `notifications/prompts/list_changed`.
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

    /// Removes a prompt; if there was one, sends `list_changed`.
    pub async fn remove_prompt(&self, name: &str) -> bool {
        let removed = remove(&mut self.shared.registry_mut().prompts, name, |e| {
            &e.prompt.name
        });
        if removed {
            self.list_changed("prompts").await;
        }
        removed
    }

    /// Sends `notifications/resources/updated` to every session subscribed to `uri`.
    pub async fn notify_resource_updated(&self, uri: &str) {
        self.shared
            .broadcast(
                "notifications/resources/updated",
                json!({ "uri": uri }),
                |s| s.state().subscriptions.contains(uri),
            )
            .await;
    }

    async fn list_changed(&self, family: &str) {
        let method = format!("notifications/{family}/list_changed");
        self.shared.broadcast(&method, json!({}), |_| true).await;
    }

    /// Ends a session: cancels its handlers and forgets it. Returns whether
    /// it existed. Transports report ended sessions with
    /// [`Inbound::Closed`](crate::Inbound::Closed), which does the same.
    pub fn close_session(&self, session: &SessionId) -> bool {
        self.shared.sessions.close(session)
    }

    /// Serves until the transport reports [`TransportError::Closed`], then
    /// lets the requests in flight finish.
    ///
    /// # Errors
    ///
    /// A transport error that is not recoverable;
    /// [`TransportError::AlreadyAttached`] at once when the transport serves
    /// another server.
    pub async fn run(&self) -> Result<(), TransportError> {
        run::serve(&self.shared).await
    }
}
