//! The simulated clients: sessions at 2025-11-25 and stateless requests at
//! 2026-07-28, with the invariants checked as they go.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use super::client::{Alive, Conn, Cut, Event, Head, Send, json as parse_json};
use super::executor::Rng;
use super::server::{answer_for, expected};
use super::world::{KEEP_ALIVE, REQUEST_TIMEOUT, WRITE_TIMEOUT, World};

/// How a call's connection misbehaves on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Reads the whole reply.
    Whole,
    /// Half-closes its side once the request is written; reads the reply.
    HalfClose,
    /// Drops the connection after this many events (or the head).
    Vanish(usize),
    /// Resets the connection after this many events.
    Reset(usize),
    /// Stops reading after this many events until the server gives up on it.
    Stall(usize),
    /// Pauses halfway through the request for longer than the server's
    /// request timeout.
    SlowSend,
    /// Stops reading after this many events and resumes elsewhere, the
    /// connection left open (a connection that died silently).
    Abandon(usize),
}

impl Plan {
    /// Whether the connection may end before the reply (a half-closed
    /// connection may be taken for a gone client, as hyper does by default).
    fn cuts(self) -> bool {
        matches!(
            self,
            Self::Vanish(_)
                | Self::Reset(_)
                | Self::Stall(_)
                | Self::HalfClose
                | Self::SlowSend
                | Self::Abandon(_)
        )
    }

    pub(crate) fn draw(rng: &mut Rng) -> Self {
        match rng.below(12) {
            11 => Self::Abandon(rng.range(1, 3) as usize),
            10 => Self::SlowSend,
            0 => Self::Vanish(rng.below(4) as usize),
            1 => Self::Reset(rng.below(4) as usize),
            2 => Self::Stall(rng.below(3) as usize),
            3 => Self::HalfClose,
            _ => Self::Whole,
        }
    }
}

/// What one call saw.
#[derive(Debug, Default)]
struct Seen {
    /// Final responses to the call.
    finals: usize,
    /// The last event id seen, for resumption.
    last_id: Option<(u64, u64)>,
    /// The connection was cut before the stream ended.
    cut: bool,
    /// The call was refused or its session is gone (no response to it).
    refused: bool,
    /// A resumed stream ended cleanly (the reply must have come by then).
    resumed: bool,
    /// The last progress seen.
    progress: f64,
    /// The answers given to the call's questions, in order.
    answers: Vec<String>,
    /// The client refused or ignored a question: the call may fail.
    may_fail: bool,
    /// The ids of the server's requests seen on the stream.
    asked: Vec<Value>,
}

/// One client's identity and session.
pub(crate) struct Client {
    pub(crate) world: Arc<World>,
    pub(crate) name: String,
    /// The client's own choices.
    rng: Rng,
    /// The session is being (or was) deleted: its requests may be
    /// answered 404 or not at all.
    ended: Arc<AtomicBool>,
    /// When the server last certainly counted the session active.
    pub(crate) alive: Alive,
    /// The session id, in the session era.
    pub(crate) session: Option<String>,
    /// The next JSON-RPC id.
    next_id: i64,
    /// A keep-alive connection for plain requests.
    idle_conn: Option<Conn>,
    /// When `idle_conn` was last used.
    idle_since: std::time::Duration,
}

/// At most 200 characters of `text`, for the trace.
pub(crate) fn short(text: &str) -> &str {
    match text.char_indices().nth(200) {
        Some((i, _)) => &text[..i],
        None => text,
    }
}

const SESSION_VERSION: &str = "2025-11-25";
const STATELESS_VERSION: &str = "2026-07-28";

fn parse_id(id: &str) -> (u64, u64) {
    let (stream, seq) = id.split_once('-').expect("event ids are stream-seq");
    (stream.parse().unwrap(), seq.parse().unwrap())
}

impl Client {
    pub(crate) fn new(world: Arc<World>, name: String, rng: Rng) -> Self {
        Self {
            world,
            name,
            rng,
            ended: Arc::new(AtomicBool::new(false)),
            alive: Alive::default(),
            session: None,
            next_id: 1,
            idle_conn: None,
            idle_since: std::time::Duration::ZERO,
        }
    }

    fn id(&mut self) -> i64 {
        self.next_id += 1;
        self.next_id
    }

    fn tag(&self, id: i64) -> String {
        format!("{}-r{id}", self.name)
    }

    /// The session era's headers.
    fn session_headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("content-type", "application/json".to_owned()),
            ("accept", "application/json, text/event-stream".to_owned()),
        ];
        if let Some(s) = &self.session {
            h.push(("mcp-session-id", s.clone()));
            h.push(("mcp-protocol-version", SESSION_VERSION.to_owned()));
        }
        h
    }

    pub(crate) fn stateless_headers(
        method: &str,
        name: Option<&str>,
    ) -> Vec<(&'static str, String)> {
        let mut h = vec![
            ("content-type", "application/json".to_owned()),
            ("accept", "application/json, text/event-stream".to_owned()),
            ("mcp-protocol-version", STATELESS_VERSION.to_owned()),
            ("mcp-method", method.to_owned()),
        ];
        if let Some(name) = name {
            h.push(("mcp-name", name.to_owned()));
        }
        h
    }

    /// A connection: the kept one when `reuse` and there is one.
    fn conn(&mut self, reuse: bool) -> Option<Conn> {
        self.conn_with(reuse, None)
    }

    /// A connection, new (with buffers of `capacity` when given) unless
    /// `reuse` and one is kept that the server has not timed out.
    fn conn_with(&mut self, reuse: bool, capacity: Option<usize>) -> Option<Conn> {
        let kept = self.idle_conn.take();
        let fresh = self.world.rt.elapsed() < self.idle_since + KEEP_ALIVE / 2;
        if let (true, true, None, Some(conn)) = (reuse, fresh, capacity, kept) {
            return Some(conn);
        }
        let mut conn = self.world.connect_with(capacity)?;
        conn.alive = Some(self.alive.clone());
        Some(conn)
    }

    /// Whether the server may rightly have expired the session by now.
    fn may_have_expired(&self) -> bool {
        self.alive
            .may_have_expired(self.world.rt.elapsed(), self.world.idle)
    }

    /// Keeps `conn` for the next plain request.
    fn keep(&mut self, conn: Conn) {
        self.idle_since = self.world.rt.elapsed();
        self.idle_conn = Some(conn);
    }

    /// Sends `body` with `headers` on a connection and reads the head.
    /// `None` when refused or cut before a head.
    async fn exchange(
        &mut self,
        conn: &mut Conn,
        method: &str,
        headers: &[(&'static str, String)],
        body: &str,
    ) -> Result<Head, Cut> {
        let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        conn.send(method, &refs, body).await?;
        conn.head().await
    }

    /// A cut before the head is allowed only during shutdown (or when
    /// planned).
    fn cut_before_head(&self, what: &str, planned: bool) {
        let world = &self.world;
        world.log(format_args!("{} cut before head of {what}", self.name));
        let ended = self.ended.load(Ordering::Acquire);
        world.check(planned || ended || world.shutting_down(), || {
            format!(
                "{}: connection cut before the response head of {what}",
                self.name
            )
        });
    }

    /// A status other than 200/202: allowed when refused during shutdown.
    fn refused(&self, what: &str, head: &Head) {
        let world = &self.world;
        world.log(format_args!("{} {what} -> {}", self.name, head.status));
        let ended = self.ended.load(Ordering::Acquire) || self.may_have_expired();
        world.check(
            (head.status == 503 && world.shutting_down()) || (head.status == 404 && ended),
            || format!("{}: {what} answered {}", self.name, head.status),
        );
    }

    /// Opens a session; false when refused (during shutdown).
    pub(crate) async fn initialize(&mut self) -> bool {
        let Some(mut conn) = self.conn(false) else {
            return false;
        };
        let body = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": SESSION_VERSION,
                "capabilities": {"elicitation": {}, "sampling": {}},
                "clientInfo": {"name": self.name, "version": "1"}}});
        let head = match self
            .exchange(
                &mut conn,
                "POST",
                &self.session_headers(),
                &body.to_string(),
            )
            .await
        {
            Ok(h) => h,
            Err(Cut) => {
                self.cut_before_head("initialize", false);
                return false;
            }
        };
        if head.status != 200 {
            self.refused("initialize", &head);
            return false;
        }
        let session = head.header("mcp-session-id").map(str::to_owned);
        let Ok(bytes) = conn.body(&head).await else {
            self.world
                .check(false, || format!("{}: initialize body cut", self.name));
            return false;
        };
        let reply = parse_json(&bytes);
        self.world
            .check(reply["id"] == 0 && reply["result"].is_object(), || {
                format!("{}: initialize reply {reply}", self.name)
            });
        self.session = session;
        self.world.log(format_args!(
            "{} session open {:?}",
            self.name, self.session
        ));
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        match self
            .exchange(
                &mut conn,
                "POST",
                &self.session_headers(),
                &note.to_string(),
            )
            .await
        {
            Ok(h) if h.status == 202 => {
                if !conn.closing {
                    self.keep(conn);
                }
                true
            }
            Ok(h) => {
                self.refused("initialized", &h);
                false
            }
            Err(Cut) => {
                self.cut_before_head("initialized", false);
                false
            }
        }
    }

    /// Checks one message seen on the stream of call `id` tagged `tag`;
    /// answers a server→client request on a new connection. Returns
    /// whether it was the call's final response.
    async fn on_message(
        &mut self,
        id: i64,
        tag: &str,
        name: &str,
        args: &Value,
        msg: &Value,
        seen: &mut Seen,
    ) -> bool {
        let world = Arc::clone(&self.world);
        let who = self.name.clone();
        if msg.get("result").is_some() || msg.get("error").is_some() {
            world.check(msg["id"] == id, || {
                format!("{who}: reply {msg} on the stream of request {id}")
            });
            let result = &msg["result"];
            let text = result["content"][0]["text"].as_str().unwrap_or_default();
            if result["isError"] == true || msg.get("error").is_some() {
                world.check(
                    text.starts_with(&format!("{tag}!"))
                        && (world.shutting_down() || seen.may_fail),
                    || format!("{who}: call {id} failed: {msg}"),
                );
            } else {
                let want = if name == "ask" {
                    format!("{tag}:{}", seen.answers.join(","))
                } else {
                    expected(name, args)
                };
                world.check(text == want, || {
                    format!("{who}: call {id} answered {text:?}, not {want:?}")
                });
            }
            return true;
        }
        let method = msg["method"].as_str().unwrap_or_default();
        if let Some(request_id) = msg.get("id") {
            // A server→client request: it must be about this call.
            let (about, key) = match method {
                "elicitation/create" => {
                    let text = msg["params"]["message"].as_str().unwrap_or_default();
                    let (about, key) = text.split_once(' ').unwrap_or((text, ""));
                    (about, key.to_owned())
                }
                "sampling/createMessage" => (
                    msg["params"]["messages"][0]["content"]["text"]
                        .as_str()
                        .unwrap_or_default(),
                    "sample".to_owned(),
                ),
                _ => ("", String::new()),
            };
            world.check(about == tag, || {
                format!("{who}: request {msg} on the stream of {tag}")
            });
            seen.asked.push(request_id.clone());
            // Mostly a proper answer; now and then a refusal, an error, or
            // none at all (the server's request times out).
            let choice = self.rng.below(20);
            let answer = match choice {
                0 => {
                    self.world.count("server request ignored");
                    seen.may_fail = true;
                    self.world
                        .log(format_args!("{who} ignores {request_id} of {tag}"));
                    return false;
                }
                1 => {
                    self.world.count("server request answered with an error");
                    seen.may_fail = true;
                    json!({"jsonrpc": "2.0", "id": request_id,
                        "error": {"code": -32603, "message": "the client failed"}})
                }
                2 if method == "elicitation/create" => {
                    self.world.count("elicitation declined");
                    seen.answers.push("?".to_owned());
                    json!({"jsonrpc": "2.0", "id": request_id, "result": {"action": "decline"}})
                }
                _ if method == "sampling/createMessage" => {
                    self.world.count("sampling answered");
                    json!({"jsonrpc": "2.0", "id": request_id, "result": {"role": "assistant",
                        "content": {"type": "text", "text": answer_for(tag, &key)},
                        "model": "m", "stopReason": "endTurn"}})
                }
                _ => {
                    self.world.count("elicitation answered");
                    seen.answers.push(answer_for(tag, &key));
                    json!({"jsonrpc": "2.0", "id": request_id, "result":
                        {"action": "accept", "content": {"name": answer_for(tag, &key)}}})
                }
            };
            // Answered from another task, on another connection, while this
            // stream goes on being read (as a real client would).
            let headers = self.session_headers();
            let world = Arc::clone(&self.world);
            let what = format!("{who}: the answer to {request_id} for {tag}");
            let ended = Arc::clone(&self.ended);
            let alive = self.alive.clone();
            let idle = self.world.idle;
            switchboard_core::Runtime::spawn(
                &self.world.rt,
                Box::pin(async move {
                    let Some(mut conn) = world.connect() else {
                        return;
                    };
                    conn.alive = Some(alive.clone());
                    let refs: Vec<(&str, &str)> =
                        headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    let head = match conn.send("POST", &refs, &answer.to_string()).await {
                        Ok(()) => conn.head().await,
                        Err(Cut) => Err(Cut),
                    };
                    match head {
                        Ok(h) if h.status == 202 => world.log(format_args!("{what} delivered")),
                        Ok(h) => world.check(
                            (h.status == 503 && world.shutting_down())
                                || (h.status == 404
                                    && (ended.load(Ordering::Acquire)
                                        || alive.may_have_expired(world.rt.elapsed(), idle))),
                            || format!("{what} answered {}", h.status),
                        ),
                        Err(Cut) => world.check(
                            world.shutting_down() || ended.load(Ordering::Acquire),
                            || format!("{what} cut before its head"),
                        ),
                    }
                }),
            );
            return false;
        }
        match method {
            "notifications/progress" => {
                world.check(msg["params"]["progressToken"] == tag, || {
                    format!("{who}: progress {msg} on the stream of {tag}")
                });
                let p = msg["params"]["progress"].as_f64().unwrap_or(0.0);
                let last = seen.progress;
                world.check(p > last, || format!("{who}: progress {msg} after {last}"));
                seen.progress = p;
            }
            // The server gave up on one of its requests on this stream.
            "notifications/cancelled" => {
                world.check(seen.asked.contains(&msg["params"]["requestId"]), || {
                    format!("{who}: {msg} on the stream of {tag}")
                });
            }
            _ => world.check(false, || format!("{who}: {msg} on the stream of {tag}")),
        }
        false
    }

    /// A tools/call in the session era, with `plan` for its connection,
    /// resumed with `Last-Event-ID` when cut after an event id. Returns the
    /// number of final responses seen.
    pub(crate) async fn session_call(
        &mut self,
        name: &str,
        mut args: Value,
        plan: Plan,
        cancel_after: Option<u64>,
    ) {
        let id = self.id();
        let tag = self.tag(id);
        args["tag"] = json!(tag);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
            "params": {"name": name, "arguments": args, "_meta": {"progressToken": tag}}});
        self.world.log(format_args!(
            "{} call {id} {name} {plan:?} cancel {cancel_after:?}",
            self.name
        ));
        let sent_at = self.world.rt.elapsed();
        let reuse = plan == Plan::Whole && cancel_after.is_none();
        // A stalled reader's buffers are small enough to fill.
        let capacity = matches!(plan, Plan::Stall(_)).then_some(4096);
        let Some(mut conn) = self.conn_with(reuse, capacity) else {
            return;
        };
        let headers = self.session_headers();
        let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let how = Send {
            chunked: self
                .rng
                .chance(20)
                .then(|| Rng::new(self.rng.next_u64(), 9)),
            pause: (plan == Plan::SlowSend).then_some(REQUEST_TIMEOUT + Duration::from_secs(1)),
        };
        let sent = conn.send_with("POST", &refs, &body.to_string(), how).await;
        if plan == Plan::SlowSend {
            // Too slow: the server answers 408 and closes (the rest of the
            // request may not even get through).
            let head = conn.head().await;
            let world = &self.world;
            world.log(format_args!(
                "{} slow send of {tag}: {:?}",
                self.name,
                head.as_ref().map(|h| h.status)
            ));
            world.count("plan: slow sender");
            world.check(
                matches!(&head, Ok(h) if h.status == 408) || world.shutting_down(),
                || {
                    format!(
                        "{}: a request sent too slowly got {:?}",
                        self.name,
                        head.map(|h| h.status)
                    )
                },
            );
            return;
        }
        if sent.is_err() {
            self.cut_before_head(&tag, false);
            return;
        }
        if plan == Plan::HalfClose {
            conn.end.close_write();
        }
        let mut seen = Seen::default();
        let canceller = cancel_after.map(|ms| {
            let world = Arc::clone(&self.world);
            let headers = headers.clone();
            async move {
                world.sleep(ms).await;
                world.log(format_args!("cancel {id}"));
                let note = json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
                    "params": {"requestId": id, "reason": "sim"}});
                let Some(mut conn) = world.connect() else {
                    return;
                };
                let refs: Vec<(&str, &str)> =
                    headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
                if conn.send("POST", &refs, &note.to_string()).await.is_ok() {
                    let _ = conn.head().await;
                }
            }
        });
        let cancelled = cancel_after.is_some();
        let reading = self.read_call(&mut conn, id, &tag, name, &args, plan, &mut seen);
        match canceller {
            Some(c) => {
                futures::join!(reading, c);
            }
            None => reading.await,
        }
        if seen.cut && !seen.refused {
            // An abandoned connection stays open, unread, while the stream
            // is resumed elsewhere: the server has to hand the stream over.
            let abandoned = matches!(plan, Plan::Abandon(_)).then_some(conn);
            if let Some(last) = seen.last_id {
                self.resume(id, &tag, name, &args, last, &mut seen).await;
            }
            drop(abandoned);
        } else if !conn.closing
            && !seen.cut
            && seen.finals == 1
            && !plan.cuts()
            && plan != Plan::HalfClose
        {
            // Kept only after a whole response (a refusal's body is not read).
            self.keep(conn);
        }
        let world = &self.world;
        world.log(format_args!("{} call {id} done: {seen:?}", self.name));
        world.check(seen.finals <= 1, || {
            format!("{}: call {id} answered {} times", self.name, seen.finals)
        });
        let excused = seen.refused
            || cancelled
            || self.ended.load(Ordering::Acquire)
            || (plan.cuts() && !seen.resumed && seen.last_id.is_none())
            // Still running when the grace ran out: the server cut it.
            || (seen.cut && world.out_of_grace());
        world.check(seen.finals == 1 || excused, || {
            format!("{}: call {id} never answered", self.name)
        });
        if name == "announce" && seen.finals == 1 {
            world.announced(sent_at, world.rt.elapsed());
        }
        world.count(match (seen.finals, seen.resumed, cancelled) {
            (1, true, _) => "session call answered after resuming",
            (1, false, false) => "session call answered",
            (1, false, true) => "session call answered though cancelled",
            (_, _, true) => "session call cancelled",
            _ if seen.refused => "session call refused",
            _ => "session call cut",
        });
        if plan != Plan::Whole {
            world.count(match plan {
                Plan::Vanish(_) => "plan: client vanished",
                Plan::Reset(_) => "plan: reset",
                Plan::Stall(_) => "plan: stalled reader",
                Plan::HalfClose => "plan: half-close",
                Plan::Abandon(_) => "plan: abandoned, resumed elsewhere",
                _ => "plan: other",
            });
        }
    }

    /// Reads a call's response: JSON, or SSE events until the stream ends.
    #[expect(
        clippy::too_many_arguments,
        reason = "one call's identity and what was seen of it, passed down as they are"
    )]
    async fn read_call(
        &mut self,
        conn: &mut Conn,
        id: i64,
        tag: &str,
        name: &str,
        args: &Value,
        plan: Plan,
        seen: &mut Seen,
    ) {
        let head = match conn.head().await {
            Ok(h) => h,
            Err(Cut) => {
                seen.cut = true;
                seen.refused = true;
                self.cut_before_head(tag, false);
                return;
            }
        };
        if head.status == 202 && !head.is_sse() {
            // Cancelled before anything was sent.
            seen.refused = true;
            return;
        }
        if head.status != 200 {
            seen.refused = true;
            self.refused(tag, &head);
            return;
        }
        let mut events = 0usize;
        if !head.is_sse() {
            if let Plan::Vanish(0) | Plan::Reset(0) = plan {
                seen.cut = true;
                return;
            }
            match conn.body(&head).await {
                Ok(bytes) => {
                    let msg = parse_json(&bytes);
                    self.world.log(format_args!("{} json {msg}", self.name));
                    if self.on_message(id, tag, name, args, &msg, seen).await {
                        seen.finals += 1;
                    }
                }
                Err(Cut) => {
                    seen.cut = true;
                    self.world
                        .check(plan.cuts() || self.world.out_of_grace(), || {
                            format!("{}: JSON body of {tag} cut", self.name)
                        });
                }
            }
            return;
        }
        loop {
            match plan {
                Plan::Vanish(n) | Plan::Reset(n) | Plan::Stall(n) | Plan::Abandon(n)
                    if n == events =>
                {
                    match plan {
                        Plan::Reset(_) => conn.end.reset(),
                        Plan::Stall(_) => {
                            self.world
                                .sleep(2 * WRITE_TIMEOUT.as_millis() as u64 + 500)
                                .await;
                        }
                        _ => {}
                    }
                    self.world
                        .log(format_args!("{} {plan:?} on {tag}", self.name));
                    seen.cut = true;
                    return;
                }
                _ => {}
            }
            let event = match conn.event().await {
                Ok(Some(e)) => e,
                Ok(None) => return,
                Err(Cut) => {
                    seen.cut = true;
                    let world = &self.world;
                    world.check(plan.cuts() || world.out_of_grace(), || {
                        format!("{}: stream of {tag} cut after {events} events", self.name)
                    });
                    return;
                }
            };
            events += 1;
            self.event(id, tag, name, args, &event, seen).await;
        }
    }

    async fn event(
        &mut self,
        id: i64,
        tag: &str,
        name: &str,
        args: &Value,
        event: &Event,
        seen: &mut Seen,
    ) {
        self.world.log(format_args!(
            "{} event {:?} {}",
            self.name,
            event.id,
            short(&event.data)
        ));
        if let Some(eid) = &event.id {
            let eid = parse_id(eid);
            if let Some(last) = seen.last_id {
                self.world
                    .check(eid.0 == last.0 && eid.1 == last.1 + 1, || {
                        format!("{}: event {eid:?} after {last:?} on {tag}", self.name)
                    });
            }
            seen.last_id = Some(eid);
        }
        if event.data.is_empty() {
            return;
        }
        let msg: Value = serde_json::from_str(&event.data).expect("event data is JSON");
        if self.on_message(id, tag, name, args, &msg, seen).await {
            seen.finals += 1;
        }
    }

    /// Resumes a cut call's stream with `Last-Event-ID`: the events after
    /// `last`, in order, and the reply at most once.
    async fn resume(
        &mut self,
        id: i64,
        tag: &str,
        name: &str,
        args: &Value,
        last: (u64, u64),
        seen: &mut Seen,
    ) {
        let conn = if self.rng.chance(50) {
            self.world.connect_slow().map(|mut c| {
                c.alive = Some(self.alive.clone());
                c
            })
        } else {
            self.conn(false)
        };
        let Some(mut conn) = conn else {
            // The listener is closed: shutting down.
            seen.refused = true;
            return;
        };
        let mut headers = self.session_headers();
        headers.retain(|(k, _)| *k != "content-type");
        headers.retain(|(k, _)| *k != "accept");
        headers.push(("accept", "text/event-stream".to_owned()));
        headers.push(("last-event-id", format!("{}-{}", last.0, last.1)));
        self.world
            .log(format_args!("{} resume {tag} after {last:?}", self.name));
        let head = match self.exchange(&mut conn, "GET", &headers, "").await {
            Ok(h) => h,
            Err(Cut) => {
                self.cut_before_head("a resumption", false);
                seen.refused = true;
                return;
            }
        };
        if head.status != 200 {
            self.world.log(format_args!(
                "{} resume {tag} -> {}",
                self.name, head.status
            ));
            let world = &self.world;
            let gone = head.status == 404 && self.may_have_expired();
            world.check(seen.finals == 1 || world.shutting_down() || gone, || {
                format!(
                    "{}: resuming {tag} after {last:?} answered {}",
                    self.name, head.status
                )
            });
            // Refused during shutdown: no way to the reply.
            seen.refused = true;
            return;
        }
        seen.cut = false;
        loop {
            match conn.event().await {
                Ok(Some(event)) => {
                    self.event(id, tag, name, args, &event, seen).await;
                }
                Ok(None) => {
                    seen.resumed = true;
                    return;
                }
                Err(Cut) => {
                    seen.cut = true;
                    self.world.check(self.world.out_of_grace(), || {
                        format!("{}: the resumed stream of {tag} was cut", self.name)
                    });
                    return;
                }
            }
        }
    }

    /// A plain request (`tools/list`, `ping`) on the kept connection.
    pub(crate) async fn plain(&mut self, method: &str) {
        let id = self.id();
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": {}});
        self.world.log(format_args!(
            "{} {method} {id} (kept connection: {})",
            self.name,
            self.idle_conn.is_some()
        ));
        let Some(mut conn) = self.conn(true) else {
            return;
        };
        let headers = if self.session.is_some() {
            self.session_headers()
        } else {
            let mut b: Value = body.clone();
            b["params"]["_meta"] = stateless_meta();
            return self.stateless_plain(conn, method, b).await;
        };
        let head = match self
            .exchange(&mut conn, "POST", &headers, &body.to_string())
            .await
        {
            Ok(h) => h,
            Err(Cut) => return self.cut_before_head(method, false),
        };
        if head.status != 200 {
            return self.refused(method, &head);
        }
        let Ok(bytes) = conn.body(&head).await else {
            return self
                .world
                .check(false, || format!("{}: {method} body cut", self.name));
        };
        let reply = parse_json(&bytes);
        self.world
            .log(format_args!("{} {method} {}", self.name, reply["id"]));
        self.world
            .check(reply["id"] == id && reply["result"].is_object(), || {
                format!("{}: {method} answered {reply}", self.name)
            });
        if !conn.closing {
            self.keep(conn);
        }
    }

    /// `n` plain requests written back to back on one connection
    /// (HTTP/1.1 pipelining), answered in order.
    pub(crate) async fn pipelined(&mut self, n: usize) {
        let Some(mut conn) = self.conn(false) else {
            return;
        };
        let mut ids = Vec::new();
        let mut sends = Vec::new();
        for i in 0..n {
            let id = self.id();
            // (The stateless revision has no ping.)
            let method = if i % 2 == 0 && self.session.is_some() {
                "ping"
            } else {
                "tools/list"
            };
            let mut body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": {}});
            let headers = if self.session.is_some() {
                self.session_headers()
            } else {
                body["params"]["_meta"] = stateless_meta();
                Self::stateless_headers(method, None)
            };
            ids.push(id);
            sends.push((headers, body.to_string()));
        }
        self.world
            .log(format_args!("{} pipelines {ids:?}", self.name));
        self.world.count("pipelined requests");
        // One buffer, one write: the server finds the next request already
        // read when it finishes the one before.
        let mut bytes = Vec::new();
        for (headers, body) in &sends {
            bytes.extend_from_slice(b"POST /mcp HTTP/1.1\r\nhost: localhost\r\n");
            for (k, v) in headers {
                bytes.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
            }
            bytes.extend_from_slice(
                format!("content-length: {}\r\n\r\n{body}", body.len()).as_bytes(),
            );
        }
        if conn.send_raw(&bytes).await.is_err() {
            return self.cut_before_head("pipelined requests", false);
        }
        for id in ids {
            let head = match conn.head().await {
                Ok(h) => h,
                Err(Cut) => return self.cut_before_head("a pipelined request", false),
            };
            if head.status != 200 {
                return self.refused("a pipelined request", &head);
            }
            let Ok(bytes) = conn.body(&head).await else {
                return self
                    .world
                    .check(false, || format!("{}: pipelined body cut", self.name));
            };
            let reply = parse_json(&bytes);
            self.world
                .check(reply["id"] == id && reply["result"].is_object(), || {
                    format!("{}: pipelined request {id} answered {reply}", self.name)
                });
            if conn.closing {
                // Closing (shutdown): the rest will not be read.
                let world = &self.world;
                return world.check(world.shutting_down(), || {
                    format!("{}: a pipelined reply closed the connection", self.name)
                });
            }
        }
        self.keep(conn);
    }

    async fn stateless_plain(&mut self, mut conn: Conn, method: &str, body: Value) {
        let headers = Self::stateless_headers(method, None);
        let head = match self
            .exchange(&mut conn, "POST", &headers, &body.to_string())
            .await
        {
            Ok(h) => h,
            Err(Cut) => return self.cut_before_head(method, false),
        };
        if head.status != 200 {
            return self.refused(method, &head);
        }
        let Ok(bytes) = conn.body(&head).await else {
            return self
                .world
                .check(false, || format!("{}: {method} body cut", self.name));
        };
        let reply = parse_json(&bytes);
        self.world.check(
            reply["id"] == body["id"] && reply["result"].is_object(),
            || format!("{}: {method} answered {reply}", self.name),
        );
        if !conn.closing {
            self.keep(conn);
        }
    }

    /// A stateless tools/call: input rounds answered until complete.
    pub(crate) async fn stateless_call(&mut self, name: &str, mut args: Value, plan: Plan) {
        let sent_at = self.world.rt.elapsed();
        let first = self.id();
        let tag = self.tag(first);
        args["tag"] = json!(tag);
        let mut extra = json!({});
        let mut rounds = 0;
        // Answers by question key (q1, q2, ...: in order).
        let mut given = std::collections::BTreeMap::new();
        loop {
            let id = if rounds == 0 { first } else { self.id() };
            let mut params = json!({"name": name, "arguments": args, "_meta": stateless_meta()});
            params["_meta"]["progressToken"] = json!(tag);
            for (k, v) in extra.as_object().unwrap() {
                params[k] = v.clone();
            }
            let body =
                json!({"jsonrpc": "2.0", "id": id, "method": "tools/call", "params": params});
            self.world
                .log(format_args!("{} stateless {id} {name} {plan:?}", self.name));
            let reuse = plan == Plan::Whole;
            let Some(mut conn) = self.conn(reuse) else {
                return;
            };
            let headers = Self::stateless_headers("tools/call", Some(name));
            let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let how = Send {
                chunked: None,
                pause: (plan == Plan::SlowSend).then_some(REQUEST_TIMEOUT + Duration::from_secs(1)),
            };
            let sent = conn.send_with("POST", &refs, &body.to_string(), how).await;
            if plan == Plan::SlowSend {
                let head = conn.head().await;
                let world = &self.world;
                world.count("plan: slow sender");
                world.check(
                    matches!(&head, Ok(h) if h.status == 408) || world.shutting_down(),
                    || {
                        format!(
                            "{}: a request sent too slowly got {:?}",
                            self.name,
                            head.map(|h| h.status)
                        )
                    },
                );
                return;
            }
            if sent.is_err() {
                return self.cut_before_head(&tag, false);
            }
            if plan == Plan::HalfClose {
                conn.end.close_write();
            }
            let mut seen = Seen::default();
            let mut result = None;
            self.read_stateless(&mut conn, id, &tag, plan, &mut seen, &mut result)
                .await;
            let world = Arc::clone(&self.world);
            world.log(format_args!("{} stateless {id} done: {seen:?}", self.name));
            if seen.finals == 0 {
                world.count("stateless call not answered (cut or refused)");
            }
            world.check(seen.finals <= 1, || {
                format!(
                    "{}: stateless {id} answered {} times",
                    self.name, seen.finals
                )
            });
            let excused = seen.refused || plan.cuts() || (seen.cut && world.out_of_grace());
            world.check(seen.finals == 1 || excused, || {
                format!("{}: stateless {id} never answered", self.name)
            });
            if !conn.closing
                && !seen.cut
                && !plan.cuts()
                && plan != Plan::HalfClose
                && seen.finals == 1
            {
                self.keep(conn);
            }
            let Some(result) = result else { return };
            if result["resultType"] == "input_required" {
                world.count("stateless input round");
                rounds += 1;
                world.check(rounds <= 5, || format!("{}: {tag} asks forever", self.name));
                let mut responses = json!({});
                for (key, request) in result["inputRequests"].as_object().expect("inputRequests") {
                    world.check(
                        request["params"]["message"] == format!("{tag} {key}"),
                        || format!("{}: input {request} for {tag}", self.name),
                    );
                    if self.rng.chance(15) {
                        given.insert(key.clone(), "?".to_owned());
                        responses[key] = json!({"action": "decline"});
                    } else {
                        given.insert(key.clone(), answer_for(&tag, key));
                        responses[key] =
                            json!({"action": "accept", "content": {"name": answer_for(&tag, key)}});
                    }
                }
                extra = json!({"inputResponses": responses});
                if let Some(state) = result.get("requestState") {
                    extra["requestState"] = state.clone();
                }
                continue;
            }
            world.count("stateless call answered");
            if name == "announce" && result["isError"] != true {
                world.announced(sent_at, world.rt.elapsed());
            }
            let text = result["content"][0]["text"].as_str().unwrap_or_default();
            if result["isError"] == true {
                world.check(world.shutting_down(), || {
                    format!("{}: {tag} failed: {result}", self.name)
                });
            } else {
                let want = if name == "ask" {
                    let answers: Vec<&str> = given.values().map(String::as_str).collect();
                    format!("{tag}:{}", answers.join(","))
                } else {
                    expected(name, &args)
                };
                world.check(text == want, || {
                    format!("{}: {tag} answered {text:?}, not {want:?}", self.name)
                });
            }
            return;
        }
    }

    async fn read_stateless(
        &mut self,
        conn: &mut Conn,
        id: i64,
        tag: &str,
        plan: Plan,
        seen: &mut Seen,
        result: &mut Option<Value>,
    ) {
        let head = match conn.head().await {
            Ok(h) => h,
            Err(Cut) => {
                seen.refused = true;
                return self.cut_before_head(tag, false);
            }
        };
        if head.status != 200 {
            seen.refused = true;
            return self.refused(tag, &head);
        }
        let world = Arc::clone(&self.world);
        let who = self.name.clone();
        let mut take = |msg: Value, seen: &mut Seen, progress: &mut f64| {
            if msg.get("result").is_some() || msg.get("error").is_some() {
                world.check(msg["id"] == id && msg.get("error").is_none(), || {
                    format!("{who}: {msg} for stateless {id}")
                });
                seen.finals += 1;
                *result = Some(msg["result"].clone());
            } else {
                world.check(
                    msg["method"] == "notifications/progress"
                        && msg["params"]["progressToken"] == tag,
                    || format!("{who}: {msg} on the stream of {tag}"),
                );
                let p = msg["params"]["progress"].as_f64().unwrap_or(0.0);
                world.check(p > *progress, || {
                    format!("{who}: progress {msg} after {progress}")
                });
                *progress = p;
            }
        };
        let mut progress = 0.0;
        if !head.is_sse() {
            if let Plan::Vanish(0) | Plan::Reset(0) = plan {
                seen.cut = true;
                return;
            }
            match conn.body(&head).await {
                Ok(bytes) => take(parse_json(&bytes), seen, &mut progress),
                Err(Cut) => {
                    seen.cut = true;
                    world.check(plan.cuts() || world.out_of_grace(), || {
                        format!("{}: JSON body of {tag} cut", self.name)
                    });
                }
            }
            return;
        }
        let mut events = 0;
        loop {
            match plan {
                Plan::Vanish(n) | Plan::Reset(n) | Plan::Stall(n) | Plan::Abandon(n)
                    if n == events =>
                {
                    match plan {
                        Plan::Reset(_) => conn.end.reset(),
                        Plan::Stall(_) => {
                            world
                                .sleep(2 * WRITE_TIMEOUT.as_millis() as u64 + 500)
                                .await;
                        }
                        _ => {}
                    }
                    seen.cut = true;
                    return;
                }
                _ => {}
            }
            match conn.event().await {
                Ok(Some(e)) => {
                    world.log(format_args!(
                        "{} event {:?} {}",
                        self.name,
                        e.id,
                        short(&e.data)
                    ));
                    events += 1;
                    if !e.data.is_empty() {
                        take(
                            serde_json::from_str(&e.data).expect("JSON"),
                            seen,
                            &mut progress,
                        );
                    }
                }
                Ok(None) => return,
                Err(Cut) => {
                    seen.cut = true;
                    world.check(plan.cuts() || world.out_of_grace(), || {
                        format!("{}: stream of {tag} cut", self.name)
                    });
                    return;
                }
            }
        }
    }

    /// Ends the session with DELETE.
    pub(crate) async fn delete(&mut self) {
        self.world.log(format_args!(
            "{} DELETE (kept connection: {})",
            self.name,
            self.idle_conn.is_some()
        ));
        let Some(mut conn) = self.conn(true) else {
            return;
        };
        let mut headers = self.session_headers();
        headers.retain(|(k, _)| *k == "mcp-session-id" || *k == "mcp-protocol-version");
        match self.exchange(&mut conn, "DELETE", &headers, "").await {
            Ok(h) if h.status == 200 || h.status == 204 => {
                self.world.count("session deleted");
                self.world.log(format_args!("{} deleted", self.name));
            }
            Ok(h) => self.refused("DELETE", &h),
            Err(Cut) => self.cut_before_head("DELETE", false),
        }
        self.session = None;
    }

    /// A call with a DELETE of its session `delay_ms` later, from another
    /// connection: the call is answered or ends without an answer, and the
    /// session is gone afterwards.
    pub(crate) async fn call_racing_delete(&mut self, name: &str, args: Value, delay_ms: u64) {
        self.ended.store(true, Ordering::Release);
        let world = Arc::clone(&self.world);
        let mut headers = self.session_headers();
        headers.retain(|(k, _)| *k == "mcp-session-id" || *k == "mcp-protocol-version");
        let who = self.name.clone();
        let alive = self.alive.clone();
        let deleter = async move {
            world.sleep(delay_ms).await;
            world.log(format_args!("{who} DELETE racing a call"));
            let Some(mut conn) = world.connect() else {
                return;
            };
            let refs: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let head = match conn.send("DELETE", &refs, "").await {
                Ok(()) => conn.head().await,
                Err(Cut) => Err(Cut),
            };
            let status = head.map(|h| h.status);
            world.log(format_args!("{who} DELETE -> {status:?}"));
            let expired = alive.may_have_expired(world.rt.elapsed(), world.idle);
            world.check(
                status == Ok(200) || world.shutting_down() || (status == Ok(404) && expired),
                || format!("{who}: DELETE answered {status:?}"),
            );
        };
        self.world.count("DELETE racing a call");
        futures::join!(self.session_call(name, args, Plan::Whole, None), deleter);
        // Gone now: a request in it is answered 404.
        self.idle_conn = None;
        let Some(mut conn) = self.conn(false) else {
            return;
        };
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
        let headers = self.session_headers();
        match self
            .exchange(&mut conn, "POST", &headers, &body.to_string())
            .await
        {
            Ok(h) => self.world.check(
                h.status == 404 || (h.status == 503 && self.world.shutting_down()),
                || format!("{}: a deleted session answered {}", self.name, h.status),
            ),
            Err(Cut) => self.cut_before_head("ping after DELETE", false),
        }
        self.session = None;
    }

    /// Waits past the idle timeout, then finds the session gone.
    pub(crate) async fn idle_out(&mut self) {
        self.world.log(format_args!("{} idles", self.name));
        self.idle_conn = None;
        self.world
            .sleep(self.world.idle.as_millis() as u64 * 3 / 2 + 1000)
            .await;
        let Some(mut conn) = self.conn(false) else {
            return;
        };
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
        match self
            .exchange(
                &mut conn,
                "POST",
                &self.session_headers(),
                &body.to_string(),
            )
            .await
        {
            Ok(h) => {
                self.world
                    .log(format_args!("{} after idling -> {}", self.name, h.status));
                self.world.count("session expired while idle");
                self.world.check(
                    h.status == 404 || (h.status == 503 && self.world.shutting_down()),
                    || format!("{}: an idle session answered {}", self.name, h.status),
                );
            }
            Err(Cut) => self.cut_before_head("ping after idling", false),
        }
        self.session = None;
    }
}

/// The `_meta` of a stateless request.
pub(crate) fn stateless_meta() -> Value {
    json!({"io.modelcontextprotocol/protocolVersion": STATELESS_VERSION,
        "io.modelcontextprotocol/clientCapabilities": {"elicitation": {}, "sampling": {}},
        "io.modelcontextprotocol/clientInfo": {"name": "sim", "version": "1"}})
}
