//! Messages a handler sends related to its request: progress, logs, any
//! notification, and the end of its connection (SSE polling).

use std::sync::atomic::Ordering;

use serde_json::{Value, json};

use super::{ContextError, RequestContext};
use crate::jsonrpc::{Message, Notification};
use crate::protocol::LogLevel;
use crate::transport::{Outbound, Route, TransportError};

impl RequestContext {
    /// Sends `notifications/progress` if the request carried a progress
    /// token; does nothing otherwise.
    ///
    /// `progress` must not go down from one call to the next; `total`, when
    /// known, is what `progress` counts towards, and `message` a short text
    /// for the user. The notification goes out related to this request, so
    /// it reaches the client before the result.
    ///
    /// In a task (see [`RequestContext::task_id`]) the task's
    /// `statusMessage` becomes `message`, or `progress/total`. With the
    /// extension nothing is sent; in a 2025-11-25 session whose call
    /// carried a progress token (which stays valid for the task's life)
    /// the notification also goes to the session's standalone stream, the
    /// call's own having ended.
    ///
    /// # Errors
    ///
    /// [`ContextError::InvalidProgress`] for a value (or total) that is not a
    /// finite number, with or without a progress token;
    /// [`ContextError::ProgressDecreased`] if `progress` is lower than the last
    /// value sent; [`ContextError::RequestFinished`] after the response;
    /// [`ContextError::Transport`] when the transport failed.
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
        // Checked first, so a handler learns of a bad value whether or not
        // the client asked for progress.
        if !progress.is_finite() || total.is_some_and(|t| !t.is_finite()) {
            return Err(ContextError::InvalidProgress(progress));
        }
        // Progress only goes up, in a task as in a call (a task's progress
        // may also reach the client as notifications).
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
        let params = |token: &Value| {
            let mut params = json!({ "progressToken": token, "progress": progress });
            if let Some(total) = total {
                params["total"] = json!(total);
            }
            if let Some(message) = message {
                params["message"] = json!(message);
            }
            params
        };
        if let Some(task) = self.inner.task.get() {
            // A task has no stream: its progress is its status message.
            let text = match (message, total) {
                (Some(m), _) => m.to_owned(),
                (None, Some(total)) => format!("{progress}/{total}"),
                (None, None) => progress.to_string(),
            };
            task.change(crate::tasks::Change::Progress(text)).await;
            if let (false, Some(token)) = (self.is_stateless(), &self.inner.progress_token) {
                // Every notification about a 2025-11-25 task names it.
                let params = crate::tasks::experimental::with_related_task(params(token), &task.id);
                let message = Message::Notification(Notification {
                    method: "notifications/progress".into(),
                    params: Some(params.into()),
                });
                let outbound = Outbound {
                    session: self.inner.session.id().clone(),
                    route: Route::Unrelated,
                    bytes: message.to_bytes(),
                };
                // Best effort: a client without a standalone stream, or one
                // gone, does not fail the task.
                let _ = self.inner.outlet.transport.send(outbound).await;
            }
            return Ok(());
        }
        let Some(token) = &self.inner.progress_token else {
            return Ok(());
        };
        self.notify("notifications/progress", params(token)).await
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
        if self.inner.task.get().is_some() {
            // The extension has no notifications of a task's own; its
            // request's stream is gone.
            return Ok(());
        }
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
    pub(super) async fn send(&self, message: Message) -> Result<(), TransportError> {
        let outbound = Outbound {
            session: self.inner.session.id().clone(),
            route: Route::Related(self.inner.request_id.clone()),
            bytes: message.to_bytes(),
        };
        self.inner.outlet.transport.send(outbound).await
    }
}
