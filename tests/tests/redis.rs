//! `RedisBus` (the `redis` feature of both adapters) against a real
//! `redis-server`, started here as a child process on a free port: changes
//! travel between buses on one channel and not to another, reach the
//! sessions and `subscriptions/listen` streams of a replica other than the
//! one they were made through, and still do after Redis restarts, with a
//! bus connected on each adapter's local (one-thread) runtime too. And
//! `RedisTaskStore`: a task created on one replica is read, answered and
//! cancelled through another, and with Redis gone a task request is a
//! clear `-32603`.
//!
//! `redis-server` must be on PATH (Debian: `apt-get install -y
//! redis-server`); these tests fail, not skip, without it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Value, json};
use switchboard_core::tasks::{TaskConfig, TaskStore, TaskSupport};
use switchboard_core::{
    Change, EventBus, HttpConfig, ListFamily, McpServerBuilder, Resource, Runtime, ServerConfig,
    Tool,
};
use tests::DEADLINE;
use tests::client::{Conn, Event};
use tests::redis::{Exec, Redis};
use tests::server::{Rt, Session, TestServer, header_refs, stateless_headers, stateless_meta};

tests::on_both_runtimes!(
    buses_on_one_channel_hear_each_other_and_no_other_channel,
    a_change_through_one_replica_reaches_the_sessions_of_another,
    a_listen_stream_hears_a_change_made_through_another_replica,
    a_subscription_comes_back_after_redis_restarts,
    a_task_is_read_answered_and_cancelled_through_another_replica,
);

/// Waits (bounded) until `channel` has `n` subscribers, polling `streams`
/// meanwhile: a bus's stream subscribes when first polled.
async fn await_subscribers(
    redis: &Redis,
    channel: &str,
    n: usize,
    streams: &mut [&mut BoxStream<'static, Change>],
) {
    let start = Instant::now();
    while redis.subscribers(channel) != n {
        for stream in streams.iter_mut() {
            // Progress is kept in the stream when the `next` future is dropped.
            let polled = futures::poll!(stream.next());
            assert!(polled.is_pending(), "nothing was published yet: {polled:?}");
        }
        assert!(
            start.elapsed() < DEADLINE,
            "{channel} never had {n} subscribers"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits (bounded) until `channel` has `n` subscribers, taken by servers.
fn await_servers(redis: &Redis, channel: &str, n: usize) {
    assert!(
        tests::eventually(|| redis.subscribers(channel) == n),
        "{channel} never had {n} subscribers"
    );
}

/// A `RedisBus` of `exec`'s adapter.
fn bus(exec: &Exec, redis: &Redis, channel: &str) -> Arc<dyn EventBus> {
    let url = redis.url();
    exec.block_on(async {
        let bus: Arc<dyn EventBus> = if exec.is_tokio() {
            Arc::new(
                switchboard_tokio::RedisBus::connect(&url, channel)
                    .await
                    .unwrap(),
            )
        } else {
            Arc::new(
                switchboard_smol::RedisBus::connect(&url, channel)
                    .await
                    .unwrap(),
            )
        };
        bus
    })
}

/// On each adapter's local runtime (one thread), a bus connected there
/// hears its own changes, and again after Redis restarts: its timers
/// (reconnection backoff, timeouts) and the `redis` crate's connections run
/// on that runtime's thread or beside it, never needing another runtime.
#[test]
fn a_bus_connected_on_a_local_runtime_hears_changes_across_a_redis_restart() {
    let mut redis = Redis::start();
    let url = redis.url();
    let (smol_redis, smol_url) = (&mut redis, &url);
    switchboard_smol::block_on_local(|runtime| async move {
        let bus = switchboard_smol::RedisBus::connect(smol_url, "smol-local")
            .await
            .unwrap();
        hears_across_restart(smol_redis, &bus, &runtime).await;
    });
    let (tokio_redis, tokio_url) = (&mut redis, &url);
    switchboard_tokio::block_on_local(|runtime| async move {
        let bus = switchboard_tokio::RedisBus::connect(tokio_url, "tokio-local")
            .await
            .unwrap();
        hears_across_restart(tokio_redis, &bus, &runtime).await;
    })
    .unwrap();
}

/// Publishes on `bus` until its own subscription hears it (the stream
/// subscribes when polled), restarts Redis, and does it again.
async fn hears_across_restart(redis: &mut Redis, bus: &dyn EventBus, runtime: &dyn Runtime) {
    let mut changes = bus.subscribe();
    for round in 0..2 {
        if round == 1 {
            redis.restart();
        }
        let change = Change::ResourceUpdated {
            uri: format!("test://{round}"),
        };
        let start = Instant::now();
        'heard: loop {
            // Until Redis is back, a publish may fail: the next one retries.
            let _ = bus.publish(&change).await;
            let wait = runtime.sleep(Duration::from_millis(50));
            futures::pin_mut!(wait);
            loop {
                let next = changes.next();
                match futures::future::select(next, wait.as_mut()).await {
                    // Earlier rounds' copies may still be in the stream.
                    futures::future::Either::Left((Some(heard), _)) if heard == change => {
                        break 'heard;
                    }
                    futures::future::Either::Left((Some(_), _)) => {}
                    futures::future::Either::Left((None, _)) => panic!("the stream ended"),
                    futures::future::Either::Right(_) => break,
                }
            }
            assert!(start.elapsed() < DEADLINE, "round {round}: never heard");
        }
    }
}

/// The next change of `stream`, bounded.
async fn next(stream: &mut BoxStream<'static, Change>) -> Change {
    tests::deadline("a change", stream.next())
        .await
        .expect("the stream goes on")
}

fn buses_on_one_channel_hear_each_other_and_no_other_channel(rt: Rt) {
    let redis = Redis::start();
    let exec = Exec::new(rt);
    let (a, b) = (bus(&exec, &redis, "changes"), bus(&exec, &redis, "changes"));
    let other = bus(&exec, &redis, "other");
    exec.block_on(async {
        let (mut from_a, mut from_b) = (a.subscribe(), b.subscribe());
        let mut from_other = other.subscribe();
        await_subscribers(&redis, "changes", 2, &mut [&mut from_a, &mut from_b]).await;
        await_subscribers(&redis, "other", 1, &mut [&mut from_other]).await;
        let updated = Change::ResourceUpdated {
            uri: "test://a".into(),
        };
        a.publish(&updated).await.unwrap();
        assert_eq!(next(&mut from_a).await, updated);
        assert_eq!(next(&mut from_b).await, updated);
        // What is not a change is skipped; the next change comes through.
        let junk = "*3\r\n$7\r\nPUBLISH\r\n$7\r\nchanges\r\n$8\r\nnot json\r\n";
        assert!(
            redis
                .send(junk.as_bytes())
                .is_some_and(|r| r.starts_with(":2"))
        );
        let tools = Change::list_changed(ListFamily::Tools);
        b.publish(&tools).await.unwrap();
        assert_eq!(next(&mut from_a).await, tools);
        assert_eq!(next(&mut from_b).await, tools);
        // The other channel heard none of it, only its own.
        let prompts = Change::list_changed(ListFamily::Prompts);
        other.publish(&prompts).await.unwrap();
        assert_eq!(next(&mut from_other).await, prompts);
        // A dropped stream unsubscribes.
        drop(from_b);
        assert!(tests::eventually(|| redis.subscribers("changes") == 1));
    });
}

/// A replica of the same test server: `listChanged`, one subscribable
/// resource, `bus` shared with the others.
fn replica(rt: Rt, bus: Arc<dyn EventBus>) -> TestServer {
    let builder = McpServerBuilder::new()
        .server_info("replica", "0.0.1")
        .config(ServerConfig::default().list_changed(true))
        .event_bus(bus)
        .text_resource(Resource::new("test://a", "a"), "A");
    TestServer::start_builder(rt, builder, HttpConfig::default())
}

/// Opens `s`'s GET stream and reads its priming event.
fn open_get(s: &Session) -> Conn {
    let mut conn = Conn::connect(s.addr);
    let headers = [
        ("accept", "text/event-stream"),
        ("mcp-session-id", s.id.as_str()),
        ("mcp-protocol-version", s.version.as_str()),
    ];
    conn.send("GET", "/mcp", &headers, "");
    assert_eq!(conn.read_head().status, 200);
    assert_eq!(conn.next_event().expect("the priming event").data, "");
    conn
}

/// The next event of a stream, as JSON.
fn next_json(conn: &mut Conn) -> Value {
    conn.next_event()
        .as_ref()
        .map(Event::json)
        .expect("an event")
}

fn a_change_through_one_replica_reaches_the_sessions_of_another(rt: Rt) {
    let redis = Redis::start();
    let exec = Exec::new(rt);
    let a = replica(rt, bus(&exec, &redis, "replicas"));
    let b = replica(rt, bus(&exec, &redis, "replicas"));
    await_servers(&redis, "replicas", 2);
    let s = a.session();
    let reply = s.call(1, "resources/subscribe", json!({"uri": "test://a"}));
    assert_eq!(reply[0]["result"], json!({}), "{reply:?}");
    let mut get = open_get(&s);
    exec.block_on(b.server.notify_resource_updated("test://a"));
    let heard = next_json(&mut get);
    assert_eq!(heard["method"], "notifications/resources/updated");
    assert_eq!(heard["params"]["uri"], "test://a");
    exec.block_on(b.server.notify_tools_changed());
    let heard = next_json(&mut get);
    assert_eq!(heard["method"], "notifications/tools/list_changed");
    // A's own change reaches its own session too, once, through the bus.
    exec.block_on(a.server.notify_resource_updated("test://a"));
    let heard = next_json(&mut get);
    assert_eq!(heard["method"], "notifications/resources/updated");
    exec.block_on(b.server.notify_tools_changed());
    let heard = next_json(&mut get);
    assert_eq!(heard["method"], "notifications/tools/list_changed");
}

/// Opens a 2026-07-28 `subscriptions/listen` stream on `server` and reads
/// its acknowledgement.
fn listen(server: &TestServer, id: i64, filter: Value) -> Conn {
    let mut conn = server.conn();
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "subscriptions/listen",
        "params": {"notifications": filter, "_meta": stateless_meta(json!({}))}});
    let headers = stateless_headers("subscriptions/listen", None);
    conn.send("POST", "/mcp", &header_refs(&headers), &body.to_string());
    assert_eq!(
        conn.read_head().header("content-type"),
        Some("text/event-stream")
    );
    let ack = next_json(&mut conn);
    assert_eq!(ack["method"], "notifications/subscriptions/acknowledged");
    conn
}

fn a_listen_stream_hears_a_change_made_through_another_replica(rt: Rt) {
    let redis = Redis::start();
    let exec = Exec::new(rt);
    let a = replica(rt, bus(&exec, &redis, "replicas"));
    let b = replica(rt, bus(&exec, &redis, "replicas"));
    await_servers(&redis, "replicas", 2);
    let filter = json!({"toolsListChanged": true, "resourceSubscriptions": ["test://a"]});
    let mut stream = listen(&a, 7, filter);
    exec.block_on(b.server.notify_tools_changed());
    let heard = next_json(&mut stream);
    assert_eq!(heard["method"], "notifications/tools/list_changed");
    assert_eq!(
        heard["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"],
        7
    );
    exec.block_on(b.server.notify_resource_updated("test://a"));
    let heard = next_json(&mut stream);
    assert_eq!(heard["method"], "notifications/resources/updated");
    assert_eq!(heard["params"]["uri"], "test://a");
}

fn a_subscription_comes_back_after_redis_restarts(rt: Rt) {
    let mut redis = Redis::start();
    let exec = Exec::new(rt);
    let a = replica(rt, bus(&exec, &redis, "replicas"));
    let b = replica(rt, bus(&exec, &redis, "replicas"));
    await_servers(&redis, "replicas", 2);
    let s = a.session();
    let mut get = open_get(&s);
    redis.restart();
    // Both replicas subscribe again (backoff at most 5 s); B's publishing
    // connection is reopened on its next change.
    await_servers(&redis, "replicas", 2);
    exec.block_on(b.server.notify_tools_changed());
    let heard = next_json(&mut get);
    assert_eq!(heard["method"], "notifications/tools/list_changed");
}

/// A replica keeping its tasks in `store`, with `ask` (a task that asks,
/// then names the replica that ran it).
fn task_replica(rt: Rt, name: &'static str, store: Arc<dyn TaskStore>) -> TestServer {
    let config = ServerConfig::default().tasks(TaskConfig::default().store(store));
    let builder = McpServerBuilder::new().config(config).task_tool(
        Tool::new("ask", "asks, then names the replica that ran it"),
        TaskSupport::Required,
        move |_: Value, ctx| async move {
            let answer = ctx
                .input("ok", "elicitation/create", json!({"message": "ok?"}))
                .await?;
            Ok(format!("{} on {name}", answer["action"]))
        },
    );
    TestServer::start_builder(rt, builder, HttpConfig::default())
}

/// POSTs stateless `method` declaring the tasks extension; the reply.
fn task_rpc(server: &TestServer, method: &str, mut params: Value) -> Value {
    let caps = json!({"elicitation": {}, "extensions": {"io.modelcontextprotocol/tasks": {}}});
    params["_meta"] = stateless_meta(caps);
    let name = params
        .get("name")
        .or_else(|| params.get("taskId"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let headers = stateless_headers(method, name.as_deref());
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let reply = server
        .conn()
        .request("POST", "/mcp", &header_refs(&headers), &body.to_string());
    reply.messages().pop().unwrap_or(Value::Null)
}

/// Polls task `id` on `server` until its status is `status` (bounded).
fn await_status(server: &TestServer, id: &str, status: &str) -> Value {
    let start = Instant::now();
    loop {
        let got = task_rpc(server, "tasks/get", json!({"taskId": id}));
        if got["result"]["status"] == status {
            return got["result"].clone();
        }
        assert!(
            start.elapsed() < DEADLINE,
            "task {id} never {status}: {got}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn a_task_is_read_answered_and_cancelled_through_another_replica(rt: Rt) {
    let mut redis = Redis::start();
    let exec = Exec::new(rt);
    let url = redis.url();
    let store = || -> Arc<dyn TaskStore> {
        exec.block_on(async {
            if exec.is_tokio() {
                Arc::new(switchboard_tokio::redis_task_store(&url).await.unwrap())
            } else {
                Arc::new(switchboard_smol::redis_task_store(&url).await.unwrap())
            }
        })
    };
    let a = task_replica(rt, "a", store());
    let b = task_replica(rt, "b", store());
    // Created on a, so a runs it; b reads it, answers it, reads the result.
    let created = task_rpc(&a, "tools/call", json!({"name": "ask"}));
    let id = created["result"]["taskId"]
        .as_str()
        .expect("a task")
        .to_owned();
    let parked = await_status(&b, &id, "input_required");
    assert_eq!(parked["inputRequests"]["ok"]["params"]["message"], "ok?");
    let answer = json!({"taskId": id, "inputResponses": {"ok": {"action": "accept"}}});
    let ack = task_rpc(&b, "tasks/update", answer);
    assert_eq!(ack["result"], json!({"resultType": "complete"}), "{ack}");
    let done = await_status(&b, &id, "completed");
    assert_eq!(done["result"]["content"][0]["text"], "\"accept\" on a");
    // Cancelled through b: final on both.
    let created = task_rpc(&a, "tools/call", json!({"name": "ask"}));
    let id = created["result"]["taskId"]
        .as_str()
        .expect("a task")
        .to_owned();
    await_status(&b, &id, "input_required");
    let ack = task_rpc(&b, "tasks/cancel", json!({"taskId": id}));
    assert_eq!(ack["result"], json!({"resultType": "complete"}), "{ack}");
    await_status(&a, &id, "cancelled");
    // An id b does not know is unknown there as on a.
    let unknown = task_rpc(&b, "tasks/get", json!({"taskId": "0".repeat(32)}));
    assert_eq!(unknown["error"]["code"], -32602, "{unknown}");
    // Redis gone: a clear error, not a hang.
    redis.stop();
    let start = Instant::now();
    let failed = task_rpc(&b, "tasks/get", json!({"taskId": id}));
    assert_eq!(failed["error"]["code"], -32603, "{failed}");
    let message = failed["error"]["message"].as_str().unwrap_or_default();
    assert!(message.contains("task store is unavailable"), "{message}");
    assert!(start.elapsed() < DEADLINE, "{:?}", start.elapsed());
}
