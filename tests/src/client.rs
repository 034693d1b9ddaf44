//! A small blocking HTTP/1.1 client over `std::net::TcpStream`, for tests
//! that assert on raw bytes: it sends exactly what a test writes and reads
//! responses (Content-Length, chunked, SSE) with httparse.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::Value;

use crate::DEADLINE;

/// A response head.
#[derive(Clone, Debug)]
pub struct Head {
    /// The status code.
    pub status: u16,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the body is an SSE stream.
    pub fn is_sse(&self) -> bool {
        self.header("content-type")
            .is_some_and(|v| v.starts_with("text/event-stream"))
    }

    /// Whether the body is chunked.
    pub fn chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    }

    /// Parses a response head at the front of `buf`: the head and the bytes
    /// it took, or `None` while it is incomplete.
    ///
    /// # Panics
    ///
    /// On bytes that are not an HTTP/1.1 response head (the servers under
    /// test write valid ones).
    pub fn parse(buf: &[u8]) -> Option<(Self, usize)> {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(buf).expect("a valid response head") {
            httparse::Status::Complete(n) => Some((
                Self {
                    status: resp.code.unwrap_or(0),
                    headers: resp
                        .headers
                        .iter()
                        .map(|h| {
                            (
                                h.name.to_ascii_lowercase(),
                                String::from_utf8_lossy(h.value).into_owned(),
                            )
                        })
                        .collect(),
                },
                n,
            )),
            httparse::Status::Partial => None,
        }
    }
}

/// A whole response.
#[derive(Clone, Debug)]
pub struct Reply {
    /// Its head.
    pub head: Head,
    /// Its body, de-chunked.
    pub body: Vec<u8>,
}

impl Reply {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.head.status
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    /// The JSON-RPC messages of the body: the JSON object, or the `data` of
    /// each SSE event that has any.
    pub fn messages(&self) -> Vec<Value> {
        if self
            .head
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/event-stream"))
        {
            parse_events(&self.body)
                .into_iter()
                .filter(|e| !e.data.is_empty())
                .map(|e| serde_json::from_str(&e.data).expect("event data is JSON"))
                .collect()
        } else {
            vec![self.json()]
        }
    }
}

/// One server-sent event.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Event {
    /// Its `id`, if any.
    pub id: Option<String>,
    /// Its `data` lines joined.
    pub data: String,
    /// Its `retry`, if any.
    pub retry: Option<String>,
}

impl Event {
    /// The data as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("event data not JSON ({e}): {}", self.data))
    }
}

/// Splits SSE text into events (comments skipped).
pub fn parse_events(body: &[u8]) -> Vec<Event> {
    let text = String::from_utf8_lossy(body);
    text.split("\n\n")
        .filter(|b| !b.trim().is_empty())
        .filter_map(parse_event)
        .collect()
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
        any = true;
        match field {
            "id" => event.id = Some(value.to_owned()),
            "data" => {
                if !event.data.is_empty() {
                    event.data.push('\n');
                }
                event.data.push_str(value);
            }
            "retry" => event.retry = Some(value.to_owned()),
            _ => {}
        }
    }
    any.then_some(event)
}

/// One client connection.
#[derive(Debug)]
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// De-chunked body bytes of a streaming response not yet taken.
    body: Vec<u8>,
    /// Whether the streaming body ended.
    ended: bool,
}

impl Conn {
    /// Connects, with reads bounded by [`DEADLINE`].
    pub fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect(addr).expect("server accepts");
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        stream.set_nodelay(true).unwrap();
        Self {
            stream,
            buf: Vec::new(),
            body: Vec::new(),
            ended: false,
        }
    }

    /// Writes raw bytes.
    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("write");
    }

    /// Writes a request with `Host` set to the server's address and, when
    /// there is a body, `Content-Length`.
    pub fn send(&mut self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) {
        let addr = self.stream.peer_addr().unwrap();
        let mut req = format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\n");
        for (n, v) in headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            req.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        req.push_str(body);
        self.send_raw(req.as_bytes());
    }

    /// Reads more bytes; false at end of stream.
    fn fill(&mut self) -> bool {
        let mut chunk = [0u8; 8192];
        match self.stream.read(&mut chunk) {
            Ok(0) => false,
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                true
            }
            Err(e) if matches!(e.kind(), std::io::ErrorKind::ConnectionReset) => false,
            Err(e) => panic!("read failed (timed out?): {e}"),
        }
    }

    /// Reads a response head (skipping any `100 Continue`).
    pub fn read_head(&mut self) -> Head {
        loop {
            let head = self.read_any_head();
            if head.status != 100 {
                return head;
            }
        }
    }

    /// Reads the next response head, interim ones (`100 Continue`) included.
    pub fn read_any_head(&mut self) -> Head {
        loop {
            if let Some((head, n)) = Head::parse(&self.buf) {
                self.buf.drain(..n);
                self.body.clear();
                self.ended = false;
                return head;
            }
            assert!(self.fill(), "connection closed before a response head");
        }
    }

    /// Reads the rest of a body framed as `head` says.
    pub fn read_body(&mut self, head: &Head) -> Vec<u8> {
        if head.chunked() {
            while !self.ended {
                self.pump_chunks();
            }
            return std::mem::take(&mut self.body);
        }
        let len: usize = head
            .header("content-length")
            .map_or(0, |v| v.parse().unwrap());
        while self.buf.len() < len {
            assert!(self.fill(), "connection closed inside a body");
        }
        self.buf.drain(..len).collect()
    }

    /// Reads a whole response.
    pub fn read_reply(&mut self) -> Reply {
        let head = self.read_head();
        let body = self.read_body(&head);
        Reply { head, body }
    }

    /// Sends a request and reads its whole response.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Reply {
        self.send(method, path, headers, body);
        self.read_reply()
    }

    /// Decodes at least one more chunk of a chunked body (reading as needed).
    fn pump_chunks(&mut self) {
        loop {
            if let Some(line_end) = self.buf.windows(2).position(|w| w == b"\r\n") {
                let size_text = String::from_utf8_lossy(&self.buf[..line_end]).to_string();
                let size = usize::from_str_radix(size_text.trim(), 16).expect("chunk size");
                if size == 0 {
                    if self.buf.len() >= line_end + 4 {
                        self.buf.drain(..line_end + 4);
                        self.ended = true;
                        return;
                    }
                } else if self.buf.len() >= line_end + 2 + size + 2 {
                    let data: Vec<u8> = self.buf[line_end + 2..line_end + 2 + size].to_vec();
                    self.buf.drain(..line_end + 2 + size + 2);
                    self.body.extend_from_slice(&data);
                    return;
                }
            }
            if !self.fill() {
                self.ended = true;
                return;
            }
        }
    }

    /// The next de-chunked bytes of a streaming response, comments
    /// included; empty once the stream has ended.
    pub fn next_chunk(&mut self) -> Vec<u8> {
        while self.body.is_empty() && !self.ended {
            self.pump_chunks();
        }
        std::mem::take(&mut self.body)
    }

    /// The next SSE event of a streaming (chunked) response, or `None` when
    /// the stream ends. Keep-alive comments are skipped.
    pub fn next_event(&mut self) -> Option<Event> {
        loop {
            if let Some(end) = self.body.windows(2).position(|w| w == b"\n\n") {
                let block: Vec<u8> = self.body.drain(..end + 2).collect();
                if let Some(e) = parse_event(&String::from_utf8_lossy(&block)) {
                    return Some(e);
                }
                continue;
            }
            if self.ended {
                return None;
            }
            self.pump_chunks();
        }
    }

    /// Whether the server closed the connection (reads until EOF, bounded).
    pub fn is_closed_by_server(&mut self) -> bool {
        self.stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let mut chunk = [0u8; 1024];
        loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }
}
