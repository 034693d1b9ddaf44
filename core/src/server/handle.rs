//! [`McpServer`]: a running server's handle, to serve its transport and
//! to change what it offers while it runs.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use super::dispatch::Engine;
use super::registry::{self, remove};
use super::run;
use crate::context::RequestContext;
use crate::id::SessionId;
use crate::jsonrpc::RpcError;
use crate::protocol::{GetPromptResult, Prompt, ReadResourceResult, Resource, Tool};
use crate::transport::TransportError;
use crate::typed::{StringArgs, ToolArgs, ToolError, ToolOutput};

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
    pub(super) shared: Arc<Engine>,
}

impl RequestContext {
    /// The running server: a handle to add or remove tools, resources and
    /// prompts, or to announce changes, from inside a handler (`None` only
    /// while the server is being dropped).
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::{McpServerBuilder, Tool, ToolError, memory_pair};
    ///
    /// let (transport, _client) = memory_pair(16);
    /// let _server = McpServerBuilder::new()
    ///     .tool(Tool::new("grow", "Adds a tool"), |_: serde_json::Value, ctx| async move {
    ///         let server = ctx.server().ok_or_else(|| ToolError::new("shutting down"))?;
    ///         server
    ///             .add_tool(Tool::new("grown", "Added at run time"), |_: serde_json::Value, _ctx| async {
    ///                 Ok("here")
    ///             })
    ///             .await;
    ///         Ok("added")
    ///     })
    ///     .build(transport);
    /// ```
    pub fn server(&self) -> Option<McpServer> {
        let engine = self.outlet().server.get()?.upgrade()?;
        let shared = engine.downcast::<Engine>().ok()?;
        Some(McpServer { shared })
    }
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
    /// Whether `line` is this server's own (what it handed its transport
    /// at build).
    pub(crate) fn owns_line(&self, line: &std::sync::Weak<dyn crate::transport::Dispatch>) -> bool {
        std::ptr::addr_eq(line.as_ptr(), Arc::as_ptr(&self.shared))
    }

    /// Returns the number of open sessions, over every transport: those an
    /// `initialize` opened and nothing has closed yet (whether or not the client
    /// has sent `notifications/initialized`). It counts against
    /// [`ServerConfig::max_sessions`](crate::ServerConfig::max_sessions).
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

    /// The sizes of the engine's tables, for a simulation's checks (the
    /// `simulation` feature; not an API).
    #[cfg(feature = "simulation")]
    #[doc(hidden)]
    pub fn simulation_tables(&self) -> crate::simulation::Tables {
        let sessions = self.shared.sessions.select(|_| true);
        let carriers = self.shared.carriers.all();
        let mut tables = crate::simulation::Tables {
            sessions: sessions.len(),
            carriers: carriers.len(),
            ..Default::default()
        };
        for session in sessions.iter().chain(&carriers) {
            let state = session.state();
            tables.streams += state.streams.len();
            tables.in_flight += state.in_flight.len();
            tables.pending += state.pending.len();
        }
        tables
    }

    /// Adds (or replaces, by name) a tool, as [`McpServerBuilder::tool`](crate::server::McpServerBuilder::tool)
    /// would, then (on a server built with
    /// [`ServerConfig::list_changed`](crate::ServerConfig::list_changed)) sends
    /// `notifications/tools/list_changed` to every
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
    /// use switchboard_core::{memory_pair, CallToolResult, McpServerBuilder, ServerConfig, Tool};
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .config(ServerConfig::default().list_changed(true))
    ///     .build(transport);
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
    pub async fn add_tool<A, F, Fut, R>(&self, tool: Tool, handler: F)
    where
        A: ToolArgs,
        F: Fn(A, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, ToolError>> + Send + 'static,
        R: ToolOutput,
    {
        self.shared
            .registry_mut()
            .put_tool(registry::tool_entry(tool, handler));
        self.list_changed(crate::bus::ListFamily::Tools).await;
    }

    /// Removes the tool named `name` and returns whether there was one; only
    /// then sends `notifications/tools/list_changed` (with [`ServerConfig::list_changed`](crate::ServerConfig::list_changed)) to every initialized
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
            self.list_changed(crate::bus::ListFamily::Tools).await;
        }
        removed
    }

    /// Adds (or replaces, by URI) a resource, as
    /// [`McpServerBuilder::resource`](crate::server::McpServerBuilder::resource) would, then sends
    /// `notifications/resources/list_changed` (with [`ServerConfig::list_changed`](crate::ServerConfig::list_changed)) to every initialized session.
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
        self.list_changed(crate::bus::ListFamily::Resources).await;
    }

    /// Removes the resource with this URI and returns whether there was one;
    /// only then sends `notifications/resources/list_changed` (with [`ServerConfig::list_changed`](crate::ServerConfig::list_changed)) to every
    /// initialized session. Templates are not touched, so a template that
    /// matches the URI serves it from then on. Subscriptions to the URI stay
    /// until the client unsubscribes. Cancel safety as for
    /// [`add_tool`](Self::add_tool).
    pub async fn remove_resource(&self, uri: &str) -> bool {
        let removed = remove(&mut self.shared.registry_mut().resources, uri, |e| {
            &e.resource.uri
        });
        if removed {
            self.list_changed(crate::bus::ListFamily::Resources).await;
        }
        removed
    }

    /// Adds (or replaces, by name) a prompt, as [`McpServerBuilder::prompt`](crate::server::McpServerBuilder::prompt)
    /// would (required arguments are checked before `handler` runs), then sends
    /// `notifications/prompts/list_changed` (with [`ServerConfig::list_changed`](crate::ServerConfig::list_changed)) to every initialized session.
    /// Cancel safety as for [`add_tool`](Self::add_tool).
    pub async fn add_prompt<A, F, Fut>(&self, prompt: Prompt, handler: F)
    where
        A: StringArgs,
        F: Fn(A, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GetPromptResult, RpcError>> + Send + 'static,
    {
        self.shared
            .registry_mut()
            .put_prompt(registry::prompt_entry(prompt, handler));
        self.list_changed(crate::bus::ListFamily::Prompts).await;
    }

    /// Removes the prompt named `name` and returns whether there was one; only
    /// then sends `notifications/prompts/list_changed` (with [`ServerConfig::list_changed`](crate::ServerConfig::list_changed)) to every initialized
    /// session. Later `prompts/get` of the name is `-32602`. Cancel safety as
    /// for [`add_tool`](Self::add_tool).
    pub async fn remove_prompt(&self, name: &str) -> bool {
        let removed = remove(&mut self.shared.registry_mut().prompts, name, |e| {
            &e.prompt.name
        });
        if removed {
            self.list_changed(crate::bus::ListFamily::Prompts).await;
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
        let change = crate::bus::Change::ResourceUpdated {
            uri: uri.to_owned(),
        };
        self.shared.announce(change).await;
    }

    /// Tells every client that the tool list changed
    /// (`notifications/tools/list_changed`): initialized sessions, and
    /// stateless `subscriptions/listen` streams that asked for it; only on a
    /// server built with [`ServerConfig::list_changed`](crate::ServerConfig::list_changed),
    /// the only one that declares `listChanged`. Adding or removing a tool
    /// does this itself; call it when what a tool does changed behind its
    /// name.
    pub async fn notify_tools_changed(&self) {
        self.list_changed(crate::bus::ListFamily::Tools).await;
    }

    /// Tells every client that the prompt list changed
    /// (`notifications/prompts/list_changed`), as
    /// [`McpServer::notify_tools_changed`] does for tools.
    pub async fn notify_prompts_changed(&self) {
        self.list_changed(crate::bus::ListFamily::Prompts).await;
    }

    /// Tells every client that the resource list changed
    /// (`notifications/resources/list_changed`), as
    /// [`McpServer::notify_tools_changed`] does for tools.
    pub async fn notify_resources_changed(&self) {
        self.list_changed(crate::bus::ListFamily::Resources).await;
    }

    /// Sends `notifications/{family}/list_changed` to every initialized
    /// session.
    async fn list_changed(&self, family: crate::bus::ListFamily) {
        // Unless declared, the client was promised no such notification.
        if !self.shared.config.list_changed {
            return;
        }
        self.shared
            .announce(crate::bus::Change::list_changed(family))
            .await;
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
    /// With a shared session store
    /// ([`McpServerBuilder::session_store`](crate::McpServerBuilder::session_store))
    /// its record is removed too, on the server's runtime, after this
    /// returns (so other replicas see it end); without a runtime only this
    /// server's copy ends.
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
        if let (Some(store), Some(runtime)) =
            (&self.shared.session_store, &self.shared.outlet.runtime)
        {
            let (store, id) = (Arc::clone(store), session.clone());
            let closed = crate::session_store::Letter::new(
                self.shared.letter_from,
                id.as_str(),
                crate::session_store::Content::Closed,
            );
            // Nobody waits for it: a store that cannot answer leaves the
            // record to expire. Copies on other replicas close at the
            // letter, once the record is gone (else a request between
            // could adopt the session again).
            runtime.spawn(Box::pin(async move {
                let _ = store.remove(&id).await;
                if cfg!(feature = "shared-sessions") {
                    store.post(closed);
                }
            }));
        }
        let closed = self.shared.sessions.close(session);
        if closed {
            crate::observe::session_closed(session, crate::observe::CloseReason::ByServer);
            self.shared.sessions_changed();
        }
        closed
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
    /// another server (see [`McpServerBuilder::build`](crate::server::McpServerBuilder::build)); any other error
    /// `receive` returns that is not recoverable (an I/O error, say), after the
    /// requests in flight finished.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the handlers it drives itself (their requests
    /// get no response, and leave the in-flight table); handlers spawned on the
    /// runtime keep running. A message being received is not lost if the
    /// transport keeps [`Transport::receive`](crate::transport::Transport::receive)'s contract, so calling `run`
    /// again resumes.
    pub async fn run(&self) -> Result<(), TransportError> {
        run::serve(&self.shared).await
    }
}
