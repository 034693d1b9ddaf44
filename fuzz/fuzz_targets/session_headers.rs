//! `Mcp-Session-Id` and `Last-Event-ID`: a session id keeps its text
//! exactly; an event id that parses is one the server could have written
//! (up to whitespace); both headers read alike through the head parser's
//! index and its scan.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use switchboard_core::fuzzing::{event_id, parse_event_id, session_header};
use switchboard_core::http::wire::parse_head;
use switchboard_core::{HttpConfig, SessionId};

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let id = SessionId::new(text);
        assert_eq!(id.as_str(), text);
        assert_eq!(id.clone(), SessionId::new(id.as_str()));
        if let Some((stream, seq)) = parse_event_id(text) {
            assert_eq!(parse_event_id(&event_id(stream, seq)), Some((stream, seq)));
        }
    }
    let mut raw = b"GET /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\nmcp-session-id: ".to_vec();
    raw.extend_from_slice(data);
    raw.extend_from_slice(b"\r\nlast-event-id: ");
    raw.extend_from_slice(data);
    raw.extend_from_slice(b"\r\n\r\n");
    if let Ok(Some((head, _))) = parse_head(&raw, &HttpConfig::default()) {
        let (session, _) = session_header(&head);
        assert_eq!(session, head.header("mcp-session-id"));
        if let Some(value) = head.header("last-event-id") {
            let _ = parse_event_id(value);
        }
    }
});
