//! The task checks: `tasks` (a task created through the balancer is
//! polled, updated and cancelled through other replicas) and `taskkill`
//! (the tasks of a replica killed mid-task turn `failed` within the lease).
//!
//! The replica that answered each request is read from the `x-served-by`
//! header HAProxy sets (`http-response set-header X-Served-By %[srv_name]`);
//! the replica that runs a task is the one that answered its `tools/call`
//! (the creator runs it), and the `job` tool names it in its question,
//! status message and result, which the checks compare.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{
    Check, Conn, MAX_ATTEMPTS, Opts, STATELESS_VERSION, Target, headers, text_of, verdict,
    wait_for_file,
};

/// The extension's name.
const EXTENSION: &str = "io.modelcontextprotocol/tasks";

/// How long a poll waits for a status.
const POLL_LIMIT: Duration = Duration::from_secs(20);

/// A request's result and the replica that answered it.
struct Served {
    /// The JSON-RPC result.
    result: Value,
    /// `x-served-by`.
    by: String,
}

/// A stateless request `method` declaring the tasks extension, on a fresh
/// connection through HAProxy; `name` is its `Mcp-Name` (the tool, or the
/// task id).
async fn rpc(
    target: &Target,
    id: u64,
    method: &str,
    name: &str,
    params: Value,
) -> Result<Served, String> {
    let (result, by) = send(target, id, method, name, params).await?;
    let by = by.ok_or("no x-served-by header (is this HAProxy with scale/haproxy.cfg.in?)")?;
    Ok(Served { result, by })
}

/// `rpc` to any server: the result, and `x-served-by` if it was set.
async fn send(
    target: &Target,
    id: u64,
    method: &str,
    name: &str,
    mut params: Value,
) -> Result<(Value, Option<String>), String> {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": STATELESS_VERSION,
        "io.modelcontextprotocol/clientCapabilities":
            {"elicitation": {}, "extensions": {EXTENSION: {}}},
        "io.modelcontextprotocol/clientInfo": {"name": "scale-driver", "version": "1"},
    });
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let h = headers(&[
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", STATELESS_VERSION),
        ("mcp-method", method),
        ("mcp-name", name),
    ]);
    let mut conn = Conn::open(target).await?;
    let reply = conn.request("POST", &h, &body.to_string()).await?;
    if reply.head.status != 200 {
        return Err(format!("{method}: status {}", reply.head.status));
    }
    let by = reply.head.header("x-served-by").map(str::to_owned);
    let answer = reply
        .messages
        .iter()
        .find(|m| m.get("id") == Some(&json!(id)))
        .ok_or_else(|| format!("{method}: no answer in {:?}", reply.messages))?;
    if let Some(e) = answer.get("error") {
        return Err(format!("{method} answered by {by:?}: error {e}"));
    }
    let result = answer
        .get("result")
        .cloned()
        .ok_or_else(|| format!("{method}: no result in {answer}"))?;
    Ok((result, by))
}

/// `rpc`, tried again (at most `MAX_ATTEMPTS`) when it fails: for
/// `tasks/get` only, which may run twice.
async fn get(target: &Target, id: u64, task: &str) -> Result<Served, String> {
    let mut last = String::new();
    for _ in 0..MAX_ATTEMPTS {
        match rpc(target, id, "tasks/get", task, json!({"taskId": task})).await {
            Ok(served) => return Ok(served),
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(last)
}

/// Creates a `job` task; its id and the replica that runs it.
async fn create(target: &Target, id: u64, arguments: Value) -> Result<(String, String), String> {
    let params = json!({"name": "job", "arguments": arguments});
    let served = rpc(target, id, "tools/call", "job", params).await?;
    Ok((task_id(&served.result)?, served.by))
}

/// Creates a `job` task straight on one replica, not through HAProxy.
async fn create_direct(target: &Target, id: u64, arguments: Value) -> Result<String, String> {
    let params = json!({"name": "job", "arguments": arguments});
    task_id(&send(target, id, "tools/call", "job", params).await?.0)
}

/// The task id of a `tools/call` result that made a task.
fn task_id(result: &Value) -> Result<String, String> {
    if result["resultType"] != "task" {
        return Err(format!("tools/call job: not a task: {result}"));
    }
    Ok(result["taskId"].as_str().ok_or("no taskId")?.to_owned())
}

/// Polls `task` until `done` holds for its detailed state (bounded by
/// [`POLL_LIMIT`]); the last state, and every replica that answered.
async fn poll_until(
    target: &Target,
    ids: &mut u64,
    task: &str,
    done: impl Fn(&Value) -> bool,
) -> Result<(Value, BTreeSet<String>), String> {
    let start = Instant::now();
    let mut seen = BTreeSet::new();
    loop {
        *ids += 1;
        let served = get(target, *ids, task).await?;
        seen.insert(served.by);
        if done(&served.result) {
            return Ok((served.result, seen));
        }
        if start.elapsed() > POLL_LIMIT {
            return Err(format!(
                "task {task} still {} after {POLL_LIMIT:?}",
                served.result
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sends `tasks/get` probes until one is answered by `runner`, so that
/// under round robin the next request lands on another replica (bounded).
async fn aim_past(target: &Target, ids: &mut u64, task: &str, runner: &str) -> Result<(), String> {
    for _ in 0..12 {
        *ids += 1;
        if get(target, *ids, task).await?.by == runner {
            return Ok(());
        }
    }
    Err(format!("no probe of {task} was answered by {runner}"))
}

/// One round: a job that asks, answered and read back through other
/// replicas than its runner; a long job cancelled through another.
async fn round(target: &Target, ids: &mut u64) -> Result<String, String> {
    *ids += 1;
    let (task, runner) = create(target, *ids, json!({"ask": true, "seconds": 0.5})).await?;
    let (asked, polled) =
        poll_until(target, ids, &task, |t| t["status"] == "input_required").await?;
    let question = asked["inputRequests"]["go"]["params"]["message"]
        .as_str()
        .unwrap_or_default();
    if question != format!("replica {runner} asks: go on?") {
        return Err(format!("task {task} created on {runner} asked {asked}"));
    }
    aim_past(target, ids, &task, &runner).await?;
    *ids += 1;
    let answer =
        json!({"taskId": task, "inputResponses": {"go": {"action": "accept", "content": {}}}});
    let updated = rpc(target, *ids, "tasks/update", &task, answer).await?;
    if updated.by == runner {
        return Err(format!(
            "tasks/update landed on the runner {runner}: no crossing"
        ));
    }
    let (done, read) = poll_until(target, ids, &task, |t| {
        t["status"] == "completed" || t["status"] == "failed" || t["status"] == "cancelled"
    })
    .await?;
    let text = text_of(&done["result"]).unwrap_or_default();
    if done["status"] != "completed" || text != format!("job done on {runner}") {
        return Err(format!("task {task}: {done}"));
    }
    let others: BTreeSet<&String> = polled
        .iter()
        .chain(&read)
        .filter(|r| **r != runner)
        .collect();
    if others.is_empty() {
        return Err(format!(
            "task {task} was read only through its runner {runner}"
        ));
    }
    // A long job, cancelled through another replica.
    *ids += 1;
    let (long, long_runner) = create(target, *ids, json!({"seconds": 30})).await?;
    poll_until(target, ids, &long, |t| {
        t["statusMessage"]
            .as_str()
            .is_some_and(|m| m.starts_with("step "))
    })
    .await?;
    aim_past(target, ids, &long, &long_runner).await?;
    *ids += 1;
    let cancelled = rpc(target, *ids, "tasks/cancel", &long, json!({"taskId": long})).await?;
    if cancelled.by == long_runner {
        return Err(format!(
            "tasks/cancel landed on the runner {long_runner}: no crossing"
        ));
    }
    // Still cancelled a while later, read through every replica in turn.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut readers = BTreeSet::new();
    for _ in 0..3 {
        *ids += 1;
        let served = get(target, *ids, &long).await?;
        if served.result["status"] != "cancelled" {
            return Err(format!("task {long} after cancel: {}", served.result));
        }
        readers.insert(served.by);
    }
    Ok(format!(
        "[{runner} ran it; read via {}; updated via {}] [{long_runner} ran it; cancelled via {}; read cancelled via {}]",
        others
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(","),
        updated.by,
        cancelled.by,
        readers.into_iter().collect::<Vec<_>>().join(",")
    ))
}

/// `tasks`: `--rounds` rounds (see [`round`]).
pub async fn tasks(o: &Opts) -> Check {
    let target = o.url()?;
    let rounds = o.num("rounds", 3)?;
    let mut ids = 0;
    let mut lines = Vec::new();
    for _ in 0..rounds {
        match round(&target, &mut ids).await {
            Ok(line) => lines.push(line),
            Err(e) => return Err(format!("tasks: FAILED {e}")),
        }
    }
    Ok(format!(
        "tasks: ok {rounds} rounds, each a task updated and a task cancelled through another \
         replica than the one running it: {}",
        lines.join(" ")
    ))
}

/// `taskkill`: long jobs created until `--per-victim` run on `--victim`
/// (and some elsewhere); writes `--ready-file`, waits for
/// `--killed-file`, then polls every task: the victim's must turn
/// `failed` (error naming the lapsed lease) within `--lease-ms` plus a
/// renewal period and a second of slack, the others stay `working`.
pub async fn taskkill(o: &Opts) -> Check {
    let target = o.url()?;
    let victim = o.text("victim")?;
    let want = o.num("per-victim", 3)?;
    let lease = Duration::from_millis(o.num("lease-ms", 10_000)?);
    let ready = o.text("ready-file")?;
    let killed = o.text("killed-file")?;
    // The victim's tasks are made on it directly: through the round robin
    // they could all land elsewhere while HAProxy holds the victim down
    // after a failed health check on a loaded machine (`fall 1`). They are
    // read back through HAProxy, which names the victim as the runner.
    let direct = Target::parse(&o.text("victim-url")?)?;
    let mut ids = 0;
    let mut theirs = Vec::new();
    for _ in 0..want {
        ids += 1;
        let task = create_direct(&direct, ids, json!({"seconds": 120})).await?;
        let (status, _) =
            poll_until(&target, &mut ids, &task, |r| r["statusMessage"].is_string()).await?;
        let message = status["statusMessage"].as_str().unwrap_or_default();
        if !message.ends_with(&format!(" on {victim}")) {
            return Err(format!(
                "taskkill: FAILED task {task} made on {victim} does not say so: {status}"
            ));
        }
        theirs.push(task);
    }
    let mut others = Vec::new();
    for _ in 0..10 {
        ids += 1;
        let (task, runner) = create(&target, ids, json!({"seconds": 120})).await?;
        if runner != victim {
            others.push(task);
            break;
        }
        theirs.push(task);
    }
    if others.is_empty() {
        return Err(format!(
            "taskkill: FAILED 10 tasks through HAProxy, all on {victim}"
        ));
    }
    std::fs::write(&ready, b"").map_err(|e| format!("taskkill: {ready}: {e}"))?;
    wait_for_file(&killed).await?;
    let killed_at = Instant::now();
    let bound = lease + lease / 3 + Duration::from_secs(1);
    let mut times = Vec::new();
    for task in &theirs {
        let mut failed = None;
        while killed_at.elapsed() <= bound + Duration::from_secs(5) {
            ids += 1;
            let served = get(&target, ids, task).await?;
            match served.result["status"].as_str() {
                Some("failed") => {
                    failed = Some(served.result);
                    break;
                }
                Some("working") => {}
                _ => return Err(format!("taskkill: FAILED task {task}: {}", served.result)),
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let Some(failed) = failed else {
            return Err(format!(
                "taskkill: FAILED task {task} of {victim} not failed"
            ));
        };
        let message = failed["error"]["message"].as_str().unwrap_or_default();
        if !message.contains("lease") {
            return Err(format!("taskkill: FAILED task {task}: {failed}"));
        }
        times.push(killed_at.elapsed());
    }
    for task in &others {
        ids += 1;
        let served = get(&target, ids, task).await?;
        if served.result["status"] != "working" {
            return Err(format!(
                "taskkill: FAILED task {task} not on {victim}: {}",
                served.result
            ));
        }
        ids += 1;
        // Stopped, so nothing is left running behind the check.
        rpc(&target, ids, "tasks/cancel", task, json!({"taskId": task})).await?;
    }
    let slowest = times.iter().max().copied().unwrap_or_default();
    let ok = slowest <= bound;
    verdict(
        ok,
        format!(
            "taskkill: {} {} tasks of {victim} failed {:.2}-{:.2} s after SIGKILL \
             (lease {} ms, bound {:.2} s); {} tasks elsewhere still working",
            if ok { "ok" } else { "FAILED" },
            times.len(),
            times
                .iter()
                .min()
                .copied()
                .unwrap_or_default()
                .as_secs_f64(),
            slowest.as_secs_f64(),
            lease.as_millis(),
            bound.as_secs_f64(),
            others.len()
        ),
    )
}
