//! Two servers sharing one task store, as replicas behind a balancer do:
//! a task created on one is read, answered and cancelled through the
//! other, and a store that cannot be reached is a clear error.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::channel::mpsc;
use futures::stream::BoxStream;
use serde_json::{Value, json};

use super::*;
use crate::http::wire::testing::Local;
use crate::id::SessionId;
use crate::protocol::Tool;
use crate::server::builder::McpServerBuilder;
use crate::server::config::ServerConfig;
use crate::tasks::TaskCaps;
use crate::tasks::TaskSupport;
use crate::transport::memory::{MemoryClient, memory_pair};

/// One replica's view of a shared store: the records in common, the
/// signal inboxes in common, its own name.
#[derive(Debug, Clone)]
struct Shared {
    /// This replica.
    name: &'static str,
    /// The records.
    records: Arc<MemoryTaskStore>,
    /// Each listening replica's inbox.
    inboxes: Arc<Mutex<HashMap<String, mpsc::UnboundedSender<TaskSignal>>>>,
    /// When set, every call fails as a store that cannot be reached.
    down: Arc<AtomicBool>,
}

impl Shared {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Unavailable("connection refused".into()));
        }
        Ok(())
    }
}

#[async_trait]
impl TaskStore for Shared {
    async fn create(&self, task: Task, caps: TaskCaps, now_ms: u64) -> Result<(), StoreError> {
        self.check()?;
        self.records.create(task, caps, now_ms).await
    }
    async fn get(&self, id: &TaskId, owner: &Owner, now: u64) -> Result<Option<Task>, StoreError> {
        self.check()?;
        self.records.get(id, owner, now).await
    }
    async fn change(
        &self,
        id: &TaskId,
        owner: &Owner,
        change: Change,
        now_ms: u64,
    ) -> Result<Option<(Task, bool)>, StoreError> {
        self.check()?;
        self.records.change(id, owner, change, now_ms).await
    }
    async fn purge(&self, now_ms: u64) -> Vec<TaskId> {
        self.records.purge(now_ms).await
    }
    fn replica(&self) -> Option<&str> {
        Some(self.name)
    }
    async fn listen(&self) -> Result<Option<BoxStream<'static, TaskSignal>>, StoreError> {
        self.check()?;
        let (tx, rx) = mpsc::unbounded();
        self.inboxes.lock().unwrap().insert(self.name.into(), tx);
        Ok(Some(Box::pin(rx)))
    }
    async fn signal(&self, runner: &str, signal: TaskSignal) -> Result<bool, StoreError> {
        self.check()?;
        let inboxes = self.inboxes.lock().unwrap();
        Ok(inboxes
            .get(runner)
            .is_some_and(|tx| tx.unbounded_send(signal).is_ok()))
    }
}

/// Sends stateless request `id` declaring the extension; the reply.
async fn rpc(client: &MemoryClient, id: u64, method: &str, mut params: Value) -> Value {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities":
            {"elicitation": {}, "extensions": {(crate::tasks::EXTENSION): {}}},
    });
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    client.send_json(&SessionId::new("c"), &body).await.unwrap();
    serde_json::from_slice(&client.recv().await.unwrap().bytes).unwrap()
}

/// Polls task `id` through `client` until its status is `status` (at most
/// 50 polls, each letting the other tasks run).
async fn until(client: &MemoryClient, ids: &mut u64, id: &str, status: &str) -> Value {
    for _ in 0..50 {
        *ids += 1;
        let got = rpc(client, *ids, "tasks/get", json!({"taskId": id})).await;
        if got["result"]["status"] == status {
            return got["result"].clone();
        }
    }
    panic!("task {id} never {status}");
}

/// Sets a flag when dropped: the handler holding it was dropped.
struct Dropped(Arc<AtomicBool>);

impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Waits until `dropped` is set: at most 50 requests through `client`,
/// each letting the other tasks run.
async fn until_dropped(client: &MemoryClient, dropped: &AtomicBool) {
    for i in 0..50 {
        if dropped.load(Ordering::SeqCst) {
            return;
        }
        rpc(client, 200 + i, "tasks/get", json!({"taskId": "none"})).await;
    }
    panic!("the handler was not dropped");
}

#[test]
fn a_task_is_read_answered_and_cancelled_through_another_replica() {
    let records = Arc::new(MemoryTaskStore::new());
    let inboxes = Arc::default();
    let down = Arc::new(AtomicBool::new(false));
    let store = |name| Shared {
        name,
        records: Arc::clone(&records),
        inboxes: Arc::clone(&inboxes),
        down: Arc::clone(&down),
    };
    let dropped = Arc::new(AtomicBool::new(false));
    let runtime = Local::default();
    let replica = |store: Shared, dropped: Arc<AtomicBool>| {
        let (transport, client) = memory_pair(16);
        let config = ServerConfig::default().tasks(TaskConfig::default().store(Arc::new(store)));
        let server = McpServerBuilder::new()
            .config(config)
            .runtime(Arc::new(runtime.clone()))
            .task_tool(
                Tool::new("ask", "asks, then names the replica that ran it"),
                TaskSupport::Required,
                move |_: Value, ctx| {
                    let guard = Dropped(Arc::clone(&dropped));
                    async move {
                        let answer = ctx
                            .input("ok", "elicitation/create", json!({"message": "ok?"}))
                            .await?;
                        drop(guard);
                        Ok(format!("answered {}", answer["action"]))
                    }
                },
            )
            .build(transport);
        (server, client)
    };
    let (a, on_a) = replica(store("a"), Arc::clone(&dropped));
    let (b, on_b) = replica(store("b"), Arc::new(AtomicBool::new(false)));
    let engine_a = Arc::clone(&a.shared);
    let inboxes_seen = Arc::clone(&inboxes);
    let records_seen = Arc::clone(&records);
    let client_side = async move {
        let mut ids = 0;
        // Created on a: a runs it, b reads it.
        let created = rpc(&on_a, 1, "tools/call", json!({"name": "ask"})).await;
        let id = created["result"]["taskId"].as_str().unwrap().to_owned();
        let parked = until(&on_b, &mut ids, &id, "input_required").await;
        assert_eq!(parked["inputRequests"]["ok"]["params"]["message"], "ok?");
        // Answered through b: reaches a's handler.
        let answer = json!({"taskId": id, "inputResponses": {"ok": {"action": "accept"}}});
        let ack = rpc(&on_b, 100, "tasks/update", answer).await;
        assert_eq!(ack["result"], json!({"resultType": "complete"}), "{ack}");
        let done = until(&on_b, &mut ids, &id, "completed").await;
        assert_eq!(done["result"]["content"][0]["text"], "answered \"accept\"");
        assert_eq!(engine_a.tasks.running_count(), 0);

        // Cancelled through b: a drops the handler.
        dropped.store(false, Ordering::SeqCst);
        let created = rpc(&on_a, 2, "tools/call", json!({"name": "ask"})).await;
        let id = created["result"]["taskId"].as_str().unwrap().to_owned();
        until(&on_b, &mut ids, &id, "input_required").await;
        assert!(!dropped.load(Ordering::SeqCst));
        let ack = rpc(&on_b, 101, "tasks/cancel", json!({"taskId": id})).await;
        assert_eq!(ack["result"], json!({"resultType": "complete"}), "{ack}");
        until(&on_a, &mut ids, &id, "cancelled").await;
        assert!(dropped.load(Ordering::SeqCst), "a still runs the handler");
        assert_eq!(engine_a.tasks.running_count(), 0);

        // a no longer hears its signals: an answer through b is refused,
        // and the question stays outstanding.
        let created = rpc(&on_a, 3, "tools/call", json!({"name": "ask"})).await;
        let id = created["result"]["taskId"].as_str().unwrap().to_owned();
        until(&on_b, &mut ids, &id, "input_required").await;
        inboxes_seen.lock().unwrap().remove("a");
        let answer = json!({"taskId": id, "inputResponses": {"ok": {"action": "accept"}}});
        let refused = rpc(&on_b, 102, "tasks/update", answer).await;
        assert_eq!(refused["error"]["code"], -32603, "{refused}");
        let still = until(&on_b, &mut ids, &id, "input_required").await;
        assert!(still["inputRequests"].get("ok").is_some());

        // The store down: a clear error, at once.
        down.store(true, Ordering::SeqCst);
        let failed = rpc(&on_b, 103, "tasks/get", json!({"taskId": id})).await;
        assert_eq!(failed["error"]["code"], -32603, "{failed}");
        let message = failed["error"]["message"].as_str().unwrap();
        assert!(message.contains("task store is unavailable"), "{message}");
        let failed = rpc(&on_a, 104, "tools/call", json!({"name": "ask"})).await;
        assert_eq!(failed["error"]["code"], -32603, "{failed}");
        down.store(false, Ordering::SeqCst);
        rpc(&on_a, 105, "tasks/cancel", json!({"taskId": id})).await;

        // A task purged by another replica: its runner's sweep drops the
        // handler.
        dropped.store(false, Ordering::SeqCst);
        let created = rpc(&on_a, 4, "tools/call", json!({"name": "ask"})).await;
        assert!(created["result"]["taskId"].is_string(), "{created}");
        assert_eq!(engine_a.tasks.running_count(), 1);
        engine_a.tasks.drop_vanished(wall_ms(now())).await;
        assert_eq!(engine_a.tasks.running_count(), 1, "a live task was dropped");
        assert!(!records_seen.purge_now(u64::MAX / 2).is_empty());
        engine_a.tasks.drop_vanished(wall_ms(now())).await;
        assert_eq!(engine_a.tasks.running_count(), 0);
        until_dropped(&on_a, &dropped).await;
        on_a.close();
        on_b.close();
    };
    runtime.run(async move {
        let (ra, rb, ()) = futures::join!(a.run(), b.run(), client_side);
        ra.unwrap();
        rb.unwrap();
    });
}
