//! Sans-IO HTTP/1.1 request parsing: heads with httparse, bodies framed by
//! Content-Length or chunked encoding.
//!
//! Incomplete input is `Ok(None)` / "not done yet", never an error; an error
//! always maps to one HTTP status.

use std::mem::MaybeUninit;
use std::ops::Range;

use http::{Method, StatusCode};

use super::config::HttpConfig;

/// Why a request could not be read; each maps to one status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The head is longer than the limit.
    #[error("request head too large")]
    HeadTooLarge,
    /// More headers than the limit.
    #[error("too many headers")]
    TooManyHeaders,
    /// The body is larger than the limit.
    #[error("request body too large")]
    BodyTooLarge,
    /// The request did not arrive in time.
    #[error("request timed out")]
    Timeout,
    /// The bytes are not a valid HTTP/1.x request.
    #[error("malformed request")]
    Malformed,
}

impl HttpError {
    /// The status that answers this error.
    pub fn status(self) -> StatusCode {
        match self {
            Self::HeadTooLarge | Self::TooManyHeaders => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            Self::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::Malformed => StatusCode::BAD_REQUEST,
        }
    }
}

/// A parsed request head: one copy of the head's bytes plus the ranges of
/// its parts, so parsing allocates a fixed few buffers, never one per header.
#[derive(Clone, Debug)]
pub struct RequestHead {
    /// The method.
    pub method: Method,
    /// True for HTTP/1.1, false for HTTP/1.0.
    pub http11: bool,
    raw: Vec<u8>,
    target: Range<usize>,
    headers: Vec<(Range<usize>, Range<usize>)>,
    /// Where each header the server reads first appears (index + 1; 0 when
    /// absent), found once while parsing rather than by a scan per lookup.
    known: [u16; Known::COUNT],
    /// Bit `k` is set when the known header `k` appears more than once.
    repeated: u16,
}

/// The headers the server itself reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Known {
    Host,
    Origin,
    Accept,
    Expect,
    Connection,
    ContentType,
    LastEventId,
    ContentLength,
    SessionId,
    TransferEncoding,
    ProtocolVersion,
}

impl Known {
    const COUNT: usize = 11;

    /// Which known header `name` is, if any (names are case-insensitive).
    fn of(name: &[u8]) -> Option<Self> {
        let is = |k: &str| name.eq_ignore_ascii_case(k.as_bytes());
        Some(match name.len() {
            4 if is("host") => Self::Host,
            6 if is("origin") => Self::Origin,
            6 if is("accept") => Self::Accept,
            6 if is("expect") => Self::Expect,
            10 if is("connection") => Self::Connection,
            12 if is("content-type") => Self::ContentType,
            13 if is("last-event-id") => Self::LastEventId,
            14 if is("content-length") => Self::ContentLength,
            14 if is("mcp-session-id") => Self::SessionId,
            17 if is("transfer-encoding") => Self::TransferEncoding,
            20 if is("mcp-protocol-version") => Self::ProtocolVersion,
            _ => return None,
        })
    }
}

/// How the body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length` bytes (0 when absent).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

impl RequestHead {
    /// The request target (path and query).
    pub fn target(&self) -> &str {
        std::str::from_utf8(&self.raw[self.target.clone()]).unwrap_or("")
    }

    /// The path without the query string.
    pub fn path(&self) -> &str {
        self.target().split('?').next().unwrap_or("")
    }

    /// Every value of a header (name compared case-insensitively), raw.
    pub fn header_bytes_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| self.raw[n.clone()].eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| &self.raw[v.clone()])
    }

    /// The first value of a header, raw.
    pub fn header_bytes(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| self.raw[n.clone()].eq_ignore_ascii_case(name.as_bytes()))
            .map(|(_, v)| &self.raw[v.clone()])
    }

    /// The first value of a header as text; `None` if absent or not UTF-8.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.header_bytes(name)
            .and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every value of a header that is UTF-8 text.
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.header_bytes_all(name)
            .filter_map(|v| std::str::from_utf8(v).ok())
    }

    /// The first value of a known header, raw.
    pub(crate) fn known(&self, k: Known) -> Option<&[u8]> {
        let i = usize::from(self.known[k as usize].checked_sub(1)?);
        Some(&self.raw[self.headers[i].1.clone()])
    }

    /// The first value of a known header as text.
    pub(crate) fn known_str(&self, k: Known) -> Option<&str> {
        self.known(k).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// Every value of a known header, raw.
    pub(crate) fn known_all(&self, k: Known) -> impl Iterator<Item = &[u8]> {
        let first = self.known(k);
        let repeated = self.repeated & (1 << k as u16) != 0;
        let rest = repeated.then(|| {
            let i = usize::from(self.known[k as usize]);
            self.headers[i..]
                .iter()
                .filter(move |(n, _)| Known::of(&self.raw[n.clone()]) == Some(k))
                .map(|(_, v)| &self.raw[v.clone()])
        });
        first.into_iter().chain(rest.into_iter().flatten())
    }

    /// Whether the connection may carry another request after this one.
    pub fn keep_alive(&self) -> bool {
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

    /// Whether the client waits for `100 Continue` before sending the body.
    pub fn expects_continue(&self) -> bool {
        self.http11
            && self
                .known(Known::Expect)
                .is_some_and(|v| v.trim_ascii().eq_ignore_ascii_case(b"100-continue"))
    }

    /// How the body is framed.
    ///
    /// # Errors
    ///
    /// [`HttpError::Malformed`] for an unparsable or repeated Content-Length,
    /// a transfer coding other than chunked, or both headers at once (a
    /// request-smuggling vector, RFC 9112 §6.3).
    pub fn framing(&self) -> Result<Framing, HttpError> {
        // At most one of each is meaningful; counting past two is pointless.
        let first_two = |k| {
            let mut all = self.known_all(k);
            (all.next(), all.next())
        };
        let te = first_two(Known::TransferEncoding);
        let cl = first_two(Known::ContentLength);
        if let (Some(te), more) = te {
            let chunked = more.is_none() && te.trim_ascii().eq_ignore_ascii_case(b"chunked");
            if !chunked || cl.0.is_some() || !self.http11 {
                return Err(HttpError::Malformed);
            }
            return Ok(Framing::Chunked);
        }
        match cl {
            (None, _) => Ok(Framing::Length(0)),
            (Some(v), None) => std::str::from_utf8(v)
                .ok()
                .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|s| s.parse().ok())
                .map(Framing::Length)
                .ok_or(HttpError::Malformed),
            _ => Err(HttpError::Malformed),
        }
    }
}

/// Header slots kept on the stack; a larger `max_headers` knob uses the heap.
const STACK_HEADERS: usize = 64;

/// Parses a request head from the front of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed, or the head and the number
/// of bytes it took.
///
/// # Errors
///
/// 431 errors when the head or header count exceeds the limits; 400 for
/// anything httparse rejects.
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
    let mut known = [0u16; Known::COUNT];
    let mut repeated = 0u16;
    let mut headers = Vec::with_capacity(req.headers.len());
    for (i, h) in req.headers.iter().enumerate() {
        if let (Some(k), Ok(slot)) = (Known::of(h.name.as_bytes()), u16::try_from(i + 1)) {
            if known[k as usize] == 0 {
                known[k as usize] = slot;
            } else {
                repeated |= 1 << k as u16;
            }
        }
        headers.push((range(h.name.as_bytes()), range(h.value)));
    }
    let head = RequestHead {
        method,
        http11: req.version == Some(1),
        raw: buf[..len].to_vec(),
        target,
        headers,
        known,
        repeated,
    };
    Ok(Some((head, len)))
}

/// A request head to the endpoint's path, as if `method` and `headers`
/// had arrived on the wire: what in-process callers of the endpoint (the
/// seed's front doors) hand to it. `None` when a header value cannot be
/// sent (a control character, say).
pub(crate) fn synthetic_head(
    config: &HttpConfig,
    method: &str,
    headers: &[(&str, &str)],
) -> Option<RequestHead> {
    let mut raw = format!("{method} {} HTTP/1.1\r\n", config.path);
    for (name, value) in headers {
        if value.bytes().any(|b| b.is_ascii_control()) {
            return None;
        }
        raw.push_str(name);
        raw.push_str(": ");
        raw.push_str(value);
        raw.push_str("\r\n");
    }
    raw.push_str("\r\n");
    match parse_head(raw.as_bytes(), config) {
        Ok(Some((head, _))) => Some(head),
        _ => None,
    }
}

/// Longest chunk-size line accepted (hex size plus extensions).
const MAX_CHUNK_LINE: usize = 1024;

/// Decodes a request body incrementally.
#[derive(Debug)]
pub struct BodyDecoder {
    state: State,
    limit: usize,
    received: usize,
    trailer_bytes: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Length(u64),
    ChunkSize,
    ChunkData(u64),
    ChunkDataEnd,
    Trailers,
    Done,
}

impl BodyDecoder {
    /// A decoder for this framing, refusing bodies over `limit` bytes.
    ///
    /// # Errors
    ///
    /// [`HttpError::BodyTooLarge`] at once when a Content-Length is over the limit.
    pub fn new(framing: Framing, limit: usize) -> Result<Self, HttpError> {
        let state = match framing {
            Framing::Length(n) if n > limit as u64 => return Err(HttpError::BodyTooLarge),
            Framing::Length(0) => State::Done,
            Framing::Length(n) => State::Length(n),
            Framing::Chunked => State::ChunkSize,
        };
        Ok(Self {
            state,
            limit,
            received: 0,
            trailer_bytes: 0,
        })
    }

    /// Whether the whole body has been decoded.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Moves body bytes from the front of `input` into `out`. Returns how
    /// many bytes of `input` were consumed; call again with more input until
    /// [`BodyDecoder::is_done`].
    ///
    /// # Errors
    ///
    /// [`HttpError::BodyTooLarge`] past the limit; [`HttpError::Malformed`]
    /// for bad chunk framing.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, HttpError> {
        let mut pos = 0;
        loop {
            let rest = &input[pos..];
            match self.state {
                State::Done => return Ok(pos),
                State::Length(remaining) | State::ChunkData(remaining) => {
                    if rest.is_empty() {
                        return Ok(pos);
                    }
                    let take = rest
                        .len()
                        .min(usize::try_from(remaining).unwrap_or(usize::MAX));
                    self.received += take;
                    if self.received > self.limit {
                        return Err(HttpError::BodyTooLarge);
                    }
                    out.extend_from_slice(&rest[..take]);
                    pos += take;
                    let left = remaining - take as u64;
                    self.state = match (self.state, left) {
                        (State::Length(_), 0) => State::Done,
                        (State::Length(_), n) => State::Length(n),
                        (_, 0) => State::ChunkDataEnd,
                        (_, n) => State::ChunkData(n),
                    };
                }
                State::ChunkSize => {
                    let Some(line_end) = find_crlf(rest) else {
                        if rest.len() > MAX_CHUNK_LINE {
                            return Err(HttpError::Malformed);
                        }
                        return Ok(pos);
                    };
                    let line = &rest[..line_end];
                    let hex = line.split(|&b| b == b';').next().unwrap_or(&[]);
                    let hex = std::str::from_utf8(hex)
                        .map_err(|_| HttpError::Malformed)?
                        .trim();
                    if hex.is_empty() || hex.len() > 16 {
                        return Err(HttpError::Malformed);
                    }
                    let size = u64::from_str_radix(hex, 16).map_err(|_| HttpError::Malformed)?;
                    if size > (self.limit - self.received) as u64 {
                        return Err(HttpError::BodyTooLarge);
                    }
                    pos += line_end + 2;
                    self.state = if size == 0 {
                        State::Trailers
                    } else {
                        State::ChunkData(size)
                    };
                }
                State::ChunkDataEnd => {
                    if rest.len() < 2 {
                        return Ok(pos);
                    }
                    if &rest[..2] != b"\r\n" {
                        return Err(HttpError::Malformed);
                    }
                    pos += 2;
                    self.state = State::ChunkSize;
                }
                State::Trailers => {
                    let Some(line_end) = find_crlf(rest) else {
                        if rest.len() > MAX_CHUNK_LINE {
                            return Err(HttpError::Malformed);
                        }
                        return Ok(pos);
                    };
                    pos += line_end + 2;
                    self.trailer_bytes += line_end + 2;
                    if self.trailer_bytes > MAX_CHUNK_LINE * 8 {
                        return Err(HttpError::HeadTooLarge);
                    }
                    if line_end == 0 {
                        self.state = State::Done;
                    }
                }
            }
        }
    }
}

fn find_crlf(buf: &[u8]) -> Option<usize> {
    buf.windows(2).position(|w| w == b"\r\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> Result<Option<(RequestHead, usize)>, HttpError> {
        parse_head(raw.as_bytes(), &HttpConfig::default())
    }

    #[test]
    fn partial_heads_ask_for_more() {
        assert!(head("POST /mcp HTTP/1.1\r\nHost: a").unwrap().is_none());
        let (h, n) = head("POST /mcp?x=1 HTTP/1.1\r\nHost: a\r\n\r\nBODY")
            .unwrap()
            .unwrap();
        assert_eq!(n, 35);
        assert_eq!(h.path(), "/mcp");
        assert!(h.http11 && h.keep_alive());
    }

    #[test]
    fn known_headers_are_found_in_any_case_and_every_repeat() {
        let (h, _) = head(
            "POST / HTTP/1.1\r\nACCEPT: a\r\nX: y\r\nMcp-Session-Id: s\r\naccept: b\r\nAccept: c\r\n\r\n",
        )
        .unwrap()
        .unwrap();
        let all: Vec<&[u8]> = h.known_all(Known::Accept).collect();
        assert_eq!(all, [&b"a"[..], b"b", b"c"]);
        assert_eq!(h.known_str(Known::SessionId), Some("s"));
        assert_eq!(h.known(Known::Origin), None);
        assert_eq!(h.known_all(Known::Host).count(), 0);
        assert_eq!(
            h.header("mcp-session-id"),
            Some("s"),
            "the generic lookup agrees"
        );
    }

    #[test]
    fn limits_give_431() {
        let long = format!("GET / HTTP/1.1\r\nX: {}\r\n", "a".repeat(20_000));
        assert_eq!(head(&long).unwrap_err(), HttpError::HeadTooLarge);
        let many: String = (0..70).map(|i| format!("X{i}: v\r\n")).collect();
        let raw = format!("GET / HTTP/1.1\r\n{many}\r\n");
        assert_eq!(head(&raw).unwrap_err(), HttpError::TooManyHeaders);
        assert_eq!(HttpError::TooManyHeaders.status(), 431);
    }

    #[test]
    fn garbage_is_malformed() {
        assert_eq!(
            head("\x01\x02 nonsense\r\n\r\n").unwrap_err(),
            HttpError::Malformed
        );
    }

    #[test]
    fn connection_semantics() {
        let (h, _) = head("GET / HTTP/1.0\r\n\r\n").unwrap().unwrap();
        assert!(!h.keep_alive());
        let (h, _) = head("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(h.keep_alive());
        let (h, _) = head("GET / HTTP/1.1\r\nConnection: close\r\n\r\n")
            .unwrap()
            .unwrap();
        assert!(!h.keep_alive());
    }

    #[test]
    fn framing_rules() {
        let f = |raw: &str| head(raw).unwrap().unwrap().0.framing();
        assert_eq!(
            f("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n"),
            Ok(Framing::Length(5))
        );
        assert_eq!(
            f("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Ok(Framing::Chunked)
        );
        for bad in [
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        ] {
            assert_eq!(f(bad), Err(HttpError::Malformed), "{bad}");
        }
    }

    fn decode_all(
        framing: Framing,
        limit: usize,
        input: &[u8],
        step: usize,
    ) -> Result<(Vec<u8>, usize), HttpError> {
        let mut d = BodyDecoder::new(framing, limit)?;
        let mut out = Vec::new();
        let mut buf = Vec::new();
        let mut consumed_total = 0;
        for piece in input.chunks(step) {
            buf.extend_from_slice(piece);
            let n = d.decode(&buf, &mut out)?;
            buf.drain(..n);
            consumed_total += n;
            if d.is_done() {
                break;
            }
        }
        assert!(d.is_done(), "body incomplete");
        Ok((out, consumed_total))
    }

    #[test]
    fn chunked_bodies_byte_by_byte() {
        let raw = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nTrailer: x\r\n\r\nNEXT";
        for step in [1, 3, raw.len()] {
            let (body, used) = decode_all(Framing::Chunked, 100, raw, step).unwrap();
            assert_eq!(body, b"Wikipedia");
            assert_eq!(used, raw.len() - 4);
        }
    }

    #[test]
    fn body_limits_and_bad_chunks() {
        assert_eq!(
            BodyDecoder::new(Framing::Length(101), 100).unwrap_err(),
            HttpError::BodyTooLarge
        );
        assert_eq!(
            decode_all(Framing::Chunked, 4, b"5\r\nhello\r\n0\r\n\r\n", 1).unwrap_err(),
            HttpError::BodyTooLarge
        );
        assert_eq!(
            decode_all(Framing::Chunked, 100, b"zz\r\n", 1).unwrap_err(),
            HttpError::Malformed
        );
        assert_eq!(
            decode_all(Framing::Chunked, 100, b"2\r\nabXY", 1).unwrap_err(),
            HttpError::Malformed
        );
        let (body, used) = decode_all(Framing::Length(3), 100, b"abcdef", 2).unwrap();
        assert_eq!((body.as_slice(), used), (&b"abc"[..], 3));
    }
}
