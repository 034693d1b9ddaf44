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

/// A routing header's raw value (`Mcp-Method`, `Mcp-Name`,
/// `Mcp-Param-*`) as the stateless era reads it: checked, trimmed and, in
/// its `=?base64?…?=` form, decoded.
///
/// # Errors
///
/// Why the value is refused (`-32020` on the wire).
pub fn routing_header(raw: &[u8]) -> Result<String, String> {
    crate::http::eras::stateless_era::decode_header(raw, "Mcp-Name").map(|v| v.into_owned())
}

/// Standard Base64 (with padding), as a client writes a routing header's
/// `=?base64?…?=` form.
pub fn base64_standard(bytes: &[u8]) -> String {
    let mut text: String = crate::base64::encode_url(bytes)
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    while text.len() % 4 != 0 {
        text.push('=');
    }
    text
}

/// Seals a `requestState` for `method` and `params` (their digest, as a
/// round does) holding `answers`, valid for an hour.
pub fn seal_state(
    keys: &crate::stateless::RequestStateKeys,
    method: &str,
    params: &serde_json::Value,
    answers: serde_json::Map<String, serde_json::Value>,
) -> String {
    use crate::stateless::state;
    state::seal(
        keys,
        method,
        state::params_digest(Some(params)),
        std::time::Duration::from_secs(3600),
        answers,
    )
}

/// Opens a `requestState` as a retry of `method` with `params` does: the
/// answers it holds, or why it is refused.
///
/// # Errors
///
/// The refusal's text (`-32602` on the wire).
pub fn open_state(
    keys: &crate::stateless::RequestStateKeys,
    token: &str,
    method: &str,
    params: &serde_json::Value,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    use crate::stateless::state;
    state::open(keys, token, method, &state::params_digest(Some(params)))
        .map(|sealed| sealed.answers)
        .map_err(|e| e.to_string())
}

/// A stateless request's params read both ways, from JSON text: by the
/// fast scan (falling back to serde where it declines) and by serde alone,
/// each as its `Debug` text (or the error). `None` when `text` is not JSON.
pub fn stateless_params(text: &str) -> Option<(String, String)> {
    crate::stateless::params_both_ways(text)
}
