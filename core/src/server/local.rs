//! Handlers that are not `Send`: [`LocalServerBuilder`], [`LocalMcpServer`]
//! and the [`LocalHandlers`] that run them on one thread.
//!
//! The engine (dispatch, sessions, HTTP) stays the one `Send` engine; what
//! is local is only the handlers. Each local handler is registered with the
//! engine as a small `Send` stand-in that, per call, sends its input (the
//! arguments and the context, both `Send`) over a channel to
//! [`LocalHandlers`], which owns the handlers (in `Rc`s, say), calls the
//! right one on its own thread and drives the `!Send` future it returns;
//! the output comes back over a one-shot channel. Nothing is made `Send`
//! that is not: the stand-in holds a channel and a slot number, the
//! handlers never leave the thread that runs [`LocalHandlers::serve`].
//!
//! Why this shape rather than a type parameter through the engine: the
//! compiler cannot be told "`Send` when the handlers are", so a generic
//! engine would mean two copies of every spawn site, or every user type
//! carrying a flavour parameter. Here a `Send` server is untouched (same
//! types, same cost), a local one pays one channel hop per call to a local
//! handler, and a `!Send` handler given to [`McpServerBuilder::tool`] is a
//! compile error, as is spawning [`LocalMcpServer::run`] on a thread pool.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::Poll;

use futures::channel::oneshot;
use futures::stream::{FuturesUnordered, Stream, StreamExt};

use super::builder::McpServerBuilder;
use super::handle::McpServer;
use crate::context::RequestContext;
use crate::jsonrpc::RpcError;
use crate::protocol::{
    CompleteRequest, Completion, GetPromptResult, Prompt, ReadResourceResult, Resource,
    ResourceTemplate, Tool,
};
use crate::transport::{Transport, TransportError};
use crate::typed::{StringArgs, ToolArgs, ToolError, ToolOutput};

/// A future that need not be `Send`, as local handlers return.
type LocalFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// What a tool's stand-in returns: the call relayed, `Send`.
type StandIn<R> = crate::runtime::BoxFuture<Result<R, ToolError>>;

/// One call for a local handler: given the table of handlers, it makes the
/// call's future. `Send`: it holds the call's input and where to answer.
type Call = Box<dyn FnOnce(&Table) -> LocalFuture<()> + Send>;

/// The local handlers, by slot; each is the user's closure, of its own type.
type Table = Vec<Box<dyn Any>>;

/// Why a local handler could not be called: [`LocalHandlers`] no longer
/// runs (it was dropped, or its `serve` ended).
const GONE: &str =
    "the local handlers are not running (LocalHandlers::serve ended or was never called)";

/// Builds an MCP server whose handlers need not be `Send`: closures that
/// keep state in `Rc<RefCell<_>>`, futures that hold it across `.await`,
/// calls into `!Send` libraries. Made with [`McpServerBuilder::local`].
///
/// It registers tools, resources, templates, prompts and completion as
/// [`McpServerBuilder`] does, without the `Send` and `Sync` bounds; the
/// server built runs them on the thread that runs
/// [`LocalMcpServer::run`] (or [`LocalHandlers::serve`]), a single-threaded
/// executor's: `switchboard-smol`'s `LocalExecutor`, tokio's
/// `current_thread` runtime with a `LocalSet`, or
/// `futures::executor::block_on`. Configure the server (info, limits,
/// runtime, state) on the [`McpServerBuilder`] before calling `local`; it
/// may register `Send` handlers too, which run as usual.
///
/// # Examples
///
/// A counter kept in an `Rc<RefCell<_>>`:
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use serde_json::json;
/// use switchboard_core::{memory_pair, McpServerBuilder, SessionId, Tool};
///
/// let (transport, client) = memory_pair(16);
/// let count = Rc::new(RefCell::new(0u64));
/// let server = McpServerBuilder::new()
///     .server_info("counter", "1.0.0")
///     .local()
///     .tool(Tool::new("count", "Counts calls"), move |_: serde_json::Value, _ctx| {
///         let count = Rc::clone(&count);
///         async move {
///             *count.borrow_mut() += 1;
///             let n = *count.borrow();
///             Ok(n.to_string())
///         }
///     })
///     .build(transport);
///
/// let session = SessionId::new("s1");
/// let client_side = async {
///     let initialize = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
///         "protocolVersion": "2025-11-25", "capabilities": {},
///         "clientInfo": {"name": "c", "version": "1"}}});
///     client.send_json(&session, &initialize).await.unwrap();
///     client.recv().await.unwrap();
///     let initialized = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
///     client.send_json(&session, &initialized).await.unwrap();
///     for n in 1..=3 {
///         let call = json!({"jsonrpc": "2.0", "id": n, "method": "tools/call",
///             "params": {"name": "count"}});
///         client.send_json(&session, &call).await.unwrap();
///         let reply: serde_json::Value =
///             serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap();
///         assert_eq!(reply["result"]["content"][0]["text"], n.to_string());
///     }
///     client.close();
/// };
/// let (served, ()) = futures::executor::block_on(async { futures::join!(server.run(), client_side) });
/// served.unwrap();
/// ```
pub struct LocalServerBuilder {
    /// The engine's builder, with a `Send` stand-in for each local handler.
    builder: McpServerBuilder,
    /// The handlers themselves, and the channel their stand-ins call over.
    handlers: LocalHandlers,
}

impl fmt::Debug for LocalServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalServerBuilder")
            .field("builder", &self.builder)
            .field("handlers", &self.handlers)
            .finish()
    }
}

impl McpServerBuilder {
    /// Goes on as a [`LocalServerBuilder`], which takes handlers that are not
    /// `Send`. What was set and registered so far is kept.
    #[must_use]
    pub fn local(self) -> LocalServerBuilder {
        LocalServerBuilder {
            builder: self,
            handlers: LocalHandlers::new(),
        }
    }
}

impl LocalServerBuilder {
    /// Registers a tool whose handler need not be `Send` or `Sync`; otherwise
    /// as [`McpServerBuilder::tool`] (arguments read and checked before the
    /// call, the same results and errors). A call dropped by the engine
    /// (cancelled, timed out, its session ended) drops the handler's future
    /// at its next `.await`.
    #[must_use]
    pub fn tool<A, F, Fut, R>(mut self, tool: Tool, handler: F) -> Self
    where
        A: ToolArgs,
        F: Fn(A, RequestContext) -> Fut + 'static,
        Fut: Future<Output = Result<R, ToolError>> + 'static,
        R: ToolOutput,
    {
        let stand_in = self.stand_in(handler);
        self.builder = self.builder.tool(tool, stand_in);
        self
    }

    /// Registers a tool that may run as a task, whose handler need not be
    /// `Send` or `Sync`; otherwise as [`McpServerBuilder::task_tool`]. The
    /// handler runs on this thread however long the task lasts.
    #[must_use]
    pub fn task_tool<A, F, Fut, R>(
        self,
        tool: Tool,
        support: crate::tasks::TaskSupport,
        handler: F,
    ) -> Self
    where
        A: ToolArgs,
        F: Fn(A, RequestContext) -> Fut + 'static,
        Fut: Future<Output = Result<R, ToolError>> + 'static,
        R: ToolOutput,
    {
        self.task_tool_beginning(tool, support, crate::tasks::TaskBegins::AtOnce, handler)
    }

    /// [`task_tool`](Self::task_tool) with where the task begins; otherwise
    /// as [`McpServerBuilder::task_tool_beginning`].
    #[must_use]
    pub fn task_tool_beginning<A, F, Fut, R>(
        mut self,
        tool: Tool,
        support: crate::tasks::TaskSupport,
        begins: crate::tasks::TaskBegins,
        handler: F,
    ) -> Self
    where
        A: ToolArgs,
        F: Fn(A, RequestContext) -> Fut + 'static,
        Fut: Future<Output = Result<R, ToolError>> + 'static,
        R: ToolOutput,
    {
        let stand_in = self.stand_in(handler);
        self.builder = self
            .builder
            .task_tool_beginning(tool, support, begins, stand_in);
        self
    }

    /// Keeps a tool's `handler` and returns its `Send` stand-in for the
    /// engine's registry.
    fn stand_in<A, F, Fut, R>(
        &mut self,
        handler: F,
    ) -> impl Fn(A, RequestContext) -> StandIn<R> + Send + Sync + 'static + use<A, F, Fut, R>
    where
        A: ToolArgs,
        F: Fn(A, RequestContext) -> Fut + 'static,
        Fut: Future<Output = Result<R, ToolError>> + 'static,
        R: ToolOutput,
    {
        let relay = self.handlers.add(handler);
        move |args: A, ctx| -> StandIn<R> {
            let call = relay.call(
                (args, ctx),
                |f: &F, (args, ctx)| -> LocalFuture<Result<R, ToolError>> {
                    Box::pin(f(args, ctx))
                },
            );
            Box::pin(async move {
                call.await
                    .unwrap_or_else(|| Err(ToolError::protocol(RpcError::internal(GONE))))
            })
        }
    }

    /// Registers a resource whose handler need not be `Send` or `Sync`;
    /// otherwise as [`McpServerBuilder::resource`].
    #[must_use]
    pub fn resource<F, Fut>(mut self, resource: Resource, handler: F) -> Self
    where
        F: Fn(String, RequestContext) -> Fut + 'static,
        Fut: Future<Output = Result<ReadResourceResult, RpcError>> + 'static,
    {
        let relay = self.handlers.add(handler);
        self.builder = self.builder.resource(resource, move |uri, ctx| {
            relay.call_rpc((uri, ctx), |f: &F, (uri, ctx)| Box::pin(f(uri, ctx)))
        });
        self
    }

    /// Registers a resource template whose handler need not be `Send` or
    /// `Sync`; otherwise as [`McpServerBuilder::resource_template`].
    #[must_use]
    pub fn resource_template<A, F, Fut>(mut self, template: ResourceTemplate, handler: F) -> Self
    where
        A: StringArgs,
        F: Fn(String, A, RequestContext) -> Fut + 'static,
        Fut: Future<Output = Result<ReadResourceResult, RpcError>> + 'static,
    {
        let relay = self.handlers.add(handler);
        self.builder = self
            .builder
            .resource_template(template, move |uri, args: A, ctx| {
                relay.call_rpc((uri, args, ctx), |f: &F, (uri, args, ctx)| {
                    Box::pin(f(uri, args, ctx))
                })
            });
        self
    }

    /// Registers a prompt whose handler need not be `Send` or `Sync`;
    /// otherwise as [`McpServerBuilder::prompt`].
    #[must_use]
    pub fn prompt<A, F, Fut>(mut self, prompt: Prompt, handler: F) -> Self
    where
        A: StringArgs,
        F: Fn(A, RequestContext) -> Fut + 'static,
        Fut: Future<Output = Result<GetPromptResult, RpcError>> + 'static,
    {
        let relay = self.handlers.add(handler);
        self.builder = self.builder.prompt(prompt, move |args: A, ctx| {
            relay.call_rpc((args, ctx), |f: &F, (args, ctx)| Box::pin(f(args, ctx)))
        });
        self
    }

    /// Sets the completion handler, which need not be `Send` or `Sync`;
    /// otherwise as [`McpServerBuilder::completion`].
    #[must_use]
    pub fn completion<F, Fut>(mut self, handler: F) -> Self
    where
        F: Fn(CompleteRequest, RequestContext) -> Fut + 'static,
        Fut: Future<Output = Result<Completion, RpcError>> + 'static,
    {
        let relay = self.handlers.add(handler);
        self.builder = self.builder.completion(move |request, ctx| {
            relay.call_rpc((request, ctx), |f: &F, (request, ctx)| {
                Box::pin(f(request, ctx))
            })
        });
        self
    }

    /// Builds the server over `transport`: [`McpServerBuilder::build`], with
    /// the local handlers to run beside it.
    pub fn build(self, transport: impl Transport) -> LocalMcpServer {
        let (builder, handlers) = self.into_parts();
        LocalMcpServer {
            server: builder.build(transport),
            handlers,
        }
    }

    /// The engine's builder (to give to an HTTP server, say) and the local
    /// handlers, which must be served beside it on this thread:
    /// `handlers.serve(server.run())`. A call to a local handler while they
    /// are not served waits (and times out as any call does); once they are
    /// dropped it fails with `-32603`.
    pub fn into_parts(self) -> (McpServerBuilder, LocalHandlers) {
        (self.builder, self.handlers)
    }
}

/// An MCP server with local handlers: the engine's [`McpServer`] and the
/// [`LocalHandlers`] its calls go to. `!Send`: run it on the thread that
/// made it.
pub struct LocalMcpServer {
    server: McpServer,
    handlers: LocalHandlers,
}

impl fmt::Debug for LocalMcpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalMcpServer")
            .field("handlers", &self.handlers)
            .finish_non_exhaustive()
    }
}

impl LocalMcpServer {
    /// The engine's handle (`Send`): to announce list changes, close
    /// sessions, add `Send` handlers while it runs.
    pub fn server(&self) -> &McpServer {
        &self.server
    }

    /// Serves until the transport closes, as [`McpServer::run`], running the
    /// local handlers' calls on this thread meanwhile.
    ///
    /// # Errors
    ///
    /// As [`McpServer::run`].
    pub async fn run(self) -> Result<(), TransportError> {
        let Self { server, handlers } = self;
        handlers.serve(server.run()).await
    }
}

/// The local handlers of a server and the calls waiting for them: what
/// runs the handlers of a [`LocalServerBuilder`] on one thread. `!Send`.
pub struct LocalHandlers {
    /// The handlers, by slot.
    table: Table,
    /// Where the stand-ins send calls; kept so the channel stays open
    /// while no stand-in exists yet.
    calls_in: async_channel::Sender<Call>,
    /// The calls, in the order they came.
    calls: async_channel::Receiver<Call>,
    /// Keeps this `!Send` even with no handler yet: it is meant for one
    /// thread.
    _local: std::marker::PhantomData<Rc<()>>,
}

impl fmt::Debug for LocalHandlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalHandlers")
            .field("handlers", &self.table.len())
            .field("calls_waiting", &self.calls.len())
            .finish()
    }
}

impl LocalHandlers {
    fn new() -> Self {
        let (calls_in, calls) = async_channel::unbounded();
        Self {
            table: Vec::new(),
            calls_in,
            calls,
            _local: std::marker::PhantomData,
        }
    }

    /// Keeps `handler` and returns its `Send` stand-in's means of calling it.
    fn add<F: 'static>(&mut self, handler: F) -> Relay<F> {
        self.table.push(Box::new(handler));
        Relay {
            slot: self.table.len() - 1,
            calls: self.calls_in.clone(),
            _handler: std::marker::PhantomData,
        }
    }

    /// Runs `server` (a server's `run()`, or an HTTP server's) to its end,
    /// running every call to a local handler meanwhile on this thread; the
    /// calls still running when it ends are dropped. Returns what `server`
    /// returned.
    pub async fn serve<T>(self, server: impl Future<Output = T>) -> T {
        let Self { table, calls, .. } = self;
        let mut running: FuturesUnordered<LocalFuture<()>> = FuturesUnordered::new();
        futures::pin_mut!(calls);
        // Never ends: takes the calls that came, then drives those running.
        let work = futures::future::poll_fn(|cx| {
            while let Poll::Ready(Some(call)) = calls.as_mut().poll_next(cx) {
                running.push(call(&table));
            }
            while let Poll::Ready(Some(())) = running.poll_next_unpin(cx) {}
            Poll::<()>::Pending
        });
        futures::pin_mut!(server, work);
        match futures::future::select(server, work).await {
            futures::future::Either::Left((done, _)) => done,
            futures::future::Either::Right(((), _)) => unreachable!("the work loop never ends"),
        }
    }
}

/// Calls one local handler, of type `F`, from its `Send` stand-in: holds
/// the handler's slot and the channel to [`LocalHandlers`], never the
/// handler, so it is `Send` and `Sync` whatever `F` is.
struct Relay<F> {
    slot: usize,
    calls: async_channel::Sender<Call>,
    /// `fn() -> F`: names the type without holding one (so no `Send` bound
    /// on `F` follows from it).
    _handler: std::marker::PhantomData<fn() -> F>,
}

impl<F: 'static> Relay<F> {
    /// Sends `input` to the handler and waits for its output; `None` when
    /// the handlers are gone. Dropping the returned future drops the
    /// handler's future at its next `.await`.
    fn call<In, Out>(
        &self,
        input: In,
        invoke: fn(&F, In) -> LocalFuture<Out>,
    ) -> impl Future<Output = Option<Out>> + Send + use<F, In, Out>
    where
        In: Send + 'static,
        Out: Send + 'static,
    {
        let slot = self.slot;
        let calls = self.calls.clone();
        async move {
            let (answer, answered) = oneshot::channel::<Out>();
            let call: Call = Box::new(move |table: &Table| -> LocalFuture<()> {
                let Some(handler) = table.get(slot).and_then(|h| h.downcast_ref::<F>()) else {
                    // A slot always holds the handler it was made for.
                    return Box::pin(async {});
                };
                let future = invoke(handler, input);
                Box::pin(answer_unless_dropped(future, answer))
            });
            calls.send(call).await.ok()?;
            answered.await.ok()
        }
    }
}

impl<F: 'static> Relay<F> {
    /// [`call`](Self::call) for a handler that answers a JSON-RPC result:
    /// handlers gone are `-32603`.
    fn call_rpc<In, T>(
        &self,
        input: In,
        invoke: fn(&F, In) -> LocalFuture<Result<T, RpcError>>,
    ) -> impl Future<Output = Result<T, RpcError>> + Send + use<F, In, T>
    where
        In: Send + 'static,
        T: Send + 'static,
    {
        let call = self.call(input, invoke);
        async move { call.await.unwrap_or_else(|| Err(RpcError::internal(GONE))) }
    }
}

/// Runs `future` and sends its output to `answer`, or stops as soon as the
/// caller dropped the receiving end (a cancelled or timed-out call).
async fn answer_unless_dropped<Out>(future: LocalFuture<Out>, mut answer: oneshot::Sender<Out>) {
    let output = {
        let cancelled = answer.cancellation();
        futures::pin_mut!(cancelled);
        match futures::future::select(future, cancelled).await {
            futures::future::Either::Left((output, _)) => Some(output),
            futures::future::Either::Right(((), _)) => None,
        }
    };
    if let Some(output) = output {
        let _ = answer.send(output);
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::rc::Rc;

    use serde_json::{Value, json};

    use crate::id::SessionId;
    use crate::protocol::Tool;
    use crate::server::McpServerBuilder;
    use crate::transport::memory::{MemoryClient, memory_pair};

    async fn rpc(client: &MemoryClient, session: &SessionId, body: Value) -> Option<Value> {
        client.send_json(session, &body).await.unwrap();
        // A notification gets no reply.
        body.get("id")?;
        loop {
            // Route-only markers (a cancelled request's) carry no bytes.
            let out = client.recv().await.unwrap();
            if !out.bytes.is_empty() {
                return Some(serde_json::from_slice(&out.bytes).unwrap());
            }
        }
    }

    async fn open(client: &MemoryClient, session: &SessionId) {
        rpc(
            client,
            session,
            json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
            "clientInfo": {"name": "c", "version": "1"}}}),
        )
        .await;
        rpc(
            client,
            session,
            json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        )
        .await;
    }

    /// Lets the other tasks of the executor run once.
    async fn yield_now() {
        let mut yielded = false;
        futures::future::poll_fn(|cx| {
            if std::mem::replace(&mut yielded, true) {
                std::task::Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                std::task::Poll::Pending
            }
        })
        .await;
    }

    fn call(id: u64, name: &str) -> Value {
        json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {"name": name}})
    }

    /// Calls interleave on one thread, each holding the shared `Rc` across
    /// an `.await`, and each gets its own answer.
    #[test]
    fn local_handlers_hold_rc_state_across_awaits() {
        let (transport, client) = memory_pair(16);
        let seen = Rc::new(RefCell::new(Vec::new()));
        let server = McpServerBuilder::new()
            .local()
            .tool(Tool::new("note", "notes its turn"), {
                let seen = Rc::clone(&seen);
                move |_: Value, _ctx| {
                    let seen = Rc::clone(&seen);
                    async move {
                        let turn = seen.borrow().len();
                        seen.borrow_mut().push(turn);
                        // Let the other calls run before answering.
                        yield_now().await;
                        Ok(format!("turn {turn}"))
                    }
                }
            })
            .build(transport);
        let session = SessionId::new("s");
        let client_side = async {
            open(&client, &session).await;
            for id in 1..=3 {
                client.send_json(&session, &call(id, "note")).await.unwrap();
            }
            let mut answers = Vec::new();
            for _ in 1..=3 {
                let reply: Value =
                    serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap();
                answers.push(
                    reply["result"]["content"][0]["text"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                );
            }
            answers.sort();
            assert_eq!(answers, ["turn 0", "turn 1", "turn 2"]);
            client.close();
        };
        let (served, ()) =
            futures::executor::block_on(async { futures::join!(server.run(), client_side) });
        served.unwrap();
        assert_eq!(seen.borrow().len(), 3);
    }

    /// A cancelled call drops the local handler's future.
    #[test]
    fn a_cancelled_call_drops_the_local_future() {
        struct Flag(Rc<Cell<bool>>);
        impl Drop for Flag {
            fn drop(&mut self) {
                self.0.set(true);
            }
        }
        let (transport, client) = memory_pair(16);
        let dropped = Rc::new(Cell::new(false));
        let server = McpServerBuilder::new()
            .local()
            .tool(Tool::new("wait", "waits forever"), {
                let dropped = Rc::clone(&dropped);
                move |_: Value, _ctx| {
                    let flag = Flag(Rc::clone(&dropped));
                    async move {
                        futures::future::pending::<()>().await;
                        drop(flag);
                        Ok("never")
                    }
                }
            })
            .build(transport);
        let session = SessionId::new("s");
        let client_side = async {
            open(&client, &session).await;
            client.send_json(&session, &call(1, "wait")).await.unwrap();
            let cancel = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                "params": {"requestId": 1}});
            client.send_json(&session, &cancel).await.unwrap();
            // A ping answered after the cancel: the cancel was handled.
            let pong = rpc(
                &client,
                &session,
                json!({"jsonrpc": "2.0", "id": 2, "method": "ping"}),
            );
            assert_eq!(pong.await.unwrap()["id"], 2);
            // The drop reaches the local future when its driver next runs.
            for _ in 0..10 {
                if dropped.get() {
                    break;
                }
                yield_now().await;
            }
            assert!(dropped.get(), "the local future was dropped");
            client.close();
        };
        let (served, ()) =
            futures::executor::block_on(async { futures::join!(server.run(), client_side) });
        served.unwrap();
    }

    /// A local task-optional tool called by a session-era client (which
    /// never gets tasks) runs within the call, on the local thread.
    #[test]
    fn a_local_task_tool_runs_within_a_session_call() {
        let (transport, client) = memory_pair(16);
        let here = Rc::new(Cell::new(0));
        let server = McpServerBuilder::new()
            .local()
            .task_tool(Tool::new("t", "t"), crate::tasks::TaskSupport::Optional, {
                let here = Rc::clone(&here);
                move |_: Value, _ctx| {
                    let here = Rc::clone(&here);
                    async move {
                        here.set(here.get() + 1);
                        Ok("done")
                    }
                }
            })
            .build(transport);
        let session = SessionId::new("s");
        let client_side = async {
            open(&client, &session).await;
            let reply = rpc(&client, &session, call(1, "t")).await.unwrap();
            assert_eq!(reply["result"]["content"][0]["text"], "done", "{reply}");
            client.close();
        };
        let (served, ()) =
            futures::executor::block_on(async { futures::join!(server.run(), client_side) });
        served.unwrap();
        assert_eq!(here.get(), 1);
    }

    /// With the local handlers gone, a call to one is a clear `-32603`,
    /// not a hang.
    #[test]
    fn a_call_without_the_local_handlers_is_an_internal_error() {
        let (transport, client) = memory_pair(16);
        let (builder, handlers) = McpServerBuilder::new()
            .local()
            .tool(Tool::new("t", "t"), |_: Value, _ctx| async { Ok("ok") })
            .into_parts();
        drop(handlers);
        let server = builder.build(transport);
        let session = SessionId::new("s");
        let client_side = async {
            open(&client, &session).await;
            let reply = rpc(&client, &session, call(1, "t")).await.unwrap();
            assert_eq!(reply["error"]["code"], -32603, "{reply}");
            client.close();
        };
        let (served, ()) =
            futures::executor::block_on(async { futures::join!(server.run(), client_side) });
        served.unwrap();
    }
}
