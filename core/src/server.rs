//! `McpServerBuilder` and `McpServer`: registration, configuration, and the
//! server's public handle.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard, Weak};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::context::RequestContext;
use crate::jsonrpc::{Message, Notification, RpcError};
use crate::protocol::{
    CallToolResult, CompleteRequest, Completion, GetPromptResult, Implementation, Prompt,
    PromptArguments, ReadResourceResult, Resource, ResourceContents, ResourceTemplate, Tool,
};
use crate::runtime::Runtime;
use crate::session::{IdMap, Session, SessionId};
use crate::transport::{Outbound, Route, Transport, TransportError};
use crate::uri_template::TemplateError;

mod dispatch;
mod registry;
mod run;

use registry::{Registry, remove};

/// Default page size for `*/list` results.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// Default bound on requests in flight per session: enough for a busy agent,
/// small enough that one session cannot hold an unbounded number of handlers.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;
/// Default wait for a client's answer to a server→client request (the TS SDK
/// uses the same 60 s).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Default cap on initialized sessions held by the engine.
pub const DEFAULT_MAX_SESSIONS: usize = 10_000;

/// Engine limits and knobs. Every limit has a default.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub(crate) page_size: usize,
    pub(crate) max_in_flight: usize,
    pub(crate) request_timeout: Duration,
    pub(crate) max_sessions: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            page_size: DEFAULT_PAGE_SIZE,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_sessions: DEFAULT_MAX_SESSIONS,
        }
    }
}

impl ServerConfig {
    /// Items per page of `tools/list`, `resources/list`, … (at least 1).
    #[must_use]
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// Requests in flight per session. Past it a request is answered at once
    /// with error `-32000` ("too many requests in flight") and its handler
    /// never runs; the session keeps serving.
    #[must_use]
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// How long a server→client request waits for its answer.
    #[must_use]
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }

    /// Initialized sessions held at once. Past it `initialize` is answered
    /// with error `-32000`.
    #[must_use]
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n.max(1);
        self
    }
}

/// State shared by the server handle, the serve loop and every context.
pub(crate) struct Shared {
    pub(crate) info: Implementation,
    pub(crate) instructions: Option<String>,
    pub(crate) config: ServerConfig,
    registry: RwLock<Registry>,
    sessions: Mutex<IdMap<SessionId, Arc<Session>>>,
    pub(crate) transport: Arc<dyn Transport>,
    pub(crate) runtime: Option<Arc<dyn Runtime>>,
}

impl Shared {
    pub(crate) fn registry(&self) -> RwLockReadGuard<'_, Registry> {
        self.registry.read().unwrap_or_else(|e| e.into_inner())
    }

    fn registry_mut(&self) -> RwLockWriteGuard<'_, Registry> {
        self.registry.write().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn sessions(&self) -> MutexGuard<'_, IdMap<SessionId, Arc<Session>>> {
        self.sessions.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Sends an unrelated notification to every initialized session that `pick` selects.
    async fn broadcast(&self, method: &str, params: Value, pick: impl Fn(&Session) -> bool) {
        let targets: Vec<SessionId> = self
            .sessions()
            .values()
            .filter(|s| s.state().initialized && pick(s))
            .map(|s| s.id.clone())
            .collect();
        let bytes = Message::Notification(Notification {
            method: method.to_owned(),
            params: Some(params.into()),
        })
        .to_bytes();
        for session in targets {
            let outbound = Outbound {
                session,
                route: Route::Unrelated,
                bytes: bytes.clone(),
            };
            // A session whose client is gone cannot be told; the others still are.
            let _ = self.transport.send(outbound).await;
        }
    }
}

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

    /// Builds the server over a transport, which it hands a [`Dispatcher`]
    /// ([`Transport::attach`]). Nothing runs until [`McpServer::run`].
    pub fn build(self, transport: impl Transport) -> McpServer {
        let shared = Arc::new(Shared {
            info: self.info,
            instructions: self.instructions,
            config: self.config,
            registry: RwLock::new(self.registry),
            sessions: Mutex::new(IdMap::default()),
            transport: Arc::new(transport),
            runtime: self.runtime,
        });
        shared.transport.attach(Dispatcher {
            shared: Arc::downgrade(&shared),
        });
        McpServer { shared }
    }
}

/// A direct line from a transport into its server: the transport hands it a
/// message and gets back the work that message starts (the handler and the
/// sending of its reply) to drive on its own task, instead of queueing the
/// message for the serve loop. Holds the server weakly.
#[derive(Clone)]
pub struct Dispatcher {
    shared: Weak<Shared>,
}

impl fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispatcher")
            .field("server_alive", &(self.shared.strong_count() > 0))
            .finish()
    }
}

impl Dispatcher {
    /// Accepts one inbound event, as the serve loop would. Returns the work
    /// it starts, if any, for the caller to drive to completion; `None` also
    /// when the server is gone.
    ///
    /// Everything but the handler happens before it returns: the request is
    /// registered in flight, so a cancellation that follows finds it.
    pub fn dispatch(&self, inbound: crate::Inbound) -> Option<crate::BoxFuture<()>> {
        self.shared.upgrade()?.accept(inbound)
    }

    /// [`Dispatcher::dispatch`] for a message already decoded (a transport
    /// that had to look inside it need not parse it twice).
    pub fn dispatch_decoded(
        &self,
        session: SessionId,
        decoded: crate::jsonrpc::Decoded,
    ) -> Option<crate::BoxFuture<()>> {
        self.shared.upgrade()?.accept_decoded(session, decoded)
    }

    /// Whether the server holds an initialized session of this id.
    pub fn has_session(&self, session: &SessionId) -> bool {
        self.shared
            .upgrade()
            .is_some_and(|s| s.sessions().contains_key(session))
    }

    /// Whether the server still exists.
    pub fn is_alive(&self) -> bool {
        self.shared.strong_count() > 0
    }
}

/// An MCP server over one transport. Cheap to clone; clones share everything.
///
/// [`McpServer::run`] serves until the transport closes. The other methods
/// change what the server offers while it runs and tell clients about it.
#[derive(Clone)]
pub struct McpServer {
    pub(crate) shared: Arc<Shared>,
}

impl fmt::Debug for McpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("McpServer")
            .field("info", &self.shared.info)
            .field("sessions", &self.shared.sessions().len())
            .finish_non_exhaustive()
    }
}

impl McpServer {
    /// The number of initialized sessions.
    pub fn session_count(&self) -> usize {
        self.shared.sessions().len()
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
        self.shared.close_session(session)
    }

    /// Serves until the transport reports [`TransportError::Closed`], then
    /// lets the requests in flight finish.
    ///
    /// # Errors
    ///
    /// A transport error that is not recoverable.
    pub async fn run(&self) -> Result<(), TransportError> {
        run::serve(&self.shared).await
    }
}
