//! Registering what a server offers: [`McpServerBuilder::tool`] (and
//! [`McpServerBuilder::task_tool`] for tools whose calls may run as tasks),
//! resources, resource templates, prompts and completion.

use std::future::Future;
use std::sync::Arc;

use super::builder::McpServerBuilder;
use super::registry;
use crate::context::RequestContext;
use crate::jsonrpc::RpcError;
use crate::protocol::{
    CompleteRequest, Completion, GetPromptResult, Prompt, ReadResourceResult, Resource,
    ResourceContents, ResourceTemplate, Tool,
};
use crate::tasks::{TaskBegins, TaskSupport};
use crate::typed::{StringArgs, ToolArgs, ToolError, ToolOutput};

impl McpServerBuilder {
    /// Registers a tool (replacing one of the same name). Its arguments are
    /// deserialized into `A` (use `serde_json::Value` to take them raw); missing
    /// or `null` `arguments` count as `{}`.
    ///
    /// Arguments that do not fit (checked against the `inputSchema` first
    /// with the `validate` feature, then deserialized) are reported as the
    /// spec of the session's revision says: an `isError` tool result from
    /// 2025-11-25 on (SEP-1303), error `-32602` before; the handler does not
    /// run. With [`Args<T>`](crate::Args) the `inputSchema` is generated
    /// from `T` unless the [`Tool`] has one; the handler's result may be any
    /// [`ToolOutput`](crate::ToolOutput) ([`Json<T>`](crate::Json) also
    /// generates `outputSchema`). A `tools/call` of an unregistered name is
    /// `-32602`; a [`ToolError`](crate::ToolError) from the handler is an
    /// `isError` result with its message, or the JSON-RPC error it carries.
    ///
    /// `handler` is called once per call to make the future; the future runs
    /// as one request in flight, dropped at its next `.await` when the client
    /// cancels it or its session ends.
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
    /// use switchboard_core::{memory_pair, CallToolResult, McpServerBuilder, Tool};
    ///
    /// #[derive(serde::Deserialize)]
    /// struct AddArgs { a: i64, b: i64 }
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .tool(Tool::new("add", "Adds two integers"), |args: AddArgs, _ctx| async move {
    ///         Ok(CallToolResult::text((args.a + args.b).to_string()))
    ///     })
    ///     .build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     let sum = rpc(&client, &session, 1, "tools/call",
    ///         json!({"name": "add", "arguments": {"a": 2, "b": 3}})).await;
    ///     assert_eq!(sum["result"]["content"][0]["text"], "5");
    ///
    ///     // Arguments that do not fit `AddArgs`: at 2025-11-25 a tool error
    ///     // the model can read, not a protocol error.
    ///     let bad = rpc(&client, &session, 2, "tools/call",
    ///         json!({"name": "add", "arguments": {"a": "two"}})).await;
    ///     assert_eq!(bad["result"]["isError"], true);
    ///
    ///     let unknown = rpc(&client, &session, 3, "tools/call", json!({"name": "sub"})).await;
    ///     assert_eq!(unknown["error"]["code"], -32602);
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    #[must_use]
    pub fn tool<A, F, Fut, R>(mut self, tool: Tool, handler: F) -> Self
    where
        A: ToolArgs,
        F: Fn(A, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, ToolError>> + Send + 'static,
        R: ToolOutput,
    {
        self.registry.put_tool(registry::tool_entry(tool, handler));
        self
    }

    /// Registers a resource (replacing one of the same URI) whose contents
    /// `handler` produces on each `resources/read`; it gets the URI read. A
    /// direct resource wins over a template that matches the same URI. An `Err`
    /// from the handler is sent to the client as it is.
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
    /// use std::sync::Arc;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// use switchboard_core::{memory_pair, McpServerBuilder, ReadResourceResult, Resource, ResourceContents};
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let reads = Arc::new(AtomicU64::new(0));
    /// let server = McpServerBuilder::new()
    ///     .resource(Resource::new("mem://reads", "reads"), move |uri, _ctx| {
    ///         let n = reads.fetch_add(1, Ordering::Relaxed) + 1;
    ///         async move {
    ///             Ok(ReadResourceResult::new(vec![ResourceContents::text(uri, "text/plain", n.to_string())]))
    ///         }
    ///     })
    ///     .build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     for expected in ["1", "2"] {
    ///         let read = rpc(&client, &session, 1, "resources/read", json!({"uri": "mem://reads"})).await;
    ///         assert_eq!(read["result"]["contents"][0]["text"], expected);
    ///     }
    ///     let missing = rpc(&client, &session, 2, "resources/read", json!({"uri": "mem://other"})).await;
    ///     assert_eq!(missing["error"]["code"], -32602);
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
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

    /// Registers a resource with fixed text contents, served under the
    /// resource's `mimeType` (`text/plain` when it has none).
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
    ///     .text_resource(Resource::new("mem://motd", "motd"), "Welcome!")
    ///     .build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     let read = rpc(&client, &session, 1, "resources/read", json!({"uri": "mem://motd"})).await;
    ///     assert_eq!(read["result"]["contents"][0]["text"], "Welcome!");
    ///     assert_eq!(read["result"]["contents"][0]["mimeType"], "text/plain");
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
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

    /// Registers a URI template (replacing one with the same template text);
    /// `handler` gets the URI read and its variables, percent-decoded: as a
    /// `HashMap<String, String>`, or typed with [`Args<T>`](crate::Args)
    /// (each field parsed from its string; a value that does not parse is
    /// `-32602`). A `{var}` matches a non-empty value without `/`, a
    /// `{+var}` one that may hold `/`. A URI is served by a direct resource
    /// first, then by the first template, in registration order, that
    /// matches all of it. Clients may subscribe to matching URIs.
    ///
    /// A template that is not a level-1 URI template (an unclosed or empty
    /// `{}`, a name that is not ASCII letters, digits and `_`, two variables
    /// side by side, a name used twice) is reported by
    /// [`build`](Self::build) and [`try_build`](Self::try_build), so the
    /// chain of registrations never breaks.
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
    /// use switchboard_core::{memory_pair, Args, McpServerBuilder, ReadResourceResult, ResourceContents, ResourceTemplate};
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct User { id: u32 }
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .resource_template(
    ///         ResourceTemplate::new("users://{id}/profile", "profiles"),
    ///         |uri, Args(user): Args<User>, _ctx| async move {
    ///             let text = format!("profile of user {}", user.id);
    ///             Ok(ReadResourceResult::new(vec![ResourceContents::text(uri, "text/plain", text)]))
    ///         },
    ///     )
    ///     .build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     let read = rpc(&client, &session, 1, "resources/read",
    ///         json!({"uri": "users://42/profile"})).await;
    ///     assert_eq!(read["result"]["contents"][0]["text"], "profile of user 42");
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    #[must_use]
    pub fn resource_template<A, F, Fut>(mut self, template: ResourceTemplate, handler: F) -> Self
    where
        A: StringArgs,
        F: Fn(String, A, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<ReadResourceResult, RpcError>> + Send + 'static,
    {
        let text = template.uri_template.clone();
        match registry::template_entry(template, handler) {
            Ok(entry) => self.registry.put_template(entry),
            Err(e) => self
                .problems
                .push(format!("resource template `{text}`: {e}")),
        }
        self
    }

    /// Registers a prompt (replacing one of the same name). A `prompts/get`
    /// that lacks a required argument is answered with `-32602` ("missing
    /// required arguments: …") before `handler` runs, so the handler may index
    /// its required arguments. An unknown prompt name is `-32602` too.
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
    /// use switchboard_core::{
    ///     memory_pair, Content, GetPromptResult, McpServerBuilder, Prompt, PromptArguments, PromptMessage,
    /// };
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let forecast = Prompt::new("forecast", "Asks for a city's forecast")
    ///     .argument("city", "The city", true);
    /// let server = McpServerBuilder::new()
    ///     .prompt(forecast, |args: PromptArguments, _ctx| async move {
    ///         let text = format!("What is the forecast for {}?", args["city"]);
    ///         Ok(GetPromptResult::new(vec![PromptMessage::user(Content::text(text))]))
    ///     })
    ///     .build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     let missing = rpc(&client, &session, 1, "prompts/get", json!({"name": "forecast"})).await;
    ///     assert_eq!(missing["error"]["code"], -32602);
    ///     assert_eq!(missing["error"]["message"], "missing required arguments: city");
    ///
    ///     let got = rpc(&client, &session, 2, "prompts/get",
    ///         json!({"name": "forecast", "arguments": {"city": "Oslo"}})).await;
    ///     assert_eq!(got["result"]["messages"][0]["content"]["text"], "What is the forecast for Oslo?");
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    #[must_use]
    pub fn prompt<A, F, Fut>(mut self, prompt: Prompt, handler: F) -> Self
    where
        A: StringArgs,
        F: Fn(A, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<GetPromptResult, RpcError>> + Send + 'static,
    {
        self.registry
            .put_prompt(registry::prompt_entry(prompt, handler));
        self
    }

    /// Handles `completion/complete` with `handler` (replacing an earlier one)
    /// and declares the `completions` capability. Without a handler the method
    /// is `-32601`. An answer of more than 100 values is cut to 100, with
    /// `hasMore` set and `total` set to the full count unless the handler set it.
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
    /// use switchboard_core::{memory_pair, CompleteRequest, Completion, McpServerBuilder};
    ///
    /// # futures::executor::block_on(async {
    /// let (transport, client) = memory_pair(16);
    /// let server = McpServerBuilder::new()
    ///     .completion(|request: CompleteRequest, _ctx| async move {
    ///         let values = ["Paris", "Perth", "Porto"]
    ///             .into_iter()
    ///             .filter(|city| city.starts_with(request.argument.value.as_str()))
    ///             .map(String::from)
    ///             .collect();
    ///         Ok(Completion::new(values))
    ///     })
    ///     .build(transport);
    /// let session = SessionId::new("s1");
    /// let client_side = async {
    ///     // `initialize` opens a session, `rpc` sends one request and returns the
    ///     // next message: small helpers over `MemoryClient`, hidden here.
    ///     initialize(&client, &session).await;
    ///     let done = rpc(&client, &session, 1, "completion/complete", json!({
    ///         "ref": {"type": "ref/prompt", "name": "forecast"},
    ///         "argument": {"name": "city", "value": "Pe"}})).await;
    ///     assert_eq!(done["result"]["completion"]["values"], json!(["Perth"]));
    ///     client.close();
    /// };
    /// let (served, ()) = futures::join!(server.run(), client_side);
    /// served.unwrap();
    /// # });
    /// ```
    #[must_use]
    pub fn completion<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(CompleteRequest, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Completion, RpcError>> + Send + 'static,
    {
        self.registry.completion = Some(Arc::new(move |req, ctx| Box::pin(handler(req, ctx))));
        self
    }
}

impl McpServerBuilder {
    /// Registers a tool whose calls may run as tasks (replacing one of the
    /// same name): [`TaskSupport::Optional`] or [`TaskSupport::Required`].
    /// The handler is written as for [`tool`](Self::tool); when a call
    /// becomes a task, the client gets a `CreateTaskResult` at once and the
    /// handler runs on in the background, where
    ///
    /// - input it asks for ([`RequestContext::elicit`],
    ///   [`RequestContext::input`], …) makes the task `input_required` until
    ///   `tasks/update` answers;
    /// - [`RequestContext::progress`] sets the task's `statusMessage`;
    /// - `tasks/cancel` drops it at its next await, and
    ///   [`RequestContext::is_cancelled`] turns true;
    /// - its result (or `isError` result) completes the task; an
    ///   [`RpcError`] fails it.
    ///
    /// A call that does not become a task (the request did not declare the
    /// extension, for an optional tool) runs like any tool's.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use switchboard_core::tasks::TaskSupport;
    /// use switchboard_core::{Args, McpServerBuilder, Tool};
    ///
    /// #[derive(serde::Deserialize, schemars::JsonSchema)]
    /// struct Build {
    ///     /// What to build.
    ///     target: String,
    /// }
    ///
    /// let builder = McpServerBuilder::new().task_tool(
    ///     Tool::new("build", "Builds a target (minutes)"),
    ///     TaskSupport::Optional,
    ///     |Args(b): Args<Build>, ctx| async move {
    ///         for step in 1..=3 {
    ///             if let Some(rt) = ctx.runtime() {
    ///                 rt.sleep(Duration::from_millis(1)).await;
    ///             }
    ///             ctx.progress(f64::from(step), Some(3.0), None).await?;
    ///         }
    ///         Ok(format!("built {}", b.target))
    ///     },
    /// );
    /// # let _ = builder;
    /// ```
    #[must_use]
    pub fn task_tool<A, F, Fut, R>(self, tool: Tool, support: TaskSupport, handler: F) -> Self
    where
        A: ToolArgs,
        F: Fn(A, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, ToolError>> + Send + 'static,
        R: ToolOutput,
    {
        self.task_tool_beginning(tool, support, TaskBegins::AtOnce, handler)
    }

    /// [`task_tool`](Self::task_tool), with when the task begins:
    /// [`TaskBegins::WhenHandlerStarts`] lets the handler gather input
    /// through the call's own rounds first, and make the call a task with
    /// [`RequestContext::start_task`].
    #[must_use]
    pub fn task_tool_beginning<A, F, Fut, R>(
        mut self,
        tool: Tool,
        support: TaskSupport,
        begins: TaskBegins,
        handler: F,
    ) -> Self
    where
        A: ToolArgs,
        F: Fn(A, RequestContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, ToolError>> + Send + 'static,
        R: ToolOutput,
    {
        let mut entry = registry::tool_entry(tool, handler);
        entry.task = support;
        entry.begins = begins;
        self.registry.put_tool(entry);
        self
    }
}
