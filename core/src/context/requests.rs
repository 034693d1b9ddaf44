//! Requests a handler sends to the client (sampling, elicitation, roots),
//! matched by id within the session and bounded in time.

use std::sync::atomic::Ordering;

use futures::channel::oneshot;
use futures::future::Either;
use serde_json::{Value, json};

use super::{RequestContext, RequestError};
use crate::facts::Capability;
use crate::jsonrpc::{Message, Notification, Request, RequestId};
#[cfg(feature = "schemars")]
use crate::protocol::Elicitation;
use crate::protocol::{CreateMessageRequest, CreateMessageResult, Root};
use crate::session::Session;
use crate::stateless::input::Asked;

impl RequestContext {
    /// Asks the client to sample an LLM (`sampling/createMessage`) and
    /// returns its answer. Needs the client's `sampling` capability.
    ///
    /// # Errors
    ///
    /// See [`RequestContext::request`]; [`RequestError::MalformedAnswer`]
    /// when the answer is not a `CreateMessageResult`.
    pub async fn create_message(
        &self,
        request: CreateMessageRequest,
    ) -> Result<CreateMessageResult, RequestError> {
        let params = serde_json::to_value(request).unwrap_or_default();
        let answer = self.create_message_value(params).await?;
        serde_json::from_value(answer).map_err(|e| RequestError::MalformedAnswer(e.to_string()))
    }

    /// [`create_message`](Self::create_message) with the params and the
    /// answer as JSON, for fields the types do not carry.
    ///
    /// # Errors
    ///
    /// See [`RequestContext::request`].
    pub async fn create_message_value(&self, params: Value) -> Result<Value, RequestError> {
        self.request("sampling/createMessage", params).await
    }

    /// Asks the user to fill in a form for `T` (`elicitation/create`),
    /// showing `message`; the form's schema is generated from `T`. Needs
    /// the client's `elicitation` capability.
    ///
    /// Elicitation allows a flat object of strings, numbers, integers,
    /// booleans and enums of strings; an optional field is one the user
    /// may leave empty. A user who declines or cancels is an
    /// [`Elicitation`] outcome, not an error.
    ///
    /// # Errors
    ///
    /// [`RequestError::UnsupportedSchema`] (nothing is sent) when `T` has
    /// a field elicitation cannot ask for; [`RequestError::MalformedAnswer`]
    /// when the answer does not fit `T`; otherwise see
    /// [`RequestContext::request`].
    #[cfg(feature = "schemars")]
    pub async fn elicit<T>(&self, message: &str) -> Result<Elicitation<T>, RequestError>
    where
        T: serde::de::DeserializeOwned + schemars::JsonSchema,
    {
        let schema =
            crate::typed::elicitation_schema::<T>().map_err(RequestError::UnsupportedSchema)?;
        let answer = self
            .elicit_value(json!({ "message": message, "requestedSchema": schema }))
            .await?;
        match answer.get("action").and_then(Value::as_str) {
            Some("accept") => {
                let content = answer.get("content").cloned().unwrap_or_else(|| json!({}));
                serde_json::from_value(content)
                    .map(Elicitation::Accepted)
                    .map_err(|e| RequestError::MalformedAnswer(e.to_string()))
            }
            Some("decline") => Ok(Elicitation::Declined),
            Some("cancel") => Ok(Elicitation::Cancelled),
            _ => Err(RequestError::MalformedAnswer(
                "an elicitation answer needs an action: accept, decline or cancel".into(),
            )),
        }
    }

    /// Asks the user for input (`elicitation/create`) with params written
    /// by hand (`message`, `requestedSchema`, sent as given) and returns
    /// the client's result (`action`, `content`) as JSON. Needs the
    /// client's `elicitation` capability. A user who declines is a result
    /// (`action: "decline"`), not an error.
    ///
    /// # Errors
    ///
    /// See [`RequestContext::request`].
    pub async fn elicit_value(&self, params: Value) -> Result<Value, RequestError> {
        self.request("elicitation/create", params).await
    }

    /// Asks the client for its roots (`roots/list`). Needs the client's
    /// `roots` capability.
    ///
    /// # Errors
    ///
    /// See [`RequestContext::request`]; [`RequestError::MalformedAnswer`]
    /// when the answer is not a list of roots.
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
    ///         let roots = ctx.list_roots().await?;
    ///         Ok(roots.len().to_string())
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
    pub async fn list_roots(&self) -> Result<Vec<Root>, RequestError> {
        #[derive(serde::Deserialize)]
        struct Roots {
            roots: Vec<Root>,
        }
        let answer = self.request("roots/list", json!({})).await?;
        serde_json::from_value::<Roots>(answer)
            .map(|r| r.roots)
            .map_err(|e| RequestError::MalformedAnswer(e.to_string()))
    }

    /// Sends a server→client request related to this request and waits for
    /// the client's answer, matched by id within the session. In the
    /// stateless revision it is [`RequestContext::input`] under an
    /// automatic key (`elicitation-1`, `sampling-2`, …: the method's first
    /// word and the count of questions asked so far), so a handler that
    /// asks the same questions in the same order resumes where it was.
    ///
    /// The wait is bounded by the server's request timeout
    /// ([`ServerConfig::request_timeout`](crate::ServerConfig::request_timeout));
    /// keeping that time needs the server's [`Runtime`](crate::Runtime), so a server without
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
    /// `notifications/cancelled`; the request's waiter leaves the session
    /// with it, and a late answer from the client is ignored.
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
        if let Some(task) = self.inner.task.get() {
            let key = task.auto_key(method);
            return self.input(&key, method, params).await;
        }
        match &self.inner.inputs {
            Some(inputs) => {
                let key = inputs.auto_key(method);
                self.input(&key, method, params).await
            }
            None => self.server_request(method, params).await,
        }
    }

    /// Asks the client for one input under `key`, a name of the handler's
    /// choosing (`"user_name"`), and returns the client's result.
    ///
    /// In a session this is [`RequestContext::request`]: a real
    /// server→client request on the request's stream, and `key` is unused.
    /// In the stateless revision it is a multi round-trip request: the
    /// first time, the request ends `input_required` with this question
    /// under `key` (the future never completes; the handler is dropped);
    /// the client retries with its answer, the handler runs again from the
    /// start, and this time the call returns the answer at once. Questions
    /// asked together (`futures::join!`) go out in one round. Give each
    /// question its own key, the same in every round.
    ///
    /// In a task (a `tools/call` that became one, see
    /// [`McpServerBuilder::task_tool`](crate::McpServerBuilder::task_tool)),
    /// the question joins the task's `inputRequests`, the task turns
    /// `input_required`, and the call waits until `tasks/update` answers
    /// `key`; a key is never reused within a task
    /// ([`RequestError::KeyReused`]). In a task of a 2025-11-25 session
    /// it is a real server→client request carrying the
    /// `io.modelcontextprotocol/related-task` `_meta`, delivered on the
    /// stream of the task's next `tasks/result` (the task is
    /// `input_required` until it is answered); `key` is unused there.
    ///
    /// # Errors
    ///
    /// [`RequestError::CapabilityMissing`] when the client did not declare
    /// what `method` needs (nothing is asked); in the stateless revision
    /// [`RequestError::MalformedInput`] for an answer that does not fit the
    /// method's result, and [`RequestError::InputNotAllowed`] from a method
    /// other than `tools/call`, `prompts/get` and `resources/read`; in a
    /// session, what [`RequestContext::request`] returns.
    pub async fn input(
        &self,
        key: &str,
        method: &str,
        params: Value,
    ) -> Result<Value, RequestError> {
        if let Some(task) = self.inner.task.get() {
            return self.task_input(task, key, method, params).await;
        }
        let Some(inputs) = &self.inner.inputs else {
            if self.inner.facts.version.is_stateless() {
                return Err(RequestError::InputNotAllowed);
            }
            return self.server_request(method, params).await;
        };
        if let Some(capability) = Capability::needed_by(method) {
            if !self.inner.facts.has(capability) {
                return Err(RequestError::CapabilityMissing(capability.name()));
            }
        }
        match inputs.ask(key, method, params) {
            Asked::Answered(answer) => Ok(answer),
            Asked::Malformed => Err(RequestError::MalformedInput),
            // The round ends with this question; the engine drops the handler.
            Asked::Pending => futures::future::pending().await,
        }
    }

    /// A real server→client request, in a session.
    async fn server_request(&self, method: &str, params: Value) -> Result<Value, RequestError> {
        if self.inner.facts.version.is_stateless() {
            return Err(RequestError::InputNotAllowed);
        }
        if let Some(capability) = Capability::needed_by(method) {
            if !self.inner.facts.has(capability) {
                return Err(RequestError::CapabilityMissing(capability.name()));
            }
        }
        let Some(runtime) = &self.inner.outlet.runtime else {
            return Err(RequestError::NoRuntime);
        };
        if self.inner.finished.load(Ordering::Acquire) {
            return Err(RequestError::RequestFinished);
        }
        let session = &self.inner.session;
        let (id, rx) = self.pend()?;
        // However this future ends (answer, timeout, or dropped with its
        // cancelled handler), the waiter leaves the session's table.
        let _waiter = Waiter { session, id: &id };
        let message = Message::Request(Request {
            id: id.clone(),
            method: method.to_owned(),
            params: Some(params.into()),
        });
        self.send(message).await?;
        let timer = runtime.sleep(self.inner.outlet.request_timeout);
        let answer = match futures::future::select(rx, timer).await {
            Either::Left((answer, _)) => answer,
            Either::Right(((), _)) => {
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
            // The waiter was dropped: the server is shutting down, or the
            // session ended.
            Err(oneshot::Canceled) if session.state().shutting_down => {
                Err(RequestError::ShuttingDown)
            }
            Err(oneshot::Canceled) => Err(RequestError::SessionClosed),
        }
    }
}

impl RequestContext {
    /// Numbers a server→client request within the session and files its
    /// waiter there: the id to send it under, and where its answer comes.
    ///
    /// # Errors
    ///
    /// [`RequestError::SessionClosed`] or [`RequestError::ShuttingDown`].
    pub(super) fn pend(
        &self,
    ) -> Result<(RequestId, oneshot::Receiver<crate::session::Answer>), RequestError> {
        let (tx, rx) = oneshot::channel();
        let mut st = self.inner.session.state();
        if st.closed {
            return Err(RequestError::SessionClosed);
        }
        if st.shutting_down {
            return Err(RequestError::ShuttingDown);
        }
        st.next_request_id += 1;
        let id = RequestId::number(st.next_request_id);
        st.pending.push((id.clone(), tx));
        Ok((id, rx))
    }
}

/// Removes a server→client request's waiter from its session when the
/// request's future ends, however it ends.
pub(super) struct Waiter<'a> {
    /// The session the request went to.
    pub(super) session: &'a Session,
    /// The request's id.
    pub(super) id: &'a RequestId,
}

impl Drop for Waiter<'_> {
    fn drop(&mut self) {
        self.session.state().take_pending(self.id);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use futures::future::AbortHandle;
    use serde_json::json;

    use super::super::{ContextError, Outlet};
    use super::*;
    use crate::facts::{ClientCapabilities, ClientFacts};
    use crate::http::wire::testing::Local;
    use crate::id::SessionId;
    use crate::protocol::ProtocolVersion;

    /// A context for request 1 of a session whose client declared sampling,
    /// over an in-memory transport, with a runtime whose timers never fire.
    fn context() -> (RequestContext, Arc<Session>, crate::MemoryClient) {
        let (transport, client) = crate::memory_pair(8);
        let outlet = Arc::new(Outlet {
            transport: Arc::new(transport),
            runtime: Some(Arc::new(Local::default())),
            request_timeout: Duration::from_secs(60),
            state: crate::context::StateMap::default(),
            server: std::sync::OnceLock::new(),
        });
        let caps: ClientCapabilities = serde_json::from_str(r#"{"sampling": {}}"#).unwrap();
        let facts = ClientFacts::new(ProtocolVersion::LATEST, caps);
        let session = Arc::new(Session::new(
            SessionId::new("s"),
            facts.clone(),
            crate::clock::now(),
        ));
        let ctx = RequestContext::new(
            outlet,
            Arc::clone(&session),
            facts,
            RequestId::number(1),
            Some(json!("token")),
            AbortHandle::new_pair().0,
            None,
        );
        (ctx, session, client)
    }

    #[test]
    fn a_dropped_request_leaves_no_waiter_behind() {
        let (ctx, session, client) = context();
        futures::executor::block_on(async {
            let mut asking = Box::pin(ctx.create_message_value(json!({"messages": []})));
            assert!(futures::poll!(asking.as_mut()).is_pending());
            assert_eq!(session.state().pending.len(), 1, "sent, waiting");
            let sent = client.recv().await.unwrap();
            assert_eq!(sent.route, crate::Route::Related(RequestId::number(1)));
            // The handler is cancelled: its request future is dropped.
            drop(asking);
            assert!(
                session.state().pending.is_empty(),
                "the waiter left with it"
            );
        });
    }

    #[test]
    fn after_the_response_nothing_more_relates_to_the_request() {
        let (ctx, _session, _client) = context();
        ctx.finish();
        let asked = futures::executor::block_on(ctx.create_message_value(json!({})));
        assert!(
            matches!(asked, Err(RequestError::RequestFinished)),
            "{asked:?}"
        );
        let progressed = futures::executor::block_on(ctx.progress(1.0, None, None));
        assert!(matches!(progressed, Err(ContextError::RequestFinished)));
    }

    #[test]
    fn progress_must_be_a_finite_number_that_does_not_go_down() {
        let (ctx, _session, _client) = context();
        futures::executor::block_on(async {
            assert!(matches!(
                ctx.progress(f64::NAN, None, None).await,
                Err(ContextError::InvalidProgress(_))
            ));
            assert!(matches!(
                ctx.progress(1.0, Some(f64::INFINITY), None).await,
                Err(ContextError::InvalidProgress(_))
            ));
            ctx.progress(2.0, None, None).await.unwrap();
            assert!(matches!(
                ctx.progress(1.0, None, None).await,
                Err(ContextError::ProgressDecreased { .. })
            ));
        });
    }
}
