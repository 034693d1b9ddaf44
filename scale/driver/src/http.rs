//! A small HTTP/1.1 client over a `TcpStream`: one request at a time on a
//! keep-alive connection, Content-Length, chunked and read-to-close bodies,
//! and SSE events read as they arrive (so a buffering balancer shows up as
//! a timeout, not as a pass).

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;

/// The longest any single read, write or connect may take.
pub const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Where requests go: `http://IP:PORT/path`.
#[derive(Clone, Debug)]
pub struct Target {
    /// The address connected to.
    pub addr: SocketAddr,
    /// The `Host` header sent (the URL's authority).
    pub host: String,
    /// The request target.
    pub path: String,
}

impl Target {
    /// Parses `http://IP:PORT[/path]` (path default `/mcp`).
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("not an http:// URL: {url}"))?;
        let (host, path) = rest.split_once('/').unwrap_or((rest, "mcp"));
        let addr = host
            .parse()
            .map_err(|_| format!("the URL's host must be IP:PORT: {url}"))?;
        Ok(Self {
            addr,
            host: host.to_owned(),
            path: format!("/{path}"),
        })
    }
}

/// How the body of the response being read ends.
#[derive(Clone, Copy, Debug)]
enum Framing {
    /// This many bytes are left.
    Length(usize),
    /// Chunked transfer coding.
    Chunked,
    /// At end of stream.
    Close,
}

/// A response head.
#[derive(Debug)]
pub struct Head {
    /// The status code.
    pub status: u16,
    /// The headers, names lowercased.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of header `name` (lowercase).
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
}

/// A whole response: the head and its JSON-RPC messages (one for a JSON
/// body, every `data:` of an SSE body, none for an empty body).
#[derive(Debug)]
pub struct Reply {
    /// The head.
    pub head: Head,
    /// The messages.
    pub messages: Vec<Value>,
}

/// One SSE event.
#[derive(Debug, Default)]
pub struct Event {
    /// Its `id:`, if any.
    pub id: Option<String>,
    /// Its `data:` lines, joined.
    pub data: String,
}

/// One connection.
pub struct Conn {
    stream: TcpStream,
    target: Target,
    /// Bytes read and not yet decoded.
    raw: Vec<u8>,
    /// Decoded body bytes not yet consumed.
    body: Vec<u8>,
    framing: Framing,
    /// The current body is complete.
    done: bool,
    /// The server said `Connection: close`, or the stream broke.
    closing: bool,
    /// The longest one read may take ([`IO_TIMEOUT`] unless set).
    read_timeout: Duration,
}

/// The first position of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

impl Conn {
    /// Connects to `target` (bounded by [`IO_TIMEOUT`]).
    pub async fn open(target: &Target) -> Result<Self, String> {
        let stream = timeout(IO_TIMEOUT, TcpStream::connect(target.addr))
            .await
            .map_err(|_| "connect timed out".to_owned())?
            .map_err(|e| format!("connect: {e}"))?;
        stream.set_nodelay(true).map_err(|e| e.to_string())?;
        Ok(Self {
            stream,
            target: target.clone(),
            raw: Vec::with_capacity(8192),
            body: Vec::new(),
            framing: Framing::Length(0),
            done: true,
            closing: false,
            read_timeout: IO_TIMEOUT,
        })
    }

    /// Lets one read take up to `limit` (for a server known to answer
    /// late, such as one waiting on a frozen Redis).
    pub fn read_timeout(mut self, limit: Duration) -> Self {
        self.read_timeout = limit;
        self
    }

    /// Whether another request may be sent on this connection.
    pub fn reusable(&self) -> bool {
        !self.closing && self.done
    }

    /// Reads more bytes; `false` at end of stream.
    async fn fill(&mut self) -> Result<bool, String> {
        let mut chunk = [0u8; 16384];
        let n = timeout(self.read_timeout, self.stream.read(&mut chunk))
            .await
            .map_err(|_| "read timed out".to_owned())?
            .map_err(|e| format!("read: {e}"))?;
        self.raw.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    /// Sends a request and reads its head; the body is then read with
    /// [`Conn::body`] or [`Conn::event`].
    pub async fn send(
        &mut self,
        method: &str,
        headers: &[(String, String)],
        body: &str,
    ) -> Result<Head, String> {
        if !self.reusable() {
            return Err("connection not reusable".into());
        }
        let mut req = format!(
            "{method} {} HTTP/1.1\r\nhost: {}\r\n",
            self.target.path, self.target.host
        );
        for (name, value) in headers {
            req.push_str(&format!("{name}: {value}\r\n"));
        }
        if method == "POST" {
            req.push_str(&format!("content-length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        req.push_str(body);
        timeout(IO_TIMEOUT, self.stream.write_all(req.as_bytes()))
            .await
            .map_err(|_| "write timed out".to_owned())?
            .map_err(|e| {
                self.closing = true;
                format!("write: {e}")
            })?;
        let head = loop {
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&self.raw).map_err(|e| e.to_string())? {
                httparse::Status::Complete(n) => {
                    let head = Head {
                        status: resp.code.unwrap_or(0),
                        headers: resp
                            .headers
                            .iter()
                            .map(|h| {
                                (
                                    h.name.to_ascii_lowercase(),
                                    String::from_utf8_lossy(h.value).trim().to_owned(),
                                )
                            })
                            .collect(),
                    };
                    self.raw.drain(..n);
                    break head;
                }
                httparse::Status::Partial => {
                    if !self.fill().await.inspect_err(|_| self.closing = true)? {
                        self.closing = true;
                        return Err("connection closed before a response".into());
                    }
                }
            }
        };
        let chunked = head
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        self.framing = if chunked {
            Framing::Chunked
        } else if let Some(len) = head.header("content-length") {
            Framing::Length(
                len.parse()
                    .map_err(|_| format!("bad content-length {len}"))?,
            )
        } else if head.status == 204 || head.status == 304 {
            Framing::Length(0)
        } else {
            Framing::Close
        };
        if matches!(self.framing, Framing::Close)
            || head
                .header("connection")
                .is_some_and(|v| v.eq_ignore_ascii_case("close"))
        {
            self.closing = true;
        }
        self.done = matches!(self.framing, Framing::Length(0));
        self.body.clear();
        Ok(head)
    }

    /// Decodes some more of the body (reading when nothing is decodable).
    async fn pump(&mut self) -> Result<(), String> {
        loop {
            match self.framing {
                Framing::Length(0) => {
                    self.done = true;
                    return Ok(());
                }
                Framing::Length(left) if !self.raw.is_empty() => {
                    let n = left.min(self.raw.len());
                    self.body.extend(self.raw.drain(..n));
                    self.framing = Framing::Length(left - n);
                    self.done = left == n;
                    return Ok(());
                }
                Framing::Chunked => {
                    if let Some(line) = find(&self.raw, b"\r\n") {
                        let text = std::str::from_utf8(&self.raw[..line]).unwrap_or("");
                        let size_text = text.split(';').next().unwrap_or("").trim();
                        let size = usize::from_str_radix(size_text, 16)
                            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
                        if size == 0 {
                            // No trailers expected: "0\r\n\r\n".
                            if self.raw.len() >= line + 4 {
                                self.raw.drain(..line + 4);
                                self.done = true;
                                return Ok(());
                            }
                        } else if self.raw.len() >= line + 2 + size + 2 {
                            self.body
                                .extend_from_slice(&self.raw[line + 2..line + 2 + size]);
                            self.raw.drain(..line + 2 + size + 2);
                            return Ok(());
                        }
                    }
                }
                Framing::Close if !self.raw.is_empty() => {
                    self.body.append(&mut self.raw);
                    return Ok(());
                }
                _ => {}
            }
            if !self.fill().await.inspect_err(|_| self.closing = true)? {
                self.closing = true;
                if matches!(self.framing, Framing::Close) {
                    self.done = true;
                    return Ok(());
                }
                return Err("connection closed mid-body".into());
            }
        }
    }

    /// The rest of the body.
    pub async fn body(&mut self) -> Result<Vec<u8>, String> {
        while !self.done {
            self.pump().await?;
        }
        Ok(std::mem::take(&mut self.body))
    }

    /// The next SSE event (comment-only blocks skipped), `None` at the end
    /// of the stream.
    pub async fn event(&mut self) -> Result<Option<Event>, String> {
        loop {
            if let Some(end) = find(&self.body, b"\n\n") {
                let block: Vec<u8> = self.body.drain(..end + 2).collect();
                let text = String::from_utf8_lossy(&block);
                let mut event = Event::default();
                for line in text.lines() {
                    let line = line.trim_end_matches('\r');
                    if let Some(v) = line.strip_prefix("id:") {
                        event.id = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        event.data.push_str(v.strip_prefix(' ').unwrap_or(v));
                    }
                }
                if event.id.is_none() && event.data.is_empty() {
                    continue;
                }
                return Ok(Some(event));
            }
            if self.done {
                return Ok(None);
            }
            self.pump().await?;
        }
    }

    /// Sends a request and reads its whole reply.
    pub async fn request(
        &mut self,
        method: &str,
        headers: &[(String, String)],
        body: &str,
    ) -> Result<Reply, String> {
        let head = self.send(method, headers, body).await?;
        let bytes = self.body().await?;
        let messages = if bytes.is_empty() {
            Vec::new()
        } else if head.is_sse() {
            String::from_utf8_lossy(&bytes)
                .split("\n\n")
                .flat_map(|event| {
                    event
                        .lines()
                        .filter_map(|l| l.strip_prefix("data:"))
                        .map(str::trim)
                        .filter(|d| !d.is_empty())
                        .map(str::to_owned)
                        .collect::<Vec<_>>()
                })
                .map(|d| serde_json::from_str(&d).map_err(|e| format!("SSE data: {e}")))
                .collect::<Result<_, _>>()?
        } else {
            match serde_json::from_slice(&bytes) {
                Ok(v) => vec![v],
                // A balancer's own error page (502, 503) is not JSON.
                Err(_) if head.status >= 400 => Vec::new(),
                Err(e) => return Err(format!("JSON body: {e}")),
            }
        };
        Ok(Reply { head, messages })
    }
}
