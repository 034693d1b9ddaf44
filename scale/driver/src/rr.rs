//! The round-robin checks: session-era clients behind a balancer with no
//! session affinity (`scale/haproxy-rr.cfg.in`, `scale/nginx-rr.conf.in`)
//! in front of replicas that keep sessions in Redis (`replica
//! --shared-sessions`).
//!
//! Both round-robin configurations name the replica that answered each
//! response in an `x-served-by` header (HAProxy from `srv_name`, nginx
//! from `$upstream_addr`), which the checks read and compare with what the
//! `whoami` tool says.
//!
//! - `rr-sessions`: `--clients` sessions × `--calls` `whoami`, one
//!   connection per call: every call answered (no 404: no session had to
//!   start over), `x-served-by` agreeing with `whoami`, every session
//!   served by several replicas (the balancer interleaves the concurrent
//!   clients' calls, so a session may miss one of three replicas by
//!   chance: with 100 × 20 calls about one session in ten runs does; all
//!   of them is not required), `--replicas` replicas in all, and every
//!   replica serving sessions minted (the id's tag) by every other.
//! - `rr-elicit`: a session-era `greet` through the balancer; its
//!   elicitation request arrives on the call's stream (served by replica
//!   R); probes until one is served by R, so that the answer POST goes to
//!   the next replica (checked from its `x-served-by`); the result must
//!   come on the still open stream within 5 s.
//! - `rr-resume`: the same, but the client drops the call's stream after
//!   the elicitation request, answers by POST on another replica than R,
//!   and resumes with `GET` + `Last-Event-ID` on another replica than R;
//!   the result must come on that stream within 5 s.
//! - `rr-redis`: the session store's Redis frozen (SIGSTOP, with
//!   `--stopped-file`), then killed, then restarted mid-run (by the
//!   script, coordinated by files like `failover`): while it is frozen,
//!   requests that need it all at once, and while it is down, again and
//!   again, session-era requests and `initialize` must be refused with 503
//!   and a JSON-RPC error body (within [`REFUSAL_BOUND`] while frozen,
//!   [`DEAD_BOUND`] while dead), stateless calls
//!   still answered; after the restart service must come back by itself
//!   within [`RECOVERY_BOUND`] and every session opened before the outage
//!   must go on (no 404: the restarted Redis reloads its append-only file).
//! - `session-load`: `--clients` sessions over keep-alive connections,
//!   `--calls` `whoami` in all, for the cost figures (`scale/run.sh`
//!   measures the CPU time around it).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{
    Check, Conn, Opts, Target, counts_line, initialize, initialize_retrying, result_of,
    session_headers, stateless_whoami, text_of, verdict, wait_for_file,
};

/// How long the result of an answered elicitation may take to arrive.
const RESULT_WAIT: Duration = Duration::from_secs(5);
/// How long a refusal may take while Redis is dead (its port refuses
/// connections).
const DEAD_BOUND: Duration = Duration::from_secs(2);
/// How long a refusal may take while Redis is frozen (SIGSTOP: the kernel
/// still accepts connections, nothing answers): the store's bound is 5 s
/// (`switchboard-redis`'s `TIMEOUT`), and a command that timed out is not
/// sent again; 2 s of room for a loaded machine. A dead one refuses at once.
const REFUSAL_BOUND: Duration = Duration::from_secs(7);
/// How long service may take to come back after Redis restarts.
const RECOVERY_BOUND: Duration = Duration::from_secs(20);
/// How long the outage is probed for, at least.
const OUTAGE_PROBE: Duration = Duration::from_millis(1500);

/// One session-era request's reply, and who served it.
struct Answer {
    status: u16,
    /// `x-served-by`, if the balancer set it.
    by: Option<String>,
    messages: Vec<Value>,
}

/// A session-era request `method` as request `id` on a fresh connection.
async fn session_post(
    target: &Target,
    session: &str,
    id: u64,
    method: &str,
    params: Value,
) -> Result<Answer, String> {
    // Reads may outlast the usual 10 s by a second: the frozen-Redis probes
    // wait up to REFUSAL_BOUND (bounded by the caller).
    let mut conn = Conn::open(target)
        .await?
        .read_timeout(REFUSAL_BOUND + Duration::from_secs(1));
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let reply = conn
        .request("POST", &session_headers(Some(session)), &body.to_string())
        .await?;
    Ok(Answer {
        status: reply.head.status,
        by: reply.head.header("x-served-by").map(str::to_owned),
        messages: reply.messages,
    })
}

/// A session-era `whoami` as request `id` on a fresh connection that must
/// succeed: (whoami's name, `x-served-by`).
async fn whoami_served(
    target: &Target,
    session: &str,
    id: u64,
) -> Result<(String, Option<String>), String> {
    let a = session_post(
        target,
        session,
        id,
        "tools/call",
        json!({"name": "whoami", "arguments": {}}),
    )
    .await?;
    if a.status == 404 {
        return Err(format!(
            "call {id}: 404 (session {session} unknown there: the client would have to \
             re-initialize)"
        ));
    }
    if a.status != 200 {
        return Err(format!("call {id}: status {} {:?}", a.status, a.messages));
    }
    let name = result_of(&a.messages, id).and_then(|r| text_of(&r))?;
    Ok((name, a.by))
}

pub async fn rr_sessions(o: &Opts) -> Check {
    let target = o.url()?;
    let clients = o.num("clients", 100)?;
    let calls = o.num("calls", 20)?;
    let want = o.num("replicas", 3)?;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let session = initialize(&target).await?;
            let mut served = BTreeSet::new();
            for id in 1..=calls {
                let (name, by) = whoami_served(&target, &session, id)
                    .await
                    .map_err(|e| format!("session {session}: {e}"))?;
                match by {
                    Some(by) if by == name => {}
                    Some(by) => {
                        return Err(format!(
                            "session {session}: call {id}: whoami says {name}, x-served-by {by}"
                        ));
                    }
                    None => {
                        return Err(format!(
                            "session {session}: call {id}: no x-served-by header (is this \
                             scale/haproxy-rr.cfg.in or scale/nginx-rr.conf.in?)"
                        ));
                    }
                }
                served.insert(name);
            }
            Ok::<_, String>((session, served))
        }));
    }
    let mut errors = Vec::new();
    let mut by_set: BTreeMap<String, u64> = BTreeMap::new();
    let mut narrow = 0;
    let mut replicas = BTreeSet::new();
    // (minting replica, serving replica), from the id's tag.
    let mut adopted = BTreeSet::new();
    for task in tasks {
        match task.await {
            Ok(Ok((session, served))) => {
                let set = format!(
                    "{{{}}}",
                    served.iter().cloned().collect::<Vec<_>>().join(",")
                );
                if served.len() < 2 {
                    narrow += 1;
                    eprintln!("rr-sessions: {session} served by {set} only");
                }
                if let Some((minter, _)) = session.split_once('.') {
                    for by in served.iter().filter(|by| *by != minter) {
                        adopted.insert((minter.to_owned(), by.clone()));
                    }
                }
                replicas.extend(served);
                *by_set.entry(set).or_default() += 1;
            }
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(format!("a client task failed: {e}")),
        }
    }
    for e in errors.iter().take(5) {
        eprintln!("rr-sessions: error: {e}");
    }
    let gone = errors.iter().filter(|e| e.contains(": 404 ")).count();
    let n = replicas.len() as u64;
    // Every replica served sessions minted by every other one.
    let pairs = adopted.len() as u64;
    let ok = errors.is_empty() && narrow == 0 && n >= want.max(2) && pairs == n * (n - 1);
    verdict(
        ok,
        format!(
            "rr-sessions: {} {clients} sessions x {calls} calls (one connection each), {} errors \
             ({gone} of them 404), {narrow} sessions served by one replica only, sessions per \
             replica set {}, {n} replicas (wanted {want}), {pairs} of {} (minter, other server) \
             pairs seen, x-served-by agreeing with whoami on every answer",
            if ok { "ok" } else { "FAILED" },
            errors.len(),
            counts_line(&by_set),
            n * (n - 1)
        ),
    )
}

/// Sends session `whoami` probes (ids from `*next`) until one is served by
/// `replica`, so that the balancer's next request goes to another one.
async fn probe_until(
    target: &Target,
    session: &str,
    replica: &str,
    next: &mut u64,
) -> Result<(), String> {
    let mut seen = Vec::new();
    for _ in 0..8 {
        *next += 1;
        let (name, by) = whoami_served(target, session, *next).await?;
        let by = by.ok_or("no x-served-by header on a probe")?;
        if by != name {
            return Err(format!("a probe: whoami says {name}, x-served-by {by}"));
        }
        if by == replica {
            return Ok(());
        }
        seen.push(by);
    }
    Err(format!(
        "8 probes never reached {replica} (served by {}): is the balancer round robin?",
        seen.join(",")
    ))
}

/// The elicitation's answer, POSTed where the balancer sends it: who
/// accepted it (another replica than `runner`, or an error).
async fn answer_elsewhere(
    target: &Target,
    session: &str,
    runner: &str,
    question: &Value,
    next: &mut u64,
) -> Result<String, String> {
    probe_until(target, session, runner, next).await?;
    let answer = json!({"jsonrpc": "2.0", "id": question["id"],
        "result": {"action": "accept", "content": {"name": "Ada"}}});
    let mut conn = Conn::open(target).await?;
    let reply = conn
        .request("POST", &session_headers(Some(session)), &answer.to_string())
        .await?;
    let by = reply
        .head
        .header("x-served-by")
        .ok_or("no x-served-by on the answer")?
        .to_owned();
    if by == runner {
        return Err(format!(
            "the answer landed on {runner}, the tool's replica, after a probe there: is the \
             balancer round robin?"
        ));
    }
    if reply.head.status != 202 {
        return Err(format!(
            "the answer POSTed to {by} (greet runs on {runner}): status {} {:?}",
            reply.head.status, reply.messages
        ));
    }
    Ok(by)
}

/// Opens a session, calls `greet` (request 2) and reads its stream up to
/// the elicitation request: (session, stream, runner, question, last
/// event id).
async fn greet_until_question(
    target: &Target,
    shift: u64,
) -> Result<(String, Conn, String, Value, Option<String>), String> {
    let session = initialize(target).await?;
    // `shift` calls first, so that successive rounds start greet on
    // successive replicas of the round robin.
    for id in 0..shift {
        whoami_served(target, &session, 50 + id).await?;
    }
    let (mut conn, head) = super::start_greet(target, &session).await?;
    let runner = head
        .header("x-served-by")
        .ok_or("greet: no x-served-by header (is this scale/haproxy-rr.cfg.in or nginx-rr?)")?
        .to_owned();
    let what = format!("greet's stream on {runner}");
    let (question, last_id) = super::read_question(&mut conn, &what).await?;
    let asked = question["params"]["message"].as_str().unwrap_or("");
    if !asked.starts_with(&format!("replica {runner} asks")) {
        return Err(format!(
            "greet was served by {runner} but the question says {asked:?}"
        ));
    }
    Ok((session, conn, runner, question, last_id))
}

/// Reads `conn`'s stream until the answer to request 2 (greet), within
/// [`RESULT_WAIT`]: its text.
async fn greet_result(conn: &mut Conn) -> Result<String, String> {
    let read = async {
        loop {
            let event = conn
                .event()
                .await?
                .ok_or("the stream ended without greet's result".to_owned())?;
            if event.data.is_empty() {
                continue;
            }
            let message: Value =
                serde_json::from_str(&event.data).map_err(|e| format!("event data: {e}"))?;
            if message["id"] == json!(2) {
                return text_of(&result_of(&[message], 2)?);
            }
        }
    };
    tokio::time::timeout(RESULT_WAIT, read)
        .await
        .map_err(|_| format!("no result within {RESULT_WAIT:?}"))?
}

/// One `rr-elicit` round: a summary of who did what.
async fn elicit_once(target: &Target, shift: u64) -> Result<String, String> {
    let (session, mut stream, runner, question, _) = greet_until_question(target, shift).await?;
    let mut next = 100;
    let answered_by = answer_elsewhere(target, &session, &runner, &question, &mut next).await?;
    let text = greet_result(&mut stream).await.map_err(|e| {
        format!(
            "greet runs on {runner}, its answer was accepted by {answered_by} (202), and the \
             call's stream (open on {runner}) got no result: {e} (the answer did not reach the \
             replica running the tool)"
        )
    })?;
    if text != format!("hello Ada from {runner}") {
        return Err(format!(
            "greet on {runner}, answered via {answered_by}: unexpected result {text:?}"
        ));
    }
    Ok(format!("[ran on {runner}, answered via {answered_by}]"))
}

/// One `rr-resume` round: a summary of who did what.
async fn resume_once(target: &Target, shift: u64) -> Result<String, String> {
    let (session, stream, runner, question, last_id) = greet_until_question(target, shift).await?;
    let last_id = last_id.ok_or("no event id on greet's stream: no resumption possible")?;
    // Leave mid-stream; the request goes on without us.
    drop(stream);
    let mut next = 100;
    let answered_by = answer_elsewhere(target, &session, &runner, &question, &mut next).await?;
    probe_until(target, &session, &runner, &mut next).await?;
    let mut conn = Conn::open(target).await?;
    let mut get = session_headers(Some(&session));
    get.retain(|(k, _)| k != "content-type" && k != "accept");
    get.push(("accept".into(), "text/event-stream".into()));
    get.push(("last-event-id".into(), last_id.clone()));
    let head = conn
        .send("GET", &get, "")
        .await
        .map_err(|e| format!("GET with Last-Event-ID: {e}"))?;
    let resumer = head
        .header("x-served-by")
        .ok_or("no x-served-by on the GET")?
        .to_owned();
    if resumer == runner {
        return Err(format!(
            "the GET landed on {runner}, the tool's replica, after a probe there: is the \
             balancer round robin?"
        ));
    }
    if head.status != 200 || !head.is_sse() {
        let status = head.status;
        let body = tokio::time::timeout(RESULT_WAIT, conn.body())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        return Err(format!(
            "greet ran on {runner}, answered via {answered_by}; GET with Last-Event-ID \
             {last_id} on {resumer}: status {status} {} (resumption does not cross replicas)",
            String::from_utf8_lossy(&body).trim()
        ));
    }
    let text = greet_result(&mut conn).await.map_err(|e| {
        format!(
            "greet ran on {runner}, answered via {answered_by}; GET with Last-Event-ID \
             {last_id} on {resumer} opened a stream (200) that gave no result: {e} (the result \
             and the event log stay on {runner})"
        )
    })?;
    if text != format!("hello Ada from {runner}") {
        return Err(format!(
            "greet on {runner}, resumed on {resumer}: unexpected result {text:?}"
        ));
    }
    Ok(format!(
        "[ran on {runner}, answered via {answered_by}, resumed on {resumer}]"
    ))
}

/// Runs `rounds` rounds of `once` (given the round's index from 0),
/// stopping at the first failure; each round bounded by 30 s.
async fn rounds<F, Fut>(o: &Opts, check: &str, what: &str, once: F) -> Check
where
    F: Fn(Target, u64) -> Fut,
    Fut: std::future::Future<Output = Result<String, String>>,
{
    let target = o.url()?;
    let rounds = o.num("rounds", 3)?.max(1);
    let mut done = Vec::new();
    for round in 1..=rounds {
        match tokio::time::timeout(Duration::from_secs(30), once(target.clone(), round - 1)).await {
            Ok(Ok(how)) => done.push(how),
            Ok(Err(e)) => return Err(format!("{check}: FAILED round {round}: {e}")),
            Err(_) => {
                return Err(format!(
                    "{check}: FAILED round {round}: timed out after 30 s"
                ));
            }
        }
    }
    Ok(format!(
        "{check}: ok {rounds} rounds, {what}: {}",
        done.join(" ")
    ))
}

pub async fn rr_elicit(o: &Opts) -> Check {
    rounds(
        o,
        "rr-elicit",
        "each greet's elicitation answered through another replica than the one running it, \
         the result on the call's stream",
        |t, shift| async move { elicit_once(&t, shift).await },
    )
    .await
}

pub async fn rr_resume(o: &Opts) -> Check {
    rounds(
        o,
        "rr-resume",
        "each greet's stream dropped, answered and resumed (Last-Event-ID) through other \
         replicas than the one running it",
        |t, shift| async move { resume_once(&t, shift).await },
    )
    .await
}

/// What a request made while Redis is down came to.
fn refusal(a: &Answer, what: &str) -> Result<(), String> {
    if a.status != 503 {
        return Err(format!(
            "{what}: status {} (wanted 503) {:?}",
            a.status, a.messages
        ));
    }
    let m = a
        .messages
        .first()
        .ok_or_else(|| format!("{what}: 503 without a JSON-RPC body (the balancer's own page?)"))?;
    if m["jsonrpc"] != "2.0" || !m["error"]["code"].is_i64() || !m["error"]["message"].is_string() {
        return Err(format!("{what}: 503 whose body is no JSON-RPC error: {m}"));
    }
    Ok(())
}

/// An `initialize` on a fresh connection: its reply.
async fn initialize_reply(target: &Target) -> Result<Answer, String> {
    let mut conn = Conn::open(target)
        .await?
        .read_timeout(REFUSAL_BOUND + Duration::from_secs(1));
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": super::SESSION_VERSION, "capabilities": {},
                   "clientInfo": {"name": "scale-driver", "version": "1"}}});
    let reply = conn
        .request("POST", &session_headers(None), &init.to_string())
        .await?;
    Ok(Answer {
        status: reply.head.status,
        by: reply.head.header("x-served-by").map(str::to_owned),
        messages: reply.messages,
    })
}

/// Times `f`, failing it past `limit`.
async fn bounded<T>(
    what: &str,
    limit: Duration,
    f: impl std::future::Future<Output = Result<T, String>>,
) -> Result<(T, Duration), String> {
    let start = Instant::now();
    match tokio::time::timeout(limit, f).await {
        Ok(Ok(v)) => Ok((v, start.elapsed())),
        Ok(Err(e)) => Err(format!("{what}: {e}")),
        Err(_) => Err(format!("{what}: no answer within {limit:?} (a hang)")),
    }
}

pub async fn rr_redis(o: &Opts) -> Check {
    let target = o.url()?;
    let count = o.num("sessions", 10)?.max(1);
    let ready = o.text("ready-file")?;
    let killed = o.text("killed-file")?;
    let probed = o.text("probed-file")?;
    let restarted = o.text("restarted-file")?;
    let fail = |e: String| format!("rr-redis: FAILED {e}");
    // Sessions, each used on every replica.
    let mut sessions = Vec::new();
    let mut next = 0;
    for _ in 0..count {
        let s = initialize_retrying(&target).await.map_err(fail)?;
        for _ in 0..3 {
            next += 1;
            whoami_served(&target, &s, next)
                .await
                .map_err(|e| fail(format!("before the outage: {e}")))?;
        }
        sessions.push(s);
    }
    std::fs::write(&ready, b"ready\n").map_err(|e| fail(format!("writing {ready}: {e}")))?;
    // A frozen Redis first (SIGSTOP: connected, silent), if the script
    // does that: the store's own time bound must answer.
    let mut frozen_line = String::new();
    if let Some(stopped) = o.0.get("stopped-file") {
        let frozen_probed = o.text("frozen-file")?;
        wait_for_file(stopped).await.map_err(fail)?;
        let outcome = frozen(&target, &sessions).await;
        // Let the script go on (kill) whatever the outcome.
        std::fs::write(&frozen_probed, b"probed\n")
            .map_err(|e| fail(format!("writing {frozen_probed}: {e}")))?;
        frozen_line = outcome.map_err(|e| fail(format!("Redis frozen: {e}")))?;
    }
    wait_for_file(&killed).await.map_err(fail)?;
    // The outage: every request that needs the store refused, quickly.
    let start = Instant::now();
    let (mut refused, mut slowest, mut by) = (0u64, Duration::ZERO, BTreeSet::new());
    let mut said = None;
    let mut stateless = 0;
    let mut problems = Vec::new();
    while start.elapsed() < OUTAGE_PROBE || refused < 3 * count {
        if start.elapsed() > SCRIPT_PROBE_LIMIT {
            problems.push("the outage probes ran out of time".to_owned());
            break;
        }
        for s in &sessions {
            next += 1;
            let what = format!("a session call while Redis is down ({s})");
            let params = json!({"name": "whoami", "arguments": {}});
            match bounded(
                &what,
                DEAD_BOUND,
                session_post(&target, s, next, "tools/call", params),
            )
            .await
            {
                Ok((a, took)) => match refusal(&a, &what) {
                    Ok(()) => {
                        refused += 1;
                        slowest = slowest.max(took);
                        by.extend(a.by);
                        if said.is_none() {
                            said = Some(a.messages[0]["error"].to_string());
                        }
                    }
                    Err(e) => problems.push(e),
                },
                Err(e) => problems.push(e),
            }
        }
        let what = "an initialize while Redis is down";
        match bounded(what, DEAD_BOUND, initialize_reply(&target)).await {
            Ok((a, took)) => match refusal(&a, what) {
                Ok(()) => {
                    refused += 1;
                    slowest = slowest.max(took);
                }
                Err(e) => problems.push(e),
            },
            Err(e) => problems.push(e),
        }
        next += 1;
        let what = "a stateless whoami while Redis is down";
        match bounded(what, DEAD_BOUND, stateless_whoami(&target, next)).await {
            Ok(_) => stateless += 1,
            Err(e) => problems.push(e),
        }
        if !problems.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let outage = format!(
        "{refused} session requests refused 503 + JSON-RPC error (slowest {:.0} ms, by {}; {}), \
         {stateless} stateless calls answered",
        slowest.as_secs_f64() * 1e3,
        by.iter().cloned().collect::<Vec<_>>().join(","),
        said.as_deref().unwrap_or("no error seen")
    );
    if !problems.is_empty() {
        // Let the script restart Redis anyway, then report.
        let _ = std::fs::write(&probed, b"probed\n");
        for p in problems.iter().take(5) {
            eprintln!("rr-redis: {p}");
        }
        return Err(fail(format!(
            "during the outage: {outage}; {}",
            problems[0]
        )));
    }
    std::fs::write(&probed, b"probed\n").map_err(|e| fail(format!("writing {probed}: {e}")))?;
    wait_for_file(&restarted).await.map_err(fail)?;
    // Back by itself: the first session answers again.
    let back = Instant::now();
    let mut refused_after = 0;
    loop {
        next += 1;
        match whoami_served(&target, &sessions[0], next).await {
            Ok(_) => break,
            Err(e) if e.contains(": 404 ") => {
                return Err(fail(format!(
                    "after the restart: {e} (sessions did not survive the restart)"
                )));
            }
            Err(e) => {
                refused_after += 1;
                if back.elapsed() > RECOVERY_BOUND {
                    return Err(fail(format!(
                        "no service {RECOVERY_BOUND:?} after Redis restarted: {e}"
                    )));
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let recovery = back.elapsed();
    // Every old session goes on, on every replica; a new one opens.
    let mut served = BTreeSet::new();
    for s in &sessions {
        for _ in 0..3 {
            next += 1;
            let (name, _) = whoami_served(&target, s, next)
                .await
                .map_err(|e| fail(format!("after the restart: {e}")))?;
            served.insert(name);
        }
    }
    let fresh = initialize(&target)
        .await
        .map_err(|e| fail(format!("a new session after the restart: {e}")))?;
    next += 1;
    whoami_served(&target, &fresh, next)
        .await
        .map_err(|e| fail(format!("a new session after the restart: {e}")))?;
    Ok(format!(
        "rr-redis: ok {frozen_line}Redis down: {outage}; restarted: service back {:.0} ms after the restart \
         file ({refused_after} refusals meanwhile), all {count} sessions opened before the \
         outage went on (no 404) on {}, a new session opened",
        recovery.as_secs_f64() * 1e3,
        served.into_iter().collect::<Vec<_>>().join(",")
    ))
}

/// While Redis is frozen (SIGSTOP): a session call per session, an
/// `initialize` and a stateless call, all at once; the first ones must be
/// refused (503, JSON-RPC error) within [`REFUSAL_BOUND`], the stateless
/// one answered. A summary.
async fn frozen(target: &Target, sessions: &[String]) -> Result<String, String> {
    let mut calls = Vec::new();
    for (i, s) in sessions.iter().enumerate() {
        let (target, s) = (target.clone(), s.clone());
        calls.push(tokio::spawn(async move {
            let what = format!("a session call while Redis is frozen ({s})");
            let params = json!({"name": "whoami", "arguments": {}});
            let (a, took) = bounded(
                &what,
                REFUSAL_BOUND,
                session_post(&target, &s, 5_000 + i as u64, "tools/call", params),
            )
            .await?;
            refusal(&a, &what)?;
            Ok::<_, String>((took, a.messages[0]["error"].to_string()))
        }));
    }
    let init = {
        let target = target.clone();
        tokio::spawn(async move {
            let what = "an initialize while Redis is frozen";
            let (a, took) = bounded(what, REFUSAL_BOUND, initialize_reply(&target)).await?;
            refusal(&a, what)?;
            Ok::<_, String>((took, a.messages[0]["error"].to_string()))
        })
    };
    calls.push(init);
    let (_, stateless_took) = bounded(
        "a stateless whoami while Redis is frozen",
        DEAD_BOUND,
        stateless_whoami(target, 5_999),
    )
    .await?;
    let (mut fastest, mut slowest, mut said) = (Duration::MAX, Duration::ZERO, String::new());
    for call in calls {
        let (took, error) = call
            .await
            .map_err(|e| format!("a probe task failed: {e}"))??;
        fastest = fastest.min(took);
        slowest = slowest.max(took);
        said = error;
    }
    Ok(format!(
        "Redis frozen (SIGSTOP): {} session requests refused 503 + JSON-RPC error after \
         {:.1}-{:.1} s ({said}), a stateless call answered in {:.0} ms; ",
        sessions.len() + 1,
        fastest.as_secs_f64(),
        slowest.as_secs_f64(),
        stateless_took.as_secs_f64() * 1e3
    ))
}

/// The longest the outage probes may run.
const SCRIPT_PROBE_LIMIT: Duration = Duration::from_secs(30);

pub async fn session_load(o: &Opts) -> Check {
    let target = o.url()?;
    let clients = o.num("clients", 4)?.max(1);
    let calls = o.num("calls", 20000)?;
    let expect = o.num("expect-replicas", 1)?;
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (target, next) = (target.clone(), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let session = initialize(&target).await?;
            let mut counts: BTreeMap<String, u64> = BTreeMap::new();
            let mut conn: Option<Conn> = None;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= calls {
                    return Ok(counts);
                }
                let id = n + 1;
                if !conn.as_ref().is_some_and(Conn::reusable) {
                    conn = Some(Conn::open(&target).await?);
                }
                let Some(c) = conn.as_mut() else { continue };
                let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
                    "params": {"name": "whoami", "arguments": {}}});
                let reply = c
                    .request("POST", &session_headers(Some(&session)), &body.to_string())
                    .await?;
                if reply.head.status != 200 {
                    return Err(format!("call {id}: status {}", reply.head.status));
                }
                let name = result_of(&reply.messages, id).and_then(|r| text_of(&r))?;
                *counts.entry(name).or_default() += 1;
            }
        }));
    }
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut errors = Vec::new();
    for task in tasks {
        match task.await {
            Ok(Ok(c)) => {
                for (k, v) in c {
                    *counts.entry(k).or_default() += v;
                }
            }
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(format!("a client task failed: {e}")),
        }
    }
    for e in errors.iter().take(5) {
        eprintln!("session-load: error: {e}");
    }
    let answered: u64 = counts.values().sum();
    let ok = errors.is_empty() && answered == calls && counts.len() as u64 >= expect;
    verdict(
        ok,
        format!(
            "session-load: {} {answered}/{calls} session-era calls answered by {clients} \
             sessions on keep-alive connections, per replica {} (wanted at least {expect} \
             replicas), {} errors",
            if ok { "ok" } else { "FAILED" },
            counts_line(&counts),
            errors.len()
        ),
    )
}
