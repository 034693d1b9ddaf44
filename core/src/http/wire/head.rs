//! Request heads: httparse into one buffer and ranges, the headers the
//! server reads indexed once, and how the body is framed. Heads that other
//! front doors fill (from `http` request parts, or in-process) are built
//! in [`fill`].

use std::mem::MaybeUninit;
use std::ops::Range;

use http::Method;

use super::error::HttpError;
use crate::http::config::HttpConfig;

mod fill;
pub(crate) use fill::synthetic_head;

/// A parsed request head: one copy of the head's bytes plus the ranges of
/// its parts, so parsing allocates a fixed few buffers, never one per header.
///
/// It owns its bytes, so it outlives the read buffer it was parsed from.
/// Header lookups compare names case-insensitively and return values as
/// httparse delimited them, undecoded.
///
/// # Examples
///
/// ```
/// use http::Method;
/// use switchboard_core::http::wire::parse_head;
/// use switchboard_core::HttpConfig;
///
/// let raw = b"GET /mcp?debug=1 HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n";
/// let (head, _) = parse_head(raw, &HttpConfig::default()).unwrap().unwrap();
/// assert_eq!(head.method, Method::GET);
/// assert_eq!(head.target(), "/mcp?debug=1");
/// assert_eq!(head.path(), "/mcp");
/// assert_eq!(head.header("accept"), Some("text/event-stream"));
/// assert!(head.http11 && head.keep_alive());
/// ```
///
/// Its `Debug` output lists header names and values, except the value of
/// `Authorization`, which is never printed (it holds a bearer token).
#[derive(Clone)]
pub struct RequestHead {
    /// The method.
    pub method: Method,
    /// True for HTTP/1.1, false for HTTP/1.0.
    pub http11: bool,
    /// The head's bytes, request line through the blank line as received
    /// (or, from another front door, its target and headers laid end to
    /// end); every range below indexes into it.
    raw: Raw,
    /// Where the request target lies in `raw` (empty when there is none).
    target: Range<usize>,
    /// Each header's name and value ranges in `raw`, in arrival order.
    headers: Vec<(Range<usize>, Range<usize>)>,
    /// Where each header the server reads first appears (index + 1; 0 when
    /// absent), found once while parsing rather than by a scan per lookup.
    known: [u16; Known::COUNT],
    /// Bit `k` is set when the known header `k` appears more than once.
    repeated: u16,
}

impl std::fmt::Debug for RequestHead {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(n, v)| {
                let name = String::from_utf8_lossy(&self.raw[n.clone()]).into_owned();
                let value = if Known::of(name.as_bytes()) == Some(Known::Authorization) {
                    "[redacted]".to_owned()
                } else {
                    String::from_utf8_lossy(&self.raw[v.clone()]).into_owned()
                };
                (name, value)
            })
            .collect();
        f.debug_struct("RequestHead")
            .field("method", &self.method)
            .field("target", &self.target())
            .field("http11", &self.http11)
            .field("headers", &headers)
            .finish()
    }
}

/// A head's bytes: text when they are all UTF-8, as nearly every head's
/// are (checked once for the whole head, so reading a value as text
/// checks nothing more), else bytes, whose values are checked one by one.
#[derive(Clone)]
enum Raw {
    /// A head that is UTF-8 throughout.
    Text(String),
    /// A head with other bytes, or one still being filled.
    Bytes(Vec<u8>),
}

impl Raw {
    /// `bytes`, as text when they are UTF-8.
    fn new(bytes: Vec<u8>) -> Self {
        match String::from_utf8(bytes) {
            Ok(text) => Self::Text(text),
            Err(e) => Self::Bytes(e.into_bytes()),
        }
    }

    /// All the bytes.
    fn bytes(&self) -> &[u8] {
        match self {
            Self::Text(t) => t.as_bytes(),
            Self::Bytes(b) => b,
        }
    }

    /// The part at `range` as text; `None` when it is not UTF-8.
    fn text(&self, range: Range<usize>) -> Option<&str> {
        match self {
            Self::Text(t) => t.get(range),
            Self::Bytes(b) => std::str::from_utf8(&b[range]).ok(),
        }
    }

    /// Appends `part` to a head being filled (as bytes, until
    /// [`Raw::seal`]); returns where it lies.
    fn push(&mut self, part: &[u8]) -> Range<usize> {
        let mut bytes = match std::mem::replace(self, Self::Bytes(Vec::new())) {
            Self::Text(t) => t.into_bytes(),
            Self::Bytes(b) => b,
        };
        let start = bytes.len();
        bytes.extend_from_slice(part);
        let range = start..bytes.len();
        *self = Self::Bytes(bytes);
        range
    }

    /// A filled head, as text when it is UTF-8.
    fn seal(&mut self) {
        if let Self::Bytes(b) = self {
            *self = Self::new(std::mem::take(b));
        }
    }
}

impl std::ops::Index<Range<usize>> for Raw {
    type Output = [u8];

    fn index(&self, range: Range<usize>) -> &[u8] {
        &self.bytes()[range]
    }
}

/// The headers the server itself reads.
///
/// Each is indexed once while the head is parsed, so the rules look one up
/// without scanning the header list. The discriminant is the index into
/// `RequestHead::known` and the bit in `RequestHead::repeated`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Known {
    /// `Host`: checked against the allowed hosts.
    Host,
    /// `Origin`: checked against the allowed origins when present.
    Origin,
    /// `Accept`: decides between a JSON and an SSE reply.
    Accept,
    /// `Expect`: `100-continue` is answered before the body is read.
    Expect,
    /// `Connection`: `close` or `keep-alive`.
    Connection,
    /// `Content-Type`: a POST must send `application/json`.
    ContentType,
    /// `Last-Event-ID`: a GET that resumes a stream.
    LastEventId,
    /// `Content-Length`: body framing.
    ContentLength,
    /// `Mcp-Session-Id`: the session a request belongs to.
    SessionId,
    /// `Transfer-Encoding`: body framing (only `chunked` is accepted).
    TransferEncoding,
    /// `Mcp-Protocol-Version`: must name a supported revision when present.
    ProtocolVersion,
    /// `Mcp-Method`: a stateless request's method, repeated for balancers.
    McpMethod,
    /// `Mcp-Name`: a stateless request's tool, prompt or resource.
    McpName,
    /// `Authorization`: the bearer token, when the endpoint needs one.
    Authorization,
}

impl Known {
    /// How many known headers there are; the length of the index array.
    /// It must stay at most 16, the bits of `RequestHead::repeated`.
    const COUNT: usize = 14;

    /// Which known header `name` is, if any (names are case-insensitive).
    fn of(name: &[u8]) -> Option<Self> {
        // A header name is a token: of its characters, only the upper-case
        // letters become lower-case letters when bit 0x20 is set, and `-`
        // and the lower-case letters stay what they are. So one OR and one
        // XOR per byte, without branches, compares a name with a known one.
        let is = |k: &str| {
            name.iter()
                .zip(k.as_bytes())
                .fold(0, |diff, (a, b)| diff | ((a | 0x20) ^ b))
                == 0
        };
        Some(match name.len() {
            4 if is("host") => Self::Host,
            6 if is("origin") => Self::Origin,
            6 if is("accept") => Self::Accept,
            6 if is("expect") => Self::Expect,
            10 if is("connection") => Self::Connection,
            10 if is("mcp-method") => Self::McpMethod,
            8 if is("mcp-name") => Self::McpName,
            12 if is("content-type") => Self::ContentType,
            13 if is("authorization") => Self::Authorization,
            13 if is("last-event-id") => Self::LastEventId,
            14 if is("content-length") => Self::ContentLength,
            14 if is("mcp-session-id") => Self::SessionId,
            17 if is("transfer-encoding") => Self::TransferEncoding,
            20 if is("mcp-protocol-version") => Self::ProtocolVersion,
            _ => return None,
        })
    }
}

/// How the body is delimited, as [`RequestHead::framing`] reads it from
/// the head; [`BodyDecoder::new`](super::BodyDecoder::new) takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length` bytes (0 when absent).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

impl RequestHead {
    /// The request target (path and query) as sent; empty if it is not
    /// UTF-8.
    pub fn target(&self) -> &str {
        self.raw.text(self.target.clone()).unwrap_or("")
    }

    /// The path without the query string: what the endpoint path is
    /// compared with. Not percent-decoded. For a target in absolute form
    /// (`http://host:port/mcp`, which servers must accept, RFC 9112
    /// §3.2.2) it is the part after the authority.
    pub fn path(&self) -> &str {
        let target = self.target();
        let origin_form = match absolute_form(target) {
            Some((_, rest)) => rest,
            None => target,
        };
        // A byte search: the path is short, and `split('?')` sets up a
        // char searcher that costs more than the search.
        match origin_form.bytes().position(|b| b == b'?') {
            Some(q) => &origin_form[..q],
            None => origin_form,
        }
    }

    /// The authority of a target in absolute form (`host:port` of
    /// `http://host:port/mcp`), which then stands for the `Host` header;
    /// `None` for the usual origin form (`/mcp`).
    pub fn absolute_authority(&self) -> Option<&str> {
        absolute_form(self.target()).map(|(authority, _)| authority)
    }

    /// Every value of a header (name compared case-insensitively), raw, in
    /// the order they arrived. Scans the whole header list.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::http::wire::parse_head;
    /// use switchboard_core::HttpConfig;
    ///
    /// let raw = b"GET / HTTP/1.1\r\nX-Tag: a\r\nx-tag: b\r\n\r\n";
    /// let (head, _) = parse_head(raw, &HttpConfig::default()).unwrap().unwrap();
    /// let tags: Vec<&[u8]> = head.header_bytes_all("X-TAG").collect();
    /// assert_eq!(tags, [&b"a"[..], b"b"]);
    /// assert_eq!(head.header_values("x-tag").collect::<Vec<_>>(), ["a", "b"]);
    /// ```
    pub fn header_bytes_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.named(name).map(|v| &self.raw[v])
    }

    /// The first value of a header, raw; `None` if absent. For values that
    /// need not be UTF-8.
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        self.named(name).next().map(|v| &self.raw[v])
    }

    /// The first value of a header as text; `None` if absent or not UTF-8
    /// (use [`RequestHead::header_bytes`] to tell those apart).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.named(name).next().and_then(|v| self.raw.text(v))
    }

    /// Every value of a header that is UTF-8 text; values that are not are
    /// skipped.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.named(name).filter_map(|v| self.raw.text(v))
    }

    /// Where each value of header `name` (compared case-insensitively)
    /// lies, in arrival order.
    fn named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = Range<usize>> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| self.raw[n.clone()].eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| v.clone())
    }

    /// The first value of a known header, raw; `None` if absent. One array
    /// lookup, no scan.
    pub(crate) fn known(&self, k: Known) -> Option<&[u8]> {
        self.known_at(k).map(|v| &self.raw[v])
    }

    /// The first value of a known header as text; `None` if absent or not
    /// UTF-8.
    pub(crate) fn known_str(&self, k: Known) -> Option<&str> {
        self.known_at(k).and_then(|v| self.raw.text(v))
    }

    /// Where the first value of a known header lies.
    fn known_at(&self, k: Known) -> Option<Range<usize>> {
        let i = usize::from(self.known[k as usize].checked_sub(1)?);
        Some(self.headers[i].1.clone())
    }

    /// Whether the known header `k` arrived more than once.
    pub(crate) fn is_repeated(&self, k: Known) -> bool {
        self.repeated & (1 << k as u16) != 0
    }

    /// Every value of a known header, raw, in arrival order. Only scans the
    /// headers after the first occurrence, and only when the header was
    /// seen more than once.
    pub(crate) fn known_all(&self, k: Known) -> impl Iterator<Item = &[u8]> {
        let first = self.known(k);
        let rest = self.is_repeated(k).then(|| {
            let i = usize::from(self.known[k as usize]);
            self.headers[i..]
                .iter()
                .filter(move |(n, _)| Known::of(&self.raw[n.clone()]) == Some(k))
                .map(|(_, v)| &self.raw[v.clone()])
        });
        first.into_iter().chain(rest.into_iter().flatten())
    }

    /// Whether the connection may carry another request after this one:
    /// for HTTP/1.1 unless a `Connection` header lists `close`, for
    /// HTTP/1.0 only if one lists `keep-alive`.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::http::wire::parse_head;
    /// use switchboard_core::HttpConfig;
    ///
    /// let keeps = |raw: &str| {
    ///     let (head, _) = parse_head(raw.as_bytes(), &HttpConfig::default()).unwrap().unwrap();
    ///     head.keep_alive()
    /// };
    /// assert!(keeps("GET / HTTP/1.1\r\n\r\n"));
    /// assert!(!keeps("GET / HTTP/1.1\r\nConnection: upgrade, close\r\n\r\n"));
    /// assert!(!keeps("GET / HTTP/1.0\r\n\r\n"));
    /// assert!(keeps("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"));
    /// ```
    pub fn keep_alive(&self) -> bool {
        if self.known(Known::Connection).is_none() {
            return self.http11;
        }
        let has = |token: &str| {
            self.known_all(Known::Connection)
                .flat_map(|v| v.split(|&b| b == b','))
                .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
        };
        if self.http11 {
            !has("close")
        } else {
            has("keep-alive")
        }
    }

    /// Whether the client waits for `100 Continue` before sending the body:
    /// an HTTP/1.1 request whose first `Expect` is `100-continue`. HTTP/1.0
    /// clients cannot ask for it (RFC 9110 §10.1.1).
    pub fn expects_continue(&self) -> bool {
        self.http11
            && self
                .known(Known::Expect)
                .is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"100-continue"))
    }

    /// How the body is framed: chunked if `Transfer-Encoding: chunked`, else
    /// the `Content-Length`, else no body.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::http::wire::{parse_head, Framing, HttpError};
    /// use switchboard_core::HttpConfig;
    ///
    /// let framing = |raw: &str| {
    ///     let config = HttpConfig::default();
    ///     let (head, _) = parse_head(raw.as_bytes(), &config).unwrap().unwrap();
    ///     head.framing()
    /// };
    /// let length = "POST / HTTP/1.1\r\nContent-Length: 12\r\n\r\n";
    /// let chunked = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    /// let chunked_10 = "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n";
    /// assert_eq!(framing("GET / HTTP/1.1\r\n\r\n"), Ok(Framing::Length(0)));
    /// assert_eq!(framing(length), Ok(Framing::Length(12)));
    /// assert_eq!(framing(chunked), Ok(Framing::Chunked));
    /// assert_eq!(framing(chunked_10), Err(HttpError::Malformed), "no chunked coding in 1.0");
    /// ```
    ///
    /// # Errors
    ///
    /// [`HttpError::Malformed`] for an unparsable or repeated Content-Length,
    /// a transfer coding other than chunked, or both headers at once (a
    /// request-smuggling vector, RFC 9112 §6.3); also for any
    /// `Transfer-Encoding` on an HTTP/1.0 request, which has no chunked
    /// coding.
    pub fn framing(&self) -> Result<Framing, HttpError> {
        // Each header's first value and whether it came again: at most
        // one of each is meaningful.
        let te = self.known(Known::TransferEncoding);
        let cl = self.known(Known::ContentLength);
        if let Some(te) = te {
            let chunked = !self.is_repeated(Known::TransferEncoding)
                && te.trim_ascii().eq_ignore_ascii_case(b"chunked");
            if !chunked || cl.is_some() || !self.http11 {
                return Err(HttpError::Malformed);
            }
            return Ok(Framing::Chunked);
        }
        match cl {
            None => Ok(Framing::Length(0)),
            _ if self.is_repeated(Known::ContentLength) => Err(HttpError::Malformed),
            // Digits only (no sign, no space), and no overflow.
            Some(v) if !v.is_empty() => v
                .iter()
                .try_fold(0u64, |n, &b| {
                    let digit = b.is_ascii_digit().then(|| u64::from(b - b'0'))?;
                    n.checked_mul(10)?.checked_add(digit)
                })
                .map(Framing::Length)
                .ok_or(HttpError::Malformed),
            _ => Err(HttpError::Malformed),
        }
    }
}

/// Splits an absolute-form target (`http://authority/path?query`, scheme
/// case-insensitive) into its authority and the rest (`/` when the path is
/// empty). `None` for any other form.
fn absolute_form(target: &str) -> Option<(&str, &str)> {
    // The usual origin form, first and cheaply: a substring search has a
    // setup cost that shows on every request.
    if target.starts_with('/') {
        return None;
    }
    let (scheme, rest) = target.split_once("://")?;
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return None;
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    Some((authority, if path.is_empty() { "/" } else { path }))
}

/// Header slots kept on the stack; a larger `max_headers` knob uses the heap.
const STACK_HEADERS: usize = 64;

/// Parses a request head from the front of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed, or the head and the number
/// of bytes it took; the caller drops those bytes from its buffer and keeps
/// the rest (the body, or a pipelined request). Parsing starts over on each
/// call, so call it again with the whole buffer once more bytes arrived.
///
/// The limits come from `config`: `max_head_bytes` and `max_headers`. A
/// partial head already longer than `max_head_bytes` fails at once rather
/// than waiting for its end.
///
/// # Examples
///
/// ```
/// use switchboard_core::http::wire::parse_head;
/// use switchboard_core::HttpConfig;
///
/// let config = HttpConfig::default();
/// let mut buf = b"POST /mcp HTTP/1.1\r\nHost: loc".to_vec();
/// assert!(parse_head(&buf, &config).unwrap().is_none(), "not yet");
///
/// buf.extend_from_slice(b"alhost\r\n\r\n{\"jsonrpc\"");
/// let (head, used) = parse_head(&buf, &config).unwrap().unwrap();
/// assert_eq!(head.header("host"), Some("localhost"));
/// assert_eq!(&buf[used..], b"{\"jsonrpc\"", "the body starts here");
/// ```
///
/// # Errors
///
/// 431 errors ([`HttpError::HeadTooLarge`], [`HttpError::TooManyHeaders`])
/// when the head or header count exceeds the limits; 400
/// ([`HttpError::Malformed`]) for anything httparse rejects, or a method
/// that is not a valid token.
pub fn parse_head(
    buf: &[u8],
    config: &HttpConfig,
) -> Result<Option<(RequestHead, usize)>, HttpError> {
    let mut stack = [MaybeUninit::<httparse::Header<'_>>::uninit(); STACK_HEADERS];
    let mut heap = Vec::new();
    let slots: &mut [MaybeUninit<httparse::Header<'_>>] = if config.max_headers <= STACK_HEADERS {
        &mut stack[..config.max_headers]
    } else {
        heap.resize(config.max_headers, MaybeUninit::uninit());
        &mut heap
    };
    let mut req = httparse::Request::new(&mut []);
    let status = match req.parse_with_uninit_headers(buf, slots) {
        Ok(s) => s,
        Err(httparse::Error::TooManyHeaders) => return Err(HttpError::TooManyHeaders),
        Err(_) => return Err(HttpError::Malformed),
    };
    let len = match status {
        httparse::Status::Partial if buf.len() > config.max_head_bytes => {
            return Err(HttpError::HeadTooLarge);
        }
        httparse::Status::Partial => return Ok(None),
        httparse::Status::Complete(n) if n > config.max_head_bytes => {
            return Err(HttpError::HeadTooLarge);
        }
        httparse::Status::Complete(n) => n,
    };
    let method = Method::from_bytes(req.method.unwrap_or("").as_bytes())
        .map_err(|_| HttpError::Malformed)?;
    // httparse hands out slices of `buf`; keep their offsets into one copy.
    let base = buf.as_ptr() as usize;
    let range = |part: &[u8]| {
        let start = part.as_ptr() as usize - base;
        start..start + part.len()
    };
    let target = req.path.map_or(0..0, |p| range(p.as_bytes()));
    // Known headers are indexed by u16; no sane head comes near that.
    if req.headers.len() >= usize::from(u16::MAX) {
        return Err(HttpError::TooManyHeaders);
    }
    let mut head = RequestHead {
        method,
        http11: req.version == Some(1),
        raw: Raw::new(buf[..len].to_vec()),
        target,
        headers: Vec::with_capacity(req.headers.len()),
        known: [0; Known::COUNT],
        repeated: 0,
    };
    for h in req.headers.iter() {
        head.index(range(h.name.as_bytes()), range(h.value));
    }
    Ok(Some((head, len)))
}

impl RequestHead {
    /// Adds the header whose name and value lie at these ranges of `raw`,
    /// indexing it if the server reads it.
    fn index(&mut self, name: Range<usize>, value: Range<usize>) {
        let slot = u16::try_from(self.headers.len() + 1).unwrap_or(u16::MAX);
        if let Some(k) = Known::of(&self.raw[name.clone()]) {
            if self.known[k as usize] == 0 {
                self.known[k as usize] = slot;
            } else {
                self.repeated |= 1 << k as u16;
            }
        }
        self.headers.push((name, value));
    }
}
