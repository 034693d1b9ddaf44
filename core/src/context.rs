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

use futures::channel::oneshot;
use futures::future::{AbortHandle, Either};
use serde_json::{Value, json};

use crate::facts::{Capability, ClientFacts};
use crate::id::SessionId;
use crate::jsonrpc::{Message, Notification, Request, RequestId, RpcError};
use crate::protocol::{LogLevel, ProtocolVersion};
use crate::runtime::Runtime;
use crate::session::Session;
use crate::transport::{Outbound, Route, Transport, TransportError};

/// What a context needs of its server: where messages go out, the runtime
/// (for timers), and how long a server→client request may wait.
///
/// One per server, shared by every context it builds; fixed at
/// [`McpServerBuilder::build`](crate::McpServerBuilder::build).
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
}

/// Why a related message could not be sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ContextError {
    /// A progress value lower than the previous one (progress must not go back).
    #[error("progress went down from {previous} to {next}")]
    ProgressDecreased {
        /// The last value sent.
        previous: f64,
        /// The rejected value.
        next: f64,
    },
    /// The request already has its response; nothing more may relate to it.
    #[error("the request has finished")]
    RequestFinished,
    /// The transport failed.
    #[error("transport failed")]
    Transport(#[from] TransportError),
}

/// Why a server→client request got no result.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RequestError {
    /// The client did not declare the capability this request needs.
    #[error("client lacks the {0} capability")]
    CapabilityMissing(&'static str),
    /// No answer came within the configured timeout; a cancellation was sent.
    #[error("no answer within the timeout")]
    Timeout,
    /// The session ended before an answer came.
    #[error("session closed")]
    SessionClosed,
    /// The client answered with an error.
    #[error("client answered with an error")]
    Rejected(#[source] RpcError),
    /// The request could not be sent.
    #[error("transport failed")]
    Transport(#[from] TransportError),
    /// The server has no [`Runtime`], so nothing could bound the wait for
    /// an answer: the request is not sent. Give the server one with
    /// [`McpServerBuilder::runtime`](crate::McpServerBuilder::runtime).
    #[error("server→client requests need a runtime to time out")]
    NoRuntime,
}

/// The context handed to every request handler.
///
/// Cheap to clone; clones share one state, so a clone moved into another
/// task sees the same cancellation and the same end of the request.
/// Everything sent through it is routed as [`Route::Related`] to the
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
    /// The session's facts, copied at creation: they do not change during
    /// a session, and reading them then takes no lock.
    facts: ClientFacts,
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
    /// handler `abort` aborts.
    ///
    /// Called by the engine once the request is admitted and registered in
    /// flight (with a clone of `abort`), so that a cancellation that
    /// follows reaches the handler.
    pub(crate) fn new(
        outlet: Arc<Outlet>,
        session: Arc<Session>,
        request_id: RequestId,
        progress_token: Option<Value>,
        abort: AbortHandle,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                outlet,
                facts: *session.facts(),
                session,
                request_id,
                progress_token,
                last_progress: Mutex::new(None),
                abort,
                finished: AtomicBool::new(false),
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
    /// [`McpServerBuilder::runtime`](crate::McpServerBuilder::runtime); the
    /// handler then runs inside the serve loop (or on the HTTP connection's
    /// task), and [`RequestContext::request`] is refused.
    pub fn runtime(&self) -> Option<&Arc<dyn Runtime>> {
        self.inner.outlet.runtime.as_ref()
    }

    /// The protocol revision the request is served under (the one its
    /// session negotiated).
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
            None => self.inner.session.logs(level),
        }
    }

    /// The request's `_meta.progressToken`, as the JSON value it arrived as.
    ///
    /// `None` when the client asked for no progress; then
    /// [`RequestContext::progress`] sends nothing, so a handler need not
    /// check this before reporting.
    pub fn progress_token(&self) -> Option<&Value> {
        self.inner.progress_token.as_ref()
    }

    /// Whether the client cancelled this request (or its session ended).
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
    ///                 return Err(RpcError::internal("cancelled"));
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
    /// [`Route::Cancelled`]), and the context is finished:
    ///
    /// ```
    /// use futures::StreamExt;
    /// use serde_json::{json, Value};
    /// use switchboard_core::{
    ///     memory_pair, CallToolResult, ContextError, McpServerBuilder, Route, RpcError, SessionId,
    ///     Tool,
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
    ///             futures::future::pending::<Result<CallToolResult, RpcError>>().await
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
        self.inner.abort.is_aborted()
    }

    /// Sends `notifications/progress` if the request carried a progress
    /// token; does nothing otherwise.
    ///
    /// `progress` must not go down from one call to the next; `total`, when
    /// known, is what `progress` counts towards, and `message` a short text
    /// for the user. The notification goes out related to this request, so
    /// it reaches the client before the result.
    ///
    /// # Errors
    ///
    /// [`ContextError::ProgressDecreased`] if `progress` is lower than the last
    /// value sent; [`ContextError::RequestFinished`] after the response;
    /// [`ContextError::Transport`] when the transport failed. Without a
    /// progress token it never fails.
    ///
    /// # Cancel safety
    ///
    /// The value counts as sent once the check passes: if this future is
    /// dropped while sending, the notification may be lost, and a later
    /// lower value is still refused.
    ///
    /// # Examples
    ///
    /// A tool that reports three steps; the client asked for progress with
    /// a token, and receives each step before the result:
    ///
    /// ```
    /// use serde_json::{json, Value};
    /// use switchboard_core::{
    ///     memory_pair, CallToolResult, ContextError, McpServerBuilder, Route, RpcError, SessionId,
    ///     Tool,
    /// };
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .tool(Tool::new("count", "Counts to three"), |_: Value, ctx| async move {
    ///         for step in 1..=3 {
    ///             ctx.progress(f64::from(step), Some(3.0), Some("counting"))
    ///                 .await
    ///                 .map_err(|e| RpcError::internal(e.to_string()))?;
    ///         }
    ///         // Going back is refused.
    ///         let back = ctx.progress(1.0, Some(3.0), None).await;
    ///         assert!(matches!(back, Err(ContextError::ProgressDecreased { .. })));
    ///         Ok(CallToolResult::text("done"))
    ///     })
    ///     .build(transport);
    ///
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
    ///         "params": {"protocolVersion": "2025-11-25", "capabilities": {},
    ///                    "clientInfo": {"name": "c", "version": "1"}}})).await.unwrap();
    ///     client.recv().await.unwrap();
    ///     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
    ///         "params": {"name": "count", "_meta": {"progressToken": "p"}}})).await.unwrap();
    ///     for step in 1..=3 {
    ///         let out = client.recv().await.unwrap();
    ///         assert_eq!(out.route, Route::Related(2.into()));
    ///         let note: Value = serde_json::from_slice(&out.bytes).unwrap();
    ///         assert_eq!(note["method"], "notifications/progress");
    ///         assert_eq!(note["params"]["progressToken"], "p");
    ///         assert_eq!(note["params"]["progress"], f64::from(step));
    ///     }
    ///     let out = client.recv().await.unwrap();
    ///     assert_eq!(out.route, Route::Reply(Some(2.into())));
    ///     let reply: Value = serde_json::from_slice(&out.bytes).unwrap();
    ///     assert_eq!(reply["result"]["content"][0]["text"], "done");
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    pub async fn progress(
        &self,
        progress: f64,
        total: Option<f64>,
        message: Option<&str>,
    ) -> Result<(), ContextError> {
        let Some(token) = &self.inner.progress_token else {
            return Ok(());
        };
        {
            let mut last = self
                .inner
                .last_progress
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if let Some(previous) = *last {
                if progress < previous {
                    return Err(ContextError::ProgressDecreased {
                        previous,
                        next: progress,
                    });
                }
            }
            *last = Some(progress);
        }
        let mut params = json!({ "progressToken": token, "progress": progress });
        if let Some(total) = total {
            params["total"] = json!(total);
        }
        if let Some(message) = message {
            params["message"] = json!(message);
        }
        self.notify("notifications/progress", params).await
    }

    /// Sends `notifications/message` at `level` if the session's level
    /// (`logging/setLevel`) lets it through; until the client sets a level,
    /// every message goes out.
    ///
    /// `logger` names the part of the server speaking; `data` is any JSON
    /// (a string, or an object with details). A filtered-out message is not
    /// an error: it returns `Ok` without sending (see
    /// [`RequestContext::logs`]).
    ///
    /// # Errors
    ///
    /// [`ContextError::RequestFinished`] after the response, or a transport failure.
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::{json, Value};
    /// use switchboard_core::{
    ///     memory_pair, CallToolResult, ContextError, LogLevel, McpServerBuilder, Route, RpcError,
    ///     SessionId, Tool,
    /// };
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .tool(Tool::new("chatty", "Logs as it works"), |_: Value, ctx| async move {
    ///         let failed = |e: ContextError| RpcError::internal(e.to_string());
    ///         ctx.log(LogLevel::Debug, Some("chatty"), "details").await.map_err(failed)?;
    ///         let usage = json!({"disk": "90%"});
    ///         ctx.log(LogLevel::Warning, Some("chatty"), usage).await.map_err(failed)?;
    ///         Ok(CallToolResult::text("done"))
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
    ///         "method": "logging/setLevel", "params": {"level": "info"}})).await.unwrap();
    ///     client.recv().await.unwrap();
    ///     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": 3,
    ///         "method": "tools/call", "params": {"name": "chatty"}})).await.unwrap();
    ///     // The debug message is below the session's level: only the warning comes.
    ///     let out = client.recv().await.unwrap();
    ///     assert_eq!(out.route, Route::Related(3.into()));
    ///     let note: Value = serde_json::from_slice(&out.bytes).unwrap();
    ///     assert_eq!(note["method"], "notifications/message");
    ///     assert_eq!(
    ///         note["params"],
    ///         json!({"level": "warning", "logger": "chatty", "data": {"disk": "90%"}})
    ///     );
    ///     assert_eq!(client.recv().await.unwrap().route, Route::Reply(Some(3.into())));
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    pub async fn log(
        &self,
        level: LogLevel,
        logger: Option<&str>,
        data: impl Into<Value>,
    ) -> Result<(), ContextError> {
        if !self.logs(level) {
            return Ok(());
        }
        let mut params = json!({ "level": level, "data": data.into() });
        if let Some(logger) = logger {
            params["logger"] = json!(logger);
        }
        self.notify("notifications/message", params).await
    }

    /// Sends any notification related to this request.
    ///
    /// For notifications this type has no method for; `params` becomes the
    /// notification's `params` as given (it should be an object). Over HTTP
    /// it goes on the request's stream: a client that accepts SSE gets the
    /// response as an event stream, one that accepts only JSON never sees
    /// the notification.
    ///
    /// # Errors
    ///
    /// [`ContextError::RequestFinished`] after the response, or a transport failure.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes may lose the notification;
    /// nothing else is left behind.
    pub async fn notify(&self, method: &str, params: Value) -> Result<(), ContextError> {
        if self.inner.finished.load(Ordering::Acquire) {
            return Err(ContextError::RequestFinished);
        }
        let message = Message::Notification(Notification {
            method: method.to_owned(),
            params: Some(params.into()),
        });
        self.send(message).await?;
        Ok(())
    }

    /// Ends the HTTP connection that carries this request's SSE stream
    /// without ending the stream (SSE polling, SEP-1699): the client
    /// reconnects with `Last-Event-ID` and receives what it missed, the
    /// result included. The stdio transport ignores it; the in-memory one
    /// hands it to its client as a [`Route::Disconnect`] with no bytes.
    ///
    /// For a long-running handler that should not hold a connection open;
    /// what it sends afterwards is logged on the stream (up to the HTTP
    /// transport's replay limit) until the client comes back. Unlike the
    /// notifications, it is not refused after the response.
    ///
    /// # Errors
    ///
    /// A transport failure; over HTTP, [`TransportError::NoReplySlot`]
    /// (inside [`ContextError::Transport`]) when the request has no stream
    /// any more (it was answered, or cancelled).
    pub async fn close_sse_stream(&self) -> Result<(), ContextError> {
        let outbound = Outbound {
            session: self.inner.session.id().clone(),
            route: Route::Disconnect(self.inner.request_id.clone()),
            bytes: Vec::new(),
        };
        self.inner.outlet.transport.send(outbound).await?;
        Ok(())
    }

    /// Sends `message` related to this request. No check of
    /// [`RequestContext::finish`]: the callers decide.
    async fn send(&self, message: Message) -> Result<(), TransportError> {
        let outbound = Outbound {
            session: self.inner.session.id().clone(),
            route: Route::Related(self.inner.request_id.clone()),
            bytes: message.to_bytes(),
        };
        self.inner.outlet.transport.send(outbound).await
    }

    /// Asks the client to sample an LLM (`sampling/createMessage`) and
    /// returns its result.
    ///
    /// `params` are the request's params as the spec defines them
    /// (`messages`, `maxTokens`, …), sent as given. Needs the client's
    /// `sampling` capability.
    ///
    /// # Errors
    ///
    /// See [`RequestContext::request`].
    pub async fn create_message(&self, params: Value) -> Result<Value, RequestError> {
        self.request("sampling/createMessage", params).await
    }

    /// Asks the user for input (`elicitation/create`) and returns the
    /// client's result (`action`, `content`).
    ///
    /// `params` carry the `message` to show and the `requestedSchema` of
    /// the answer, sent as given. Needs the client's `elicitation`
    /// capability. A user who declines is a result (`action: "decline"`),
    /// not an error.
    ///
    /// # Errors
    ///
    /// See [`RequestContext::request`].
    pub async fn elicit(&self, params: Value) -> Result<Value, RequestError> {
        self.request("elicitation/create", params).await
    }

    /// Asks the client for its roots (`roots/list`).
    ///
    /// Returns the client's result as it came (`{"roots": [...]}`). Needs
    /// the client's `roots` capability.
    ///
    /// # Errors
    ///
    /// See [`RequestContext::request`].
    ///
    /// # Examples
    ///
    /// The round trip needs a runtime to time the wait; here a thread per
    /// task and per timer stands in for one:
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use serde_json::{json, Value};
    /// use switchboard_core::{
    ///     memory_pair, BoxFuture, CallToolResult, McpServerBuilder, Route, RpcError, Runtime,
    ///     SessionId, Tool,
    /// };
    ///
    /// #[derive(Debug)]
    /// struct Threads;
    ///
    /// impl Runtime for Threads {
    ///     fn spawn(&self, future: BoxFuture<()>) {
    ///         std::thread::spawn(move || futures::executor::block_on(future));
    ///     }
    ///     fn sleep(&self, duration: Duration) -> BoxFuture<()> {
    ///         let (tx, rx) = futures::channel::oneshot::channel::<()>();
    ///         std::thread::spawn(move || {
    ///             std::thread::sleep(duration);
    ///             let _ = tx.send(());
    ///         });
    ///         Box::pin(async move {
    ///             let _ = rx.await;
    ///         })
    ///     }
    /// }
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .runtime(Arc::new(Threads))
    ///     .tool(Tool::new("roots", "Counts the client's roots"), |_: Value, ctx| async move {
    ///         let roots = ctx.list_roots().await.map_err(|e| RpcError::internal(e.to_string()))?;
    ///         Ok(CallToolResult::text(roots["roots"].as_array().map_or(0, Vec::len).to_string()))
    ///     })
    ///     .build(transport);
    ///
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
    ///         "params": {"protocolVersion": "2025-11-25", "capabilities": {"roots": {}},
    ///                    "clientInfo": {"name": "c", "version": "1"}}})).await.unwrap();
    ///     client.recv().await.unwrap();
    ///     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": 2,
    ///         "method": "tools/call", "params": {"name": "roots"}})).await.unwrap();
    ///     // The server's request comes related to the call it serves.
    ///     let out = client.recv().await.unwrap();
    ///     assert_eq!(out.route, Route::Related(2.into()));
    ///     let asked: Value = serde_json::from_slice(&out.bytes).unwrap();
    ///     assert_eq!(asked["method"], "roots/list");
    ///     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": asked["id"],
    ///         "result": {"roots": [{"uri": "file:///src"}]}})).await.unwrap();
    ///     let reply: Value = serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap();
    ///     assert_eq!(reply["result"]["content"][0]["text"], "1");
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    pub async fn list_roots(&self) -> Result<Value, RequestError> {
        self.request("roots/list", json!({})).await
    }

    /// Sends a server→client request related to this request and waits for
    /// the client's answer, matched by id within the session.
    ///
    /// The wait is bounded by the server's request timeout
    /// ([`ServerConfig::request_timeout`](crate::ServerConfig::request_timeout));
    /// keeping that time needs the server's [`Runtime`], so a server without
    /// one refuses to send. On timeout a `notifications/cancelled` is sent
    /// for the request.
    ///
    /// The request's id is a number the server picks, counting up within
    /// the session, so it cannot clash with another server→client request
    /// of the session. `params` are sent as given. For the methods that need
    /// a client capability (`sampling/createMessage`, `elicitation/create`,
    /// `roots/list`) the capability is checked first, and nothing is sent
    /// without it.
    ///
    /// # Errors
    ///
    /// [`RequestError::CapabilityMissing`] when the client did not declare
    /// the capability the method needs; [`RequestError::NoRuntime`] without
    /// a runtime; [`RequestError::Timeout`], [`RequestError::SessionClosed`],
    /// [`RequestError::Rejected`] with the client's error, or a transport
    /// failure.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future (the handler was cancelled, say) sends no
    /// `notifications/cancelled`, and the request's waiter stays in the
    /// session until the client answers (the answer is then ignored) or the
    /// session ends.
    ///
    /// # Examples
    ///
    /// What a handler gets back before anything is sent: here the client
    /// declared `roots` but the server has no runtime.
    ///
    /// ```
    /// use serde_json::{json, Value};
    /// use switchboard_core::{
    ///     memory_pair, CallToolResult, McpServerBuilder, RequestError, SessionId, Tool,
    /// };
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .tool(Tool::new("ask", "Asks the client"), |_: Value, ctx| async move {
    ///         let sampled = ctx.request("sampling/createMessage", json!({})).await;
    ///         assert!(matches!(sampled, Err(RequestError::CapabilityMissing("sampling"))));
    ///         let roots = ctx.request("roots/list", json!({})).await;
    ///         assert!(matches!(roots, Err(RequestError::NoRuntime)));
    ///         Ok(CallToolResult::text("refused"))
    ///     })
    ///     .build(transport);
    ///
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
    ///         "params": {"protocolVersion": "2025-11-25", "capabilities": {"roots": {}},
    ///                    "clientInfo": {"name": "c", "version": "1"}}})).await.unwrap();
    ///     client.recv().await.unwrap();
    ///     client.send_json(&session, &json!({"jsonrpc": "2.0", "id": 2,
    ///         "method": "tools/call", "params": {"name": "ask"}})).await.unwrap();
    ///     let reply: Value = serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap();
    ///     assert_eq!(reply["result"]["content"][0]["text"], "refused");
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    pub async fn request(&self, method: &str, params: Value) -> Result<Value, RequestError> {
        if let Some(capability) = Capability::needed_by(method) {
            if !self.inner.facts.has(capability) {
                return Err(RequestError::CapabilityMissing(capability.name()));
            }
        }
        let Some(runtime) = &self.inner.outlet.runtime else {
            return Err(RequestError::NoRuntime);
        };
        let session = &self.inner.session;
        let (tx, rx) = oneshot::channel();
        let id = {
            let mut st = session.state();
            if st.closed {
                return Err(RequestError::SessionClosed);
            }
            st.next_request_id += 1;
            let id = RequestId::number(st.next_request_id);
            st.pending.push((id.clone(), tx));
            id
        };
        let message = Message::Request(Request {
            id: id.clone(),
            method: method.to_owned(),
            params: Some(params.into()),
        });
        if let Err(e) = self.send(message).await {
            session.state().take_pending(&id);
            return Err(e.into());
        }
        let timer = runtime.sleep(self.inner.outlet.request_timeout);
        let answer = match futures::future::select(rx, timer).await {
            Either::Left((answer, _)) => answer,
            Either::Right(((), _)) => {
                session.state().take_pending(&id);
                let cancel = Message::Notification(Notification {
                    method: "notifications/cancelled".into(),
                    params: Some(json!({ "requestId": id.to_value(), "reason": "timeout" }).into()),
                });
                // The timeout is the error worth reporting; a failed cancel adds nothing.
                let _ = self.send(cancel).await;
                return Err(RequestError::Timeout);
            }
        };
        match answer {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(RequestError::Rejected(e)),
            Err(oneshot::Canceled) => Err(RequestError::SessionClosed),
        }
    }
}
