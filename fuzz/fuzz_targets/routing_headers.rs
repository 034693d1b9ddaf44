//! The stateless era's routing headers (`Mcp-Method`, `Mcp-Name`,
//! `Mcp-Param-*`): any value is read without a panic; a value read is
//! visible text with no surrounding space or tab unless it came Base64-
//! encoded; any UTF-8 text written `=?base64?…?=` reads back as itself;
//! plain visible ASCII reads back trimmed; the head parser and the reader
//! agree on what reaches the reader.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use switchboard_core::HttpConfig;
use switchboard_core::fuzzing::{base64_standard, routing_header};
use switchboard_core::http::wire::parse_head;

fuzz_target!(|data: &[u8]| {
    // Any bytes: refused or read, never a panic.
    if let Ok(value) = routing_header(data) {
        let plain = !data.windows(9).any(|w| w == b"=?base64?");
        if plain {
            assert!(value.bytes().all(|b| b == b'\t' || (0x20..0x7f).contains(&b)));
            assert_eq!(value, value.trim_matches([' ', '\t']));
        }
    }
    // Text a client encodes reads back exactly, whatever it holds.
    if let Ok(text) = std::str::from_utf8(data) {
        let encoded = format!("=?base64?{}?=", base64_standard(text.as_bytes()));
        assert_eq!(routing_header(encoded.as_bytes()).as_deref(), Ok(text));
        // Visible ASCII without the wrapper is taken as it is, trimmed.
        if data.iter().all(|&b| (0x20..0x7f).contains(&b)) && !text.contains("=?base64?") {
            assert_eq!(
                routing_header(data).as_deref(),
                Ok(text.trim_matches([' ', '\t']))
            );
        }
    }
    // Through the head parser: what it keeps of the value is what the
    // reader is given, and the reader never panics on it.
    let mut raw = b"POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\nmcp-name: ".to_vec();
    raw.extend_from_slice(data);
    raw.extend_from_slice(b"\r\n\r\n");
    if let Ok(Some((head, _))) = parse_head(&raw, &HttpConfig::default()) {
        if let Some(value) = head.header_bytes("mcp-name") {
            let _ = routing_header(value);
        }
    }
});
