//! Responses as plain data, and their encoding: a head and a small body in
//! one buffer (one write), SSE events, chunk framing.
//!
//! A [`Response`] is what the Streamable HTTP rules decide; the connection
//! encodes it. The framing headers (`content-length`, or
//! `transfer-encoding: chunked` for a stream, and `connection`) do not
//! belong in [`Response::headers`]: the encoder writes them, because only
//! the connection knows the client's HTTP version and whether it stays open.

use std::fmt::Write as _;
use std::sync::Arc;

use http::{HeaderName, HeaderValue, StatusCode};
use serde_json::json;

use super::sse::SseBody;
use crate::jsonrpc::ErrorCode;

/// A response body.
///
/// # Examples
///
/// ```
/// use switchboard_core::http::Body;
///
/// assert_eq!(Body::Full(b"{}".to_vec()).full(), Some(&b"{}"[..]));
/// assert_eq!(Body::Empty.full(), None);
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum Body {
    /// No body (`Content-Length: 0`).
    Empty,
    /// A complete body.
    Full(Vec<u8>),
    /// A complete body shared with the stream log entry it was taken from
    /// (so the reply is not copied to be sent).
    Shared(Arc<[u8]>),
    /// A stream of server-sent events (boxed: most responses are not).
    ///
    /// Only the transport makes these; the connection writes them out event
    /// by event, chunked on HTTP/1.1 and delimited by closing on HTTP/1.0.
    Sse(Box<SseBody>),
}

impl Body {
    /// The bytes of a complete body: `Some` for [`Body::Full`] and
    /// [`Body::Shared`], `None` for an empty body or a stream.
    pub fn full(&self) -> Option<&[u8]> {
        match self {
            Self::Full(b) => Some(b),
            Self::Shared(b) => Some(b),
            Self::Empty | Self::Sse(_) => None,
        }
    }
}

/// A response to one HTTP request.
///
/// Built with one of the constructors and the by-value modifiers; the
/// fields are public to read (say, in a test or an adapter of your own).
///
/// # Examples
///
/// ```
/// use http::header::RETRY_AFTER;
/// use http::{HeaderValue, StatusCode};
/// use switchboard_core::http::Response;
/// use switchboard_core::ErrorCode;
///
/// let busy = Response::rpc_error(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::SERVER_BUSY, "busy")
///     .header(RETRY_AFTER, HeaderValue::from_static("60"))
///     .closing();
/// assert_eq!(busy.status, 503);
/// assert!(busy.close);
/// let body: serde_json::Value = serde_json::from_slice(busy.body.full().unwrap()).unwrap();
/// assert_eq!(body["error"]["code"], -32000);
/// assert!(body["id"].is_null());
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub struct Response {
    /// The status.
    pub status: StatusCode,
    /// Extra headers (framing headers are added when it is written), in the
    /// order they go out. Repeats are kept, not merged.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// The body.
    pub body: Body,
    /// Close the connection after this response (it is then written with
    /// `connection: close`), whatever the request asked for.
    pub close: bool,
}

impl Response {
    /// A response with a status and no body (written with
    /// `content-length: 0`).
    pub fn empty(status: StatusCode) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::Empty,
            close: false,
        }
    }

    /// A JSON body: `content-type: application/json` and `body` as given,
    /// which the caller has already encoded.
    ///
    /// # Examples
    ///
    /// ```
    /// use http::StatusCode;
    /// use switchboard_core::http::Response;
    ///
    /// let ok = Response::json(StatusCode::OK, br#"{"jsonrpc":"2.0","id":1,"result":{}}"#.to_vec());
    /// assert_eq!(ok.headers[0].0, http::header::CONTENT_TYPE);
    /// assert_eq!(ok.headers[0].1, "application/json");
    /// ```
    pub fn json(status: StatusCode, body: Vec<u8>) -> Self {
        Self::json_body(status, Body::Full(body))
    }

    /// A JSON body whose bytes are shared with a stream's log entry, so the
    /// reply is sent without copying it.
    pub(crate) fn json_shared(status: StatusCode, body: Arc<[u8]>) -> Self {
        Self::json_body(status, Body::Shared(body))
    }

    /// A response with `content-type: application/json` and `body`.
    fn json_body(status: StatusCode, body: Body) -> Self {
        Self::empty(status)
            .header(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )
            .body(body)
    }

    /// An error whose body is a JSON-RPC error without an id, as the
    /// Streamable HTTP transport allows for refused requests.
    ///
    /// The body is `{"jsonrpc":"2.0","error":{"code":…,"message":…},"id":null}`;
    /// `status` says what went wrong to HTTP clients, `code` to JSON-RPC ones.
    pub fn rpc_error(status: StatusCode, code: ErrorCode, message: &str) -> Self {
        let body =
            json!({"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": null});
        Self::json(status, body.to_string().into_bytes())
    }

    /// A plain-text error body (`text/plain; charset=utf-8`), for refusals
    /// that happen before a request is known to be JSON-RPC (a wrong path,
    /// an unreadable head).
    pub fn text(status: StatusCode, message: &str) -> Self {
        Self::empty(status)
            .header(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            )
            .body(Body::Full(message.as_bytes().to_vec()))
    }

    /// Adds a header after those already set. The framing headers are the
    /// encoder's; setting `content-length` or `transfer-encoding` here would
    /// send them twice.
    #[must_use]
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Replaces the body. The headers stay: replacing a JSON body with a
    /// stream keeps its `content-type` too.
    #[must_use]
    pub fn body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    /// Marks the connection to be closed after this response, as for a
    /// refusal after which the connection's bytes cannot be trusted, or
    /// during shutdown.
    #[must_use]
    pub fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    /// Encodes the head (and, for a full body, the body) into `out`.
    ///
    /// `http11` selects chunked framing for streams; HTTP/1.0 streams are
    /// delimited by closing the connection. `keep_alive` adds
    /// `Connection: close` when false (and `Connection: keep-alive` when
    /// true on HTTP/1.0, whose default is to close). The status line always
    /// says `HTTP/1.1`, which an HTTP/1.0 client accepts (RFC 9110 §2.5).
    ///
    /// For a stream only the head is written; the connection then writes
    /// its events. `self.close` is not read here: the caller folds it into
    /// `keep_alive`.
    pub(crate) fn encode_head(&self, http11: bool, keep_alive: bool, out: &mut Vec<u8>) {
        let full = self.body.full();
        let body_len = full.map_or(0, <[u8]>::len);
        let inline = body_len <= INLINE_BODY_BYTES;
        out.reserve(160 + if inline { body_len } else { 0 });
        out.extend_from_slice(b"HTTP/1.1 ");
        out.extend_from_slice(self.status.as_str().as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.status.canonical_reason().unwrap_or("").as_bytes());
        out.extend_from_slice(b"\r\n");
        for (name, value) in &self.headers {
            out.extend_from_slice(name.as_str().as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        match &self.body {
            Body::Empty => out.extend_from_slice(b"content-length: 0\r\n"),
            Body::Full(_) | Body::Shared(_) => {
                out.extend_from_slice(b"content-length: ");
                push_decimal(out, body_len);
                out.extend_from_slice(b"\r\n");
            }
            Body::Sse(_) => {
                if http11 {
                    out.extend_from_slice(b"transfer-encoding: chunked\r\n");
                }
            }
        }
        if !keep_alive {
            out.extend_from_slice(b"connection: close\r\n");
        } else if !http11 {
            out.extend_from_slice(b"connection: keep-alive\r\n");
        }
        out.extend_from_slice(b"\r\n");
        if let Some(b) = full.filter(|_| inline) {
            out.extend_from_slice(b);
        }
    }
}

/// Largest body written in one buffer with its head. A larger one is
/// written on its own, from where it is kept, so it is not copied (a reply
/// of megabytes would otherwise be held twice while it is written).
pub(crate) const INLINE_BODY_BYTES: usize = 64 * 1024;

impl Response {
    /// The body, when [`Response::encode_head`] left it out to be written
    /// on its own (a full body over [`INLINE_BODY_BYTES`]).
    pub(crate) fn separate_body(&self) -> Option<&[u8]> {
        self.body.full().filter(|b| b.len() > INLINE_BODY_BYTES)
    }
}

/// Appends `n` in decimal (what `write!` does, without the formatting machinery).
fn push_decimal(out: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}

/// Appends `data` as one chunk of a chunked body: hex size, CRLF, data,
/// CRLF. Empty data appends nothing, since an empty chunk would end the body.
pub(crate) fn push_chunk(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        return;
    }
    let _ = write!(VecWriter(out), "{:x}\r\n", data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// The last chunk of a chunked body, with no trailers: written once, after
/// a stream's final event.
pub(crate) const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// A `fmt::Write` into a byte buffer, so hex sizes are formatted in place
/// without an intermediate `String`.
struct VecWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for VecWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_response_is_one_buffer() {
        let mut out = Vec::new();
        Response::json(StatusCode::OK, b"{}".to_vec()).encode_head(true, true, &mut out);
        let text = String::from_utf8(out).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}"
        );
    }

    #[test]
    fn error_bodies_are_jsonrpc() {
        let r = Response::rpc_error(StatusCode::FORBIDDEN, ErrorCode(-32000), "no");
        let Body::Full(b) = r.body else { panic!() };
        let v: serde_json::Value = serde_json::from_slice(&b).unwrap();
        assert_eq!(v["error"]["code"], -32000);
        assert!(v["id"].is_null());
    }

    #[test]
    fn decimals() {
        for n in [0, 7, 10, 99, 1234, usize::MAX] {
            let mut out = Vec::new();
            push_decimal(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }

    #[test]
    fn chunks() {
        let mut out = Vec::new();
        push_chunk(&mut out, b"hello world, this is 30 bytes.");
        assert_eq!(out, b"1e\r\nhello world, this is 30 bytes.\r\n");
    }
}
