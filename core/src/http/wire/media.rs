//! Media types: what a request's `Accept` headers allow, and whether its
//! body is declared JSON.

use super::head::{Known, RequestHead};

/// Which reply media types a request accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Accepts {
    /// `application/json` (or `application/*`, `*/*`).
    pub(crate) json: bool,
    /// `text/event-stream` (or `text/*`, `*/*`).
    pub(crate) sse: bool,
}

/// What the request's `Accept` headers allow, every value and item read.
/// Quality values are ignored: `q=0` still counts as accepted.
pub(crate) fn accepts(head: &RequestHead) -> Accepts {
    // No Accept header means anything is acceptable (RFC 9110 §12.5.1); the
    // value MCP clients send is recognized whole (a tenth of the parse below),
    // as sent first, then in any case.
    const USUAL: &[u8] = b"application/json, text/event-stream";
    if head
        .known(Known::Accept)
        .is_none_or(|v| v == USUAL || v.eq_ignore_ascii_case(USUAL))
    {
        return Accepts {
            json: true,
            sse: true,
        };
    }
    let values = head.known_all(Known::Accept);
    let mut a = Accepts {
        json: false,
        sse: false,
    };
    for value in values {
        for item in value.split(|&b| b == b',') {
            let media = media_type(item);
            let is = |m: &[u8]| media.eq_ignore_ascii_case(m);
            if is(b"*/*") {
                (a.json, a.sse) = (true, true);
            } else if is(b"application/json") || is(b"application/*") {
                a.json = true;
            } else if is(b"text/event-stream") || is(b"text/*") {
                a.sse = true;
            }
        }
    }
    a
}

/// The media type of an `Accept` item or a `Content-Type` value: what comes
/// before any parameters, without surrounding spaces.
fn media_type(value: &[u8]) -> &[u8] {
    let end = value.iter().position(|&b| b == b';').unwrap_or(value.len());
    value[..end].trim_ascii()
}

/// Whether the body is declared `application/json` (parameters such as
/// `charset` allowed). A request without `Content-Type` is not.
pub(crate) fn is_json(head: &RequestHead) -> bool {
    const JSON: &[u8] = b"application/json";
    head.known(Known::ContentType)
        .is_some_and(|ct| ct == JSON || media_type(ct).eq_ignore_ascii_case(JSON))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::wire::testing::head;

    #[test]
    fn accept_header_forms() {
        let a = |v: &str| accepts(&head(&format!("GET / HTTP/1.1\r\nAccept: {v}\r\n\r\n")));
        assert_eq!(
            a("application/json, text/event-stream"),
            Accepts {
                json: true,
                sse: true
            }
        );
        assert_eq!(
            a("application/json;q=0.9"),
            Accepts {
                json: true,
                sse: false
            }
        );
        assert_eq!(
            a("text/event-stream"),
            Accepts {
                json: false,
                sse: true
            }
        );
        assert_eq!(
            a("*/*"),
            Accepts {
                json: true,
                sse: true
            }
        );
        assert_eq!(
            a("text/html"),
            Accepts {
                json: false,
                sse: false
            }
        );
        assert_eq!(
            accepts(&head("GET / HTTP/1.1\r\n\r\n")),
            Accepts {
                json: true,
                sse: true
            }
        );
    }

    #[test]
    fn content_type_must_be_json() {
        assert!(is_json(&head(
            "POST / HTTP/1.1\r\nContent-Type: application/json; charset=utf-8\r\n\r\n"
        )));
        assert!(!is_json(&head(
            "POST / HTTP/1.1\r\nContent-Type: text/plain\r\n\r\n"
        )));
        assert!(!is_json(&head("POST / HTTP/1.1\r\n\r\n")));
    }
}
