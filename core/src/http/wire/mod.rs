//! The wire: sans-IO HTTP/1.1 request parsing (heads with httparse, bodies
//! framed by Content-Length or chunked encoding), what `Accept` and
//! `Content-Type` say, and how SSE events are spelled.
//!
//! The bottom layer of [`crate::http`]: it imports only
//! [`HttpConfig`](crate::http::HttpConfig)'s limits and the stream log's
//! event type, nothing of the rules, the eras or the front doors.
//!
//! Incomplete input is `Ok(None)` / "not done yet", never an error; an error
//! always maps to one HTTP status.
//!
//! Nothing here reads a socket or keeps its own copy of unread bytes: the
//! caller owns the input buffer, hands its front to [`parse_head`], drops
//! the bytes the head took, then feeds the rest to a [`BodyDecoder`] built
//! from [`RequestHead::framing`]. Bytes past the body (a pipelined request)
//! are left in the caller's buffer for the next [`parse_head`].
//!
//! # Examples
//!
//! One request read from a buffer that also holds the start of the next:
//!
//! ```
//! use switchboard_core::http::wire::{parse_head, BodyDecoder};
//! use switchboard_core::HttpConfig;
//!
//! let config = HttpConfig::default();
//! let mut buf =
//!     b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\n\r\n{}GET /".to_vec();
//!
//! let (head, used) = parse_head(&buf, &config).unwrap().expect("a whole head");
//! buf.drain(..used);
//! let mut decoder = BodyDecoder::new(head.framing().unwrap(), 4096).unwrap();
//! let mut body = Vec::new();
//! let used = decoder.decode(&buf, &mut body).unwrap();
//! buf.drain(..used);
//!
//! assert!(decoder.is_done());
//! assert_eq!(body, b"{}");
//! assert_eq!(buf, b"GET /", "the next request stays in the buffer");
//! ```

mod body;
mod error;
pub(crate) mod events;
mod head;
pub(crate) mod media;
#[cfg(test)]
pub(crate) mod testing;

pub use body::BodyDecoder;
pub use error::HttpError;
pub use head::{Framing, RequestHead, parse_head};
pub(crate) use head::{Known, synthetic_head};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::config::HttpConfig;

    fn head(raw: &str) -> Result<Option<(RequestHead, usize)>, HttpError> {
        parse_head(raw.as_bytes(), &HttpConfig::default())
    }

    fn parts(request: http::request::Builder) -> http::request::Parts {
        request.body(()).unwrap().into_parts().0
    }

    #[test]
    fn a_head_from_parts_reads_as_the_parsed_one() {
        let config = HttpConfig::default();
        let raw = "POST /mcp?x=1 HTTP/1.1\r\nHost: localhost\r\nMcp-Session-Id: a\r\n\
                   mcp-session-id: b\r\nAccept: text/event-stream\r\nX-Other: y\r\n\r\n";
        let (parsed, _) = head(raw).unwrap().unwrap();
        let filled = RequestHead::from_parts(
            &parts(
                http::Request::post("/mcp?x=1")
                    .header("host", "localhost")
                    .header("mcp-session-id", "a")
                    .header("mcp-session-id", "b")
                    .header("accept", "text/event-stream")
                    .header("x-other", "y"),
            ),
            &config,
        )
        .unwrap();
        for h in [&parsed, &filled] {
            assert_eq!(h.method, http::Method::POST);
            assert_eq!(h.target(), "/mcp?x=1");
            assert_eq!(h.path(), "/mcp");
            assert_eq!(h.known_str(Known::Host), Some("localhost"));
            assert_eq!(h.known_str(Known::SessionId), Some("a"));
            assert!(h.is_repeated(Known::SessionId) && !h.is_repeated(Known::Accept));
            assert_eq!(h.header("X-OTHER"), Some("y"));
            assert!(h.http11);
        }
    }

    #[test]
    fn http2_authority_stands_for_host_and_absolute_targets_keep_theirs() {
        let config = HttpConfig::default();
        let h2 = RequestHead::from_parts(
            &parts(
                http::Request::get("http://example.test:8080/mcp?q").version(http::Version::HTTP_2),
            ),
            &config,
        )
        .unwrap();
        assert_eq!(h2.target(), "/mcp?q");
        assert_eq!(h2.known_str(Known::Host), Some("example.test:8080"));
        let h1 = RequestHead::from_parts(
            &parts(http::Request::get("http://example.test/mcp").header("host", "other")),
            &config,
        )
        .unwrap();
        assert_eq!(h1.target(), "http://example.test/mcp");
        assert_eq!(h1.absolute_authority(), Some("example.test"));
        assert_eq!(h1.path(), "/mcp");
    }

    #[test]
    fn a_head_from_parts_keeps_the_limits() {
        let few = HttpConfig::default().max_headers(2);
        let three = parts(
            http::Request::get("/mcp")
                .header("a", "1")
                .header("b", "2")
                .header("c", "3"),
        );
        assert_eq!(
            RequestHead::from_parts(&three, &few).unwrap_err(),
            HttpError::TooManyHeaders
        );
        let small = HttpConfig::default().max_head_bytes(64);
        let long = parts(http::Request::get("/mcp").header("x-long", "v".repeat(64)));
        assert_eq!(
            RequestHead::from_parts(&long, &small).unwrap_err(),
            HttpError::HeadTooLarge
        );
        let fits = parts(http::Request::get("/mcp").header("host", "h"));
        assert!(RequestHead::from_parts(&fits, &small).is_ok());
    }

    #[test]
    fn debug_output_never_shows_a_token() {
        let raw = b"GET /mcp HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\n\r\n";
        let (head, _) = parse_head(raw, &HttpConfig::default()).unwrap().unwrap();
        let printed = format!("{head:?}");
        assert!(!printed.contains("s3cret"), "{printed}");
        assert!(
            printed.contains("[redacted]") && printed.contains("\"Host\""),
            "{printed}"
        );
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
        // Token characters one bit away from a known name's are not it:
        // `^` and `_` are `~` and DEL with bit 0x20, never a letter.
        let (h, _) = head("POST / HTTP/1.1\r\nHOS^: a\r\nmcp_method: b\r\nMCP-NAME: c\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(h.known(Known::Host), None);
        assert_eq!(h.known(Known::McpMethod), None);
        assert_eq!(h.known_str(Known::McpName), Some("c"));
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
            "POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n",
            "POST / HTTP/1.1\r\nContent-Length: 18446744073709551616\r\n\r\n",
            "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
        ] {
            assert_eq!(f(bad), Err(HttpError::Malformed), "{bad}");
        }
        assert_eq!(
            f("POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n"),
            Ok(Framing::Length(u64::MAX))
        );
    }

    #[test]
    fn a_head_not_all_utf8_still_reads_its_text_values() {
        let raw = b"POST /mcp HTTP/1.1\r\nHost: h\r\nX-Bin: \xff\xfe\r\nMcp-Session-Id: s\r\n\r\n";
        let (h, _) = parse_head(raw, &HttpConfig::default()).unwrap().unwrap();
        assert_eq!(h.path(), "/mcp");
        assert_eq!(h.known_str(Known::SessionId), Some("s"));
        assert_eq!(h.header("x-bin"), None);
        assert_eq!(h.header_bytes("x-bin"), Some(&b"\xff\xfe"[..]));
        assert_eq!(h.header_values("host").collect::<Vec<_>>(), ["h"]);
        // UTF-8 beyond ASCII reads as text in a head that is all UTF-8.
        let raw = "POST /mcp HTTP/1.1\r\nX-Name: caf\u{e9}\r\n\r\n";
        let (h, _) = head(raw).unwrap().unwrap();
        assert_eq!(h.header("x-name"), Some("caf\u{e9}"));
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

    /// Found by the `chunked` fuzz target: a trailer line over 1 KiB was
    /// refused when it arrived in pieces and taken when it arrived whole.
    #[test]
    fn a_long_trailer_line_is_refused_however_it_arrives() {
        let mut raw = b"1\r\na\r\n0\r\nx: ".to_vec();
        raw.extend(std::iter::repeat_n(b'y', 1100));
        raw.extend_from_slice(b"\r\n\r\n");
        for step in [1, 7, raw.len()] {
            assert_eq!(
                decode_all(Framing::Chunked, 100, &raw, step).unwrap_err(),
                HttpError::Malformed,
                "read {step} bytes at a time"
            );
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

    #[test]
    fn chunk_sizes_are_hex_digits_only_and_their_lines_bounded() {
        // A sign, a leading space, a 0x prefix: refused (they used to be read
        // as sizes, so parsers could disagree about where the body ends).
        for bad in [
            &b"+5\r\nhello\r\n0\r\n\r\n"[..],
            b" 5\r\nhello\r\n0\r\n\r\n",
            b"0x5\r\nhello\r\n0\r\n\r\n",
            b";x\r\n",
        ] {
            assert_eq!(
                decode_all(Framing::Chunked, 100, bad, bad.len()).unwrap_err(),
                HttpError::Malformed,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        // Whitespace before an extension is allowed (BWS), and upper-case hex.
        let (body, _) = decode_all(
            Framing::Chunked,
            100,
            b"A \t;e=1\r\n0123456789\r\n0\r\n\r\n",
            64,
        )
        .unwrap();
        assert_eq!(body, b"0123456789");
        // A 2,000-byte extension is refused whether it arrives whole or not.
        let mut long = b"5;".to_vec();
        long.extend(std::iter::repeat_n(b'x', 2000));
        long.extend_from_slice(b"\r\nhello\r\n0\r\n\r\n");
        for step in [long.len(), 7] {
            assert_eq!(
                decode_all(Framing::Chunked, 100, &long, step).unwrap_err(),
                HttpError::Malformed
            );
        }
    }

    #[test]
    fn absolute_form_targets_give_their_path_and_authority() {
        let (h, _) = head("POST http://127.0.0.1:8080/mcp?x=1 HTTP/1.1\r\nHost: other\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(
            (h.path(), h.absolute_authority()),
            ("/mcp", Some("127.0.0.1:8080"))
        );
        let (h, _) = head("GET HTTPS://a.example HTTP/1.1\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((h.path(), h.absolute_authority()), ("/", Some("a.example")));
        let (h, _) = head("GET /mcp HTTP/1.1\r\nHost: a\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!(h.absolute_authority(), None);
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;
        use crate::http::config::HttpConfig;

        /// `body` as a chunked body, cut at `cuts` (offsets taken modulo the
        /// length), some chunk lines with an extension.
        fn chunked(body: &[u8], cuts: &[usize], ext: bool) -> Vec<u8> {
            let mut bounds: Vec<usize> = cuts.iter().map(|c| c % (body.len() + 1)).collect();
            bounds.extend([0, body.len()]);
            bounds.sort_unstable();
            bounds.dedup();
            let mut out = Vec::new();
            for w in bounds.windows(2) {
                let part = &body[w[0]..w[1]];
                out.extend_from_slice(format!("{:X}", part.len()).as_bytes());
                if ext {
                    out.extend_from_slice(b" ;name=value");
                }
                out.extend_from_slice(b"\r\n");
                out.extend_from_slice(part);
                out.extend_from_slice(b"\r\n");
            }
            out.extend_from_slice(b"0\r\n\r\n");
            out
        }

        proptest! {
            #[test]
            fn chunked_bodies_round_trip_whatever_the_reads(
                body in proptest::collection::vec(any::<u8>(), 0..2048),
                cuts in proptest::collection::vec(any::<usize>(), 0..8),
                ext in any::<bool>(),
                step in 1usize..64,
            ) {
                let wire = chunked(&body, &cuts, ext);
                let mut decoder = BodyDecoder::new(Framing::Chunked, 4096).unwrap();
                let (mut buf, mut out, mut fed) = (Vec::new(), Vec::new(), 0);
                while !decoder.is_done() {
                    prop_assert!(fed < wire.len(), "ran out of input");
                    let end = (fed + step).min(wire.len());
                    buf.extend_from_slice(&wire[fed..end]);
                    fed = end;
                    let used = decoder.decode(&buf, &mut out).unwrap();
                    buf.drain(..used);
                }
                prop_assert_eq!(out, body);
                prop_assert!(buf.is_empty() && fed == wire.len());
            }

            #[test]
            fn generated_valid_heads_parse_as_written(
                method in prop::sample::select(vec!["GET", "POST", "DELETE"]),
                path in "/[a-z0-9/_.-]{0,24}",
                query in proptest::option::of("[a-z0-9=&]{1,12}"),
                headers in proptest::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,15}", "[!-~]([ -~]{0,30}[!-~])?"), 0..12),
            ) {
                let target = match &query {
                    Some(q) => format!("{path}?{q}"),
                    None => path.clone(),
                };
                let mut raw = format!("{method} {target} HTTP/1.1\r\n");
                for (name, value) in &headers {
                    raw.push_str(&format!("{name}:  {value} \r\n"));
                }
                raw.push_str("\r\n");
                let (head, used) = parse_head(raw.as_bytes(), &HttpConfig::default()).unwrap().unwrap();
                prop_assert_eq!(used, raw.len());
                prop_assert_eq!(head.method.as_str(), method);
                prop_assert_eq!(head.target(), target.as_str());
                prop_assert_eq!(head.path(), path.as_str());
                for (name, _) in &headers {
                    // The first of its name (names compare case-insensitively),
                    // without the whitespace around it.
                    let first = headers
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(name))
                        .map(|(_, v)| v.as_str());
                    prop_assert_eq!(head.header(name), first);
                }
            }
        }
    }
}
