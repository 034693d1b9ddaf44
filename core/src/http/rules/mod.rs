//! The Streamable HTTP rules that hold in either era, applied once per
//! request: path, `Host` and `Origin`, the bearer token, method, the version
//! header, `Accept` and `Content-Type`, and the session a request names.
//! [`admit`] turns a head into an [`Admitted`] request (or the response
//! refusing it); the eras ([`crate::http::eras`]) do the rest.
//!
//! May import [`crate::http::wire`], [`crate::http::auth`],
//! [`crate::http::config`] and [`crate::http::replies`] (for the refusals),
//! and the engine's `Dispatch` line; nothing of the eras or the front doors.
//!
//! Refusals carry a JSON-RPC error body with the code JSON-RPC defines for
//! the case (`-32600` for a request the transport cannot take), or one from
//! its implementation-defined range (`-32001` for an unknown session,
//! `-32000` only when a limit was reached or the server is shutting down).
//!
//! The checks run in a fixed order:
//! path (404; with an auth hook the protected resource metadata is served
//! on its own paths), `Host` and `Origin` (403), a CORS preflight (204, or
//! 403 when refused; see [`cors`]), the bearer token when the
//! endpoint needs one (401, 400, 503, or 403 for a scope the endpoint
//! requires; see [`crate::http::auth`]), method (405),
//! `MCP-Protocol-Version` (400), a server to answer (503 without one), then
//! per method `Accept` (406), `Content-Type` (415) and the session (400
//! without one, 404 for an unknown one or one another subject opened). A
//! POST that calls a tool with a scope of its own is refused 403 after its
//! body is read. A request refused by one check is not seen by the next.
//! Every reply but a preflight's then gets its CORS headers
//! ([`cors::grant_reply`]), whichever check answered it.

use http::HeaderName;

mod admit;
pub(crate) mod cors;
mod sessions;

pub(crate) use admit::{Admitted, Ask, admit, check_tool_scopes};
pub(crate) use sessions::{same_party, session_of, session_version};

/// The session header (the spec spells it `MCP-Session-Id` from 2025-11-25).
///
/// Sent on the response to `initialize`; the client sends it back on every
/// later request of the session. Header names are case-insensitive, so both
/// spellings are the same header.
///
/// # Examples
///
/// ```
/// use switchboard_core::http::wire::parse_head;
/// use switchboard_core::http::SESSION_HEADER;
/// use switchboard_core::{HttpConfig, HttpServerTransport, McpServerBuilder};
///
/// # futures::executor::block_on(async {
/// let transport = HttpServerTransport::new(HttpConfig::default());
/// let _server = McpServerBuilder::new().server_info("demo", "1.0.0").build(transport.clone());
/// let raw = b"POST /mcp HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\r\n";
/// let (head, _) = parse_head(raw, transport.config()).unwrap().unwrap();
/// let body = br#"{"jsonrpc":"2.0","id":0,"method":"initialize","params":
///     {"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}"#;
///
/// let response = transport.handle(&head, body.to_vec()).await;
/// let session = response.headers.iter().find(|(name, _)| *name == SESSION_HEADER);
/// assert!(session.is_some());
/// # });
/// ```
pub const SESSION_HEADER: HeaderName = HeaderName::from_static("mcp-session-id");
/// The protocol version header: the revision the client negotiated, sent
/// on every request after `initialize`. When absent, 2025-03-26 is assumed;
/// a value naming no supported revision is answered 400.
pub const VERSION_HEADER: HeaderName = HeaderName::from_static("mcp-protocol-version");

#[cfg(test)]
mod tests;
