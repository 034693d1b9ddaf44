//! `--mode soak`: mixed load on one server for `--duration` seconds, with
//! the server's memory (`VmRSS` of `--pid`) printed every minute.
//!
//! Load kinds, each a bounded worker loop (every request under a timeout,
//! every reply checked):
//!
//! - `call`: `tools/call`, `resources/read` and `prompts/get` on three
//!   long-lived sessions, two workers each, replies echoing unique values;
//! - `stateless`: `tools/call` at the 2026-07-28 revision, no session;
//! - `churn`: initialize, initialized, a call, DELETE (and now and then a
//!   request on the deleted session, which must get 404);
//! - `sse`: `test_tool_with_progress` with a progress token: three progress
//!   notifications (0, 50, 100), then the result, on one SSE stream;
//! - `resume`: `test_reconnection`, whose stream ends after its priming
//!   event; a GET with `Last-Event-ID` must bring the result;
//! - `vanish`: clients that leave mid-reply: after the first progress event
//!   (then resume with `Last-Event-ID` and check the rest arrives, or never
//!   come back), or after the head of a 3 MiB JSON reply;
//! - `slow`: connections that pipeline `tools/list` requests and never
//!   read: three are dropped after 5 to 20 s; one waits until the server
//!   closes it, which must happen after the server's write timeout;
//! - `storm`: every 15 s, 100 sessions opened, then all DELETEd at once.
//!
//! Each minute's RSS reading is the lowest value over the 3 s after the
//! minute's mark (read every 100 ms, the load still running), printed with
//! the highest: the floor is what the server keeps, the peak adds whatever
//! replies happened to be in flight. The load runs 3 s past `--duration`
//! for the last reading.
//!
//! Outcomes a client asked for (its own drop, the server closing a reader
//! that stalled past the write timeout) count as `expected`; anything else
//! that is not the checked reply is an error, by kind. At the end it prints
//! a summary line and exits non-zero if the RSS grew more than 10% over its
//! value after the first minute, or on any unexpected error.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpSocket;
use tokio::task::JoinHandle;

use crate::{Args, Conn, Reply, memory_kib};

/// Bound on any one request and its reply.
const OP_TIMEOUT: Duration = Duration::from_secs(15);
/// The server's write timeout (its default, `DEFAULT_WRITE_TIMEOUT`).
const SERVER_WRITE_TIMEOUT: Duration = Duration::from_secs(65);
/// How long a stalled reader waits for the server to close it: the write
/// timeout and some. (On smol a retried write that found a little room in
/// the kernel's send buffer used to count as progress and hold the client a
/// second term, ~130 s; the soak found it, and waiting this long only
/// would catch it again.)
const LONG_HOLD_LIMIT: Duration = Duration::from_secs(65 + 20);
/// Each RSS reading is the lowest of the readings over this window (every
/// 100 ms), starting at the minute's mark: a 3 MiB reply in flight at one
/// instant would otherwise move a ~20 MiB figure by 15%.
const RSS_WINDOW: Duration = Duration::from_secs(3);
/// The session-era revision used throughout.
const VERSION: &str = "2025-11-25";
/// Allowed RSS growth over the first minute's value, in percent.
const MAX_GROWTH_PCT: f64 = 10.0;
/// Error messages kept for the report.
const MAX_SAMPLES: usize = 20;

const SIMPLE_TEXT: &str = "This is a simple text response for testing.";
const PROGRESS_TEXT: &str = "Tool with progress executed successfully";
const RECONNECT_TEXT: &str = "Reconnection test completed successfully";

/// Why an operation failed, by kind.
#[derive(Debug)]
enum Fail {
    Connect(String),
    Timeout(&'static str),
    Closed,
    Io(String),
    Status(u16, String),
    Body(String),
    Reply(String),
}

impl Fail {
    fn kind(&self) -> String {
        match self {
            Self::Connect(_) => "connect".into(),
            Self::Timeout(_) => "timeout".into(),
            Self::Closed => "closed".into(),
            Self::Io(_) => "io".into(),
            Self::Status(s, _) => format!("status_{s}"),
            Self::Body(_) => "bad_body".into(),
            Self::Reply(_) => "wrong_reply".into(),
        }
    }
}

impl fmt::Display for Fail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connect(e) => write!(f, "connect: {e}"),
            Self::Timeout(what) => write!(f, "timeout: {what}"),
            Self::Closed => write!(f, "connection closed by the server"),
            Self::Io(e) => write!(f, "io: {e}"),
            Self::Status(s, e) => write!(f, "status {s}: {e}"),
            Self::Body(e) => write!(f, "bad body: {e}"),
            Self::Reply(e) => write!(f, "wrong reply: {e}"),
        }
    }
}

/// Sorts the error strings of [`Conn`]'s helpers into kinds.
fn from_conn(e: String) -> Fail {
    let status = |rest: &str| rest.split_whitespace().next().and_then(|s| s.parse().ok());
    if e == "connection closed" {
        Fail::Closed
    } else if e.contains("os error") {
        Fail::Io(e)
    } else if let Some(s) = e.strip_prefix("status ").and_then(status) {
        Fail::Status(s, e)
    } else if let Some(s) = e.strip_prefix("initialized: status ").and_then(status) {
        Fail::Status(s, e)
    } else if e.starts_with("id ")
        || e.starts_with("wrong content")
        || e.starts_with("no message")
        || e.starts_with("no session")
    {
        Fail::Reply(e)
    } else {
        Fail::Body(e)
    }
}

type R<T> = Result<T, Fail>;

trait Classify<T> {
    fn c(self) -> R<T>;
}

impl<T> Classify<T> for Result<T, String> {
    fn c(self) -> R<T> {
        self.map_err(from_conn)
    }
}

/// Runs `f` under `limit`.
async fn bounded<T>(what: &'static str, limit: Duration, f: impl Future<Output = R<T>>) -> R<T> {
    tokio::time::timeout(limit, f)
        .await
        .unwrap_or(Err(Fail::Timeout(what)))
}

fn wrong(msg: impl Into<String>) -> Fail {
    Fail::Reply(msg.into())
}

/// Counts, shared by every worker.
#[derive(Default)]
struct Stats {
    ops: BTreeMap<&'static str, u64>,
    expected: BTreeMap<String, u64>,
    errors: BTreeMap<String, u64>,
    samples: Vec<String>,
}

type Shared = Arc<Mutex<Stats>>;

fn count_ok(stats: &Shared, kind: &'static str) {
    *stats.lock().unwrap().ops.entry(kind).or_default() += 1;
}

fn count_expected(stats: &Shared, kind: &'static str, what: &str) {
    *stats
        .lock()
        .unwrap()
        .expected
        .entry(format!("{kind}/{what}"))
        .or_default() += 1;
}

fn count_error(stats: &Shared, kind: &'static str, fail: &Fail) {
    let mut s = stats.lock().unwrap();
    *s.errors
        .entry(format!("{kind}/{}", fail.kind()))
        .or_default() += 1;
    if s.samples.len() < MAX_SAMPLES {
        s.samples.push(format!("{kind}: {fail}"));
    }
}

/// What a successful operation was: counted as done, or as an expected outcome.
enum Done {
    Ok,
    Expected(Cow<'static, str>),
}

fn record(stats: &Shared, kind: &'static str, outcome: &R<Done>) {
    match outcome {
        Ok(Done::Ok) => count_ok(stats, kind),
        Ok(Done::Expected(what)) => {
            count_ok(stats, kind);
            count_expected(stats, kind, what);
        }
        Err(f) => count_error(stats, kind, f),
    }
}

/// A connection opened on demand and dropped after any failure (its state
/// is unknown then).
struct Link {
    args: Args,
    conn: Option<Conn>,
}

impl Link {
    fn new(args: &Args) -> Self {
        Self {
            args: args.clone(),
            conn: None,
        }
    }

    async fn get(&mut self) -> R<&mut Conn> {
        if self.conn.is_none() {
            self.conn = Some(open(&self.args).await?);
        }
        Ok(self.conn.as_mut().expect("just opened"))
    }

    fn reset(&mut self) {
        self.conn = None;
    }
}

async fn open(args: &Args) -> R<Conn> {
    bounded("connect", OP_TIMEOUT, async {
        Conn::open(args)
            .await
            .map_err(|e| Fail::Connect(e.to_string()))
    })
    .await
}

async fn initialize(c: &mut Conn) -> R<String> {
    bounded("initialize", OP_TIMEOUT, async { c.initialize().await.c() }).await
}

async fn delete(c: &mut Conn, session: &str) -> R<()> {
    let r = bounded("DELETE", OP_TIMEOUT, async {
        c.request("DELETE", Some(session), None).await.c()
    })
    .await?;
    if r.status == 200 || r.status == 204 {
        Ok(())
    } else {
        Err(Fail::Status(r.status, "DELETE".into()))
    }
}

async fn post(c: &mut Conn, session: Option<&str>, msg: &Value) -> R<Reply> {
    bounded("POST", OP_TIMEOUT, async {
        c.request("POST", session, Some(msg)).await.c()
    })
    .await
}

/// The `result` of the final message, which must answer `id` with 200.
fn result_of(r: &Reply, id: u64) -> R<&Value> {
    if r.status != 200 {
        return Err(Fail::Status(r.status, format!("{:?}", r.messages.last())));
    }
    let last = r.messages.last().ok_or_else(|| wrong("no message"))?;
    if last["id"] != json!(id) {
        return Err(wrong(format!("id {} (wanted {id})", last["id"])));
    }
    if last.get("result").is_none() {
        return Err(wrong(format!("not a result: {last}")));
    }
    Ok(&last["result"])
}

fn text_of(result: &Value) -> &str {
    result["content"][0]["text"].as_str().unwrap_or("")
}

fn call_msg(id: u64, tool: &str, arguments: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
        "params": {"name": tool, "arguments": arguments}})
}

/// Unique among every worker's requests in flight: the worker in the high bits.
fn request_id(worker: usize, k: u64) -> u64 {
    ((worker as u64) << 32) | (k & 0xffff_ffff)
}

// ---------------------------------------------------------------------------
// Raw requests and an incremental SSE reader, for the loads that stop
// reading halfway or need event ids.

fn raw_request(
    c: &Conn,
    method: &str,
    session: Option<&str>,
    body: &str,
    accept: &str,
    extra: &str,
) -> Vec<u8> {
    let mut req = format!(
        "{method} {} HTTP/1.1\r\nhost: {}\r\naccept: {accept}\r\nmcp-protocol-version: {VERSION}\r\n{extra}",
        c.path, c.host
    );
    if let Some(s) = session {
        req.push_str(&format!("mcp-session-id: {s}\r\n"));
    }
    if method == "POST" {
        req.push_str(&format!(
            "content-type: application/json\r\ncontent-length: {}\r\n",
            body.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body);
    req.into_bytes()
}

async fn send(c: &mut Conn, bytes: &[u8]) -> R<()> {
    c.stream
        .write_all(bytes)
        .await
        .map_err(|e| Fail::Io(e.to_string()))
}

async fn fill(c: &mut Conn) -> R<()> {
    c.fill().await.c()
}

/// A response head, and how its body is framed.
struct Body {
    status: u16,
    sse: bool,
    chunked: bool,
    remaining: usize,
    done: bool,
    text: Vec<u8>,
}

async fn read_head(c: &mut Conn) -> R<Body> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(&c.buf).map_err(|e| Fail::Body(e.to_string()))? {
            httparse::Status::Complete(n) => {
                let get = |name: &str| {
                    resp.headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| String::from_utf8_lossy(h.value).into_owned())
                };
                let body = Body {
                    status: resp.code.unwrap_or(0),
                    sse: get("content-type").is_some_and(|v| v.starts_with("text/event-stream")),
                    chunked: get("transfer-encoding")
                        .is_some_and(|v| v.eq_ignore_ascii_case("chunked")),
                    remaining: get("content-length").map_or(0, |v| v.parse().unwrap_or(0)),
                    done: false,
                    text: Vec::new(),
                };
                c.buf.drain(..n);
                return Ok(body);
            }
            httparse::Status::Partial => fill(c).await?,
        }
    }
}

/// One SSE event: its id and data (empty for a priming event).
struct Event {
    id: Option<String>,
    data: String,
}

impl Event {
    fn json(&self) -> R<Value> {
        serde_json::from_str(&self.data).map_err(|e| Fail::Body(format!("{e}: {}", self.data)))
    }

    fn stream(&self) -> Option<&str> {
        self.id
            .as_deref()
            .and_then(|id| id.split_once('-'))
            .map(|(s, _)| s)
    }
}

impl Body {
    /// Moves the body bytes already in `buf` into `text`. Returns whether
    /// it needs more input to go on.
    fn decode(&mut self, buf: &mut Vec<u8>) -> R<bool> {
        while !self.done {
            if !self.chunked {
                let n = self.remaining.min(buf.len());
                self.text.extend(buf.drain(..n));
                self.remaining -= n;
                self.done = self.remaining == 0;
                return Ok(!self.done);
            }
            let Some(line) = buf.windows(2).position(|w| w == b"\r\n") else {
                return Ok(true);
            };
            let size = std::str::from_utf8(&buf[..line])
                .ok()
                .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
                .ok_or_else(|| Fail::Body("bad chunk size".into()))?;
            if buf.len() < line + 2 + size + 2 {
                return Ok(true);
            }
            self.text.extend_from_slice(&buf[line + 2..line + 2 + size]);
            buf.drain(..line + 2 + size + 2);
            self.done = size == 0;
        }
        Ok(false)
    }

    /// The next complete event in `text`; comment-only blocks are skipped.
    fn take_event(&mut self) -> Option<Event> {
        loop {
            let end = self.text.windows(2).position(|w| w == b"\n\n")?;
            let block = String::from_utf8_lossy(&self.text[..end]).into_owned();
            self.text.drain(..end + 2);
            let mut id = None;
            let mut data = None::<String>;
            for line in block.lines() {
                if let Some(v) = line.strip_prefix("id:") {
                    id = Some(v.trim().to_owned());
                } else if let Some(v) = line.strip_prefix("data:") {
                    let v = v.strip_prefix(' ').unwrap_or(v);
                    data = Some(match data {
                        Some(d) => format!("{d}\n{v}"),
                        None => v.to_owned(),
                    });
                }
            }
            if id.is_some() || data.is_some() {
                return Some(Event {
                    id,
                    data: data.unwrap_or_default(),
                });
            }
        }
    }

    /// The next event, reading as needed; `None` when the body ends.
    async fn next_event(&mut self, c: &mut Conn) -> R<Option<Event>> {
        loop {
            if let Some(e) = self.take_event() {
                return Ok(Some(e));
            }
            if self.done {
                return Ok(None);
            }
            if self.decode(&mut c.buf)? {
                fill(c).await?;
            }
        }
    }

    /// Every event that can be read without waiting for the server.
    fn buffered_events(&mut self, c: &mut Conn) -> R<Vec<Event>> {
        self.decode(&mut c.buf)?;
        let mut out = Vec::new();
        while let Some(e) = self.take_event() {
            out.push(e);
        }
        Ok(out)
    }

    /// Every event to the end of the stream.
    async fn all_events(&mut self, c: &mut Conn) -> R<Vec<Event>> {
        let mut out = Vec::new();
        while let Some(e) = self.next_event(c).await? {
            out.push(e);
        }
        Ok(out)
    }
}

/// A GET resuming the stream after `last_event_id`: its head, checked.
async fn resume_get(c: &mut Conn, session: &str, last_event_id: &str) -> R<Body> {
    let req = raw_request(
        c,
        "GET",
        Some(session),
        "",
        "text/event-stream",
        &format!("last-event-id: {last_event_id}\r\n"),
    );
    send(c, &req).await?;
    let head = read_head(c).await?;
    if head.status != 200 || !head.sse {
        return Err(Fail::Status(head.status, "resuming GET".into()));
    }
    Ok(head)
}

/// Checks that `event` belongs to `stream` (and not, say, to the
/// standalone stream a forgotten resumption would open instead).
fn same_stream(event: &Event, stream: &str) -> R<()> {
    if event.stream() == Some(stream) {
        Ok(())
    } else {
        Err(wrong(format!(
            "event {:?} is not on stream {stream}",
            event.id
        )))
    }
}

// ---------------------------------------------------------------------------
// The load kinds.

/// (a) One call on a long-lived session: four kinds of request in turn,
/// each answer holding the unique `tag`.
async fn call_op(c: &mut Conn, session: &str, id: u64, k: u64, tag: &str) -> R<()> {
    match k % 4 {
        0 => {
            let r = post(
                c,
                Some(session),
                &call_msg(id, "test_simple_text", json!({})),
            )
            .await?;
            let result = result_of(&r, id)?;
            if text_of(result) != SIMPLE_TEXT {
                return Err(wrong(format!("test_simple_text: {result}")));
            }
        }
        1 => {
            let args = json!({"name": tag, "email": "soak@example.com"});
            let msg = call_msg(id, "json_schema_2020_12_tool", args);
            let r = post(c, Some(session), &msg).await?;
            let result = result_of(&r, id)?;
            if !text_of(result).contains(&format!("\"name\":\"{tag}\""))
                || result["isError"] == true
            {
                return Err(wrong(format!("json_schema_2020_12_tool: {result}")));
            }
        }
        2 => {
            let uri = format!("test://template/{tag}/data");
            let msg = json!({"jsonrpc": "2.0", "id": id, "method": "resources/read", "params": {"uri": uri}});
            let r = post(c, Some(session), &msg).await?;
            let result = result_of(&r, id)?;
            let contents = &result["contents"][0];
            let data: Value = serde_json::from_str(contents["text"].as_str().unwrap_or(""))
                .map_err(|e| Fail::Body(e.to_string()))?;
            if contents["uri"] != json!(uri) || data["id"] != json!(tag) {
                return Err(wrong(format!("resources/read: {result}")));
            }
        }
        _ => {
            let msg = json!({"jsonrpc": "2.0", "id": id, "method": "prompts/get", "params": {
                "name": "test_prompt_with_arguments", "arguments": {"arg1": tag, "arg2": "two"}}});
            let r = post(c, Some(session), &msg).await?;
            let result = result_of(&r, id)?;
            let text = result["messages"][0]["content"]["text"]
                .as_str()
                .unwrap_or("");
            if !text.contains(tag) || !text.contains("two") {
                return Err(wrong(format!("prompts/get: {result}")));
            }
        }
    }
    Ok(())
}

async fn call_worker(
    args: Args,
    stats: Shared,
    worker: usize,
    session: Arc<Mutex<String>>,
    end: Instant,
) {
    let mut link = Link::new(&args);
    let mut k = 0;
    while Instant::now() < end {
        k += 1;
        let s = session.lock().unwrap().clone();
        let outcome = async {
            let c = link.get().await?;
            call_op(c, &s, request_id(worker, k), k, &format!("w{worker}k{k}")).await
        }
        .await
        .map(|()| Done::Ok);
        record(&stats, "call", &outcome);
        if let Err(f) = outcome {
            link.reset();
            // A session the server no longer knows is replaced (after counting the error).
            if matches!(f, Fail::Status(404, _))
                && let Ok(c) = link.get().await
                && let Ok(new) = initialize(c).await
            {
                *session.lock().unwrap() = new;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A stateless (2026-07-28) call: no session, its revision in `_meta`.
async fn stateless_op(c: &mut Conn, id: u64, k: u64, tag: &str) -> R<()> {
    let (tool, arguments) = if k.is_multiple_of(2) {
        ("test_simple_text", json!({}))
    } else {
        (
            "json_schema_2020_12_tool",
            json!({"name": tag, "email": "soak@example.com"}),
        )
    };
    let msg = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
        "name": tool, "arguments": arguments,
        "_meta": {"io.modelcontextprotocol/protocolVersion": "2026-07-28",
                  "io.modelcontextprotocol/clientCapabilities": {},
                  "io.modelcontextprotocol/clientInfo": {"name": "loadgen-soak", "version": "1"}}}});
    let extra = format!("mcp-method: tools/call\r\nmcp-name: {tool}\r\n");
    let r = bounded("stateless POST", OP_TIMEOUT, async {
        c.request_at("POST", None, Some(&msg), "2026-07-28", &extra)
            .await
            .c()
    })
    .await?;
    if r.session.is_some() {
        return Err(wrong("a stateless call got a session id"));
    }
    let result = result_of(&r, id)?;
    if result["resultType"] != "complete" {
        return Err(wrong(format!("not a complete result: {result}")));
    }
    let text = text_of(result);
    let good = if k.is_multiple_of(2) {
        text == SIMPLE_TEXT
    } else {
        text.contains(&format!("\"name\":\"{tag}\""))
    };
    if !good {
        return Err(wrong(format!("stateless {tool}: {result}")));
    }
    Ok(())
}

async fn stateless_worker(args: Args, stats: Shared, worker: usize, end: Instant) {
    let mut link = Link::new(&args);
    let mut k = 0;
    while Instant::now() < end {
        k += 1;
        let outcome = async {
            let c = link.get().await?;
            stateless_op(c, request_id(worker, k), k, &format!("s{worker}k{k}")).await
        }
        .await
        .map(|()| Done::Ok);
        record(&stats, "stateless", &outcome);
        if outcome.is_err() {
            link.reset();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// (b) initialize → a call → DELETE; every eighth time, the deleted
/// session must then be unknown (404).
async fn churn_op(c: &mut Conn, k: u64) -> R<()> {
    let session = initialize(c).await?;
    let r = post(
        c,
        Some(&session),
        &call_msg(1, "test_simple_text", json!({})),
    )
    .await?;
    if text_of(result_of(&r, 1)?) != SIMPLE_TEXT {
        return Err(wrong("churn call"));
    }
    delete(c, &session).await?;
    if k.is_multiple_of(8) {
        let ping = json!({"jsonrpc": "2.0", "id": 2, "method": "ping"});
        let r = post(c, Some(&session), &ping).await?;
        if r.status != 404 {
            return Err(Fail::Status(
                r.status,
                "a deleted session still served".into(),
            ));
        }
    }
    Ok(())
}

async fn churn_worker(args: Args, stats: Shared, end: Instant) {
    let mut link = Link::new(&args);
    let mut k = 0;
    while Instant::now() < end {
        k += 1;
        let outcome = async {
            let c = link.get().await?;
            churn_op(c, k).await
        }
        .await
        .map(|()| Done::Ok);
        record(&stats, "churn", &outcome);
        if outcome.is_err() {
            link.reset();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Checks the progress notifications of `test_tool_with_progress`: the
/// token, and progress values `expected` in order.
fn check_progress(messages: &[Value], token: &str, expected: &[f64]) -> R<()> {
    if messages.len() != expected.len() {
        return Err(wrong(format!(
            "{} progress notifications (wanted {}): {messages:?}",
            messages.len(),
            expected.len()
        )));
    }
    for (m, p) in messages.iter().zip(expected) {
        if m["method"] != "notifications/progress"
            || m["params"]["progressToken"] != json!(token)
            || m["params"]["progress"].as_f64() != Some(*p)
        {
            return Err(wrong(format!("bad progress (wanted {p}): {m}")));
        }
    }
    Ok(())
}

fn progress_msg(id: u64, token: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": {
        "name": "test_tool_with_progress", "arguments": {}, "_meta": {"progressToken": token}}})
}

/// (c) A call with a progress token: 0, 50, 100, then the result, on SSE.
async fn sse_op(c: &mut Conn, session: &str, id: u64, token: &str) -> R<()> {
    let r = post(c, Some(session), &progress_msg(id, token)).await?;
    let result = result_of(&r, id)?;
    if text_of(result) != PROGRESS_TEXT {
        return Err(wrong(format!("progress result: {result}")));
    }
    check_progress(
        &r.messages[..r.messages.len() - 1],
        token,
        &[0.0, 50.0, 100.0],
    )
}

/// (d) `test_reconnection`: the POST stream ends after its priming event;
/// a GET with that event's id brings the result.
async fn resume_op(c: &mut Conn, session: &str, id: u64) -> R<()> {
    let body = call_msg(id, "test_reconnection", json!({})).to_string();
    let req = raw_request(
        c,
        "POST",
        Some(session),
        &body,
        "application/json, text/event-stream",
        "",
    );
    let (priming, stream) = bounded("test_reconnection POST", OP_TIMEOUT, async {
        send(c, &req).await?;
        let mut head = read_head(c).await?;
        if head.status != 200 || !head.sse {
            return Err(Fail::Status(head.status, "test_reconnection POST".into()));
        }
        let events = head.all_events(c).await?;
        match events.as_slice() {
            [e] if e.data.is_empty() => {
                let stream = e.stream().ok_or_else(|| wrong("priming id"))?.to_owned();
                if stream == "0" {
                    return Err(wrong("priming event on the standalone stream"));
                }
                Ok((e.id.clone().unwrap_or_default(), stream))
            }
            other => Err(wrong(format!(
                "{} events on the closed stream (wanted the priming event only)",
                other.len()
            ))),
        }
    })
    .await?;
    bounded("resumed GET", OP_TIMEOUT, async {
        let mut get = resume_get(c, session, &priming).await?;
        let events = get.all_events(c).await?;
        for e in &events {
            same_stream(e, &stream)?;
        }
        let data: Vec<&Event> = events.iter().filter(|e| !e.data.is_empty()).collect();
        let [answer] = data.as_slice() else {
            return Err(wrong(format!(
                "{} messages on the resumed stream",
                data.len()
            )));
        };
        let answer = answer.json()?;
        if answer["id"] != json!(id) || text_of(&answer["result"]) != RECONNECT_TEXT {
            return Err(wrong(format!("resumed answer: {answer}")));
        }
        Ok(())
    })
    .await
}

/// A worker of the kinds that use one session for a while: `sse`, `resume`
/// and `vanish`. The session is replaced (after a DELETE) every `rotate`
/// operations, or when the server no longer knows it.
async fn session_worker(
    args: Args,
    stats: Shared,
    kind: &'static str,
    worker: usize,
    rotate: u64,
    end: Instant,
) {
    let mut link = Link::new(&args);
    let mut session: Option<String> = None;
    let mut k = 0;
    while Instant::now() < end {
        k += 1;
        let outcome = async {
            let c = link.get().await?;
            if session.is_none() {
                session = Some(initialize(c).await?);
            }
            let s = session.clone().expect("just set");
            let id = request_id(worker, k);
            let done = match kind {
                "sse" => sse_op(c, &s, id, &format!("p{worker}-{k}"))
                    .await
                    .map(|()| Done::Ok),
                "resume" => resume_op(c, &s, id).await.map(|()| Done::Ok),
                _ => vanish_op(&args, &mut link, &s, id, k).await,
            }?;
            if k.is_multiple_of(rotate) {
                let c = link.get().await?;
                delete(c, &s).await?;
                session = None;
            }
            Ok(done)
        }
        .await;
        record(&stats, kind, &outcome);
        if let Err(f) = outcome {
            link.reset();
            if matches!(f, Fail::Status(404, _)) {
                session = None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    if let Some(s) = session
        && let Ok(c) = link.get().await
    {
        let _ = delete(c, &s).await;
    }
}

/// (e) A client that vanishes mid-reply, three ways in turn: after the
/// first progress event, then resuming from it with `Last-Event-ID` (the
/// rest must arrive); the same, never coming back; after the head of a
/// 3 MiB JSON reply. The connection is dropped each time.
async fn vanish_op(args: &Args, link: &mut Link, session: &str, id: u64, k: u64) -> R<Done> {
    let c = link.get().await?;
    if k % 3 == 2 {
        let big = "x".repeat(3 * 1024 * 1024);
        let body = call_msg(
            id,
            "json_schema_2020_12_tool",
            json!({"name": big, "email": "soak@example.com"}),
        )
        .to_string();
        drop(big);
        let req = raw_request(c, "POST", Some(session), &body, "application/json", "");
        drop(body);
        bounded("big reply head", OP_TIMEOUT, async {
            send(c, &req).await?;
            let head = read_head(c).await?;
            if head.status != 200 || head.sse || head.remaining < 3 * 1024 * 1024 {
                return Err(Fail::Status(
                    head.status,
                    format!("big reply: {} bytes", head.remaining),
                ));
            }
            Ok(())
        })
        .await?;
        link.reset();
        return Ok(Done::Expected("dropped_big_reply".into()));
    }
    let token = format!("v{id}");
    let body = progress_msg(id, &token).to_string();
    let req = raw_request(
        c,
        "POST",
        Some(session),
        &body,
        "application/json, text/event-stream",
        "",
    );
    // Reads to the first progress event, then whatever else already came.
    let seen = bounded("progress POST", OP_TIMEOUT, async {
        send(c, &req).await?;
        let mut head = read_head(c).await?;
        if head.status != 200 || !head.sse {
            return Err(Fail::Status(head.status, "progress POST".into()));
        }
        let mut seen = Vec::new();
        loop {
            let e = head
                .next_event(c)
                .await?
                .ok_or_else(|| wrong("the stream ended before any progress"))?;
            let progress = !e.data.is_empty();
            seen.push(e);
            if progress {
                break;
            }
        }
        seen.extend(head.buffered_events(c)?);
        Ok(seen)
    })
    .await?;
    // Gone, mid-reply.
    link.reset();
    let stream = seen[0]
        .stream()
        .ok_or_else(|| wrong("an event without id"))?
        .to_owned();
    let mut messages = Vec::new();
    for e in &seen {
        same_stream(e, &stream)?;
        if !e.data.is_empty() {
            messages.push(e.json()?);
        }
    }
    if messages.last().is_some_and(|m| m.get("result").is_some()) {
        // It all arrived before the client left: nothing to resume.
        return Ok(Done::Expected("finished_before_vanishing".into()));
    }
    if k % 3 == 1 {
        return Ok(Done::Expected("vanished".into()));
    }
    let last_id = seen
        .last()
        .and_then(|e| e.id.clone())
        .ok_or_else(|| wrong("no event id"))?;
    // The handler finishes (~100 ms) while nobody listens.
    tokio::time::sleep(Duration::from_millis(250)).await;
    let mut c = open(args).await?;
    let rest = bounded("resuming GET", OP_TIMEOUT, async {
        let mut get = resume_get(&mut c, session, &last_id).await?;
        get.all_events(&mut c).await
    })
    .await?;
    for e in &rest {
        same_stream(e, &stream)?;
        if !e.data.is_empty() {
            messages.push(e.json()?);
        }
    }
    let answer = messages
        .pop()
        .ok_or_else(|| wrong("nothing after resuming"))?;
    if answer["id"] != json!(id) || text_of(&answer["result"]) != PROGRESS_TEXT {
        return Err(wrong(format!("resumed answer: {answer}")));
    }
    check_progress(&messages, &token, &[0.0, 50.0, 100.0])?;
    link.conn = Some(c);
    Ok(Done::Expected("vanished_then_resumed".into()))
}

/// (f) A slow reader: a connection with a small receive buffer that
/// pipelines `tools/list` requests on a fresh session and never reads.
/// With `hold`, it is dropped after that long, and must not have been
/// closed by then; without, it waits for the server to close it, which
/// must come after the server's write timeout.
async fn slow_op(args: &Args, worker: usize, hold: Option<Duration>) -> R<Done> {
    let mut c = open(args).await?;
    let session = initialize(&mut c).await?;
    let socket = TcpSocket::new_v4().map_err(|e| Fail::Connect(e.to_string()))?;
    socket
        .set_recv_buffer_size(4096)
        .map_err(|e| Fail::Connect(e.to_string()))?;
    let stream = bounded("connect", OP_TIMEOUT, async {
        socket
            .connect(args.addr)
            .await
            .map_err(|e| Fail::Connect(e.to_string()))
    })
    .await?;
    let (reader, mut writer) = stream.into_split();
    let mut batch = Vec::new();
    for i in 0..64u64 {
        let msg = json!({"jsonrpc": "2.0", "id": request_id(worker, i), "method": "tools/list"});
        batch.extend(raw_request(
            &c,
            "POST",
            Some(&session),
            &msg.to_string(),
            "application/json",
            "",
        ));
    }
    drop(c);
    let started = Instant::now();
    // Writes until the server stops reading (or closes); at most ~100 MB.
    let mut task: JoinHandle<Option<(Instant, String)>> = tokio::spawn(async move {
        for _ in 0..4096 {
            if let Err(e) = writer.write_all(&batch).await {
                return Some((Instant::now(), e.to_string()));
            }
        }
        None
    });
    let outcome = match hold {
        Some(hold) => {
            tokio::time::sleep(hold).await;
            if task.is_finished() {
                match task.await {
                    Ok(Some((at, e))) => Err(Fail::Io(format!(
                        "closed after {:.1} s, before the write timeout: {e}",
                        (at - started).as_secs_f64()
                    ))),
                    _ => Err(wrong("the server read everything, replies unread")),
                }
            } else {
                task.abort();
                let _ = task.await;
                Ok(Done::Expected("dropped_unread".into()))
            }
        }
        None => match tokio::time::timeout(LONG_HOLD_LIMIT, &mut task).await {
            Ok(Ok(Some((at, e)))) => {
                let after = at - started;
                if after + Duration::from_secs(5) < SERVER_WRITE_TIMEOUT {
                    Err(Fail::Io(format!(
                        "closed after {:.1} s, before the write timeout: {e}",
                        after.as_secs_f64()
                    )))
                } else {
                    // Counted by when it came, to the nearest 5 s.
                    let secs = (after.as_secs_f64() / 5.0).round() as u64 * 5;
                    eprintln!(
                        "soak: a stalled reader was closed by the server after {:.1} s",
                        after.as_secs_f64()
                    );
                    Ok(Done::Expected(
                        format!("closed_by_server_after_{secs}s").into(),
                    ))
                }
            }
            Ok(_) => Err(wrong("the server read everything, replies unread")),
            Err(_) => {
                task.abort();
                let _ = task.await;
                Err(Fail::Timeout("the server never closed a stalled reader"))
            }
        },
    };
    drop(reader);
    // The session goes too (the connection it was opened on may have idled out).
    let mut c = open(args).await?;
    delete(&mut c, &session).await?;
    outcome
}

async fn slow_worker(args: Args, stats: Shared, worker: usize, until_closed: bool, end: Instant) {
    let long = LONG_HOLD_LIMIT + Duration::from_secs(5);
    let mut k: u64 = 0;
    while Instant::now() < end {
        k += 1;
        let left = end.saturating_duration_since(Instant::now());
        // The first wait for the server's close always runs (it may end
        // after the soak's end); later ones only when they fit.
        let hold = if until_closed && (k == 1 || left > long) {
            None
        } else {
            // 5, 12, 20 s, never past the end.
            Some(Duration::from_secs([5, 12, 20][(k as usize + worker) % 3]).min(left))
        };
        let outcome = slow_op(&args, worker, hold).await;
        record(&stats, "slow", &outcome);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// (g) A DELETE storm: `n` sessions opened (ten connections), then all
/// deleted at once (one connection each); a few must then be unknown.
async fn storm_op(args: &Args, stats: &Shared, n: usize) -> R<()> {
    let mut openers = Vec::new();
    for _ in 0..10 {
        let args = args.clone();
        openers.push(tokio::spawn(async move {
            let mut c = open(&args).await?;
            let mut out = Vec::new();
            for _ in 0..n.div_ceil(10) {
                out.push(initialize(&mut c).await?);
            }
            Ok::<_, Fail>(out)
        }));
    }
    let mut sessions = Vec::new();
    let mut first_error = None;
    for t in openers {
        match t.await {
            Ok(Ok(s)) => sessions.extend(s),
            Ok(Err(f)) => {
                first_error.get_or_insert(f);
            }
            Err(e) => {
                first_error.get_or_insert(wrong(e.to_string()));
            }
        }
    }
    let mut deleters = Vec::new();
    for s in sessions.clone() {
        let args = args.clone();
        deleters.push(tokio::spawn(async move {
            let mut c = open(&args).await?;
            delete(&mut c, &s).await
        }));
    }
    for t in deleters {
        match t.await {
            Ok(Ok(())) => count_ok(stats, "storm"),
            Ok(Err(f)) => count_error(stats, "storm", &f),
            Err(e) => count_error(stats, "storm", &wrong(e.to_string())),
        }
    }
    let mut c = open(args).await?;
    for s in sessions.iter().step_by(20) {
        let ping = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
        let r = post(&mut c, Some(s), &ping).await?;
        if r.status != 404 {
            return Err(Fail::Status(
                r.status,
                "a deleted session still served".into(),
            ));
        }
    }
    first_error.map_or(Ok(()), Err)
}

async fn storm_worker(args: Args, stats: Shared, start: Instant, end: Instant) {
    // At 7.5 s past every quarter minute: never at a minute's RSS reading.
    let mut n = 0u32;
    loop {
        let at = start + Duration::from_millis(7_500) + Duration::from_secs(15) * n;
        if at + Duration::from_secs(5) >= end {
            break;
        }
        tokio::time::sleep_until(at.into()).await;
        let outcome = bounded(
            "storm",
            Duration::from_secs(60),
            storm_op(&args, &stats, 100),
        )
        .await;
        if let Err(f) = outcome {
            count_error(&stats, "storm", &f);
        }
        n += 1;
    }
}

// ---------------------------------------------------------------------------

/// The server's RSS over [`RSS_WINDOW`], read every 100 ms: its lowest
/// value (the memory the server keeps, without the buffers of the replies
/// in flight at that instant) and its highest, in KiB. 0 if the server is
/// gone.
async fn read_rss(pid: u32) -> (u64, u64) {
    let mut low = u64::MAX;
    let mut high = 0;
    let steps = (RSS_WINDOW.as_millis() / 100).max(1);
    for _ in 0..steps {
        let (rss, _) = memory_kib(pid);
        if rss == 0 {
            return (0, 0);
        }
        low = low.min(rss);
        high = high.max(rss);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (low, high)
}

fn map_line<K: fmt::Display>(m: &BTreeMap<K, u64>) -> String {
    let items: Vec<String> = m.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    format!("{{{}}}", items.join(","))
}

/// Runs the soak; returns the process's exit code.
pub async fn run(args: &Args) -> i32 {
    let pid = args.pid.expect("--mode soak needs --pid");
    let stats: Shared = Arc::default();
    let start = Instant::now();
    // The load goes on through the last reading's window.
    let readings_end = start + args.duration;
    let end = readings_end + RSS_WINDOW;
    let mut workers: Vec<JoinHandle<()>> = Vec::new();
    let mut worker = 0;
    let mut next = || {
        worker += 1;
        worker
    };
    // (a) Three long-lived sessions, two callers each.
    for _ in 0..3 {
        let session = match async {
            let mut c = open(args).await?;
            initialize(&mut c).await
        }
        .await
        {
            Ok(s) => Arc::new(Mutex::new(s)),
            Err(f) => {
                eprintln!("soak: cannot open a session: {f}");
                return 2;
            }
        };
        for _ in 0..2 {
            let w = next();
            workers.push(tokio::spawn(call_worker(
                args.clone(),
                stats.clone(),
                w,
                session.clone(),
                end,
            )));
        }
    }
    for _ in 0..2 {
        let w = next();
        workers.push(tokio::spawn(stateless_worker(
            args.clone(),
            stats.clone(),
            w,
            end,
        )));
    }
    for _ in 0..2 {
        workers.push(tokio::spawn(churn_worker(args.clone(), stats.clone(), end)));
    }
    for (kind, count, rotate) in [("sse", 3, 200), ("resume", 2, 50), ("vanish", 2, 48)] {
        for _ in 0..count {
            let w = next();
            workers.push(tokio::spawn(session_worker(
                args.clone(),
                stats.clone(),
                kind,
                w,
                rotate,
                end,
            )));
        }
    }
    for i in 0..4 {
        let w = next();
        workers.push(tokio::spawn(slow_worker(
            args.clone(),
            stats.clone(),
            w,
            i == 0,
            end,
        )));
    }
    workers.push(tokio::spawn(storm_worker(
        args.clone(),
        stats.clone(),
        start,
        end,
    )));

    // A reading every minute, and one at the end.
    let mut readings = Vec::new();
    let mut last_ops = 0u64;
    let mut last_by_kind: BTreeMap<&'static str, u64> = BTreeMap::new();
    let mut minute = 0u32;
    loop {
        minute += 1;
        let at = (start + Duration::from_secs(60) * minute).min(readings_end);
        tokio::time::sleep_until(at.into()).await;
        let (rss, peak) = read_rss(pid).await;
        if rss == 0 {
            count_error(&stats, "server", &wrong(format!("no /proc/{pid}/status")));
        }
        readings.push(rss);
        let s = stats.lock().unwrap();
        let ops: u64 = s.ops.values().sum();
        let by_kind: BTreeMap<&str, u64> = s
            .ops
            .iter()
            .map(|(k, v)| (*k, v - last_by_kind.get(k).copied().unwrap_or(0)))
            .collect();
        let expected: u64 = s.expected.values().sum();
        println!(
            "minute={minute} rss_kib={rss} rss_peak_kib={peak} ops={} by_kind={} expected={expected} errors={}",
            ops - last_ops,
            map_line(&by_kind),
            map_line(&s.errors),
        );
        last_ops = ops;
        last_by_kind = s.ops.clone();
        drop(s);
        if at >= readings_end {
            break;
        }
    }

    // Wind down: every worker ends within its bounds.
    let drain = Instant::now() + LONG_HOLD_LIMIT + Duration::from_secs(30);
    for w in workers {
        let left = drain.saturating_duration_since(Instant::now());
        if tokio::time::timeout(left, w).await.is_err() {
            count_error(&stats, "soak", &Fail::Timeout("a worker did not stop"));
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (after, hwm) = memory_kib(pid);

    let s = stats.lock().unwrap();
    let rss_min1 = readings.first().copied().unwrap_or(0);
    let rss_end = readings.last().copied().unwrap_or(0);
    let growth = if rss_min1 > 0 {
        (rss_end as f64 - rss_min1 as f64) * 100.0 / rss_min1 as f64
    } else {
        f64::INFINITY
    };
    let unexpected: u64 = s.errors.values().sum();
    let ops: u64 = s.ops.values().sum();
    let runtime = if args.runtime.is_empty() {
        "?"
    } else {
        &args.runtime
    };
    println!(
        "soak: runtime={runtime} minutes={:.1} rss_min1_kib={rss_min1} rss_end_kib={rss_end} growth_pct={growth:.1} rss_idle_after_kib={after} hwm_kib={hwm} ops={ops} ops_by_kind={} expected={} unexpected_errors={unexpected} errors={}",
        args.duration.as_secs_f64() / 60.0,
        map_line(&s.ops),
        map_line(&s.expected),
        map_line(&s.errors),
    );
    for e in &s.samples {
        eprintln!("soak: error: {e}");
    }
    let mut code = 0;
    if growth > MAX_GROWTH_PCT {
        eprintln!(
            "soak: FAIL: RSS grew {growth:.1}% over its first-minute value (limit {MAX_GROWTH_PCT}%)"
        );
        code = 1;
    }
    if unexpected > 0 {
        eprintln!("soak: FAIL: {unexpected} unexpected errors");
        code = 1;
    }
    code
}
