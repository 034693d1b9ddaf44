//! From one inbound message to its handler: lifecycle, method routing,
//! per-request correlation and cancellation.
//!
//! The front half is synchronous (decode, look up the session, register the
//! request as in flight) so that a `notifications/cancelled` that follows a
//! request always finds it. The handler itself is returned as a future for
//! the caller to run concurrently.

use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::{AbortHandle, Abortable, join_all};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::Shared;
use super::registry::ToolFailure;
use crate::context::RequestContext;
use crate::jsonrpc::{
    self, Decoded, ErrorCode, Message, Params, Request, RequestId, Response, RpcError,
};
use crate::protocol::{CompleteRequest, LogLevel, PromptArguments, ProtocolVersion};
use crate::runtime::BoxFuture;
use crate::session::{ClientCapabilities, Session, SessionId};
use crate::transport::{Inbound, Outbound, Route};

/// What accepting one message leaves to do.
enum Step {
    /// Nothing to send.
    Done,
    /// Answer at once.
    Reply(Response),
    /// Answer at once with this encoded response.
    Encoded(Vec<u8>),
    /// Run this handler; it yields the encoded response, or `None` when it
    /// was cancelled and nothing is sent.
    Work(BoxFuture<Option<Vec<u8>>>),
}

/// A method's result: a JSON value, or a typed result already encoded (which
/// spares building a `Value` only to serialize it).
pub(crate) enum Payload {
    Value(Value),
    Json(Vec<u8>),
}

impl Step {
    /// The encoded response this step yields, if any.
    async fn run(self) -> Option<Vec<u8>> {
        match self {
            Self::Done => None,
            Self::Reply(response) => Some(Message::Response(response).to_bytes()),
            Self::Encoded(bytes) => Some(bytes),
            Self::Work(work) => work.await,
        }
    }
}

impl Shared {
    /// Accepts one inbound event. Returns the work it starts (a handler and
    /// the sending of its reply), which the caller runs concurrently.
    pub(crate) fn accept(self: &Arc<Self>, inbound: Inbound) -> Option<BoxFuture<()>> {
        match inbound {
            Inbound::Message { session, bytes } => {
                self.accept_decoded(session, jsonrpc::decode(&bytes))
            }
            Inbound::Closed { session } => {
                self.close_session(&session);
                None
            }
            Inbound::TooLarge { session, limit } => {
                let error = RpcError::invalid_request(format!(
                    "message exceeds the limit of {limit} bytes"
                ));
                Some(self.reply(session, Response::err(None, error)))
            }
        }
    }

    /// Accepts one decoded message (or batch) in a session.
    pub(crate) fn accept_decoded(
        self: &Arc<Self>,
        session_id: SessionId,
        decoded: Decoded,
    ) -> Option<BoxFuture<()>> {
        let session = self.sessions().get(&session_id).cloned();
        match decoded {
            Decoded::Single(Err(response)) => Some(self.reply(session_id, response)),
            Decoded::Single(Ok(message)) => {
                let request_id = match &message {
                    Message::Request(r) => Some(r.id.clone()),
                    _ => None,
                };
                match self.accept_message(&session_id, session.as_ref(), message, false) {
                    Step::Done => None,
                    Step::Reply(response) => Some(self.reply(session_id, response)),
                    Step::Encoded(bytes) => {
                        let shared = Arc::clone(self);
                        Some(Box::pin(async move {
                            shared.send_encoded(session_id, request_id, bytes).await;
                        }))
                    }
                    Step::Work(work) => {
                        let shared = Arc::clone(self);
                        Some(Box::pin(async move {
                            match (work.await, request_id) {
                                (Some(bytes), id) => {
                                    shared.send_encoded(session_id, id, bytes).await;
                                }
                                (None, Some(id)) => shared.send_cancelled(session_id, id).await,
                                (None, None) => {}
                            }
                        }))
                    }
                }
            }
            Decoded::Batch(items) => {
                if !session.as_ref().is_some_and(|s| s.version.allows_batches()) {
                    let error = RpcError::invalid_request(
                        "batches are only accepted in sessions at 2025-03-26",
                    );
                    return Some(self.reply(session_id, Response::err(None, error)));
                }
                let first_id = items.iter().find_map(|item| match item {
                    Ok(Message::Request(r)) => Some(r.id.clone()),
                    _ => None,
                });
                let steps: Vec<Step> = items
                    .into_iter()
                    .map(|item| match item {
                        Ok(message) => {
                            self.accept_message(&session_id, session.as_ref(), message, true)
                        }
                        Err(response) => Step::Reply(response),
                    })
                    .collect();
                let shared = Arc::clone(self);
                Some(Box::pin(async move {
                    let responses: Vec<Vec<u8>> = join_all(steps.into_iter().map(Step::run))
                        .await
                        .into_iter()
                        .flatten()
                        .collect();
                    if !responses.is_empty() {
                        let bytes = jsonrpc::join_batch(&responses);
                        shared.send_encoded(session_id, first_id, bytes).await;
                    } else if let Some(id) = first_id {
                        shared.send_cancelled(session_id, id).await;
                    }
                }))
            }
        }
    }

    fn reply(self: &Arc<Self>, session: SessionId, response: Response) -> BoxFuture<()> {
        let shared = Arc::clone(self);
        Box::pin(async move { shared.send_reply(session, response).await })
    }

    async fn send_reply(&self, session: SessionId, response: Response) {
        let id = response.id.clone();
        let bytes = Message::Response(response).to_bytes();
        self.send_encoded(session, id, bytes).await;
    }

    /// Sends an encoded response (or batch of them) as the reply to `id`.
    async fn send_encoded(&self, session: SessionId, id: Option<RequestId>, bytes: Vec<u8>) {
        let outbound = Outbound {
            session,
            route: Route::Reply(id),
            bytes,
        };
        // An undeliverable reply means the client left; the transport knows.
        let _ = self.transport.send(outbound).await;
    }

    /// Tells the transport a request ended without a response.
    async fn send_cancelled(&self, session: SessionId, id: RequestId) {
        let outbound = Outbound {
            session,
            route: Route::Cancelled(id),
            bytes: Vec::new(),
        };
        // Only a transport with reply slots cares; a failure frees nothing more.
        let _ = self.transport.send(outbound).await;
    }

    pub(crate) fn close_session(&self, id: &SessionId) -> bool {
        let removed = self.sessions().remove(id);
        match removed {
            Some(session) => {
                session.close();
                true
            }
            None => false,
        }
    }

    fn accept_message(
        self: &Arc<Self>,
        session_id: &SessionId,
        session: Option<&Arc<Session>>,
        message: Message,
        in_batch: bool,
    ) -> Step {
        match message {
            Message::Request(request) => {
                self.accept_request(session_id, session, request, in_batch)
            }
            Message::Notification(n) => {
                if let Some(session) = session {
                    accept_notification(session, &n.method, n.params.as_ref());
                }
                Step::Done
            }
            Message::Response(response) => {
                if let (Some(session), Some(id)) = (session, response.id) {
                    let waiter = session.state().pending.remove(&id);
                    if let Some(waiter) = waiter {
                        // The handler may have given up (timeout); then nobody listens.
                        let _ = waiter.send(response.outcome);
                    }
                }
                Step::Done
            }
        }
    }

    fn accept_request(
        self: &Arc<Self>,
        session_id: &SessionId,
        session: Option<&Arc<Session>>,
        request: Request,
        in_batch: bool,
    ) -> Step {
        let id = request.id.clone();
        if request.method == "initialize" {
            let outcome = if in_batch {
                Err(RpcError::invalid_request(
                    "initialize must not be part of a batch",
                ))
            } else if session.is_some() {
                Err(RpcError::invalid_request("session is already initialized"))
            } else {
                self.initialize(session_id, request.params)
            };
            return Step::Encoded(encode_response(id, outcome));
        }
        if request.method == "ping" {
            return Step::Reply(Response::ok(id, json!({})));
        }
        let Some(session) = session else {
            let error =
                RpcError::invalid_request("session is not initialized: send initialize first");
            return Step::Reply(Response::err(Some(id), error));
        };
        let (abort, registration) = AbortHandle::new_pair();
        {
            let mut st = session.state();
            if st.in_flight.contains(&id) {
                let error =
                    RpcError::invalid_request(format!("request id {id} is already in flight"));
                return Step::Reply(Response::err(Some(id), error));
            }
            if st.in_flight.len() >= self.config.max_in_flight {
                let error = RpcError::new(ErrorCode::SERVER_BUSY, "too many requests in flight");
                return Step::Reply(Response::err(Some(id), error));
            }
            st.in_flight.insert(id.clone(), abort.clone());
        }
        let progress_token = request.params.as_ref().and_then(progress_token);
        let ctx = RequestContext::new(
            Arc::clone(self),
            Arc::clone(session),
            id.clone(),
            progress_token,
            abort,
        );
        let guard = InFlight {
            session: Arc::clone(session),
            id: id.clone(),
        };
        let shared = Arc::clone(self);
        Step::Work(Box::pin(async move {
            let _guard = guard;
            // A panicking handler is answered like any internal failure, so its
            // client is not left waiting.
            let handler = AssertUnwindSafe(shared.route(request, ctx.clone())).catch_unwind();
            let handled = Abortable::new(handler, registration).await;
            ctx.finish();
            handled.ok().map(|outcome| {
                let outcome =
                    outcome.unwrap_or_else(|_| Err(RpcError::internal("handler panicked")));
                encode_response(id, outcome)
            })
        }))
    }

    /// Opens the engine's side of a session; the result comes encoded.
    fn initialize(
        &self,
        session_id: &SessionId,
        params: Option<Params>,
    ) -> Result<Payload, RpcError> {
        #[derive(serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct InitializeParams<'a> {
            #[serde(borrow)]
            protocol_version: Cow<'a, str>,
            #[serde(default)]
            capabilities: ClientCapabilities,
        }
        let params: InitializeParams<'_> = parse_params(params.as_ref())?;
        let version = ProtocolVersion::negotiate(&params.protocol_version);
        let session = Arc::new(Session::new(
            session_id.clone(),
            version,
            params.capabilities,
        ));
        {
            let mut sessions = self.sessions();
            if sessions.len() >= self.config.max_sessions {
                return Err(RpcError::new(ErrorCode::SERVER_BUSY, "too many sessions"));
            }
            sessions.insert(session_id.clone(), session);
        }
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct InitializeResult<'a> {
            protocol_version: &'a str,
            capabilities: Capabilities,
            server_info: &'a crate::protocol::Implementation,
            #[serde(skip_serializing_if = "Option::is_none")]
            instructions: Option<&'a str>,
        }
        encode(InitializeResult {
            protocol_version: version.as_str(),
            capabilities: self.capabilities(),
            server_info: &self.info,
            instructions: self.instructions.as_deref(),
        })
    }

    /// The capabilities of what is registered now (plus logging, always on).
    fn capabilities(&self) -> Capabilities {
        let reg = self.registry();
        let list_changed = Some(ListChanged {
            list_changed: true,
            subscribe: None,
        });
        Capabilities {
            logging: Empty {},
            tools: list_changed.filter(|_| !reg.tools.is_empty()),
            resources: (!reg.resources.is_empty() || !reg.templates.is_empty()).then_some(
                ListChanged {
                    list_changed: true,
                    subscribe: Some(true),
                },
            ),
            prompts: list_changed.filter(|_| !reg.prompts.is_empty()),
            completions: reg.completion.is_some().then_some(Empty {}),
        }
    }

    /// Runs one request's method.
    async fn route(
        self: Arc<Self>,
        request: Request,
        ctx: RequestContext,
    ) -> Result<Payload, RpcError> {
        let params = request.params;
        let cursor = || -> Result<Option<String>, RpcError> {
            #[derive(serde::Deserialize)]
            struct Paging {
                cursor: Option<Value>,
            }
            let Some(params) = &params else {
                return Ok(None);
            };
            match params.parse::<Paging>().ok().and_then(|p| p.cursor) {
                None => Ok(None),
                Some(Value::String(c)) => Ok(Some(c)),
                Some(_) => Err(RpcError::invalid_params("cursor must be a string")),
            }
        };
        let value = match request.method.as_str() {
            "tools/list" => {
                let tools: Vec<_> = self
                    .registry()
                    .tools
                    .iter()
                    .map(|e| e.tool.clone())
                    .collect();
                self.page("tools", &tools, cursor()?)
            }
            "tools/call" => return self.call_tool(params, ctx).await,
            "resources/list" => {
                let items: Vec<_> = self
                    .registry()
                    .resources
                    .iter()
                    .map(|e| e.resource.clone())
                    .collect();
                self.page("resources", &items, cursor()?)
            }
            "resources/templates/list" => {
                let items: Vec<_> = self
                    .registry()
                    .templates
                    .iter()
                    .map(|e| e.template.clone())
                    .collect();
                self.page("resourceTemplates", &items, cursor()?)
            }
            "resources/read" => {
                let uri = uri_param(params.as_ref())?;
                let reader = self.registry().reader(&uri);
                let (handler, vars) = reader.ok_or_else(|| RpcError::resource_not_found(&uri))?;
                return encode(handler(uri, vars, ctx).await?);
            }
            "resources/subscribe" | "resources/unsubscribe" => {
                let uri = uri_param(params.as_ref())?;
                if request.method == "resources/subscribe" {
                    if self.registry().reader(&uri).is_none() {
                        return Err(RpcError::resource_not_found(&uri));
                    }
                    ctx.session().state().subscriptions.insert(uri);
                } else {
                    ctx.session().state().subscriptions.remove(&uri);
                }
                Ok(json!({}))
            }
            "prompts/list" => {
                let items: Vec<_> = self
                    .registry()
                    .prompts
                    .iter()
                    .map(|e| e.prompt.clone())
                    .collect();
                self.page("prompts", &items, cursor()?)
            }
            "prompts/get" => return self.get_prompt(params, ctx).await,
            "completion/complete" => {
                let handler = self.registry().completion.clone();
                let handler =
                    handler.ok_or_else(|| RpcError::method_not_found("completion/complete"))?;
                let req: CompleteRequest = parse_params(params.as_ref())?;
                let mut completion = handler(req, ctx).await?;
                // The schema allows at most 100 values per answer.
                if completion.values.len() > 100 {
                    completion
                        .total
                        .get_or_insert(completion.values.len() as u64);
                    completion.values.truncate(100);
                    completion.has_more = true;
                }
                Ok(json!({ "completion": completion }))
            }
            "logging/setLevel" => {
                #[derive(serde::Deserialize)]
                struct SetLevel {
                    level: LogLevel,
                }
                let SetLevel { level } = parse_params(params.as_ref())?;
                ctx.session().state().log_level = Some(level);
                Ok(json!({}))
            }
            other => Err(RpcError::method_not_found(other)),
        };
        value.map(Payload::Value)
    }

    async fn call_tool(
        &self,
        params: Option<Params>,
        ctx: RequestContext,
    ) -> Result<Payload, RpcError> {
        #[derive(serde::Deserialize)]
        struct CallParams<'a> {
            #[serde(borrow)]
            name: Cow<'a, str>,
            #[serde(borrow, default)]
            arguments: Option<&'a RawValue>,
        }
        let CallParams { name, arguments } = parse_params(params.as_ref())?;
        let handler = self
            .registry()
            .tools
            .iter()
            .find(|e| e.tool.name == name)
            .map(|e| e.handler.clone());
        let handler =
            handler.ok_or_else(|| RpcError::invalid_params(format!("unknown tool: {name}")))?;
        let version = ctx.protocol_version();
        match handler(arguments, ctx).await {
            Ok(result) => encode(result),
            Err(ToolFailure::Rpc(e)) => Err(e),
            Err(ToolFailure::InvalidArguments(why)) => {
                let message = format!("invalid arguments for tool {name}: {why}");
                if version.validation_errors_are_tool_errors() {
                    encode(crate::CallToolResult::error(message))
                } else {
                    Err(RpcError::invalid_params(message))
                }
            }
        }
    }

    async fn get_prompt(
        &self,
        params: Option<Params>,
        ctx: RequestContext,
    ) -> Result<Payload, RpcError> {
        #[derive(serde::Deserialize)]
        struct GetParams {
            name: String,
            #[serde(default)]
            arguments: PromptArguments,
        }
        let GetParams { name, arguments } = parse_params(params.as_ref())?;
        let found = self
            .registry()
            .prompts
            .iter()
            .find(|e| e.prompt.name == name)
            .map(|e| {
                let missing: Vec<String> = e
                    .prompt
                    .arguments
                    .iter()
                    .filter(|a| a.required && !arguments.contains_key(&a.name))
                    .map(|a| a.name.clone())
                    .collect();
                (e.handler.clone(), missing)
            });
        let (handler, missing) =
            found.ok_or_else(|| RpcError::invalid_params(format!("unknown prompt: {name}")))?;
        if !missing.is_empty() {
            return Err(RpcError::invalid_params(format!(
                "missing required arguments: {}",
                missing.join(", ")
            )));
        }
        encode(handler(arguments, ctx).await?)
    }

    /// Cuts one page out of a listing. Cursors are the decimal offset of the
    /// next page: opaque to clients, and checked on the way back in.
    fn page<T: Serialize>(
        &self,
        key: &str,
        items: &[T],
        cursor: Option<String>,
    ) -> Result<Value, RpcError> {
        let start = match cursor {
            None => 0,
            Some(c) => c
                .parse::<usize>()
                .ok()
                .filter(|&n| n <= items.len())
                .ok_or_else(|| RpcError::invalid_params("invalid cursor"))?,
        };
        let end = (start + self.config.page_size).min(items.len());
        let mut result = json!({ key: &items[start..end] });
        if end < items.len() {
            result["nextCursor"] = json!(end.to_string());
        }
        Ok(result)
    }
}

/// The server capabilities declared in `initialize`.
#[derive(Serialize)]
struct Capabilities {
    logging: Empty,
    #[serde(skip_serializing_if = "Option::is_none")]
    tools: Option<ListChanged>,
    #[serde(skip_serializing_if = "Option::is_none")]
    resources: Option<ListChanged>,
    #[serde(skip_serializing_if = "Option::is_none")]
    prompts: Option<ListChanged>,
    #[serde(skip_serializing_if = "Option::is_none")]
    completions: Option<Empty>,
}

/// `{}`.
#[derive(Clone, Copy, Serialize)]
struct Empty {}

/// `{"listChanged": true}`, plus `subscribe` for resources.
#[derive(Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
struct ListChanged {
    #[serde(skip_serializing_if = "Option::is_none")]
    subscribe: Option<bool>,
    list_changed: bool,
}

/// Handles a notification from the client.
fn accept_notification(session: &Session, method: &str, params: Option<&Params>) {
    match method {
        "notifications/initialized" => session.state().initialized = true,
        "notifications/cancelled" => {
            #[derive(serde::Deserialize)]
            struct Cancelled {
                #[serde(rename = "requestId")]
                request_id: Value,
            }
            let id = params
                .and_then(|p| p.parse::<Cancelled>().ok())
                .and_then(|c| RequestId::from_value(&c.request_id));
            if let Some(id) = id {
                // Unknown ids are normal: the request may have just finished.
                if let Some(handle) = session.state().in_flight.get(&id) {
                    handle.abort();
                }
            }
        }
        // Other notifications (roots/list_changed, progress) need no action here.
        _ => {}
    }
}

/// Removes a request from its session's in-flight table when its handler
/// ends, however it ends (result, cancellation, dropped serve loop).
struct InFlight {
    session: Arc<Session>,
    id: RequestId,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.session.state().in_flight.remove(&self.id);
    }
}

/// Reads parameters (absent ones as `{}`) into the method's own type.
fn parse_params<'a, T: Deserialize<'a>>(params: Option<&'a Params>) -> Result<T, RpcError> {
    params
        .map_or_else(|| serde_json::from_str("{}"), Params::parse)
        .map_err(|e| RpcError::invalid_params(format!("invalid params: {e}")))
}

/// `params._meta.progressToken`, read only when the params mention `_meta`
/// (most requests do not, and then a second pass over them is wasted).
fn progress_token(params: &Params) -> Option<Value> {
    #[derive(serde::Deserialize)]
    struct Meta {
        #[serde(rename = "progressToken")]
        token: Option<Value>,
    }
    #[derive(serde::Deserialize)]
    struct WithMeta {
        #[serde(rename = "_meta")]
        meta: Option<Meta>,
    }
    if !params.as_str().contains("\"_meta\"") {
        return None;
    }
    params.parse::<WithMeta>().ok()?.meta?.token
}

fn uri_param(params: Option<&Params>) -> Result<String, RpcError> {
    #[derive(serde::Deserialize)]
    struct UriParams {
        uri: String,
    }
    Ok(parse_params::<UriParams>(params)?.uri)
}

/// The encoded response to request `id`.
fn encode_response(id: RequestId, outcome: Result<Payload, RpcError>) -> Vec<u8> {
    match outcome {
        Ok(Payload::Json(result)) => jsonrpc::encode_result(&id, &result),
        Ok(Payload::Value(result)) => Message::Response(Response::ok(id, result)).to_bytes(),
        Err(error) => Message::Response(Response::err(Some(id), error)).to_bytes(),
    }
}

/// Serializes a typed result straight to JSON bytes.
fn encode<T: Serialize>(value: T) -> Result<Payload, RpcError> {
    serde_json::to_vec(&value)
        .map(Payload::Json)
        .map_err(|e| RpcError::internal(format!("result did not serialize: {e}")))
}
