//! The engine's limits and knobs, each a named default with a reason.
//!
//! Each cap (`max_*`) is enforced where its resource is taken, and reaching
//! one is answered, never silent: `-32000` ([`ErrorCode::SERVER_BUSY`]) to
//! the request that would pass it, so the client may retry later, while the
//! session and the server keep serving.
//!
//! [`ErrorCode::SERVER_BUSY`]: crate::jsonrpc::ErrorCode::SERVER_BUSY

use std::time::Duration;

use crate::stateless::{CacheHint, Cacheable, Eras, RequestStateKeys};
use crate::tasks::TaskConfig;

/// Default page size for `*/list` results: large enough that most servers
/// list everything on one page, small enough to bound one response.
pub const DEFAULT_PAGE_SIZE: usize = 100;
/// Default bound on requests in flight per session: enough for a busy agent,
/// small enough that one session cannot hold an unbounded number of handlers.
pub const DEFAULT_MAX_IN_FLIGHT: usize = 256;
/// Default wait for a client's answer to a server→client request (the TS SDK
/// uses the same 60 s).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Default cap on sessions open at once, over every transport: about 10 MiB
/// of idle sessions, far more than one process serves live.
pub const DEFAULT_MAX_SESSIONS: usize = 10_000;
/// Default cap on `resources/subscribe` subscriptions per session: a client
/// watching more resources than this is better served by list changes.
pub const DEFAULT_MAX_SUBSCRIPTIONS: usize = 1_024;

/// Default cap on stateless requests in flight at once, over the whole
/// server (a stateless request has no session to bound it): as many as
/// 16 busy sessions.
pub const DEFAULT_MAX_STATELESS_IN_FLIGHT: usize = 4_096;
/// Default life of a `requestState` the server seals: ten minutes for a
/// user to answer an elicitation.
pub const DEFAULT_REQUEST_STATE_TTL: Duration = Duration::from_secs(600);
/// Default cap on the size of a `requestState` the server seals (the
/// answers of earlier rounds, Base64 in a MAC'd token: about 4/3 of their
/// JSON). A quarter of the default HTTP body limit
/// ([`DEFAULT_MAX_BODY_BYTES`](crate::http::DEFAULT_MAX_BODY_BYTES), 4 MiB),
/// so a retry carrying the state, the params and a new answer of up to
/// about 3 MiB still fits in one request.
pub const DEFAULT_MAX_REQUEST_STATE_BYTES: usize = 1024 * 1024;
/// Default cap on `subscriptions/listen` streams open at once.
pub const DEFAULT_MAX_LISTENERS: usize = 1_024;

/// Engine limits and knobs. Every limit has a default and a setter; nothing
/// is unbounded. Setters take and return `self`, so a config is built in one
/// expression and handed to [`McpServerBuilder::config`]. Limits are read
/// when a server is built and do not change while it runs.
///
/// [`McpServerBuilder::config`]: crate::server::McpServerBuilder::config
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use switchboard_core::{McpServerBuilder, ServerConfig};
///
/// let config = ServerConfig::default()
///     .max_sessions(500)
///     .request_timeout(Duration::from_secs(30));
/// assert_eq!(config.session_limit(), 500);
/// let _builder = McpServerBuilder::new().config(config);
/// ```
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Items per `*/list` page; at least 1.
    pub(crate) page_size: usize,
    /// Requests in flight per session; at least 1.
    pub(crate) max_in_flight: usize,
    /// The wait for a client's answer to a server→client request.
    pub(crate) request_timeout: Duration,
    /// Sessions open at once, over every transport; at least 1.
    pub(crate) max_sessions: usize,
    /// What leads every minted session id (`{tag}.{random}`), if anything.
    pub(crate) session_id_tag: Option<std::sync::Arc<str>>,
    /// `resources/subscribe` subscriptions per session; 0 refuses all.
    pub(crate) max_subscriptions: usize,
    /// Which eras are served.
    pub(crate) eras: Eras,
    /// Stateless requests in flight, server-wide; at least 1.
    pub(crate) max_stateless_in_flight: usize,
    /// `subscriptions/listen` streams open at once; 0 refuses all.
    pub(crate) max_listeners: usize,
    /// The keyring that seals `requestState`; a random key when unset.
    pub(crate) request_state_keys: Option<RequestStateKeys>,
    /// How long a sealed `requestState` is accepted.
    pub(crate) request_state_ttl: Duration,
    /// The longest `requestState` the server seals.
    pub(crate) max_request_state_bytes: usize,
    /// The caching hints per kind of result, indexed by [`Cacheable::index`].
    pub(crate) cache_hints: [CacheHint; Cacheable::COUNT],
    /// Whether the lists may change at run time (`listChanged`).
    pub(crate) list_changed: bool,
    /// Tasks: their store, limits and timings.
    pub(crate) tasks: TaskConfig,
    /// How long a session in a shared store lives without a request.
    pub(crate) session_ttl: Duration,
    /// How long a replica serves a stored session without asking the store.
    pub(crate) session_cache_for: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            page_size: DEFAULT_PAGE_SIZE,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            max_sessions: DEFAULT_MAX_SESSIONS,
            session_id_tag: None,
            max_subscriptions: DEFAULT_MAX_SUBSCRIPTIONS,
            eras: Eras::Both,
            max_stateless_in_flight: DEFAULT_MAX_STATELESS_IN_FLIGHT,
            max_listeners: DEFAULT_MAX_LISTENERS,
            request_state_keys: None,
            request_state_ttl: DEFAULT_REQUEST_STATE_TTL,
            max_request_state_bytes: DEFAULT_MAX_REQUEST_STATE_BYTES,
            cache_hints: [CacheHint::default(); Cacheable::COUNT],
            list_changed: false,
            tasks: TaskConfig::default(),
            session_ttl: crate::session_store::DEFAULT_SESSION_TTL,
            session_cache_for: Duration::ZERO,
        }
    }
}

impl ServerConfig {
    /// Sets the items per page of `tools/list`, `resources/list`,
    /// `resources/templates/list` and `prompts/list` (0 counts as 1). A longer
    /// listing is cut into pages; each but the last carries a `nextCursor` the
    /// client sends back as `cursor`. A cursor that is not an offset within
    /// the listing is `-32602`.
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
    /// use switchboard_core::{memory_pair, CallToolResult, McpServerBuilder, RequestContext, ServerConfig, Tool, ToolError};
    ///
    /// async fn ok(_: Value, _: RequestContext) -> Result<CallToolResult, ToolError> {
    ///     Ok(CallToolResult::text("ok"))
    /// }
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .config(ServerConfig::default().page_size(2))
    ///     .tool(Tool::new("a", "A"), ok)
    ///     .tool(Tool::new("b", "B"), ok)
    ///     .tool(Tool::new("c", "C"), ok)
    ///     .build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     let first = rpc(&client, &session, 1, "tools/list", json!({})).await;
    ///     assert_eq!(first["result"]["tools"].as_array().unwrap().len(), 2);
    ///     let cursor = first["result"]["nextCursor"].clone();
    ///     let last = rpc(&client, &session, 2, "tools/list", json!({"cursor": cursor})).await;
    ///     assert_eq!(last["result"]["tools"][0]["name"], "c");
    ///     assert!(last["result"].get("nextCursor").is_none());
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    #[must_use]
    pub fn page_size(mut self, n: usize) -> Self {
        self.page_size = n.max(1);
        self
    }

    /// Sets the requests in flight per session (0 counts as 1). A request is in
    /// flight from its admission until its handler ends (result, error, panic or
    /// cancellation); `initialize` and `ping` never are. Past the limit a
    /// request is answered at once with error `-32000` ("too many requests in
    /// flight") and its handler never runs; the session keeps serving.
    ///
    /// # Examples
    ///
    /// A tool that never finishes holds the only slot; the next call is refused
    /// at once:
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
    /// use switchboard_core::{memory_pair, CallToolResult, McpServerBuilder, ServerConfig, Tool, ToolError};
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .config(ServerConfig::default().max_in_flight(1))
    ///     .tool(Tool::new("wait", "Never finishes"), |_: Value, _ctx| futures::future::pending::<Result<CallToolResult, ToolError>>())
    ///     .build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     let call = json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "wait"}});
    ///     client.send_json(&session, &call).await.unwrap();
    ///     let refused = rpc(&client, &session, 2, "tools/call", json!({"name": "wait"})).await;
    ///     assert_eq!(refused["error"]["code"], -32000);
    ///     assert_eq!(refused["error"]["message"], "too many requests in flight");
    ///
    ///     // Ending the session cancels the waiting call, so `run` can return.
    ///     client.close_session(&session).await.unwrap();
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    #[must_use]
    pub fn max_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = n.max(1);
        self
    }

    /// Sets how long a server→client request (sampling, elicitation, roots)
    /// waits for the client's answer. Past it the request fails with
    /// [`RequestError::Timeout`](crate::RequestError::Timeout) and a
    /// `notifications/cancelled` is sent for it. The wait is timed by the
    /// server's [`Runtime`](crate::Runtime); without one such requests are not
    /// sent at all.
    #[must_use]
    pub fn request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout = d;
        self
    }

    /// Sets the sessions open at once, over every transport of the server
    /// (0 counts as 1). Past it `initialize` is refused with error `-32000`
    /// ("too many sessions"), which HTTP answers with 503; open sessions are
    /// untouched. A session counts from its `initialize` until it is closed or
    /// expires.
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
    /// use switchboard_core::{memory_pair, McpServerBuilder, ServerConfig};
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .config(ServerConfig::default().max_sessions(1))
    ///     .build(transport);
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &SessionId::new("a")).await;
    ///     let refused = rpc(&client, &SessionId::new("b"), 1, "initialize", json!({
    ///         "protocolVersion": "2025-11-25", "capabilities": {},
    ///         "clientInfo": {"name": "c", "version": "1"}})).await;
    ///     assert_eq!(refused["error"]["code"], -32000);
    ///     assert_eq!(refused["error"]["message"], "too many sessions");
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    #[must_use]
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n.max(1);
        self
    }

    /// Sets the subscriptions per session (`resources/subscribe`); 0 refuses
    /// every subscription. Past it a new subscription is refused with error
    /// `-32000` ("too many subscriptions"); subscribing again to a URI already
    /// subscribed to is no new subscription and always succeeds.
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
    /// use switchboard_core::{memory_pair, McpServerBuilder, Resource, ServerConfig};
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .config(ServerConfig::default().max_subscriptions(1))
    ///     .text_resource(Resource::new("mem://a", "a"), "A")
    ///     .text_resource(Resource::new("mem://b", "b"), "B")
    ///     .build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     let first = rpc(&client, &session, 1, "resources/subscribe", json!({"uri": "mem://a"})).await;
    ///     assert_eq!(first["result"], json!({}));
    ///     let refused = rpc(&client, &session, 2, "resources/subscribe", json!({"uri": "mem://b"})).await;
    ///     assert_eq!(refused["error"]["code"], -32000);
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    #[must_use]
    pub fn max_subscriptions(mut self, n: usize) -> Self {
        self.max_subscriptions = n;
        self
    }

    /// Declares that the server's tools, resources and prompts may change
    /// while it runs (default: they do not). Then `initialize` (and
    /// `server/discover`) declare `tools`, `resources` and `prompts` with
    /// `listChanged: true`, even while a list is empty, and every
    /// [`McpServer::add_tool`](crate::server::McpServer::add_tool),
    /// `remove_tool`, … and `notify_*_changed` sends the
    /// `notifications/*/list_changed` it implies to every session and
    /// `subscriptions/listen` stream. Without it, those calls still change
    /// the lists but send nothing, as `listChanged` absent promises.
    #[must_use]
    pub fn list_changed(mut self, on: bool) -> Self {
        self.list_changed = on;
        self
    }

    /// Sets how tasks (the 2026-07-28 tasks extension) are kept: their
    /// store, time to live, poll interval and caps ([`TaskConfig`]'s
    /// defaults otherwise).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use switchboard_core::ServerConfig;
    /// use switchboard_core::tasks::TaskConfig;
    ///
    /// let config = ServerConfig::default()
    ///     .tasks(TaskConfig::default().ttl(Duration::from_secs(600)).max_tasks_per_owner(8));
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn tasks(mut self, tasks: TaskConfig) -> Self {
        self.tasks = tasks;
        self
    }

    /// Sets which protocol eras the server serves: both (the default), only
    /// the session-based revisions, or only the stateless one. See
    /// [`Eras`] for what each refuses.
    #[must_use]
    pub fn eras(mut self, eras: Eras) -> Self {
        self.eras = eras;
        self
    }

    /// Sets the stateless requests in flight at once, over the whole server
    /// (0 counts as 1). Past it a stateless request is answered `-32000`
    /// ("too many requests in flight"), over HTTP with 503, and never runs.
    #[must_use]
    pub fn max_stateless_in_flight(mut self, n: usize) -> Self {
        self.max_stateless_in_flight = n.max(1);
        self
    }

    /// Sets the `subscriptions/listen` streams open at once; 0 refuses
    /// every one. Past it a listen request is answered `-32000`.
    #[must_use]
    pub fn max_listeners(mut self, n: usize) -> Self {
        self.max_listeners = n;
        self
    }

    /// Makes every session id this server mints start with `tag` and a dot
    /// (`r2.5f0c…`): a node tag, so a balancer that cannot learn stickiness
    /// from responses routes a session's requests to the replica that
    /// opened it with a `map` on the `Mcp-Session-Id` header (see the
    /// README's "Running several replicas"). Default: none, ids are 32 hex
    /// digits.
    ///
    /// # Panics
    ///
    /// When `tag` is not 1 to 32 characters of `A-Z`, `a-z`, `0-9`, `_`
    /// and `-`: a configuration error, found when the server is configured.
    ///
    /// ```
    /// use switchboard_core::ServerConfig;
    ///
    /// let config = ServerConfig::default().session_id_tag("replica-2");
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn session_id_tag(mut self, tag: impl Into<String>) -> Self {
        let tag = tag.into();
        assert!(
            crate::id::SessionId::valid_tag(&tag),
            "a session id tag is 1 to 32 characters of A-Z a-z 0-9 _ -, not {tag:?}"
        );
        self.session_id_tag = Some(tag.into());
        self
    }

    /// Sets how long a session kept in a shared store
    /// ([`McpServerBuilder::session_store`](crate::McpServerBuilder::session_store))
    /// lives without a request on any replica (at least one second).
    /// Default [`DEFAULT_SESSION_TTL`](crate::session_store::DEFAULT_SESSION_TTL),
    /// 30 minutes; give it the value of the HTTP transport's
    /// `session_idle_timeout`. Without a store, sessions expire by that
    /// timeout alone.
    ///
    /// ```
    /// use std::time::Duration;
    /// use switchboard_core::ServerConfig;
    ///
    /// let config = ServerConfig::default().session_ttl(Duration::from_secs(600));
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn session_ttl(mut self, ttl: Duration) -> Self {
        self.session_ttl = ttl.max(Duration::from_secs(1));
        self
    }

    /// Sets how long a replica serves a stored session it holds without
    /// asking the store whether it is still open (and for its log level
    /// and subscriptions). Default zero: every request asks (one store
    /// round trip, which also restarts the session's time to live), so a
    /// `DELETE` or an expiry on one replica is seen by the next request on
    /// every other. A longer time saves round trips and lets a deleted
    /// session be served here for at most that long. Without a store it
    /// changes nothing.
    ///
    /// ```
    /// use std::time::Duration;
    /// use switchboard_core::ServerConfig;
    ///
    /// let config = ServerConfig::default().session_cache_for(Duration::from_millis(500));
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn session_cache_for(mut self, time: Duration) -> Self {
        self.session_cache_for = time;
        self
    }

    /// Sets the keyring that seals and opens `requestState` (multi
    /// round-trip requests). Give every replica behind a balancer the same
    /// one, so a retry may reach any of them; rotate by making the old key
    /// the previous one. Unset, the server draws a random key when built.
    /// (The `request-state` feature, on by default: without it no state is
    /// sealed and a round that asks for input fails.)
    #[cfg(feature = "request-state")]
    #[must_use]
    pub fn request_state_keys(mut self, keys: RequestStateKeys) -> Self {
        self.request_state_keys = Some(keys);
        self
    }

    /// Sets how long a `requestState` stays valid after it is sealed (whole
    /// seconds, at least 1). An expired one is refused with `-32602`.
    #[must_use]
    pub fn request_state_ttl(mut self, ttl: Duration) -> Self {
        self.request_state_ttl = ttl;
        self
    }

    /// Sets the longest `requestState` the server seals (default
    /// [`DEFAULT_MAX_REQUEST_STATE_BYTES`]). The rule: a round trip the
    /// server starts must be one the client can finish, so a round whose
    /// answers so far would seal into a longer state fails at once with
    /// `-32602` naming the limit, instead of handing the client a state its
    /// retry could not carry past the HTTP body limit. Keep it well under
    /// [`HttpConfig::max_body_bytes`](crate::HttpConfig::max_body_bytes)
    /// (a quarter of it by default), leaving room for the params and the
    /// next answer.
    #[must_use]
    pub fn max_request_state_bytes(mut self, bytes: usize) -> Self {
        self.max_request_state_bytes = bytes;
        self
    }

    /// Sets the caching hints (`ttlMs`, `cacheScope`) of one kind of
    /// stateless result. The default for every kind is a TTL of 0 and
    /// `private`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use switchboard_core::ServerConfig;
    /// use switchboard_core::stateless::{CacheHint, CacheScope, Cacheable};
    ///
    /// let config = ServerConfig::default()
    ///     .cache_hint(Cacheable::Discover, CacheHint::new(Duration::from_secs(300), CacheScope::Public));
    /// # let _ = config;
    /// ```
    #[must_use]
    pub fn cache_hint(mut self, kind: Cacheable, hint: CacheHint) -> Self {
        self.cache_hints[kind.index()] = hint;
        self
    }

    /// Returns the session cap set by [`max_sessions`](Self::max_sessions)
    /// (never 0).
    pub fn session_limit(&self) -> usize {
        self.max_sessions
    }
}
