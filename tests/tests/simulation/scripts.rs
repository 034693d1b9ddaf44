//! What each simulated client does: a seeded script of operations, and a
//! session's GET stream (dropped and resumed with `Last-Event-ID`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::{Value, json};

use super::client::{Alive, Cut};
use super::executor::Rng;
use super::workload::{Client, Plan, short, stateless_meta};
use super::world::World;

/// Clients still running (scripts and their listeners).
pub(crate) type Live = Arc<AtomicUsize>;

/// Counts one task out of `live` when dropped.
struct Leaving(Live);

impl Drop for Leaving {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

fn spawn(
    world: &Arc<World>,
    live: &Live,
    task: impl std::future::Future<Output = ()> + Send + 'static,
) {
    live.fetch_add(1, Ordering::AcqRel);
    let leaving = Leaving(Arc::clone(live));
    switchboard_core::Runtime::spawn(
        &world.rt,
        Box::pin(async move {
            let _leaving = leaving;
            task.await;
        }),
    );
}

/// Starts the clients of one run.
pub(crate) fn start(world: &Arc<World>, rng: &mut Rng, live: &Live, clients: u64, ops: u64) {
    for n in 0..clients {
        let name = format!("c{n}");
        let rng = Rng::new(rng.next_u64(), 100 + n);
        let w = Arc::clone(world);
        let l = Arc::clone(live);
        if n % 3 == 2 {
            spawn(world, live, stateless_client(w, l, name, rng, ops));
        } else {
            spawn(world, live, session_client(w, l, name, rng, ops));
        }
    }
}

fn call_args(rng: &mut Rng) -> (&'static str, Value) {
    match rng.below(7) {
        0 => ("echo", json!({})),
        1 => ("echo", json!({"ms": rng.range(1, 2000)})),
        2 | 3 => (
            "progress",
            json!({"steps": rng.range(1, 4), "ms": rng.range(0, 300)}),
        ),
        4 => ("ask", json!({"rounds": rng.range(1, 3)})),
        5 => ("sample", json!({})),
        _ => ("announce", json!({})),
    }
}

async fn session_client(world: Arc<World>, live: Live, name: String, mut rng: Rng, ops: u64) {
    world.sleep(rng.range(0, 500)).await;
    let mut c = Client::new(
        Arc::clone(&world),
        name.clone(),
        Rng::new(rng.next_u64(), 7),
    );
    if !c.initialize().await {
        return;
    }
    let session = c.session.clone().expect("a session");
    let (stop, stopped) = async_channel::bounded::<()>(1);
    if rng.chance(60) {
        let listener = listen(
            c.alive.clone(),
            Arc::clone(&world),
            session,
            name.clone(),
            stopped,
            Rng::new(rng.next_u64(), 8),
        );
        spawn(&world, &live, listener);
    }
    for _ in 0..rng.range(1, ops) {
        if world.shutting_down() && rng.chance(30) {
            break;
        }
        world.sleep(rng.range(0, 300)).await;
        match rng.below(10) {
            0 => {
                c.plain(if rng.chance(50) { "tools/list" } else { "ping" })
                    .await
            }
            1 => {
                let ms = rng.range(0, 3500);
                c.session_call("echo", json!({"ms": 3000}), Plan::Whole, Some(ms))
                    .await;
            }
            2 | 3 => {
                let (mut tool, mut args) = call_args(&mut rng);
                let plan = Plan::draw(&mut rng);
                if let Plan::Stall(_) = plan {
                    // Enough to fill the connection's buffers, so the server's
                    // writes wait on the stalled reader.
                    (tool, args) = ("progress", json!({"steps": 4, "ms": 10, "pad": 20_000}));
                }
                c.session_call(tool, args, plan, None).await;
            }
            _ => {
                let (tool, args) = call_args(&mut rng);
                c.session_call(tool, args, Plan::Whole, None).await;
            }
        }
    }
    drop(stop);
    world.log(format_args!("{name} ops done"));
    if rng.chance(10) {
        let (tool, args) = call_args(&mut rng);
        return c.call_racing_delete(tool, args, rng.range(0, 1500)).await;
    }
    match rng.below(10) {
        0..=3 => c.delete().await,
        4 => c.idle_out().await,
        _ => {}
    }
}

async fn stateless_client(world: Arc<World>, live: Live, name: String, mut rng: Rng, ops: u64) {
    world.sleep(rng.range(0, 500)).await;
    let (stop, stopped) = async_channel::bounded::<()>(1);
    if rng.chance(40) {
        let listener = subscriptions_listen(
            Arc::clone(&world),
            name.clone(),
            stopped,
            Rng::new(rng.next_u64(), 8),
        );
        spawn(&world, &live, listener);
    }
    let mut c = Client::new(Arc::clone(&world), name, Rng::new(rng.next_u64(), 7));
    for _ in 0..rng.range(1, ops) {
        if world.shutting_down() && rng.chance(30) {
            break;
        }
        world.sleep(rng.range(0, 300)).await;
        match rng.below(8) {
            0 if rng.chance(30) => c.pipelined(rng.range(2, 4) as usize).await,
            0 => c.plain("tools/list").await,
            1 | 2 => {
                let (tool, args) = call_args(&mut rng);
                let tool = if tool == "sample" { "ask" } else { tool };
                let plan = Plan::draw(&mut rng);
                c.stateless_call(tool, args, plan).await;
            }
            _ => {
                let (tool, args) = call_args(&mut rng);
                let tool = if tool == "sample" { "ask" } else { tool };
                c.stateless_call(tool, args, Plan::Whole).await;
            }
        }
    }
    drop(stop);
}

/// A stateless `subscriptions/listen` stream: acknowledged first, then
/// only the tool list changes it asked for, tagged with its id, every one
/// announced while it listens; at shutdown it ends with its `complete`
/// result. Now and then the client leaves it.
async fn subscriptions_listen(
    world: Arc<World>,
    name: String,
    stop: async_channel::Receiver<()>,
    mut rng: Rng,
) {
    let Some(mut conn) = world.connect() else {
        return;
    };
    let id = 9_000 + rng.below(1000) as i64;
    let mut meta = stateless_meta();
    meta["io.modelcontextprotocol/clientCapabilities"] = json!({});
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "subscriptions/listen",
        "params": {"notifications": {"toolsListChanged": true}, "_meta": meta}});
    let headers = Client::stateless_headers("subscriptions/listen", None);
    let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    world.log(format_args!("{name} listens ({id})"));
    world.count("subscriptions/listen opened");
    if conn.send("POST", &refs, &body.to_string()).await.is_err() {
        return world.check(world.shutting_down(), || format!("{name}: listen cut"));
    }
    let head = {
        let head = conn.head();
        let stopped = stop.recv();
        futures::pin_mut!(head, stopped);
        match futures::future::select(head, stopped).await {
            futures::future::Either::Left((Ok(h), _)) => h,
            futures::future::Either::Left((Err(Cut), _)) => {
                return world.check(world.shutting_down(), || {
                    format!("{name}: listen cut before its head")
                });
            }
            futures::future::Either::Right(_) => return,
        }
    };
    if head.status == 200 && !head.is_sse() {
        // Ended before it began (shutdown): the result alone, as JSON.
        let body = conn.body(&head).await;
        let msg = body.as_deref().map(super::client::json);
        return world.check(
            matches!(&msg, Ok(m) if m["id"] == id && m["result"]["resultType"] == "complete")
                && world.shutting_down(),
            || format!("{name}: listen {id} answered {msg:?}"),
        );
    }
    if head.status != 200 {
        return world.check(head.status == 503 && world.shutting_down(), || {
            format!("{name}: listen answered {}", head.status)
        });
    }
    let attached = world.rt.elapsed();
    let mut heard = None;
    let mut acknowledged = false;
    // When its client is done: it leaves, unless the server is shutting
    // down, when it stays for the result that ends the stream.
    let mut staying = false;
    loop {
        let next = if staying {
            conn.event().await
        } else {
            let event = conn.event();
            let stopped = stop.recv();
            futures::pin_mut!(event, stopped);
            match futures::future::select(event, stopped).await {
                futures::future::Either::Left((e, _)) => e,
                futures::future::Either::Right(_) => {
                    if !world.shutting_down() {
                        world.log(format_args!("{name} leaves its listen stream"));
                        break;
                    }
                    staying = true;
                    continue;
                }
            }
        };
        let event = match next {
            Ok(Some(e)) => e,
            Ok(None) => {
                return world.check(false, || {
                    format!("{name}: listen stream {id} ended without its result")
                });
            }
            Err(Cut) => {
                return world.check(false, || format!("{name}: listen stream {id} cut"));
            }
        };
        if event.data.is_empty() {
            continue;
        }
        let msg: Value = serde_json::from_str(&event.data).expect("JSON");
        world.log(format_args!("{name} listen event {}", short(&event.data)));
        if !acknowledged {
            world.check(
                msg["method"] == "notifications/subscriptions/acknowledged"
                    && msg["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == id,
                || format!("{name}: listen {id} began with {msg}"),
            );
            acknowledged = true;
            continue;
        }
        if msg.get("id").is_some() {
            // The end: its complete result, at shutdown only.
            world.check(
                msg["id"] == id
                    && msg["result"]["resultType"] == "complete"
                    && world.shutting_down(),
                || format!("{name}: listen {id} answered {msg}"),
            );
            world.count("subscriptions/listen ended with its result at shutdown");
            let missed = world.unheard(attached, heard);
            world.check(missed.is_none(), || {
                format!("{name}: listen {id} missed the list change announced at {missed:?}")
            });
            let after = conn.event().await;
            return world.check(matches!(after, Ok(None)), || {
                format!("{name}: listen {id} went on after its result: {after:?}")
            });
        }
        world.check(
            msg["method"] == "notifications/tools/list_changed"
                && msg["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"] == id,
            || format!("{name}: {msg} on listen stream {id}"),
        );
        heard = Some(world.rt.elapsed());
    }
    let missed = world.unheard(attached, heard);
    world.check(missed.is_none(), || {
        format!("{name}: listen {id} missed the list change announced at {missed:?}")
    });
}

/// A session's GET stream: only notifications, event ids in order; now
/// and then dropped and resumed after the last id seen.
async fn listen(
    alive: Alive,
    world: Arc<World>,
    session: String,
    name: String,
    stop: async_channel::Receiver<()>,
    mut rng: Rng,
) {
    let mut last: Option<(u64, u64)> = None;
    let mut conflicts = 0;
    for attempt in 0..4 {
        let Some(mut conn) = world.connect() else {
            return;
        };
        conn.alive = Some(alive.clone());
        let mut headers = vec![
            ("accept", "text/event-stream".to_owned()),
            ("mcp-session-id", session.clone()),
            ("mcp-protocol-version", "2025-11-25".to_owned()),
        ];
        if let Some((s, q)) = last {
            headers.push(("last-event-id", format!("{s}-{q}")));
        }
        let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        world.log(format_args!("{name} GET {attempt} after {last:?}"));
        world.count(if last.is_some() {
            "GET resumed with Last-Event-ID"
        } else {
            "GET opened"
        });
        if conn.send("GET", &refs, "").await.is_err() {
            return;
        }
        let head = {
            let head = conn.head();
            let stopped = stop.recv();
            futures::pin_mut!(head, stopped);
            match futures::future::select(head, stopped).await {
                futures::future::Either::Left((Ok(h), _)) => h,
                futures::future::Either::Left((Err(Cut), _)) => {
                    world.check(world.shutting_down(), || {
                        format!("{name}: GET cut before its head")
                    });
                    return;
                }
                futures::future::Either::Right(_) => return,
            }
        };
        world.log(format_args!("{name} GET -> {}", head.status));
        match head.status {
            200 => {}
            409 if conflicts < 20 => {
                world.count("GET refused 409 (a stream is open)");
                // The previous stream is not released yet.
                conflicts += 1;
                world.sleep(200).await;
                continue;
            }
            404 | 503 => return,
            other => {
                world.check(false, || format!("{name}: GET answered {other}"));
                return;
            }
        }
        let vanish_after = if rng.chance(40) {
            Some(rng.range(1, 4))
        } else {
            None
        };
        let mut events = 0;
        // Every list change announced while this stream listens reaches it.
        let attached = world.rt.elapsed();
        let mut heard = None;
        let check_heard = |heard: Option<std::time::Duration>| {
            let missed = world.unheard(attached, heard);
            world.check(missed.is_none(), || {
                format!("{name}: the GET stream open since {attached:?} missed the list change announced at {missed:?}")
            });
        };
        loop {
            if vanish_after == Some(events) {
                world.log(format_args!("{name} GET vanishes"));
                check_heard(heard);
                break;
            }
            let next = {
                let event = conn.event();
                let stopped = stop.recv();
                futures::pin_mut!(event, stopped);
                match futures::future::select(event, stopped).await {
                    futures::future::Either::Left((e, _)) => e,
                    futures::future::Either::Right(_) => {
                        check_heard(heard);
                        return;
                    }
                }
            };
            let event = match next {
                Ok(Some(e)) => e,
                Ok(None) | Err(Cut) => {
                    check_heard(heard);
                    return;
                }
            };
            events += 1;
            world.log(format_args!(
                "{name} GET event {:?} {}",
                event.id,
                short(&event.data)
            ));
            if let Some(id) = &event.id {
                let (s, q) = id.split_once('-').expect("stream-seq");
                let id: (u64, u64) = (s.parse().unwrap(), q.parse().unwrap());
                if let Some(prev) = last {
                    world.check(id.0 == prev.0 && id.1 == prev.1 + 1, || {
                        format!("{name}: GET event {id:?} after {prev:?}")
                    });
                }
                last = Some(id);
            }
            if !event.data.is_empty() {
                world.count("GET notification");
                let msg: Value = serde_json::from_str(&event.data).expect("JSON");
                // Only what concerns no request: list changes.
                world.check(
                    msg.get("id").is_none()
                        && msg["method"]
                            .as_str()
                            .is_some_and(|m| m.ends_with("/list_changed")),
                    || format!("{name}: {msg} on the GET stream"),
                );
                heard = Some(world.rt.elapsed());
            }
        }
    }
}
