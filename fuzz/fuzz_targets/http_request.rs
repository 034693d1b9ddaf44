//! The HTTP head parser and the body after it: a complete head is never
//! longer than its input and every shorter prefix of it is incomplete; the
//! known-header index agrees with a scan of the headers; the body decodes
//! alike whole and in pieces.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use switchboard_core::HttpConfig;
use switchboard_core::http::wire::parse_head;
use switchboard_fuzz::decode_in_pieces;

fuzz_target!(|data: &[u8]| {
    let config = HttpConfig::default().max_head_bytes(4096).max_headers(32);
    let Ok(Some((head, len))) = parse_head(data, &config) else {
        return;
    };
    assert!(len <= data.len() && len <= 4096);
    for cut in [len / 2, len.saturating_sub(1), len.saturating_sub(2)] {
        if cut < len {
            assert!(
                matches!(parse_head(&data[..cut], &config), Ok(None)),
                "a prefix of a complete head is not incomplete"
            );
        }
    }
    let (session, repeated) = switchboard_core::fuzzing::session_header(&head);
    let scanned: Vec<&str> = head.header_values("mcp-session-id").collect();
    if !repeated {
        assert!(scanned.len() <= 1);
    }
    if let Some(first) = session {
        assert_eq!(Some(first), scanned.first().copied());
    }
    let _ = (
        head.path(),
        head.keep_alive(),
        head.expects_continue(),
        head.absolute_authority(),
    );
    if let Ok(framing) = head.framing() {
        let body = &data[len..];
        let cuts: Vec<usize> = body.iter().take(3).map(|&b| usize::from(b)).collect();
        let whole = decode_in_pieces(framing, 1 << 16, body, &[]);
        let pieces = decode_in_pieces(framing, 1 << 16, body, &cuts);
        assert_eq!(whole, pieces);
    }
});
