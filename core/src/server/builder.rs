//! [`McpServerBuilder`]: what a server is called, its limits, its
//! runtime, and building it over a transport. Registering what it offers
//! (tools, resources, prompts, completion) is in `register`.

use std::fmt;
use std::sync::{Arc, OnceLock, RwLock, Weak};

use super::carriers::Carriers;
use super::config::ServerConfig;
use super::dispatch::Engine;
use super::handle::McpServer;
use super::listen::Listeners;
use super::registry::Registry;
use super::shared::Shared;
use crate::context::{Outlet, StateMap};
use crate::observe::SessionsGauge;
use crate::protocol::Implementation;
use crate::runtime::{Runtime, adopt_clock};
use crate::session::SessionTable;
use crate::transport::{Dispatch, Transport};

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
    pub(super) registry: Registry,
    /// The executor handlers are spawned on and timers come from; `None`
    /// runs handlers inside the serve loop and refuses server→client
    /// requests.
    runtime: Option<Arc<dyn Runtime>>,
    /// Server-wide state values, by type.
    state: StateMap,
    /// Where changes go to reach every replica; `None` tells this server's
    /// own clients directly.
    bus: Option<Arc<dyn crate::bus::EventBus>>,
    /// Where session-era sessions are shared with other replicas.
    session_store: Option<Arc<dyn crate::session_store::SessionStore>>,
    /// What was wrong with registrations (an invalid template, say),
    /// reported by [`build`](Self::build) so the chain never breaks.
    pub(super) problems: Vec<String>,
}

/// What [`McpServerBuilder::try_build`] found wrong: every registration
/// that could not be made, in order.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the server cannot be built: {}", .0.join("; "))]
pub struct BuildError(pub Vec<String>);

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
            state: StateMap::default(),
            bus: None,
            session_store: None,
            problems: Vec::new(),
        }
    }

    /// Adds a server-wide state value, reachable from every handler with
    /// [`RequestContext::state`](crate::RequestContext::state)`::<S>()`:
    /// no `Arc` to clone into each closure. One value per type; a second
    /// value of the same type replaces the first. Share mutable state
    /// through a lock inside `S`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Mutex;
    /// use switchboard_core::{McpServerBuilder, Tool, ToolError, memory_pair};
    ///
    /// struct Counter(Mutex<u64>);
    ///
    /// let (transport, _client) = memory_pair(16);
    /// let _server = McpServerBuilder::new()
    ///     .state(Counter(Mutex::new(0)))
    ///     .tool(Tool::new("count", "Counts calls"), |_: serde_json::Value, ctx| async move {
    ///         let counter = ctx.state::<Counter>()?;
    ///         let mut n = counter.0.lock().unwrap();
    ///         *n += 1;
    ///         Ok::<_, ToolError>(n.to_string())
    ///     })
    ///     .build(transport);
    /// ```
    #[must_use]
    pub fn state<S: Send + Sync + 'static>(mut self, state: S) -> Self {
        Arc::make_mut(&mut self.state).insert(std::any::TypeId::of::<S>(), Arc::new(state));
        self
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
    /// ([`RequestContext::request`](crate::RequestContext::request) and friends) are sent and time out after
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
        adopt_clock(&*runtime);
        self.runtime = Some(runtime);
        self
    }

    /// Shares changes with other servers (replicas) through `bus`: a
    /// `notify_*` call (and the list change of `add_tool` or `remove_tool`)
    /// publishes on the bus, and every server on it, this one included,
    /// tells its own clients once the change arrives (see [`crate::bus`]).
    /// The subscription is taken when [`McpServer::run`] starts and ends
    /// with it. A change the bus cannot take is told to this server's
    /// clients only. Default: no bus, changes go straight to this server's
    /// clients.
    #[must_use]
    pub fn event_bus(mut self, bus: Arc<dyn crate::bus::EventBus>) -> Self {
        self.bus = Some(bus);
        self
    }

    /// Keeps session-era sessions in `store` too, so that any replica
    /// sharing it serves any session: a request naming a session this
    /// server does not hold loads it from the store and adopts it, and a
    /// `DELETE` or expiry on one replica is seen by all (see
    /// [`crate::session_store`], [`ServerConfig::session_cache_for`] and
    /// [`ServerConfig::session_ttl`]). A store that cannot answer fails the
    /// requests that need it (HTTP 503). Default: no store, sessions live in
    /// this server alone.
    #[must_use]
    pub fn session_store(mut self, store: Arc<dyn crate::session_store::SessionStore>) -> Self {
        self.session_store = Some(store);
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
    /// with [`TransportError::AlreadyAttached`](crate::TransportError::AlreadyAttached). `build` itself never fails;
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
    ///
    /// # Panics
    ///
    /// When a registration could not be made (a resource template that is
    /// not a level-1 URI template): a program error, found at start-up.
    /// [`try_build`](Self::try_build) returns it instead.
    pub fn build(self, transport: impl Transport) -> McpServer {
        match self.try_build(transport) {
            Ok(server) => server,
            Err(e) => panic!("{e}"),
        }
    }

    /// Builds the server as [`build`](Self::build) does, or says which
    /// registrations could not be made.
    ///
    /// # Errors
    ///
    /// [`BuildError`] with one line per registration that failed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use switchboard_core::{McpServerBuilder, ReadResourceResult, ResourceTemplate, memory_pair};
    ///
    /// let (transport, _client) = memory_pair(16);
    /// let refused = McpServerBuilder::new()
    ///     .resource_template(
    ///         ResourceTemplate::new("users://{id", "broken"),
    ///         |_uri, _vars: HashMap<String, String>, _ctx| async { Ok(ReadResourceResult::new(vec![])) },
    ///     )
    ///     .try_build(transport)
    ///     .unwrap_err();
    /// assert_eq!(refused.0, ["resource template `users://{id`: malformed uri template"]);
    /// ```
    pub fn try_build(self, transport: impl Transport) -> Result<McpServer, BuildError> {
        if !self.problems.is_empty() {
            return Err(BuildError(self.problems));
        }
        let transport: Arc<dyn Transport> = Arc::new(transport);
        let listeners = Arc::new(Listeners::default());
        let shared = Engine::new(Shared {
            info: self.info,
            instructions: self.instructions,
            sessions: SessionTable::new(self.config.max_sessions)
                .with_tag(self.config.session_id_tag.clone()),
            outlet: Arc::new(Outlet {
                transport: Arc::clone(&transport),
                runtime: self.runtime,
                request_timeout: self.config.request_timeout,
                state: self.state,
                server: OnceLock::new(),
            }),
            state_keys: self
                .config
                .request_state_keys
                .clone()
                .or_else(crate::stateless::RequestStateKeys::random),
            carriers: Carriers::default(),
            tasks: Arc::new(super::tasks::TaskHub::new(
                self.config.tasks.clone(),
                Arc::clone(&listeners),
            )),
            listeners,
            config: self.config,
            registry: RwLock::new(self.registry),
            attach_error: OnceLock::new(),
            sessions_gauge: SessionsGauge::default(),
            bus: self.bus,
            session_store: self.session_store,
            letter_from: letter_from(),
        });
        crate::observe::describe_metrics();
        let _ = shared
            .outlet
            .server
            .set(Arc::downgrade(&shared) as std::sync::Weak<dyn std::any::Any + Send + Sync>);
        let line: Weak<dyn Dispatch> = Arc::downgrade(&shared) as Weak<dyn Dispatch>;
        if let Err(e) = transport.attach(line) {
            let _ = shared.attach_error.set(e);
        }
        Ok(McpServer { shared })
    }
}

/// A random number naming a server in its letters; without randomness, a
/// count that at least tells this process's servers apart.
fn letter_from() -> u64 {
    static COUNT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let mut bytes = [0; 8];
    match getrandom::fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
    }
}
