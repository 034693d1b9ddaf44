//! Heads that do not come from our HTTP/1.1 parser: filled from the `http`
//! crate's request parts (the hyper and axum front door) or written for
//! the in-process front doors. Nothing is spelled out as text to be parsed
//! again; the head's bytes are laid end to end and indexed as they go in.

use http::Method;

use super::{Known, Raw, RequestHead};
use crate::http::config::HttpConfig;
use crate::http::wire::error::HttpError;

impl RequestHead {
    /// A head filled from the `http` crate's request parts, as another HTTP
    /// server (hyper, axum) parsed them, HTTP/2 included: nothing is written
    /// out as text to be parsed again. The target is the URI as sent on
    /// HTTP/1.x (origin form, or absolute form whose authority stands for
    /// `Host`), the path and query on HTTP/2, whose `:authority` stands for
    /// `Host` when there is none.
    ///
    /// # Errors
    ///
    /// The limits our own parser applies: [`HttpError::TooManyHeaders`] past
    /// `max_headers`, [`HttpError::HeadTooLarge`] past `max_head_bytes`
    /// (counted as the head's HTTP/1.1 spelling would be).
    pub fn from_parts(
        parts: &http::request::Parts,
        config: &HttpConfig,
    ) -> Result<Self, HttpError> {
        let authority = (parts.version >= http::Version::HTTP_2
            && !parts.headers.contains_key(http::header::HOST))
        .then(|| parts.uri.authority())
        .flatten();
        let count = parts.headers.len() + usize::from(authority.is_some());
        // Known headers are indexed by u16, as in `parse_head`.
        if count > config.max_headers || count >= usize::from(u16::MAX) {
            return Err(HttpError::TooManyHeaders);
        }
        // Sized once: no regrowth while the headers are copied in.
        let bytes = parts.uri.path_and_query().map_or(0, |p| p.as_str().len())
            + authority.map_or(0, |a| a.as_str().len() + 4)
            + parts
                .headers
                .iter()
                .map(|(n, v)| n.as_str().len() + v.len())
                .sum::<usize>();
        let mut head = Self::builder(
            parts.method.clone(),
            parts.version >= http::Version::HTTP_11,
            bytes,
        );
        head.headers.reserve_exact(count);
        if parts.version < http::Version::HTTP_2 {
            match parts.uri.path_and_query() {
                // Origin form, as sent: hyper keeps it as a path and query.
                Some(pq) if parts.uri.scheme().is_none() => head.set_target(pq.as_str().as_bytes()),
                _ => head.set_target(parts.uri.to_string().as_bytes()),
            }
        } else {
            let pq = parts.uri.path_and_query().map_or("/", |p| p.as_str());
            head.set_target(pq.as_bytes());
        }
        if let Some(authority) = authority {
            head.push_header(b"host", authority.as_str().as_bytes());
        }
        for (name, value) in &parts.headers {
            head.push_header(name.as_str().as_bytes(), value.as_bytes());
        }
        // The request line and each header's `: ` and CRLF, as on the wire.
        let spelled = head.raw.bytes().len() + 4 * head.headers.len() + 16;
        if spelled > config.max_head_bytes {
            return Err(HttpError::HeadTooLarge);
        }
        head.raw.seal();
        Ok(head)
    }

    /// An empty head for `method`, with room for `bytes` of target and
    /// headers, to be filled by [`Self::set_target`] and [`Self::push_header`].
    fn builder(method: Method, http11: bool, bytes: usize) -> Self {
        Self {
            method,
            http11,
            raw: Raw::Bytes(Vec::with_capacity(bytes)),
            target: 0..0,
            headers: Vec::new(),
            known: [0; Known::COUNT],
            repeated: 0,
        }
    }

    /// Sets the request target.
    fn set_target(&mut self, target: &[u8]) {
        self.target = self.raw.push(target);
    }

    /// Appends a header.
    fn push_header(&mut self, name: &[u8], value: &[u8]) {
        let name = self.raw.push(name);
        let value = self.raw.push(value);
        self.index(name, value);
    }
}

/// A request head to the endpoint's path, as if `method` and `headers`
/// had arrived on the wire: what in-process callers of the endpoint (the
/// transport's in-process front doors) hand to it. `None` when a header
/// value cannot be sent (a control character, say).
pub(crate) fn synthetic_head(
    config: &HttpConfig,
    method: Method,
    headers: &[(&str, &str)],
) -> Option<RequestHead> {
    let mut head = RequestHead::builder(method, true, 256);
    head.set_target(config.path.as_bytes());
    for (name, value) in headers {
        if value.bytes().any(|b| b.is_ascii_control()) {
            return None;
        }
        head.push_header(name.as_bytes(), value.as_bytes());
    }
    head.raw.seal();
    Some(head)
}
