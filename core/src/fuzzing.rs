//! Internal entry points for the fuzz targets in `fuzz/`, behind the
//! `fuzzing` feature: the pieces the public API reaches only through a
//! whole server. Not part of the API; it may change in any release.

use std::collections::HashMap;

use crate::jsonrpc::{Decoded, Message};

/// The JSON-RPC fast path alone: `Some` for the messages it takes.
pub fn decode_fast(bytes: &[u8]) -> Option<Message> {
    crate::jsonrpc::decode_request(bytes)
}

/// The JSON-RPC general path alone, as if the fast path had declined.
pub fn decode_general(bytes: &[u8]) -> Decoded {
    crate::jsonrpc::decode_general(bytes)
}

/// Reads a `Last-Event-ID` value back into (stream, sequence).
pub fn parse_event_id(id: &str) -> Option<(u64, u64)> {
    crate::http::wire::events::parse_event_id(id)
}

/// The event id the server writes for (stream, sequence).
pub fn event_id(stream: u64, seq: u64) -> String {
    crate::http::wire::events::event_id(stream, seq)
}

/// A parsed resource URI template.
#[derive(Debug)]
pub struct Template(crate::uri_template::UriTemplate);

impl Template {
    /// Parses a template as registration does.
    ///
    /// # Errors
    ///
    /// What registration refuses.
    pub fn parse(text: &str) -> Result<Self, crate::uri_template::TemplateError> {
        crate::uri_template::UriTemplate::parse(text).map(Self)
    }

    /// Matches a URI as `resources/read` does.
    pub fn matches(&self, uri: &str) -> Option<HashMap<String, String>> {
        self.0.matches(uri)
    }
}

/// The `Mcp-Session-Id` value as the endpoint reads it (its known-header
/// index), and whether the header was repeated.
pub fn session_header(head: &crate::http::wire::RequestHead) -> (Option<&str>, bool) {
    use crate::http::wire::Known;
    (
        head.known_str(Known::SessionId),
        head.is_repeated(Known::SessionId),
    )
}
