//! What a handler gets: its ids and the client's facts, progress and
//! logging that go out *related* to its request, cancellation, and
//! server→client requests.
//!
//! A context reaches the rest of the server only through an [`Outlet`]
//! (the transport to send on, the runtime, the request timeout), so this
//! module depends on nothing of the engine's.
//!
//! A context is live while its handler runs, then cancelled or finished;
//! [`RequestContext`]'s own docs give the three states and what each
//! means for what it sends.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::AbortHandle;
use serde_json::Value;

use crate::facts::{Capability, ClientFacts};
use crate::id::SessionId;
use crate::jsonrpc::RequestId;
use crate::protocol::{LogLevel, ProtocolVersion};
use crate::runtime::Runtime;
use crate::session::Session;
use crate::stateless::input::Inputs;
use crate::tasks::{TaskLink, TaskStart};
use crate::transport::Transport;

mod error;
mod messages;
mod requests;
mod tasks;

pub use error::{ContextError, RequestError};

/// What a context needs of its server: where messages go out, the runtime
/// (for timers), and how long a server→client request may wait.
///
/// One per server, shared by every context it builds; fixed at
/// [`McpServerBuilder::build`](crate::server::McpServerBuilder::build).
pub(crate) struct Outlet {
    /// The server's transport; every message a context sends goes through
    /// its [`Transport::send`].
    pub(crate) transport: Arc<dyn Transport>,
    /// The server's runtime. `None` makes [`RequestContext::request`] fail
    /// with [`RequestError::NoRuntime`], since nothing could time it out.
    pub(crate) runtime: Option<Arc<dyn Runtime>>,
    /// The longest wait for a client's answer to a server→client request
    /// ([`ServerConfig::request_timeout`](crate::ServerConfig::request_timeout)).
    pub(crate) request_timeout: Duration,
    /// The server-wide state values, by type
    /// ([`McpServerBuilder::state`](crate::server::McpServerBuilder::state)).
    pub(crate) state: StateMap,
    /// The server's engine, set once it is built; weak, since the server
    /// holds this outlet. Typed as `Any` so that this module, which the
    /// engine builds on, need not name it:
    /// [`RequestContext::server`] (beside `McpServer`) downcasts it.
    pub(crate) server: std::sync::OnceLock<std::sync::Weak<dyn std::any::Any + Send + Sync>>,
}

/// Server-wide state values, one per type, shared by every handler.
pub(crate) type StateMap =
    Arc<std::collections::HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>>;

/// The context handed to every request handler.
///
/// Cheap to clone; clones share one state, so a clone moved into another
/// task sees the same cancellation and the same end of the request.
/// Everything sent through it is routed as [`Route::Related`](crate::Route::Related) to the
/// request being handled, so that over HTTP it goes out on that request's
/// own SSE stream before the result.
///
/// # Lifetime
///
/// The engine builds one context per admitted request, just before its
/// handler runs. The context then goes through three states:
///
/// 1. **Live**: while the handler runs, what it sends reaches the client
///    related to the request, before the result.
/// 2. **Cancelled**: a `notifications/cancelled` for the request, or the end
///    of its session, aborts the handler: its future is dropped at its next
///    `.await`, and [`RequestContext::is_cancelled`] turns `true` for code
///    that computes without awaiting (or for clones kept elsewhere). A
///    cancelled request gets no response.
/// 3. **Finished**: once the handler has returned or was aborted, the engine
///    marks the context finished, before it sends the response. From then
///    on its notifications ([`RequestContext::notify`], and
///    [`RequestContext::progress`] and [`RequestContext::log`] when they
///    would send) fail with [`ContextError::RequestFinished`]: nothing may
///    follow a response on its stream.
///
/// # Examples
///
/// A tool that reads its ids from the context:
///
/// ```
/// use serde_json::{json, Value};
/// use switchboard_core::{memory_pair, CallToolResult, McpServerBuilder, SessionId, Tool};
///
/// # futures::executor::block_on(async {
/// let (transport, client) = memory_pair(16);
/// let server = McpServerBuilder::new()
///     .tool(Tool::new("whoami", "Names its session and request"), |_: Value, ctx| async move {
///         Ok(CallToolResult::text(format!("{} {}", ctx.session_id(), ctx.request_id())))
///     })
///     .build(transport);
///
/// let session = SessionId::new("s1");
/// let client_side = async {
///     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
///         "params": {"protocolVersion": "2025-11-25", "capabilities": {},
///                    "clientInfo": {"name": "c", "version": "1"}}})).await.unwrap();
///     client.recv().await.unwrap();
///     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": "call-7",
///         "method": "tools/call", "params": {"name": "whoami"}})).await.unwrap();
///     let reply: Value = serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap();
///     // A string id displays quoted, so it cannot be mistaken for a number.
///     assert_eq!(reply["result"]["content"][0]["text"], r#"s1 "call-7""#);
///     client.close();
/// };
/// let (served, ()) = futures::join!(server.run(), client_side);
/// served.unwrap();
/// # });
/// ```
#[derive(Clone)]
pub struct RequestContext {
    inner: Arc<Inner>,
}

/// The state every clone of one context shares.
struct Inner {
    /// Where the context's messages go out.
    outlet: Arc<Outlet>,
    /// The session the request arrived in; server→client requests wait for
    /// their answers in its state.
    session: Arc<Session>,
    /// The client's facts for this request, copied at creation: the
    /// session's (they do not change during a session), or the request's
    /// own `_meta` in the stateless revision. Reading them takes no lock.
    facts: ClientFacts,
    /// A stateless request's round of inputs (multi round-trip requests):
    /// present for `tools/call`, `prompts/get` and `resources/read`, which
    /// may ask the client for input; `None` in sessions, where a request to
    /// the client is a real server→client request.
    inputs: Option<Arc<Inputs>>,
    /// The request being handled; what every related message names.
    request_id: RequestId,
    /// `params._meta.progressToken`, when the request carried one.
    progress_token: Option<Value>,
    /// The last progress value sent, so progress never goes back.
    last_progress: Mutex<Option<f64>>,
    /// Aborts the handler; the engine keeps a clone in the session's
    /// in-flight table for `notifications/cancelled` and session close.
    abort: AbortHandle,
    /// Set by [`RequestContext::finish`] once the handler ended.
    finished: AtomicBool,
    /// The task the handler runs in, once its call became one: input then
    /// waits for `tasks/update`, cancellation is the task's.
    task: std::sync::OnceLock<Arc<TaskLink>>,
    /// For a tool whose handler says when its task begins: the signal
    /// [`RequestContext::start_task`] gives the engine.
    task_start: std::sync::OnceLock<TaskStart>,
}

impl fmt::Debug for RequestContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestContext")
            .field("session", self.inner.session.id())
            .field("request_id", &self.inner.request_id)
            .field("progress_token", &self.inner.progress_token)
            .finish_non_exhaustive()
    }
}

impl RequestContext {
    /// Builds the context of request `request_id` in `session`, whose
    /// handler `abort` aborts; `facts` are the session's or, for a
    /// stateless request, its own, and `inputs` its round of inputs.
    ///
    /// Called by the engine once the request is admitted and registered in
    /// flight (with a clone of `abort`), so that a cancellation that
    /// follows reaches the handler.
    pub(crate) fn new(
        outlet: Arc<Outlet>,
        session: Arc<Session>,
        facts: ClientFacts,
        request_id: RequestId,
        progress_token: Option<Value>,
        abort: AbortHandle,
        inputs: Option<Arc<Inputs>>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                outlet,
                facts,
                inputs,
                session,
                request_id,
                progress_token,
                last_progress: Mutex::new(None),
                abort,
                finished: AtomicBool::new(false),
                task: std::sync::OnceLock::new(),
                task_start: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Marks the request finished: every clone's later notifications fail
    /// with [`ContextError::RequestFinished`].
    ///
    /// The engine calls it when the handler ends (returned or aborted),
    /// before the response goes out, so that no related message can follow
    /// the response on its stream. Irreversible.
    pub(crate) fn finish(&self) {
        self.inner.finished.store(true, Ordering::Release);
    }

    /// The session the request arrived in, for the methods the engine
    /// answers itself (`logging/setLevel`, `resources/subscribe`).
    pub(crate) fn session(&self) -> &Arc<Session> {
        &self.inner.session
    }

    /// The session this request arrived in: the `Mcp-Session-Id` over HTTP,
    /// `"stdio"` over stdio, the name the client gave over memory.
    ///
    /// Stable for the life of the context, so a handler may key its own
    /// per-session state by it.
    pub fn session_id(&self) -> &SessionId {
        self.inner.session.id()
    }

    /// The request's JSON-RPC id, exactly as the client sent it.
    ///
    /// Unique among the session's requests in flight (the engine refuses a
    /// duplicate before any handler runs), but a client may reuse it once
    /// this request is answered.
    pub fn request_id(&self) -> &RequestId {
        &self.inner.request_id
    }

    /// The server's runtime, if it has one: for timers and spawning inside
    /// handlers without naming an executor.
    ///
    /// `None` when the server was built without
    /// [`McpServerBuilder::runtime`](crate::server::McpServerBuilder::runtime); the
    /// handler then runs inside the serve loop (or on the HTTP connection's
    /// task), and [`RequestContext::request`] is refused.
    pub fn runtime(&self) -> Option<&Arc<dyn Runtime>> {
        self.inner.outlet.runtime.as_ref()
    }

    /// What the context has of its server.
    pub(crate) fn outlet(&self) -> &Outlet {
        &self.inner.outlet
    }

    /// The server-wide state value of type `S`, given to
    /// [`McpServerBuilder::state`](crate::server::McpServerBuilder::state).
    ///
    /// # Errors
    ///
    /// [`ContextError::NoState`] when the server was given no `S` (a tool
    /// handler's `?` turns it into an `isError` result naming the type).
    pub fn state<S: Send + Sync + 'static>(&self) -> Result<&S, ContextError> {
        self.inner
            .outlet
            .state
            .get(&std::any::TypeId::of::<S>())
            .and_then(|v| v.downcast_ref::<S>())
            .ok_or(ContextError::NoState(std::any::type_name::<S>()))
    }

    /// The protocol revision the request is served under: the one its
    /// session negotiated, or a stateless request's own.
    ///
    /// For behaviour that differs between revisions; what the engine itself
    /// varies by revision (batches, how invalid tool arguments are
    /// reported) it already handles.
    pub fn protocol_version(&self) -> ProtocolVersion {
        self.inner.facts.version
    }

    /// Whether a log message at `level` would reach the client: the
    /// request's own level when it carries one, else its session's
    /// (`logging/setLevel`; until then, every level).
    ///
    /// [`RequestContext::log`] checks this itself; call it first only to
    /// skip building an expensive message that would be dropped. The answer
    /// can change if the client sends `logging/setLevel` meanwhile.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::{json, Value};
    /// use switchboard_core::{
    ///     memory_pair, CallToolResult, LogLevel, McpServerBuilder, SessionId, Tool,
    /// };
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .tool(Tool::new("levels", "Says which levels get through"), |_: Value, ctx| async move {
    ///         Ok(CallToolResult::text(format!(
    ///             "debug={} error={}",
    ///             ctx.logs(LogLevel::Debug),
    ///             ctx.logs(LogLevel::Error)
    ///         )))
    ///     })
    ///     .build(transport);
    ///
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
    ///         "params": {"protocolVersion": "2025-11-25", "capabilities": {},
    ///                    "clientInfo": {"name": "c", "version": "1"}}})).await.unwrap();
    ///     client.recv().await.unwrap();
    ///     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": 2,
    ///         "method": "logging/setLevel", "params": {"level": "warning"}})).await.unwrap();
    ///     client.recv().await.unwrap();
    ///     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": 3,
    ///         "method": "tools/call", "params": {"name": "levels"}})).await.unwrap();
    ///     let reply: Value = serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap();
    ///     assert_eq!(reply["result"]["content"][0]["text"], "debug=false error=true");
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    pub fn logs(&self, level: LogLevel) -> bool {
        match self.inner.facts.log_level {
            Some(min) => level >= min,
            // A stateless request without a level wants no logs at all.
            None if self.inner.facts.version.is_stateless() => false,
            None => self.inner.session.logs(level),
        }
    }

    /// Whether the client declared `capability`: in its session's
    /// `initialize`, or in this stateless request's `_meta`. Ask before
    /// requesting what the client may not offer (a handler that can fall
    /// back to sampling when elicitation is missing, say).
    pub fn client_declares(&self, capability: Capability) -> bool {
        self.inner.facts.has(capability)
    }

    /// Whether the request is served under a stateless revision (no
    /// session). [`RequestContext::session_id`] then names the request's
    /// carrier: over HTTP one made for this request alone (`~` and a
    /// count), over stdio or memory the connection's own id, shared by
    /// every stateless request of the connection. Do not key per-client
    /// state by it in this era: the revision has no client identity.
    pub fn is_stateless(&self) -> bool {
        self.inner.facts.version.is_stateless()
    }

    /// Whose bearer token authorized the request, when the HTTP endpoint
    /// is protected ([`HttpConfig::auth`](crate::HttpConfig::auth)); `None`
    /// otherwise (and over stdio).
    ///
    /// It is this request's own principal, so scopes granted since the
    /// session opened count. In a session it always has the subject that
    /// opened the session: a request with another subject's token never
    /// reaches the session.
    ///
    /// ```
    /// use switchboard_core::{CallToolResult, RequestContext, RpcError};
    ///
    /// fn whoami(ctx: &RequestContext) -> Result<CallToolResult, RpcError> {
    ///     match ctx.principal() {
    ///         Some(p) if p.has_scope("notes:read") => Ok(CallToolResult::text(p.subject())),
    ///         Some(_) => Ok(CallToolResult::error("needs the notes:read scope")),
    ///         None => Ok(CallToolResult::text("anonymous")),
    ///     }
    /// }
    /// ```
    pub fn principal(&self) -> Option<&crate::principal::Principal> {
        self.inner.facts.principal.as_deref()
    }

    /// The request's `_meta.progressToken`, as the JSON value it arrived as.
    ///
    /// `None` when the client asked for no progress; then
    /// [`RequestContext::progress`] sends nothing, so a handler need not
    /// check this before reporting.
    pub fn progress_token(&self) -> Option<&Value> {
        self.inner.progress_token.as_ref()
    }

    /// Whether the client cancelled this request (or its session ended);
    /// in a task, whether `tasks/cancel` cancelled the task (closing the
    /// exchange that created it does not).
    ///
    /// A cancelled handler is also dropped at its next `.await`; this is for
    /// handlers that compute without awaiting. Once `true`, it stays `true`;
    /// a cancelled request gets no response.
    ///
    /// # Examples
    ///
    /// A tool that computes in a loop checks between steps, so that a
    /// cancellation stops it even though it never awaits:
    ///
    /// ```
    /// use serde_json::{json, Value};
    /// use switchboard_core::{
    ///     memory_pair, CallToolResult, McpServerBuilder, RpcError, SessionId, Tool,
    /// };
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .tool(Tool::new("sum", "Sums 1..=1000"), |_: Value, ctx| async move {
    ///         let mut sum = 0u64;
    ///         for n in 1..=1000u64 {
    ///             if n % 100 == 0 && ctx.is_cancelled() {
    ///                 return Err(RpcError::internal("cancelled").into());
    ///             }
    ///             sum += n;
    ///         }
    ///         Ok(CallToolResult::text(sum.to_string()))
    ///     })
    ///     .build(transport);
    ///
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
    ///         "params": {"protocolVersion": "2025-11-25", "capabilities": {},
    ///                    "clientInfo": {"name": "c", "version": "1"}}})).await.unwrap();
    ///     client.recv().await.unwrap();
    ///     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": 2,
    ///         "method": "tools/call", "params": {"name": "sum"}})).await.unwrap();
    ///     let reply: Value = serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap();
    ///     assert_eq!(reply["result"]["content"][0]["text"], "500500");
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    ///
    /// A clone kept outside the handler sees the cancellation; the aborted
    /// handler sends no response (the transport is told so with
    /// [`Route::Cancelled`](crate::Route::Cancelled)), and the context is finished:
    ///
    /// ```
    /// use futures::StreamExt;
    /// use serde_json::{json, Value};
    /// use switchboard_core::{
    ///     memory_pair, CallToolResult, ContextError, McpServerBuilder, Route, SessionId, Tool,
    ///     ToolError,
    /// };
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let (kept_tx, mut kept_rx) = futures::channel::mpsc::unbounded();
    /// let server = McpServerBuilder::new()
    ///     .tool(Tool::new("hang", "Never finishes"), move |_: Value, ctx| {
    ///         let kept = kept_tx.clone();
    ///         async move {
    ///             kept.unbounded_send(ctx).unwrap();
    ///             futures::future::pending::<Result<CallToolResult, ToolError>>().await
    ///         }
    ///     })
    ///     .build(transport);
    ///
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
    ///         "params": {"protocolVersion": "2025-11-25", "capabilities": {},
    ///                    "clientInfo": {"name": "c", "version": "1"}}})).await.unwrap();
    ///     client.recv().await.unwrap();
    ///     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": 2,
    ///         "method": "tools/call", "params": {"name": "hang"}})).await.unwrap();
    ///     let ctx = kept_rx.next().await.unwrap();
    ///     assert!(!ctx.is_cancelled());
    ///     client.send_json(&session, &json!({"jsonrpc": "2.0",
    ///         "method": "notifications/cancelled", "params": {"requestId": 2}})).await.unwrap();
    ///     let out = client.recv().await.unwrap();
    ///     assert_eq!(out.route, Route::Cancelled(2.into()));
    ///     assert!(out.bytes.is_empty());
    ///     assert!(ctx.is_cancelled());
    ///     let late = ctx.notify("notifications/message", json!({})).await;
    ///     assert!(matches!(late, Err(ContextError::RequestFinished)));
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    pub fn is_cancelled(&self) -> bool {
        match self.inner.task.get() {
            // A task outlives its request: only `tasks/cancel` cancels it.
            Some(task) => task.is_cancelled(),
            None => self.inner.abort.is_aborted(),
        }
    }
}
