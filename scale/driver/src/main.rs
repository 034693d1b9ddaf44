//! Checks MCP replicas behind a load balancer (`scale/run.sh` runs every
//! check against three `replica` examples behind HAProxy).
//!
//! ```text
//! scale-driver modern   --url URL [--calls 300] [--concurrency 4] [--fresh] [--expect-replicas 1]
//! scale-driver mrtr     --url URL [--rounds 6]
//! scale-driver sessions --url URL [--clients 100] [--calls 20] [--expect-replicas 1] [--verbose]
//! scale-driver resume   --url URL
//! scale-driver changes  --url URL --touch-urls URL,URL,... [--listen-url URL] [--rounds 5]
//! scale-driver failover --url URL --victim NAME --ready-file PATH --killed-file PATH
//!                       [--clients 30] [--calls 20] [--stateless-clients 4]
//! scale-driver tasks    --url URL [--rounds 3]
//! scale-driver taskkill --url URL --victim NAME --victim-url URL --ready-file PATH
//!                       --killed-file PATH [--per-victim 3] [--lease-ms 10000]
//! scale-driver rr-sessions --url URL [--clients 100] [--calls 20] [--replicas 3]
//! scale-driver rr-elicit    --url URL [--rounds 3]
//! scale-driver rr-resume    --url URL [--rounds 3]
//! scale-driver rr-failover  --url URL --victim NAME --ready-file PATH --killed-file PATH
//!                           [--clients 30] [--calls 20] [--stateless-clients 4]
//! scale-driver rr-redis     --url URL --ready-file PATH --killed-file PATH
//!                           --probed-file PATH --restarted-file PATH [--sessions 10]
//!                           [--stopped-file PATH --frozen-file PATH]
//! scale-driver session-load --url URL [--clients 4] [--calls 20000] [--expect-replicas 1]
//! scale-driver free-port
//! ```
//!
//! Every check prints one summary line (`CHECK: ok ...` or `CHECK: FAILED ...`)
//! and exits 1 on failure, 2 on bad arguments. Every loop is bounded: each
//! read, write and connect by 10 s, each call by a few attempts, each wait
//! for the script by 60 s.
//!
//! - `modern`: `--calls` stateless (2026-07-28) `tools/call whoami`, over
//!   keep-alive connections (`--fresh`: one per call); per-replica counts.
//! - `mrtr`: the multi round-trip `greet` tool, statelessly: the first leg
//!   (`input_required` + `requestState`) and the retry (`inputResponses` +
//!   `requestState`) on separate connections, so a round-robin balancer
//!   sends them to different replicas; prints which replica served each
//!   leg and requires at least one round crossing replicas. Also a forged
//!   `requestState` must be refused (`-32602`).
//! - `sessions`: `--clients` concurrent session-era clients, each making
//!   `--calls` `whoami` calls, one connection per call; each session must be
//!   served by exactly one replica.
//! - `resume`: a session-era `greet`: the elicitation request arrives on
//!   the call's SSE stream while the stream is open (a buffering balancer
//!   fails here), the client drops the connection, answers by POST, and
//!   resumes with `GET` + `Last-Event-ID` to get the result from the same
//!   replica.
//! - `changes`: a session opened at `--url` (a replica, or a balancer that
//!   pins it) subscribes to `mem://status` and opens its GET stream; with
//!   `--listen-url`, a stateless `subscriptions/listen` stream there asks
//!   for the same URI. Each round calls `touch` statelessly through one of
//!   `--touch-urls` (direct replica URLs) served by another replica than
//!   the session's and the listener's; the session's stream (and the
//!   listener) must hear `notifications/resources/updated` for
//!   `mem://status` within 5 s. Needs the replicas to share an event bus.
//! - `failover`: session clients make half their calls, then wait; the
//!   driver creates `--ready-file`; the script kills replica `--victim` and
//!   creates `--killed-file`; the clients make the other half. Meanwhile
//!   `--stateless-clients` call `whoami` statelessly without pause. A
//!   session client that gets 404 re-initializes and sends the same call
//!   again; a failed call (balancer 502, reset) is retried. "Exactly once":
//!   every call id the driver issued has exactly one answer carrying that
//!   id, and no answer carries an id it did not issue. Also: no answer from
//!   the victim after the kill, only the victim's sessions re-initialized,
//!   every session on one replica.
//! - `tasks` (through HAProxy, which names the replica that answered in
//!   `x-served-by`): each round creates a `job` task that asks first; polls
//!   it to `input_required` (the question names the runner), answers it by
//!   `tasks/update` through another replica than the runner, polls it to
//!   `completed` (`job done on RUNNER`), read through another replica too;
//!   then creates a 30 s job and cancels it through another replica than
//!   its runner: `cancelled` read back through three replicas.
//! - `taskkill`: creates `--per-victim` 120 s jobs on `--victim` directly
//!   (`--victim-url`) and, through HAProxy, jobs until one runs elsewhere, writes `--ready-file`, waits for `--killed-file`,
//!   then polls: the victim's tasks must be `failed` (an error naming the
//!   lapsed lease) within the lease and a renewal period and a second,
//!   the others still `working` (then cancelled); prints the times.
//! - `rr-failover`: `failover` behind a round robin without affinity, in
//!   front of replicas sharing sessions in Redis, the session clients
//!   calling without pause through the kill (20 ms between calls, until
//!   `--calls` calls in all and `--calls` after the kill): no client may get 404
//!   (none re-initializes; a failed attempt, 502 or reset, is retried with
//!   the same id), every call answered exactly once, no answer from the
//!   victim after the kill, every session served by several replicas.
//! - `rr-sessions`, `rr-elicit`, `rr-resume`, `rr-redis`, `session-load`:
//!   the round-robin checks, see `rr.rs`.
//! - `free-port`: prints a free loopback TCP port (for the script).

mod http;
mod rr;
mod tasks;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::{Conn, Target};
use serde_json::{Value, json};

/// The session-era version the clients ask for.
const SESSION_VERSION: &str = "2025-11-25";
/// The stateless revision.
const STATELESS_VERSION: &str = "2026-07-28";
/// Attempts per call before it counts as never answered.
const MAX_ATTEMPTS: u32 = 10;
/// How long the driver waits for a file the script creates.
const SCRIPT_WAIT: Duration = Duration::from_secs(60);

/// `--key value` options (and bare `--flag`s), checked against a list.
struct Opts(HashMap<String, String>);

impl Opts {
    /// Reads `args`; `flags` take no value, `keys` take one.
    fn parse(args: &[String], keys: &[&str], flags: &[&str]) -> Result<Self, String> {
        let mut map = HashMap::new();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let name = arg
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {arg}"))?;
            if flags.contains(&name) {
                map.insert(name.to_owned(), String::new());
            } else if keys.contains(&name) {
                let value = it.next().ok_or_else(|| format!("{arg} takes a value"))?;
                map.insert(name.to_owned(), value.clone());
            } else {
                return Err(format!("unknown option {arg}"));
            }
        }
        Ok(Self(map))
    }

    fn url(&self) -> Result<Target, String> {
        Target::parse(self.0.get("url").ok_or("--url URL is required")?)
    }

    fn num(&self, key: &str, default: u64) -> Result<u64, String> {
        self.0.get(key).map_or(Ok(default), |v| {
            v.parse()
                .map_err(|_| format!("--{key} takes a number, not {v}"))
        })
    }

    fn text(&self, key: &str) -> Result<String, String> {
        self.0
            .get(key)
            .cloned()
            .ok_or_else(|| format!("--{key} is required"))
    }

    fn flag(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }
}

/// Owned header pairs.
fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The headers of a stateless `tools/call` of tool `name`.
fn stateless_headers(name: &str) -> Vec<(String, String)> {
    headers(&[
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", STATELESS_VERSION),
        ("mcp-method", "tools/call"),
        ("mcp-name", name),
    ])
}

/// The headers of a session-era POST.
fn session_headers(session: Option<&str>) -> Vec<(String, String)> {
    let mut h = headers(&[
        ("content-type", "application/json"),
        ("accept", "application/json, text/event-stream"),
        ("mcp-protocol-version", SESSION_VERSION),
    ]);
    if let Some(s) = session {
        h.push(("mcp-session-id".into(), s.into()));
    }
    h
}

/// The answer to request `id` among `messages`: its `result`, or why not.
fn result_of(messages: &[Value], id: u64) -> Result<Value, String> {
    let last = messages
        .iter()
        .rev()
        .find(|m| m.get("id") == Some(&json!(id)))
        .ok_or_else(|| format!("no answer with id {id} in {messages:?}"))?;
    if let Some(e) = last.get("error") {
        return Err(format!("error answer to {id}: {e}"));
    }
    last.get("result")
        .cloned()
        .ok_or_else(|| format!("answer to {id} without a result: {last}"))
}

/// The first text content of a tool result.
fn text_of(result: &Value) -> Result<String, String> {
    result["content"][0]["text"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no text content in {result}"))
}

/// A stateless `tools/call` of `name` as request `id` on `conn`; `extra`
/// fields join the params. Returns the result (any `resultType`).
async fn stateless_call(
    conn: &mut Conn,
    id: u64,
    name: &str,
    extra: Value,
) -> Result<Value, String> {
    let mut params = json!({"name": name, "arguments": {},
        "_meta": {"io.modelcontextprotocol/protocolVersion": STATELESS_VERSION,
                  "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}},
                  "io.modelcontextprotocol/clientInfo": {"name": "scale-driver", "version": "1"}}});
    if let Some(fields) = extra.as_object() {
        for (k, v) in fields {
            params[k] = v.clone();
        }
    }
    let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params});
    let reply = conn
        .request("POST", &stateless_headers(name), &body.to_string())
        .await?;
    if reply.head.header("mcp-session-id").is_some() {
        return Err("a stateless call got a session id".into());
    }
    if reply.head.status != 200 {
        return Err(format!(
            "status {} for call {id}: {:?}",
            reply.head.status, reply.messages
        ));
    }
    result_of(&reply.messages, id)
}

/// A stateless `whoami` on a fresh connection: the replica's name.
async fn stateless_whoami(target: &Target, id: u64) -> Result<String, String> {
    let mut conn = Conn::open(target).await?;
    let result = stateless_call(&mut conn, id, "whoami", json!({})).await?;
    text_of(&result)
}

/// Opens a session (declaring elicitation) and sends `initialized`; the
/// session id.
async fn initialize(target: &Target) -> Result<String, String> {
    let mut conn = Conn::open(target).await?;
    let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
        "params": {"protocolVersion": SESSION_VERSION, "capabilities": {"elicitation": {}},
                   "clientInfo": {"name": "scale-driver", "version": "1"}}});
    let reply = conn
        .request("POST", &session_headers(None), &init.to_string())
        .await?;
    if reply.head.status != 200 {
        return Err(format!("initialize: status {}", reply.head.status));
    }
    result_of(&reply.messages, 0)?;
    let session = reply
        .head
        .header("mcp-session-id")
        .ok_or("initialize: no Mcp-Session-Id")?
        .to_owned();
    // A fresh connection: the balancer must route it by the header alone.
    let mut conn = Conn::open(target).await?;
    let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
    let reply = conn
        .request("POST", &session_headers(Some(&session)), &note.to_string())
        .await?;
    if reply.head.status != 202 {
        return Err(format!("initialized: status {}", reply.head.status));
    }
    Ok(session)
}

/// What a session-era call came to.
enum Outcome {
    /// Answered: the replica's name.
    Answered(String),
    /// 404: the session is unknown where the call landed.
    Gone,
    /// Anything else (transport error, 5xx): may be retried.
    Failed(String),
}

/// A session-era `whoami` as request `id`, on a fresh connection.
async fn session_whoami(target: &Target, session: &str, id: u64) -> Outcome {
    let attempt = async {
        let mut conn = Conn::open(target).await?;
        let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": "whoami", "arguments": {}}});
        conn.request("POST", &session_headers(Some(session)), &body.to_string())
            .await
    };
    match attempt.await {
        Ok(reply) if reply.head.status == 404 => Outcome::Gone,
        Ok(reply) if reply.head.status == 200 => {
            match result_of(&reply.messages, id).and_then(|r| text_of(&r)) {
                Ok(name) => Outcome::Answered(name),
                Err(e) => Outcome::Failed(e),
            }
        }
        Ok(reply) => Outcome::Failed(format!("status {}", reply.head.status)),
        Err(e) => Outcome::Failed(e),
    }
}

/// `a=3 b=4` from counts.
fn counts_line(counts: &BTreeMap<String, u64>) -> String {
    if counts.is_empty() {
        return "none".into();
    }
    counts
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A check's outcome: its summary line, passed or not.
type Check = Result<String, String>;

/// Ok(summary) when `ok`, else Err(summary).
fn verdict(ok: bool, summary: String) -> Check {
    if ok { Ok(summary) } else { Err(summary) }
}

async fn modern(o: &Opts) -> Check {
    let target = o.url()?;
    let calls = o.num("calls", 300)?;
    let concurrency = o.num("concurrency", 4)?.max(1);
    let fresh = o.flag("fresh");
    let expect = o.num("expect-replicas", 1)?;
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (target, next) = (target.clone(), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut counts: BTreeMap<String, u64> = BTreeMap::new();
            let mut errors = Vec::new();
            let mut conn: Option<Conn> = None;
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= calls {
                    break;
                }
                let id = n + 1;
                if fresh || !conn.as_ref().is_some_and(Conn::reusable) {
                    conn = match Conn::open(&target).await {
                        Ok(c) => Some(c),
                        Err(e) => {
                            errors.push(format!("call {id}: {e}"));
                            continue;
                        }
                    };
                }
                let Some(c) = conn.as_mut() else { continue };
                match stateless_call(c, id, "whoami", json!({}))
                    .await
                    .and_then(|r| text_of(&r))
                {
                    Ok(name) => *counts.entry(name).or_default() += 1,
                    Err(e) => {
                        errors.push(format!("call {id}: {e}"));
                        conn = None;
                    }
                }
            }
            (counts, errors)
        }));
    }
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    let mut errors = Vec::new();
    for task in tasks {
        let (c, e) = task
            .await
            .map_err(|e| format!("modern: a task failed: {e}"))?;
        for (k, v) in c {
            *counts.entry(k).or_default() += v;
        }
        errors.extend(e);
    }
    for e in errors.iter().take(5) {
        eprintln!("modern: error: {e}");
    }
    let answered: u64 = counts.values().sum();
    let ok = errors.is_empty() && answered == calls && counts.len() as u64 >= expect;
    verdict(
        ok,
        format!(
            "modern: {} {answered}/{calls} calls answered over {} connections, {} errors, \
             per replica {} (wanted at least {expect} replicas)",
            if ok { "ok" } else { "FAILED" },
            if fresh { "fresh" } else { "keep-alive" },
            errors.len(),
            counts_line(&counts)
        ),
    )
}

/// One MRTR round: (replica of the first leg, replica of the retry).
async fn mrtr_round(target: &Target, id: u64) -> Result<(String, String), String> {
    let mut conn = Conn::open(target).await?;
    let first = stateless_call(&mut conn, id, "greet", json!({})).await?;
    drop(conn);
    if first["resultType"] != "input_required" {
        return Err(format!("first leg not input_required: {first}"));
    }
    let state = first["requestState"]
        .as_str()
        .ok_or("no requestState")?
        .to_owned();
    let asked = first["inputRequests"]
        .as_object()
        .filter(|m| !m.is_empty())
        .ok_or_else(|| format!("no inputRequests: {first}"))?;
    let mut leg1 = None;
    let mut answers = serde_json::Map::new();
    for (key, question) in asked {
        if question["method"] != "elicitation/create" {
            return Err(format!("unexpected question {question}"));
        }
        // "replica NAME asks: ..."
        leg1 = question["params"]["message"]
            .as_str()
            .and_then(|m| m.strip_prefix("replica "))
            .and_then(|m| m.split_once(' '))
            .map(|(name, _)| name.to_owned());
        answers.insert(
            key.clone(),
            json!({"action": "accept", "content": {"name": "Ada"}}),
        );
    }
    let leg1 = leg1.ok_or("the question does not name its replica")?;
    let mut conn = Conn::open(target).await?;
    let done = stateless_call(
        &mut conn,
        id + 1,
        "greet",
        json!({"inputResponses": answers, "requestState": state}),
    )
    .await?;
    if done["resultType"] != "complete" {
        return Err(format!("retry not complete: {done}"));
    }
    let text = text_of(&done)?;
    let leg2 = text
        .strip_prefix("hello Ada from ")
        .ok_or_else(|| format!("unexpected greeting {text:?}"))?
        .to_owned();
    // A forged state must be refused wherever it lands.
    let mut conn = Conn::open(target).await?;
    let forged = stateless_call(
        &mut conn,
        id + 2,
        "greet",
        json!({"inputResponses": answers, "requestState": format!("{state}x")}),
    )
    .await;
    match forged {
        Err(e) if e.contains("-32602") => {}
        other => return Err(format!("a forged requestState was not refused: {other:?}")),
    }
    Ok((leg1, leg2))
}

async fn mrtr(o: &Opts) -> Check {
    let target = o.url()?;
    let rounds = o.num("rounds", 6)?.max(1);
    let mut crossed = 0;
    let mut legs = Vec::new();
    let mut errors = Vec::new();
    for round in 0..rounds {
        match mrtr_round(&target, round * 10 + 1).await {
            Ok((a, b)) => {
                println!("mrtr: round {}: first leg {a}, retry {b}", round + 1);
                if a != b {
                    crossed += 1;
                }
                legs.push(format!("{a}->{b}"));
            }
            Err(e) => {
                eprintln!("mrtr: round {}: {e}", round + 1);
                errors.push(e);
            }
        }
    }
    let ok = errors.is_empty() && crossed > 0;
    verdict(
        ok,
        format!(
            "mrtr: {} {}/{rounds} rounds completed, {crossed} with the retry on another replica \
             ({}), forged state refused in every round, {} errors",
            if ok { "ok" } else { "FAILED" },
            legs.len(),
            legs.join(" "),
            errors.len()
        ),
    )
}

async fn sessions(o: &Opts) -> Check {
    let target = o.url()?;
    let clients = o.num("clients", 100)?;
    let calls = o.num("calls", 20)?;
    let expect = o.num("expect-replicas", 1)?;
    let verbose = o.flag("verbose");
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            let session = initialize(&target).await?;
            let mut served = BTreeSet::new();
            for id in 1..=calls {
                match session_whoami(&target, &session, id).await {
                    Outcome::Answered(name) => {
                        served.insert(name);
                    }
                    Outcome::Gone => return Err(format!("session {session}: 404 on call {id}")),
                    Outcome::Failed(e) => return Err(format!("session {session}: call {id}: {e}")),
                }
            }
            Ok::<_, String>((session, served))
        }));
    }
    let mut errors = Vec::new();
    let mut by_set: BTreeMap<String, u64> = BTreeMap::new();
    let mut split = 0;
    let mut replicas = BTreeSet::new();
    for task in tasks {
        match task.await {
            Ok(Ok((session, served))) => {
                let set = format!(
                    "{{{}}}",
                    served.iter().cloned().collect::<Vec<_>>().join(",")
                );
                if verbose {
                    println!("sessions: {session} served by {set}");
                }
                if served.len() != 1 {
                    split += 1;
                    eprintln!("sessions: {session} served by {set}");
                }
                replicas.extend(served);
                *by_set.entry(set).or_default() += 1;
            }
            Ok(Err(e)) => errors.push(e),
            Err(e) => errors.push(format!("a client task failed: {e}")),
        }
    }
    for e in errors.iter().take(5) {
        eprintln!("sessions: error: {e}");
    }
    let ok = errors.is_empty() && split == 0 && replicas.len() as u64 >= expect;
    verdict(
        ok,
        format!(
            "sessions: {} {clients} sessions x {calls} calls, {} errors, {split} sessions on more \
             than one replica, sessions per replica set {} (wanted at least {expect} replicas)",
            if ok { "ok" } else { "FAILED" },
            errors.len(),
            counts_line(&by_set)
        ),
    )
}

/// A session-era `whoami` that must succeed.
async fn whoami_in(target: &Target, session: &str, id: u64) -> Result<String, String> {
    match session_whoami(target, session, id).await {
        Outcome::Answered(name) => Ok(name),
        Outcome::Gone => Err("404".into()),
        Outcome::Failed(e) => Err(e),
    }
}

/// Starts `greet` (request id 2) in `session` on a connection of its own;
/// returns the connection with its response head, which must open an SSE
/// stream.
async fn start_greet(target: &Target, session: &str) -> Result<(Conn, http::Head), String> {
    let mut conn = Conn::open(target).await?;
    let call = json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
        "params": {"name": "greet", "arguments": {}}});
    let head = conn
        .send("POST", &session_headers(Some(session)), &call.to_string())
        .await
        .map_err(|e| format!("POST greet: {e}"))?;
    if head.status != 200 || !head.is_sse() {
        return Err(format!("greet: status {}, not an SSE stream", head.status));
    }
    Ok((conn, head))
}

async fn resume_once(target: &Target) -> Result<String, String> {
    let session = initialize(target).await?;
    let home = whoami_in(target, &session, 1).await?;
    let (mut conn, _) = start_greet(target, &session).await?;
    // Read the stream while it is open: the priming event, then the
    // elicitation request. A balancer that buffers never lets them through
    // (the stream stays open until the request is answered): a timeout.
    let (question, last_id) = read_question(&mut conn, "greet's stream").await?;
    let last_id = last_id.ok_or("no event id on the stream: no resumption possible")?;
    // Leave mid-stream; the request goes on without us.
    drop(conn);
    let answer = json!({"jsonrpc": "2.0", "id": question["id"],
        "result": {"action": "accept", "content": {"name": "Ada"}}});
    let mut conn = Conn::open(target).await?;
    let reply = conn
        .request(
            "POST",
            &session_headers(Some(&session)),
            &answer.to_string(),
        )
        .await?;
    if reply.head.status != 202 {
        return Err(format!("the answer: status {}", reply.head.status));
    }
    let mut conn = Conn::open(target).await?;
    let mut get = session_headers(Some(&session));
    get.retain(|(k, _)| k != "content-type");
    get.retain(|(k, _)| k != "accept");
    get.push(("accept".into(), "text/event-stream".into()));
    get.push(("last-event-id".into(), last_id.clone()));
    let head = conn
        .send("GET", &get, "")
        .await
        .map_err(|e| format!("GET with Last-Event-ID: {e}"))?;
    if head.status != 200 || !head.is_sse() {
        return Err(format!(
            "GET with Last-Event-ID {last_id}: status {}",
            head.status
        ));
    }
    loop {
        let event = conn
            .event()
            .await
            .map_err(|e| format!("reading the resumed stream: {e}"))?
            .ok_or("the resumed stream ended without the result")?;
        if std::env::var_os("SCALE_DEBUG").is_some() {
            eprintln!("resume: event {:?} {}", event.id, event.data);
        }
        if event.data.is_empty() {
            continue;
        }
        let message: Value =
            serde_json::from_str(&event.data).map_err(|e| format!("event data: {e}"))?;
        if message["id"] == json!(2) {
            let text = text_of(&result_of(&[message], 2)?)?;
            let served = text
                .strip_prefix("hello Ada from ")
                .ok_or_else(|| format!("unexpected greeting {text:?}"))?;
            if served != home {
                return Err(format!("session on {home} but greet answered by {served}"));
            }
            return Ok(format!(
                "session on {home}, stream left after event {last_id}, resumed there"
            ));
        }
    }
}

async fn resume(o: &Opts) -> Check {
    let target = o.url()?;
    match tokio::time::timeout(Duration::from_secs(30), resume_once(&target)).await {
        Ok(Ok(how)) => Ok(format!(
            "resume: ok SSE events arrived while the stream was open, {how}"
        )),
        Ok(Err(e)) => Err(format!("resume: FAILED {e}")),
        Err(_) => Err("resume: FAILED timed out (a buffering balancer?)".into()),
    }
}

/// How long a change may take to cross replicas.
const CHANGE_WAIT: Duration = Duration::from_secs(5);
/// The resource `changes` subscribes to.
const STATUS_URI: &str = "mem://status";

/// A session-era request `id` of `method` that must succeed: its result.
async fn session_rpc(
    target: &Target,
    session: &str,
    id: u64,
    method: &str,
    params: Value,
) -> Result<Value, String> {
    let mut conn = Conn::open(target).await?;
    let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
    let reply = conn
        .request("POST", &session_headers(Some(session)), &body.to_string())
        .await?;
    if reply.head.status != 200 {
        return Err(format!("{method}: status {}", reply.head.status));
    }
    result_of(&reply.messages, id)
}

/// Reads `conn`'s SSE stream until a `notifications/resources/updated`
/// for `uri`, within `wait`; other messages are skipped.
async fn await_updated(conn: &mut Conn, uri: &str, wait: Duration) -> Result<Value, String> {
    let read = async {
        loop {
            let event = conn.event().await?.ok_or("the stream ended".to_owned())?;
            if event.data.is_empty() {
                continue;
            }
            let message: Value =
                serde_json::from_str(&event.data).map_err(|e| format!("event data: {e}"))?;
            if message["method"] == "notifications/resources/updated"
                && message["params"]["uri"] == uri
            {
                return Ok(message);
            }
        }
    };
    tokio::time::timeout(wait, read)
        .await
        .map_err(|_| format!("no notifications/resources/updated within {wait:?}"))?
}

async fn changes(o: &Opts) -> Check {
    let home_target = o.url()?;
    let rounds = o.num("rounds", 5)?.max(1);
    let touch_urls = o.text("touch-urls")?;
    let mut touchers = Vec::new();
    for (i, url) in touch_urls.split(',').filter(|u| !u.is_empty()).enumerate() {
        let target = Target::parse(url)?;
        let name = stateless_whoami(&target, 9_000 + i as u64)
            .await
            .map_err(|e| format!("changes: FAILED whoami at {url}: {e}"))?;
        touchers.push((name, target));
    }
    let session = initialize(&home_target)
        .await
        .map_err(|e| format!("changes: FAILED initialize: {e}"))?;
    let home = whoami_in(&home_target, &session, 1)
        .await
        .map_err(|e| format!("changes: FAILED whoami in the session: {e}"))?;
    session_rpc(
        &home_target,
        &session,
        2,
        "resources/subscribe",
        json!({"uri": STATUS_URI}),
    )
    .await
    .map_err(|e| format!("changes: FAILED {e}"))?;
    // The session's standalone stream: where its notifications go.
    let mut stream = Conn::open(&home_target).await?;
    let mut get = session_headers(Some(&session));
    get.retain(|(k, _)| k != "content-type" && k != "accept");
    get.push(("accept".into(), "text/event-stream".into()));
    let head = stream
        .send("GET", &get, "")
        .await
        .map_err(|e| format!("changes: FAILED GET: {e}"))?;
    if head.status != 200 || !head.is_sse() {
        return Err(format!(
            "changes: FAILED GET stream: status {}",
            head.status
        ));
    }
    // The stateless era's counterpart, if asked.
    let mut listener = None;
    let mut listener_name = None;
    if let Some(url) = o.0.get("listen-url") {
        let target = Target::parse(url)?;
        listener_name = Some(
            stateless_whoami(&target, 9_100)
                .await
                .map_err(|e| format!("changes: FAILED whoami at {url}: {e}"))?,
        );
        let mut conn = Conn::open(&target).await?;
        let mut h = stateless_headers("x");
        h.retain(|(k, _)| k != "mcp-method" && k != "mcp-name");
        h.push(("mcp-method".into(), "subscriptions/listen".into()));
        let body = json!({"jsonrpc": "2.0", "id": 9_101, "method": "subscriptions/listen",
            "params": {"notifications": {"resourceSubscriptions": [STATUS_URI]},
                "_meta": {"io.modelcontextprotocol/protocolVersion": STATELESS_VERSION,
                          "io.modelcontextprotocol/clientCapabilities": {},
                          "io.modelcontextprotocol/clientInfo": {"name": "scale-driver", "version": "1"}}}});
        let head = conn
            .send("POST", &h, &body.to_string())
            .await
            .map_err(|e| format!("changes: FAILED listen: {e}"))?;
        if head.status != 200 || !head.is_sse() {
            return Err(format!("changes: FAILED listen: status {}", head.status));
        }
        let ack = tokio::time::timeout(CHANGE_WAIT, conn.event())
            .await
            .map_err(|_| "changes: FAILED no listen acknowledgement".to_owned())?
            .map_err(|e| format!("changes: FAILED listen: {e}"))?
            .ok_or("changes: FAILED the listen stream ended")?;
        let ack: Value = serde_json::from_str(&ack.data).map_err(|e| format!("ack: {e}"))?;
        if ack["method"] != "notifications/subscriptions/acknowledged" {
            return Err(format!("changes: FAILED listen: not acknowledged: {ack}"));
        }
        listener = Some(conn);
    }
    let (toucher, touch_target) = touchers
        .iter()
        .find(|(name, _)| *name != home && Some(name) != listener_name.as_ref())
        .ok_or_else(|| {
            format!("changes: FAILED no --touch-urls replica other than {home} and the listener's")
        })?;
    let mut worst = Duration::ZERO;
    let mut heard_listen = 0;
    for round in 0..rounds {
        let start = Instant::now();
        let mut conn = Conn::open(touch_target).await?;
        let h = stateless_headers("touch");
        let body = json!({"jsonrpc": "2.0", "id": 9_200 + round, "method": "tools/call",
            "params": {"name": "touch", "arguments": {"uri": STATUS_URI},
                "_meta": {"io.modelcontextprotocol/protocolVersion": STATELESS_VERSION,
                          "io.modelcontextprotocol/clientCapabilities": {},
                          "io.modelcontextprotocol/clientInfo": {"name": "scale-driver", "version": "1"}}}});
        let reply = conn.request("POST", &h, &body.to_string()).await?;
        let text = result_of(&reply.messages, 9_200 + round).and_then(|r| text_of(&r));
        match text {
            Ok(t) if t.ends_with(&format!(" on {toucher}")) => {}
            other => {
                return Err(format!(
                    "changes: FAILED touch through {toucher}: {other:?}"
                ));
            }
        }
        await_updated(&mut stream, STATUS_URI, CHANGE_WAIT)
            .await
            .map_err(|e| {
                format!(
                    "changes: FAILED round {}: session on {home}, touched on {toucher}: {e}",
                    round + 1
                )
            })?;
        if let Some(conn) = listener.as_mut() {
            await_updated(conn, STATUS_URI, CHANGE_WAIT)
                .await
                .map_err(|e| {
                    format!(
                        "changes: FAILED round {}: listener on {}, touched on {toucher}: {e}",
                        round + 1,
                        listener_name.as_deref().unwrap_or("?")
                    )
                })?;
            heard_listen += 1;
        }
        worst = worst.max(start.elapsed());
    }
    let listen = match &listener_name {
        Some(name) => {
            format!(", a subscriptions/listen stream on {name} heard {heard_listen}/{rounds}")
        }
        None => String::new(),
    };
    Ok(format!(
        "changes: ok {rounds} touches through {toucher}, each heard on the GET stream of a session \
         on {home}{listen}; slowest touch-to-event {:.1} ms",
        worst.as_secs_f64() * 1e3
    ))
}

/// What every failover task shares.
struct Shared {
    /// Answers per call id.
    answers: Mutex<HashMap<u64, u32>>,
    /// Call ids issued.
    issued: Mutex<BTreeSet<u64>>,
    /// Set once the script said the victim is dead.
    killed: AtomicBool,
    /// Answers from the victim after the kill.
    late: AtomicU64,
    /// Session clients that reached the midpoint (or gave up before it).
    arrived: AtomicU64,
    /// Failed attempts that were retried (in-flight losses, balancer 5xx).
    retried: AtomicU64,
    /// Each session id and the replicas that answered in it.
    served: Mutex<BTreeMap<String, BTreeSet<String>>>,
    victim: String,
}

impl Shared {
    fn answered(&self, id: u64, replica: &str, session: Option<&str>) {
        self.answered_sent(id, replica, session, self.killed.load(Ordering::Acquire));
    }

    /// [`Shared::answered`], for an attempt sent after the kill was known
    /// (`after_kill`) or not: only the former may not come from the victim.
    fn answered_sent(&self, id: u64, replica: &str, session: Option<&str>, after_kill: bool) {
        *self.answers.lock().unwrap().entry(id).or_default() += 1;
        if after_kill && replica == self.victim {
            self.late.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(s) = session {
            self.served
                .lock()
                .unwrap()
                .entry(s.to_owned())
                .or_default()
                .insert(replica.to_owned());
        }
    }
}

/// One failover session client's log.
#[derive(Default)]
struct ClientLog {
    /// The replica of its first session at the midpoint.
    home: Option<String>,
    /// Re-initializations after a 404.
    reinits: u64,
    /// Failed attempts retried.
    retried: u64,
    /// Calls never answered, and other failures.
    errors: Vec<String>,
}

/// Initializes, bounded by [`MAX_ATTEMPTS`].
async fn initialize_retrying(target: &Target) -> Result<String, String> {
    let mut last = String::new();
    for _ in 0..MAX_ATTEMPTS {
        match initialize(target).await {
            Ok(s) => return Ok(s),
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("initialize failed {MAX_ATTEMPTS} times: {last}"))
}

async fn failover_client(
    target: Target,
    shared: Arc<Shared>,
    index: u64,
    calls: u64,
    mut release: tokio::sync::watch::Receiver<bool>,
) -> ClientLog {
    let mut log = ClientLog::default();
    let mut arrived = false;
    let mut session = match initialize_retrying(&target).await {
        Ok(s) => Some(s),
        Err(e) => {
            log.errors.push(e);
            None
        }
    };
    for k in 0..calls {
        if k == calls / 2 {
            shared.arrived.fetch_add(1, Ordering::AcqRel);
            arrived = true;
            // Bounded: the driver releases after the kill or a timeout.
            let _ = release.wait_for(|go| *go).await;
        }
        let Some(current) = session.clone() else {
            break;
        };
        let id = index * 1000 + k + 1;
        shared.issued.lock().unwrap().insert(id);
        let mut sid = current;
        match call_retrying(&target, &shared, &mut log, &mut sid, id).await {
            Some((name, _)) => {
                if k < calls / 2 {
                    log.home = Some(name.clone());
                }
                shared.answered(id, &name, Some(&sid));
            }
            None => log.errors.push(format!("call {id} never answered")),
        }
        session = Some(sid);
    }
    if !arrived {
        shared.arrived.fetch_add(1, Ordering::AcqRel);
    }
    log
}

/// A session client of `rr-failover`: calls without pausing through the
/// kill (so that some calls are in flight on the victim when it dies),
/// until it made `calls` calls in all and `calls` after the kill (or the
/// driver's deadline). A 404 is counted (and the client re-initializes to
/// go on); a failed attempt (502, reset) is retried with the same id.
async fn rr_failover_client(
    target: Target,
    shared: Arc<Shared>,
    index: u64,
    calls: u64,
    deadline: Instant,
) -> ClientLog {
    let mut log = ClientLog::default();
    let mut arrived = false;
    let mut sid = match initialize_retrying(&target).await {
        Ok(s) => Some(s),
        Err(e) => {
            log.errors.push(e);
            None
        }
    };
    let (mut k, mut after_kill) = (0, 0);
    while let Some(current) = sid.clone() {
        if k >= calls && after_kill >= calls {
            break;
        }
        if Instant::now() > deadline {
            log.errors
                .push(format!("session client {index}: ran out of time"));
            break;
        }
        if k == calls / 2 && !arrived {
            shared.arrived.fetch_add(1, Ordering::AcqRel);
            arrived = true;
        }
        k += 1;
        let id = 10_000_000 + index * 100_000 + k;
        shared.issued.lock().unwrap().insert(id);
        let killed = shared.killed.load(Ordering::Acquire);
        let mut session = current;
        match call_retrying(&target, &shared, &mut log, &mut session, id).await {
            Some((name, sent_after_kill)) => {
                shared.answered_sent(id, &name, Some(&session), sent_after_kill);
            }
            None => log.errors.push(format!("call {id} never answered")),
        }
        sid = Some(session);
        if killed {
            after_kill += 1;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if !arrived {
        shared.arrived.fetch_add(1, Ordering::AcqRel);
    }
    log
}

/// Session-era call `id` (`whoami`) in `session`, tried up to
/// `MAX_ATTEMPTS` times: a 404 re-initializes (`session` becomes the new
/// one; counted in `log.reinits`), a failed attempt (502, reset) is sent
/// again with the same id after 100 ms (counted in `log.retried` and
/// `shared.retried`). Returns the replica that answered and whether the
/// answered attempt was sent after the kill; `None` when no attempt was
/// answered (or a re-initialization failed, its error in `log.errors`).
async fn call_retrying(
    target: &Target,
    shared: &Shared,
    log: &mut ClientLog,
    session: &mut String,
    id: u64,
) -> Option<(String, bool)> {
    for _ in 0..MAX_ATTEMPTS {
        let sent_after_kill = shared.killed.load(Ordering::Acquire);
        match session_whoami(target, session, id).await {
            Outcome::Answered(name) => return Some((name, sent_after_kill)),
            Outcome::Gone => {
                log.reinits += 1;
                match initialize_retrying(target).await {
                    Ok(s) => *session = s,
                    Err(e) => {
                        log.errors.push(e);
                        return None;
                    }
                }
            }
            Outcome::Failed(_) => {
                log.retried += 1;
                shared.retried.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    None
}

/// A stateless client calling without pause until `calls` calls are
/// answered after the kill (or the driver's deadline).
async fn failover_stateless(
    target: Target,
    shared: Arc<Shared>,
    index: u64,
    calls: u64,
    deadline: Instant,
) -> Vec<String> {
    let mut errors = Vec::new();
    let mut after_kill = 0;
    let mut k = 0;
    while after_kill < calls && Instant::now() < deadline {
        k += 1;
        let id = 1_000_000 + index * 100_000 + k;
        shared.issued.lock().unwrap().insert(id);
        let killed = shared.killed.load(Ordering::Acquire);
        let mut answered = false;
        for _ in 0..MAX_ATTEMPTS {
            match stateless_whoami(&target, id).await {
                Ok(name) => {
                    shared.answered(id, &name, None);
                    answered = true;
                    break;
                }
                Err(_) => {
                    shared.retried.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        if !answered {
            errors.push(format!("stateless call {id} never answered"));
        }
        if killed {
            after_kill += 1;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if after_kill < calls {
        errors.push(format!("stateless client {index}: ran out of time"));
    }
    errors
}

/// Waits (bounded) for `path` to exist.
async fn wait_for_file(path: &str) -> Result<(), String> {
    let start = Instant::now();
    while !std::path::Path::new(path).exists() {
        if start.elapsed() > SCRIPT_WAIT {
            return Err(format!("{path} did not appear within {SCRIPT_WAIT:?}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}

async fn failover(o: &Opts) -> Check {
    let target = o.url()?;
    let clients = o.num("clients", 30)?;
    let calls = o.num("calls", 20)?.max(2);
    let stateless_clients = o.num("stateless-clients", 4)?;
    let victim = o.text("victim")?;
    let ready = o.text("ready-file")?;
    let killed_file = o.text("killed-file")?;
    // Sessions in a shared store behind a round robin: no client may have
    // to start over, and every session is served by several replicas.
    let shared_sessions = o.flag("shared-sessions");
    let check = if shared_sessions {
        "rr-failover"
    } else {
        "failover"
    };
    let shared = Arc::new(Shared {
        answers: Mutex::new(HashMap::new()),
        issued: Mutex::new(BTreeSet::new()),
        killed: AtomicBool::new(false),
        late: AtomicU64::new(0),
        arrived: AtomicU64::new(0),
        retried: AtomicU64::new(0),
        served: Mutex::new(BTreeMap::new()),
        victim: victim.clone(),
    });
    let (go, release) = tokio::sync::watch::channel(false);
    let deadline = Instant::now() + SCRIPT_WAIT * 2;
    let session_tasks: Vec<_> = (0..clients)
        .map(|i| {
            if shared_sessions {
                tokio::spawn(rr_failover_client(
                    target.clone(),
                    Arc::clone(&shared),
                    i + 1,
                    calls,
                    deadline,
                ))
            } else {
                tokio::spawn(failover_client(
                    target.clone(),
                    Arc::clone(&shared),
                    i + 1,
                    calls,
                    release.clone(),
                ))
            }
        })
        .collect();
    let stateless_tasks: Vec<_> = (0..stateless_clients)
        .map(|i| {
            tokio::spawn(failover_stateless(
                target.clone(),
                Arc::clone(&shared),
                i,
                calls,
                deadline,
            ))
        })
        .collect();
    let mut problems = Vec::new();
    // Every session client at its midpoint, then the kill.
    let start = Instant::now();
    while shared.arrived.load(Ordering::Acquire) < clients && start.elapsed() < SCRIPT_WAIT {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    if shared.arrived.load(Ordering::Acquire) < clients {
        problems.push("not every client reached the midpoint".to_owned());
    }
    let before: BTreeMap<String, BTreeSet<String>> = shared.served.lock().unwrap().clone();
    let on_victim = before.values().filter(|set| set.contains(&victim)).count();
    if on_victim == 0 {
        problems.push(format!(
            "no session on {victim} before the kill: nothing tested"
        ));
    }
    let killed = match std::fs::write(&ready, b"ready\n") {
        Ok(()) => wait_for_file(&killed_file).await,
        Err(e) => Err(format!("writing {ready}: {e}")),
    };
    if let Err(e) = killed {
        problems.push(e);
    }
    shared.killed.store(true, Ordering::Release);
    let _ = go.send(true);

    let mut reinit_victim = 0;
    let mut reinit_other = 0;
    let mut errors = Vec::new();
    let mut reinit_any = 0;
    for task in session_tasks {
        match task.await {
            Ok(log) => {
                if log.reinits > 0 {
                    reinit_any += 1;
                }
                if shared_sessions {
                    // Retries (502, reset) are fine here; 404s are not,
                    // counted below.
                } else if log.home.as_deref() == Some(victim.as_str()) {
                    if log.reinits == 0 {
                        problems.push(format!("a client of {victim} never got a 404"));
                    }
                    reinit_victim += 1;
                } else if log.reinits > 0 || log.retried > 0 {
                    reinit_other += 1;
                }
                errors.extend(log.errors);
            }
            Err(e) => errors.push(format!("a client task failed: {e}")),
        }
    }
    for task in stateless_tasks {
        match task.await {
            Ok(e) => errors.extend(e),
            Err(e) => errors.push(format!("a stateless task failed: {e}")),
        }
    }
    if shared_sessions && reinit_any > 0 {
        problems.push(format!(
            "{reinit_any} clients got 404 and re-initialized, though sessions are shared"
        ));
    }
    if reinit_other > 0 {
        problems.push(format!(
            "{reinit_other} clients of surviving replicas were disturbed (404 or retries)"
        ));
    }
    // Exactly once: each issued id answered once, nothing else answered.
    let answers = shared.answers.lock().unwrap().clone();
    let issued = shared.issued.lock().unwrap().clone();
    let unanswered = issued.iter().filter(|id| !answers.contains_key(id)).count();
    let twice = answers.values().filter(|n| **n > 1).count();
    let foreign = answers.keys().filter(|id| !issued.contains(id)).count();
    if unanswered + twice + foreign > 0 {
        problems.push(format!(
            "{unanswered} calls unanswered, {twice} answered more than once, {foreign} answers \
             to ids never issued"
        ));
    }
    let late = shared.late.load(Ordering::Relaxed);
    if late > 0 {
        problems.push(format!("{late} answers from {victim} after the kill"));
    }
    let served = shared.served.lock().unwrap().clone();
    // Sticky: every session on one replica. Shared: every session on
    // several (round robin), with no re-initialization.
    let split = if shared_sessions {
        served.values().filter(|set| set.len() < 2).count()
    } else {
        served.values().filter(|set| set.len() != 1).count()
    };
    if split > 0 {
        problems.push(if shared_sessions {
            format!("{split} sessions served by one replica only (is the balancer sticky?)")
        } else {
            format!("{split} sessions served by more than one replica")
        });
    }
    for e in errors.iter().take(5) {
        eprintln!("{check}: error: {e}");
    }
    for p in &problems {
        eprintln!("{check}: {p}");
    }
    let ok = problems.is_empty() && errors.is_empty();
    let sessions_line = if shared_sessions {
        format!(
            "{} sessions in all, {split} served by one replica only (round robin: every session \
             on several)",
            served.len()
        )
    } else {
        format!(
            "{} sessions in all, {split} on more than one replica",
            served.len()
        )
    };
    verdict(
        ok,
        format!(
            "{check}: {} {clients} sessions ({on_victim} on {victim}) + {stateless_clients} \
             stateless clients, {} calls each answered exactly once, {} clients \
             re-initialized after 404, {} failed attempts retried, {late} answers from {victim} \
             after the kill, {sessions_line}, {} errors",
            if ok { "ok" } else { "FAILED" },
            issued.len(),
            if shared_sessions {
                reinit_any
            } else {
                reinit_victim
            },
            shared.retried.load(Ordering::Relaxed),
            errors.len() + problems.len()
        ),
    )
}

fn free_port() -> Check {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| format!("free-port: {e}"))?;
    let port = listener
        .local_addr()
        .map_err(|e| format!("free-port: {e}"))?
        .port();
    Ok(port.to_string())
}

const USAGE: &str = "usage: scale-driver modern|mrtr|sessions|resume|changes|failover|tasks|taskkill|\
                     rr-sessions|rr-elicit|rr-resume|rr-failover|rr-redis|session-load|free-port \
                     --url URL [...] \
                     (see the source's header)";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        std::process::exit(2);
    };
    let opts = match command.as_str() {
        "modern" => Opts::parse(
            rest,
            &["url", "calls", "concurrency", "expect-replicas"],
            &["fresh"],
        ),
        "mrtr" => Opts::parse(rest, &["url", "rounds"], &[]),
        "sessions" => Opts::parse(
            rest,
            &["url", "clients", "calls", "expect-replicas"],
            &["verbose"],
        ),
        "resume" => Opts::parse(rest, &["url"], &[]),
        "changes" => Opts::parse(rest, &["url", "touch-urls", "listen-url", "rounds"], &[]),
        "failover" | "rr-failover" => Opts::parse(
            rest,
            &[
                "url",
                "clients",
                "calls",
                "stateless-clients",
                "victim",
                "ready-file",
                "killed-file",
            ],
            &["shared-sessions"],
        ),
        "rr-sessions" => Opts::parse(rest, &["url", "clients", "calls", "replicas"], &[]),
        "rr-elicit" | "rr-resume" => Opts::parse(rest, &["url", "rounds"], &[]),
        "rr-redis" => Opts::parse(
            rest,
            &[
                "url",
                "sessions",
                "ready-file",
                "killed-file",
                "probed-file",
                "restarted-file",
                "stopped-file",
                "frozen-file",
            ],
            &[],
        ),
        "session-load" => Opts::parse(rest, &["url", "clients", "calls", "expect-replicas"], &[]),
        "tasks" => Opts::parse(rest, &["url", "rounds"], &[]),
        "taskkill" => Opts::parse(
            rest,
            &[
                "url",
                "victim",
                "victim-url",
                "per-victim",
                "lease-ms",
                "ready-file",
                "killed-file",
            ],
            &[],
        ),
        "free-port" => Opts::parse(rest, &[], &[]),
        other => Err(format!("unknown command {other}")),
    };
    let opts = opts.unwrap_or_else(|e| {
        eprintln!("error: {e}\n{USAGE}");
        std::process::exit(2);
    });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|e| {
            eprintln!("error: a tokio runtime: {e}");
            std::process::exit(1);
        });
    let outcome = rt.block_on(async {
        match command.as_str() {
            "modern" => modern(&opts).await,
            "mrtr" => mrtr(&opts).await,
            "sessions" => sessions(&opts).await,
            "resume" => resume(&opts).await,
            "changes" => changes(&opts).await,
            "failover" => failover(&opts).await,
            "rr-failover" => {
                let mut opts = opts;
                opts.0.insert("shared-sessions".into(), String::new());
                failover(&opts).await
            }
            "rr-sessions" => rr::rr_sessions(&opts).await,
            "rr-elicit" => rr::rr_elicit(&opts).await,
            "rr-resume" => rr::rr_resume(&opts).await,
            "rr-redis" => rr::rr_redis(&opts).await,
            "session-load" => rr::session_load(&opts).await,
            "tasks" => tasks::tasks(&opts).await,
            "taskkill" => tasks::taskkill(&opts).await,
            _ => free_port(),
        }
    });
    match outcome {
        Ok(line) => println!("{line}"),
        Err(line) => {
            println!("{line}");
            std::process::exit(1);
        }
    }
}

/// Reads `conn`'s SSE stream (named `what` in errors) up to greet's
/// elicitation request; returns it with the last event id seen (the
/// priming event's, or the request's own).
async fn read_question(conn: &mut Conn, what: &str) -> Result<(Value, Option<String>), String> {
    let mut last_id = None;
    loop {
        let event = conn
            .event()
            .await
            .map_err(|e| format!("reading {what}: {e}"))?
            .ok_or_else(|| format!("{what} ended before the elicitation request"))?;
        if event.id.is_some() {
            last_id.clone_from(&event.id);
        }
        if event.data.is_empty() {
            continue;
        }
        let message: Value =
            serde_json::from_str(&event.data).map_err(|e| format!("event data: {e}"))?;
        if message["method"] == "elicitation/create" {
            return Ok((message, last_id));
        }
    }
}
