//! The engine's side of tasks (the 2026-07-28 tasks extension): which
//! `tools/call` becomes a task, running a task's handler on the runtime,
//! and the hub that keeps the running ones (the record of each is in the
//! store, see [`crate::tasks`]). Task-capable tools are registered with
//! the other tools (`register.rs`); the hub's upkeep (other replicas'
//! signals, the sweeper) is in `upkeep.rs`.
//!
//! A call becomes a task only when all hold: the tool is task-capable
//! ([`TaskSupport`]), the request declared the extension in its own
//! `_meta`, and the server has a runtime. A task-required tool called by
//! a request that did not declare it is `-32021` before its handler runs.
//!
//! Choices made where the spec leaves room (following the suite and rmcp):
//! - `tasks/cancel` is final at once: the record turns `cancelled` when the
//!   ack goes out, and the handler is dropped at its next await (it can
//!   see [`RequestContext::is_cancelled`] before that). A handler that
//!   finishes meanwhile does not change a cancelled task.
//! - An expired task is forgotten (then `-32602`, as unknown) and its
//!   handler, if still running, dropped; expired tasks are purged when the
//!   next task is created (so the caps count live tasks only) and by a
//!   sweeper on the runtime, every minute or every time to live, which also
//!   drops the handlers of tasks another replica purged.
//! - A result larger than the limit fails the task with `-32603`.
//!
//! The same hub runs the 2025-11-25 experimental tasks of sessions
//! ([`Era::Session`]): the task is bound to its session besides its
//! principal ([`Owner::in_session`]), each change is told to the session as
//! `notifications/tasks/status` (on its standalone stream), and input the
//! handler asks for is a real server→client request queued on the task
//! ([`TaskLink::post`]) until a `tasks/result` of it delivers it on its own
//! stream (as the TypeScript SDK 1.x does; see `methods/session_tasks`).
//!
//! With a store shared by replicas ([`TaskStore::replica`] names this one),
//! any replica answers `tasks/get` from the store; `tasks/update` and
//! `tasks/cancel` change the record where they arrive and send a
//! [`TaskSignal`] to the task's runner, which wakes or drops the handler:
//! - answers are sent first, recorded after: when no listener of the runner
//!   received them (it stopped, or its subscription is reconnecting), the
//!   update is `-32603` and the question stays outstanding, to be answered
//!   again;
//! - a cancel is recorded first and is final whether or not the runner hears
//!   it; a runner that does not hear it finds its later changes refused (a
//!   question asked ends the handler, a result is dropped);
//! - a store that cannot be reached makes every `tasks/*` request, and a
//!   `tools/call` that would become a task, `-32603` ("the task store is
//!   unavailable: …"), within the store's own time bound.

use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use futures::FutureExt;
use futures::future::{AbortHandle, AbortRegistration, Abortable, Either};
use serde_json::{Map, Value, value::RawValue};

use super::error::MethodError;
use super::listen::{Listeners, Topic};
use super::registry::{ToolFailure, ToolFn};
use crate::clock::now;
use crate::context::RequestContext;
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::jsonrpc::{Message, Notification};
use crate::observe;
use crate::protocol::CallToolResult;
use crate::runtime::Runtime;
use crate::tasks::{
    Change, MemoryTaskStore, OnChange, Owner, StoreError, Task, TaskBegins, TaskConfig, TaskId,
    TaskLink, TaskOutcome, TaskSignal, TaskStart, TaskStore, Watchers, experimental, wall_ms,
};
use crate::transport::{Outbound, Route};

mod upkeep;

/// The running tasks of this server, and where their records are.
pub(crate) struct TaskHub {
    /// Limits and timings.
    pub(crate) config: TaskConfig,
    /// The records.
    pub(crate) store: Arc<dyn TaskStore>,
    /// The tasks whose handlers run in this process.
    running: Mutex<HashMap<TaskId, Arc<TaskLink>>>,
    /// Told of every change, for `notifications/tasks`.
    listeners: Arc<Listeners>,
    /// Whether the sweeper that purges expired tasks was started.
    sweeping: AtomicBool,
    /// The shortest time to live granted here (a 2025-11-25 client asks
    /// for its own), in ms: the sweeper keeps at least that pace.
    shortest_ttl_ms: AtomicU64,
    /// The `tasks/result` requests waiting for a task to change.
    pub(crate) watchers: Arc<Watchers>,
    /// Whether this replica receives its signals (set once the store's
    /// [`TaskStore::listen`] returned).
    listening: futures::lock::Mutex<bool>,
}

/// The JSON-RPC error for a store's failure: `-32000` for a cap reached,
/// `-32603` for a store that cannot be reached (or a duplicate id).
pub(crate) fn store_error(e: StoreError) -> MethodError {
    let code = match e {
        StoreError::OwnerFull(_) | StoreError::Full(_) => ErrorCode::SERVER_BUSY,
        _ => ErrorCode::INTERNAL_ERROR,
    };
    MethodError::Handler(RpcError::new(code, e.to_string()))
}

/// Which era's task a call makes: the shapes it is answered in, whom it is
/// bound to, and whom its changes are told to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Era {
    /// The 2026-07-28 extension: bound to the principal, changes told to
    /// `subscriptions/listen` streams that asked.
    Extension,
    /// The 2025-11-25 experimental tasks: bound to the session (and the
    /// principal), changes told to the session.
    Session,
}

/// `notifications/tasks/status` of `task` for `session`, on its standalone
/// stream: the 2025-11-25 `Task` object, without related-task `_meta` (the
/// spec asks for none: the id is in the params).
pub(crate) fn status_notification(session: &crate::id::SessionId, task: &Task) -> Outbound {
    let message = Message::Notification(Notification {
        method: "notifications/tasks/status".into(),
        params: Some(Value::Object(experimental::task_object(task)).into()),
    });
    Outbound {
        session: session.clone(),
        route: Route::Unrelated,
        bytes: message.to_bytes(),
    }
}

/// What a task-capable call came to.
pub(crate) enum Began {
    /// It is a task: the `CreateTaskResult` to answer with.
    Task(Value),
    /// The handler returned before the task began: its result, answered
    /// as any call's.
    Returned(Result<CallToolResult, ToolFailure>),
}

impl TaskHub {
    /// A hub over `config`'s store (a new memory store when it names none).
    pub(crate) fn new(config: TaskConfig, listeners: Arc<Listeners>) -> Self {
        let store = config
            .store_given()
            .cloned()
            .unwrap_or_else(|| Arc::new(MemoryTaskStore::new()));
        Self {
            config,
            store,
            running: Mutex::default(),
            listeners,
            sweeping: AtomicBool::new(false),
            shortest_ttl_ms: AtomicU64::new(u64::MAX),
            watchers: Arc::default(),
            listening: futures::lock::Mutex::new(false),
        }
    }

    /// Whether `runner` is another replica than this one.
    fn elsewhere<'a>(&self, runner: Option<&'a str>) -> Option<&'a str> {
        runner.filter(|r| Some(*r) != self.store.replica())
    }

    /// `tasks/update`: gives `responses` to task `id`'s waiting handler,
    /// here or on its runner. `Ok(false)` when the caller has no such
    /// task.
    pub(crate) async fn update(
        &self,
        id: &TaskId,
        owner: &Owner,
        responses: Map<String, Value>,
    ) -> Result<bool, MethodError> {
        let at = wall_ms(now());
        let task = self.store.get(id, owner, at).await.map_err(store_error)?;
        let Some(task) = task else { return Ok(false) };
        if let Some(link) = self.link(id, owner) {
            link.answer(responses).await;
            return Ok(true);
        }
        let Some(runner) = self.elsewhere(task.runner.as_deref()) else {
            // Its handler ran here and has ended: nothing waits.
            return Ok(true);
        };
        // Only answers to questions outstanding travel.
        let responses: Map<String, Value> = responses
            .into_iter()
            .filter(|(key, _)| task.input_requests.contains_key(key))
            .collect();
        if responses.is_empty() || task.status.is_terminal() {
            return Ok(true);
        }
        let keys: Vec<String> = responses.keys().cloned().collect();
        let signal = TaskSignal::Answer {
            id: id.clone(),
            owner: owner.clone(),
            responses,
        };
        if !self
            .store
            .signal(runner, signal)
            .await
            .map_err(store_error)?
        {
            return Err(MethodError::Handler(RpcError::internal(format!(
                "the replica running task {id} did not receive the answers (it may have \
                 stopped); the questions stay outstanding"
            ))));
        }
        // Recorded here too, so the next `tasks/get` on any replica no
        // longer lists them (the runner's own record of it changes nothing).
        let answered = self
            .store
            .change(id, owner, Change::Answered(keys), wall_ms(now()))
            .await;
        if let Ok(Some((task, true))) = answered {
            Self::publish(&self.listeners, &task);
        }
        Ok(true)
    }

    /// `tasks/cancel`: the record turns `cancelled` (unless it ended), and
    /// the handler, here or on its runner, is dropped. `Ok(false)` when
    /// the caller has no such task.
    pub(crate) async fn cancel(&self, id: &TaskId, owner: &Owner) -> Result<bool, MethodError> {
        let at = wall_ms(now());
        let changed = self.store.change(id, owner, Change::Cancel, at).await;
        let Some((task, changed)) = changed.map_err(store_error)? else {
            return Ok(false);
        };
        if changed {
            Self::publish(&self.listeners, &task);
        }
        if let Some(link) = self.link(id, owner) {
            link.cancel();
        } else if let (true, Some(runner)) = (changed, self.elsewhere(task.runner.as_deref())) {
            // Best effort: the record is final whether or not it is heard.
            let signal = TaskSignal::Cancel {
                id: id.clone(),
                owner: owner.clone(),
            };
            let _ = self.store.signal(runner, signal).await;
        }
        Ok(true)
    }

    /// Cancels the 2025-11-25 tasks of session `session` that run here:
    /// once the session has ended (DELETE, expiry) its client can no longer
    /// reach them, so their handlers stop now and their records turn
    /// `cancelled`, rather than running on unseen until their time to live.
    pub(crate) fn end_session(self: &Arc<Self>, runtime: Option<&Arc<dyn Runtime>>, session: &str) {
        // `Owner::in_session`'s key: the session, length-prefixed, then the
        // principal's key.
        let prefix = format!("s{}:{session}", session.len());
        let links: Vec<Arc<TaskLink>> = self
            .running()
            .values()
            .filter(|l| l.owner.key().starts_with(&prefix))
            .cloned()
            .collect();
        if links.is_empty() {
            return;
        }
        for link in &links {
            link.cancel();
        }
        if let Some(runtime) = runtime {
            let hub = Arc::clone(self);
            runtime.spawn(Box::pin(async move {
                for link in links {
                    let _ = hub.cancel(&link.id, &link.owner).await;
                }
            }));
        }
    }

    /// Locks the running table (poison taken: one insert or removal each).
    fn running(&self) -> MutexGuard<'_, HashMap<TaskId, Arc<TaskLink>>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The running task `id` of `owner`, when its handler runs here.
    pub(crate) fn link(&self, id: &TaskId, owner: &Owner) -> Option<Arc<TaskLink>> {
        self.running()
            .get(id)
            .filter(|l| &l.owner == owner)
            .cloned()
    }

    /// Tasks whose handlers run here.
    #[cfg(test)]
    pub(crate) fn running_count(&self) -> usize {
        self.running().len()
    }

    /// Tells the listeners that asked for it of `task`'s change.
    pub(crate) fn publish(listeners: &Listeners, task: &Task) {
        let topic = Topic::Task(task.id.as_str());
        if !listeners.wanted(topic) {
            return;
        }
        let params = Value::Object(task.detailed());
        listeners.publish(topic, "notifications/tasks", &params);
    }

    /// What a task of `era`, created by the request of `ctx`, does with
    /// each change: wakes its `tasks/result` waiters, and tells the
    /// listeners that asked (extension) or its session (2025-11-25).
    fn on_change(&self, era: Era, ctx: &RequestContext) -> OnChange {
        let watchers = Arc::clone(&self.watchers);
        match era {
            Era::Extension => {
                let listeners = Arc::clone(&self.listeners);
                Arc::new(move |task: &Task| {
                    watchers.wake(&task.id);
                    Self::publish(&listeners, task);
                    Box::pin(async {})
                })
            }
            Era::Session => {
                let transport = Arc::clone(&ctx.outlet().transport);
                let session = ctx.session_id().clone();
                Arc::new(move |task: &Task| {
                    watchers.wake(&task.id);
                    let told = status_notification(&session, task);
                    let transport = Arc::clone(&transport);
                    Box::pin(async move {
                        // Notifications are optional: a client without a
                        // standalone stream polls instead.
                        let _ = transport.send(told).await;
                    })
                })
            }
        }
    }

    /// Creates a `working` task of `owner` living `ttl_ms`, whose handler
    /// `abort` aborts and whose changes go to `on_change`, readable in the
    /// store when this returns (durable create).
    async fn create(
        &self,
        owner: Owner,
        ttl_ms: u64,
        abort: AbortHandle,
        on_change: OnChange,
    ) -> Result<(Arc<TaskLink>, Task), MethodError> {
        let at = wall_ms(now());
        self.purge(at).await;
        let id = TaskId::random()
            .map_err(|_| MethodError::Handler(RpcError::internal("no randomness for a task id")))?;
        let mut task = Task::new(
            id.clone(),
            owner.clone(),
            at,
            Some(ttl_ms),
            Some(self.config.poll_interval_ms()),
        );
        task.runner = self.store.replica().map(str::to_owned);
        self.store
            .create(task.clone(), self.config.caps(), at)
            .await
            .map_err(store_error)?;
        let link = Arc::new(TaskLink::new(
            id.clone(),
            owner,
            Arc::clone(&self.store),
            on_change,
            abort,
        ));
        self.running().insert(id, Arc::clone(&link));
        Ok((link, task))
    }

    /// Runs `handler` (the call of tool `tool`) as task `link` on `runtime`.
    fn spawn(
        self: &Arc<Self>,
        runtime: &Arc<dyn Runtime>,
        tool: String,
        link: Arc<TaskLink>,
        registration: AbortRegistration,
        handler: crate::runtime::BoxFuture<Result<CallToolResult, ToolFailure>>,
    ) {
        let hub = Arc::clone(self);
        let timer = Arc::clone(runtime);
        observe::task_started(link.id.as_str());
        runtime.spawn(Box::pin(async move {
            let handled =
                Abortable::new(AssertUnwindSafe(handler).catch_unwind(), registration).await;
            let outcome = match handled {
                // Cancelled or expired: the record says so already.
                Err(_aborted) => None,
                Ok(Err(_panic)) => Some(error_outcome(&RpcError::internal("handler panicked"))),
                Ok(Ok(Ok(result))) => Some(hub.result_outcome(&result)),
                Ok(Ok(Err(ToolFailure::Rpc(e)))) => Some(error_outcome(&e)),
                Ok(Ok(Err(ToolFailure::InvalidArguments(why)))) => {
                    let text = format!("invalid arguments for tool {tool}: {why}");
                    Some(hub.result_outcome(&CallToolResult::error(text)))
                }
            };
            let status = match &outcome {
                Some(TaskOutcome::Result(_)) => "completed",
                Some(TaskOutcome::Error(_)) => "failed",
                None => "cancelled",
            };
            if let Some(outcome) = outcome {
                // A store briefly unreachable is tried again (5 times over
                // about 3 s); past that, a shared store fails the task when
                // this replica's lease lapses, or it expires.
                let mut wait = Duration::from_millis(100);
                for _ in 0..5 {
                    if link
                        .try_change(Change::Finish(outcome.clone()))
                        .await
                        .is_ok()
                    {
                        break;
                    }
                    timer.sleep(wait).await;
                    wait *= 2;
                }
            }
            hub.running().remove(&link.id);
            observe::task_ended(link.id.as_str(), status);
        }));
    }

    /// A result as a task keeps it: its JSON, unless over the limit.
    fn result_outcome(&self, result: &CallToolResult) -> TaskOutcome {
        /// Counts the bytes written to it, keeping none.
        struct Count(usize);
        impl std::io::Write for Count {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0 += buf.len();
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let limit = self.config.result_limit();
        let mut size = Count(0);
        if let Err(e) = serde_json::to_writer(&mut size, result) {
            return error_outcome(&RpcError::internal(e.to_string()));
        }
        if size.0 > limit {
            return error_outcome(&RpcError::internal(format!(
                "the result of {} bytes is over the {limit}-byte limit of a task",
                size.0
            )));
        }
        match serde_json::to_value(result) {
            Ok(value) => TaskOutcome::Result(value),
            Err(e) => error_outcome(&RpcError::internal(e.to_string())),
        }
    }

    /// Starts the call of task-capable tool `tool` as a task of `era` (or,
    /// for a handler that decides when, runs it until it does); a
    /// 2025-11-25 call may ask for a time to live (`requested_ttl`).
    ///
    /// # Errors
    ///
    /// `-32000` when a cap of tasks is reached (the handler is dropped).
    #[expect(
        clippy::too_many_arguments,
        reason = "one call site; the call's parts as the method reads them"
    )]
    pub(crate) async fn begin(
        self: &Arc<Self>,
        runtime: &Arc<dyn Runtime>,
        tool: &str,
        begins: TaskBegins,
        handler: &ToolFn,
        arguments: Option<&RawValue>,
        ctx: &RequestContext,
        era: Era,
        requested_ttl: Option<u64>,
    ) -> Result<Began, MethodError> {
        let (owner, ttl_ms) = match era {
            Era::Extension => (Owner::of(ctx.principal()), self.config.ttl_ms()),
            Era::Session => (
                Owner::in_session(ctx.principal(), ctx.session_id().as_str()),
                self.config.grant_ttl_ms(requested_ttl),
            ),
        };
        self.shortest_ttl_ms.fetch_min(ttl_ms, Ordering::Relaxed);
        self.sweep(runtime);
        self.listen(runtime).await?;
        let shape = |task: &Task| match era {
            Era::Extension => task.create_result(),
            Era::Session => experimental::create_result(task),
        };
        // A 2025-11-25 client that asked for a task must get one.
        let begins = match era {
            Era::Extension => begins,
            Era::Session => TaskBegins::AtOnce,
        };
        let (abort, registration) = AbortHandle::new_pair();
        let (handler, confirm) = match begins {
            TaskBegins::WhenHandlerStarts => {
                let (start, started) = TaskStart::new();
                ctx.offer_task_start(start);
                let mut handler = handler(arguments, ctx.clone());
                match futures::future::select(&mut handler, started).await {
                    Either::Left((result, _)) => return Ok(Began::Returned(result)),
                    Either::Right((Ok(confirm), _)) => (handler, Some(confirm)),
                    Either::Right((Err(_), _)) => return Ok(Began::Returned(handler.await)),
                }
            }
            _ => {
                let on_change = self.on_change(era, ctx);
                let (link, task) = self.create(owner, ttl_ms, abort, on_change).await?;
                ctx.attach_task(Arc::clone(&link));
                let handler = handler(arguments, ctx.clone());
                self.spawn(runtime, tool.to_owned(), link, registration, handler);
                return Ok(Began::Task(shape(&task)));
            }
        };
        // The handler asked to start its task.
        let on_change = self.on_change(era, ctx);
        let (link, task) = self.create(owner, ttl_ms, abort, on_change).await?;
        ctx.attach_task(Arc::clone(&link));
        if let Some(confirm) = confirm {
            let _ = confirm.send(());
        }
        self.spawn(runtime, tool.to_owned(), link, registration, handler);
        Ok(Began::Task(shape(&task)))
    }
}

/// A JSON-RPC error as a failed task keeps it.
fn error_outcome(error: &RpcError) -> TaskOutcome {
    let value = serde_json::to_value(error)
        .unwrap_or_else(|_| serde_json::json!({"code": error.code.0, "message": error.message}));
    TaskOutcome::Error(value)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::http::wire::testing::Local;
    use crate::id::SessionId;
    use crate::protocol::Tool;
    use crate::runtime::BoxFuture;
    use crate::server::builder::McpServerBuilder;
    use crate::tasks::TaskSupport;

    use crate::server::dispatch::Engine;
    use crate::transport::memory::{MemoryClient, memory_pair};

    /// Sends stateless request `id` (declaring the extension unless
    /// `undeclared`) over the memory transport; returns the reply.
    async fn rpc(
        client: &MemoryClient,
        id: u64,
        method: &str,
        mut params: Value,
        undeclared: bool,
    ) -> Value {
        let caps = if undeclared {
            json!({"elicitation": {}})
        } else {
            json!({"elicitation": {}, "extensions": {(crate::tasks::EXTENSION): {}}})
        };
        params["_meta"] = json!({
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": caps,
        });
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        client.send_json(&SessionId::new("c"), &body).await.unwrap();
        serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap()
    }

    /// A server with `ask` (required: one question, in the task) and
    /// `gather` (required: a question before the task, one in it).
    fn server(client_side: impl FnOnce(MemoryClient, Arc<Engine>) -> BoxFuture<()>) {
        let (transport, client) = memory_pair(16);
        let runtime = Local::default();
        let server = McpServerBuilder::new()
            .runtime(Arc::new(runtime.clone()))
            .task_tool(
                Tool::new("ask", "asks"),
                TaskSupport::Required,
                |_: Value, ctx| async move {
                    let answer = ctx
                        .input("ok", "elicitation/create", json!({"message": "ok?"}))
                        .await?;
                    Ok(format!("answered {}", answer["action"]))
                },
            )
            .task_tool_beginning(
                Tool::new("gather", "asks, then a task"),
                TaskSupport::Required,
                TaskBegins::WhenHandlerStarts,
                |_: Value, ctx| async move {
                    let name = ctx
                        .input("name", "elicitation/create", json!({"message": "who?"}))
                        .await?;
                    ctx.start_task().await;
                    let id = ctx.task_id().map(str::to_owned);
                    let more = ctx
                        .input("more", "elicitation/create", json!({"message": "more?"}))
                        .await?;
                    Ok(format!(
                        "{} {} {}",
                        name["content"]["name"],
                        more["action"],
                        id.is_some()
                    ))
                },
            )
            .build(transport);
        let engine = Arc::clone(&server.shared);
        runtime.run(async move {
            let (served, ()) = futures::join!(server.run(), client_side(client, engine));
            served.unwrap();
        });
    }

    #[test]
    fn a_task_parks_on_its_question_and_resumes_on_update() {
        server(|client, engine| {
            Box::pin(async move {
                let created = rpc(&client, 1, "tools/call", json!({"name": "ask"}), false).await;
                let id = created["result"]["taskId"].as_str().unwrap().to_owned();
                assert_eq!(created["result"]["resultType"], "task");
                let parked = rpc(&client, 2, "tasks/get", json!({"taskId": id}), false).await;
                assert_eq!(parked["result"]["status"], "input_required", "{parked}");
                assert_eq!(
                    parked["result"]["inputRequests"]["ok"]["params"]["message"],
                    "ok?"
                );
                let answer = json!({"ok": {"action": "accept"}});
                let ack = rpc(
                    &client,
                    3,
                    "tasks/update",
                    json!({"taskId": id, "inputResponses": answer}),
                    false,
                )
                .await;
                assert_eq!(ack["result"], json!({"resultType": "complete"}));
                let done = rpc(&client, 4, "tasks/get", json!({"taskId": id}), false).await;
                assert_eq!(done["result"]["status"], "completed");
                assert_eq!(
                    done["result"]["result"]["content"][0]["text"],
                    "answered \"accept\""
                );
                // The handler ended: nothing of it is left running.
                assert_eq!(engine.tasks.running_count(), 0);
                // Undeclared: the required tool is refused before it runs.
                let refused = rpc(&client, 5, "tools/call", json!({"name": "ask"}), true).await;
                assert_eq!(refused["error"]["code"], -32021);
                client.close();
            })
        });
    }

    /// Rounds before the task carry `requestState`, which needs the
    /// `request-state` feature.
    #[cfg(feature = "request-state")]
    #[test]
    fn input_before_the_task_goes_through_rounds() {
        server(|client, engine| {
            Box::pin(async move {
                let round1 = rpc(&client, 1, "tools/call", json!({"name": "gather"}), false).await;
                let round1 = &round1["result"];
                assert_eq!(round1["resultType"], "input_required", "{round1}");
                assert!(round1.get("taskId").is_none());
                assert_eq!(engine.tasks.running_count(), 0, "no task yet");
                let retry = json!({"name": "gather", "requestState": round1["requestState"],
                    "inputResponses": {"name": {"action": "accept", "content": {"name": "Ada"}}}});
                let round2 = rpc(&client, 2, "tools/call", retry, false).await;
                let id = round2["result"]["taskId"].as_str().unwrap().to_owned();
                assert!(round2["result"].get("requestState").is_none());
                // In the task, the next question waits for tasks/update.
                let parked = rpc(&client, 3, "tasks/get", json!({"taskId": id}), false).await;
                let asked: Vec<&String> = parked["result"]["inputRequests"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .collect();
                assert_eq!(asked, ["more"]);
                let answer = json!({"more": {"action": "decline"}});
                rpc(
                    &client,
                    4,
                    "tasks/update",
                    json!({"taskId": id, "inputResponses": answer}),
                    false,
                )
                .await;
                let done = rpc(&client, 5, "tasks/get", json!({"taskId": id}), false).await;
                assert_eq!(
                    done["result"]["result"]["content"][0]["text"],
                    "\"Ada\" \"decline\" true"
                );
                client.close();
            })
        });
    }
}

#[cfg(test)]
#[path = "tests/tasks_replicas.rs"]
mod replicas_tests;
