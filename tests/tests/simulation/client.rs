//! A small HTTP/1.1 client over a simulated connection: writes a request,
//! reads a response head, then a JSON body (Content-Length) or SSE events
//! (chunked). A connection that ends or fails is `Cut`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use serde_json::Value;

pub(crate) use tests::client::Head;

use super::executor::Rng;
use super::net::End;

/// The connection ended (or failed) before what was awaited arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Cut;

/// How a request is written.
#[derive(Debug, Default)]
pub(crate) struct Send {
    /// Chunked, in pieces of sizes drawn from this.
    pub(crate) chunked: Option<Rng>,
    /// A pause after the first half.
    pub(crate) pause: Option<std::time::Duration>,
}

/// One server-sent event.
#[derive(Debug, Clone, Default)]
pub(crate) struct Event {
    /// Its id, if any.
    pub(crate) id: Option<String>,
    /// Its data lines, joined.
    pub(crate) data: String,
}

/// A client connection.
pub(crate) struct Conn {
    pub(crate) end: End,
    buf: Vec<u8>,
    /// De-chunked body bytes not yet taken.
    body: Vec<u8>,
    /// Whether the chunked body ended.
    ended: bool,
    /// Whether the response asked to close the connection.
    pub(crate) closing: bool,
    /// Where to note that the session was alive (see [`Alive`]).
    pub(crate) alive: Option<Alive>,
    /// When the last request started to be sent.
    sent_at: Duration,
}

/// The latest virtual time (in ms) at which the server certainly counted
/// its session active: the start of a request it answered 200 or 202, or
/// a little before bytes of a stream arrived (it was still writing then,
/// and a session is kept while one of its responses is written). A 404
/// for "session not found" is right only when the idle timeout has passed
/// since.
#[derive(Clone, Debug, Default)]
pub(crate) struct Alive(Arc<AtomicU64>);

/// How long bytes may sit in a connection's buffers before the client
/// reads them (the slowest link drains its 4 KiB in under 3 s).
const IN_TRANSIT: Duration = Duration::from_secs(5);

impl Alive {
    /// Notes the session was alive at `at`.
    pub(crate) fn at(&self, at: Duration) {
        self.0.fetch_max(at.as_millis() as u64, Ordering::AcqRel);
    }

    /// Whether the session may have expired by `now` for idling `idle`.
    pub(crate) fn may_have_expired(&self, now: Duration, idle: Duration) -> bool {
        now.as_millis() as u64 >= self.0.load(Ordering::Acquire) + idle.as_millis() as u64
    }
}

impl Conn {
    pub(crate) fn new(end: End) -> Self {
        Self {
            end,
            buf: Vec::new(),
            body: Vec::new(),
            ended: false,
            closing: false,
            alive: None,
            sent_at: Duration::ZERO,
        }
    }

    /// Writes a request.
    pub(crate) async fn send(
        &mut self,
        method: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Result<(), Cut> {
        self.send_with(method, headers, body, Send::default()).await
    }

    /// Writes raw bytes.
    pub(crate) async fn send_raw(&mut self, bytes: &[u8]) -> Result<(), Cut> {
        self.sent_at = self.end.runtime().elapsed();
        self.end.write_all(bytes).await.map_err(|_| Cut)?;
        self.end.flush().await.map_err(|_| Cut)
    }

    /// Writes a request as `how` says: its body chunked, or a pause
    /// halfway through.
    pub(crate) async fn send_with(
        &mut self,
        method: &str,
        headers: &[(&str, &str)],
        body: &str,
        mut how: Send,
    ) -> Result<(), Cut> {
        self.sent_at = self.end.runtime().elapsed();
        let mut req = format!("{method} /mcp HTTP/1.1\r\nhost: localhost\r\n");
        for (n, v) in headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        match how.chunked.as_mut() {
            Some(rng) => {
                req.push_str("transfer-encoding: chunked\r\n\r\n");
                let mut rest = body.as_bytes();
                while !rest.is_empty() {
                    let n = (rng.range(1, 64) as usize).min(rest.len());
                    req.push_str(&format!("{n:x}\r\n"));
                    req.push_str(std::str::from_utf8(&rest[..n]).expect("ASCII bodies"));
                    req.push_str("\r\n");
                    rest = &rest[n..];
                }
                req.push_str("0\r\n\r\n");
            }
            None => {
                if method == "POST" {
                    req.push_str(&format!("content-length: {}\r\n", body.len()));
                }
                req.push_str("\r\n");
                req.push_str(body);
            }
        }
        let bytes = req.as_bytes();
        let half = if how.pause.is_some() {
            bytes.len() / 2
        } else {
            bytes.len()
        };
        self.end.write_all(&bytes[..half]).await.map_err(|_| Cut)?;
        if let Some(pause) = how.pause {
            self.end.flush().await.map_err(|_| Cut)?;
            switchboard_core::Runtime::sleep(self.end.runtime(), pause).await;
        }
        self.end.write_all(&bytes[half..]).await.map_err(|_| Cut)?;
        self.end.flush().await.map_err(|_| Cut)
    }

    async fn fill(&mut self) -> Result<(), Cut> {
        let mut chunk = [0u8; 4096];
        match self.end.read(&mut chunk).await {
            Ok(0) | Err(_) => Err(Cut),
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
        }
    }

    /// Reads the next response head.
    pub(crate) async fn head(&mut self) -> Result<Head, Cut> {
        loop {
            if let Some((head, n)) = Head::parse(&self.buf) {
                self.buf.drain(..n);
                self.body.clear();
                self.ended = false;
                self.closing = head
                    .header("connection")
                    .is_some_and(|v| v.eq_ignore_ascii_case("close"));
                if head.status == 100 {
                    continue;
                }
                if let (200 | 202, Some(alive)) = (head.status, &self.alive) {
                    alive.at(self.sent_at);
                }
                return Ok(head);
            }
            self.fill().await?;
        }
    }

    /// Reads a whole body framed by Content-Length (or chunked).
    pub(crate) async fn body(&mut self, head: &Head) -> Result<Vec<u8>, Cut> {
        if head.chunked() {
            while !self.ended {
                self.pump().await?;
            }
            return Ok(std::mem::take(&mut self.body));
        }
        let len: usize = head
            .header("content-length")
            .map_or(0, |v| v.parse().expect("a valid content-length"));
        while self.buf.len() < len {
            self.fill().await?;
        }
        Ok(self.buf.drain(..len).collect())
    }

    /// Decodes at least one more chunk.
    async fn pump(&mut self) -> Result<(), Cut> {
        loop {
            if let Some(line_end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let text = String::from_utf8_lossy(&self.buf[..line_end]).to_string();
                let size = usize::from_str_radix(text.trim(), 16).expect("a chunk size");
                if size == 0 {
                    if self.buf.len() >= line_end + 4 {
                        self.buf.drain(..line_end + 4);
                        self.ended = true;
                        return Ok(());
                    }
                } else if self.buf.len() >= line_end + 2 + size + 2 {
                    let data = self.buf[line_end + 2..line_end + 2 + size].to_vec();
                    if let Some(alive) = &self.alive {
                        alive.at(self.end.runtime().elapsed().saturating_sub(IN_TRANSIT));
                    }
                    self.buf.drain(..line_end + 4 + size);
                    self.body.extend_from_slice(&data);
                    return Ok(());
                }
            }
            self.fill().await?;
        }
    }

    /// The next SSE event with an id or data (comments skipped); `None`
    /// when the stream ended cleanly.
    pub(crate) async fn event(&mut self) -> Result<Option<Event>, Cut> {
        loop {
            if let Some(end) = self.body.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.body.drain(..end + 2).collect();
                if let Some(e) = parse_event(&String::from_utf8_lossy(&block)) {
                    return Ok(Some(e));
                }
                continue;
            }
            if self.ended {
                return Ok(None);
            }
            self.pump().await?;
        }
    }
}

fn parse_event(block: &str) -> Option<Event> {
    let mut event = Event::default();
    let mut any = false;
    for line in block.lines() {
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "id" => {
                event.id = Some(value.to_owned());
                any = true;
            }
            "data" => {
                if !event.data.is_empty() {
                    event.data.push('\n');
                }
                event.data.push_str(value);
                any = true;
            }
            _ => {}
        }
    }
    any.then_some(event)
}

/// Parses a body as JSON.
pub(crate) fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}
