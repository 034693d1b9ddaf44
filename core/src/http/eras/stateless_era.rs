//! A stateless POST (the 2026-07-28 revision): the routing headers checked
//! against the body, then the request served in a carrier of its own that
//! ends with its response.
//!
//! The checks run in the order the suite's reference server uses, each
//! refusal a JSON-RPC error that echoes the request's id:
//!
//! 1. `MCP-Protocol-Version` present and equal to `_meta`'s version
//!    (400, `-32020`), checked *before* support, so a mismatch is never
//!    reported as an unsupported revision;
//! 2. the revision served statelessly (400, `-32022` with `data.supported`
//!    and `data.requested`);
//! 3. `Mcp-Method` equal to the body's method; `Mcp-Name` equal to
//!    `params.name` (`tools/call`, `prompts/get`) or `params.uri`
//!    (`resources/read`); each `Mcp-Param-{H}` that a tool's input schema
//!    declares with `x-mcp-header` equal to its argument (400, `-32020`).
//!
//! Header names are case-insensitive, values case-sensitive, surrounding
//! spaces and tabs stripped, and a value written `=?base64?…?=` is decoded
//! (strict Base64, UTF-8) before it is compared. A value with a character
//! outside visible ASCII, or a header given twice, is malformed.
//!
//! A closed response stream cancels the request: dropping the response
//! ends the carrier, which aborts the handler.

use std::sync::Arc;

use http::{HeaderValue, StatusCode};
use serde_json::Value;

use crate::http::replies::job::Job;
use crate::http::replies::receiver::StreamReceiver;
use crate::http::replies::reply::{CarrierEnd, Mode, reply};
use crate::http::replies::response::Response;
use crate::http::replies::routing::HttpState;
use crate::http::wire::{Known, RequestHead};
use crate::jsonrpc::{ErrorCode, Message, RequestId, Response as RpcResponse, RpcError};
use crate::stateless::{MetaError, RequestMeta, unsupported_version};
use crate::transport::{Dispatch, Dispatched, Refusal};

/// A JSON-RPC error response to `id` with HTTP `status`.
fn error(status: StatusCode, id: Option<&RequestId>, error: RpcError) -> Response {
    let response = RpcResponse::err(id.cloned(), error);
    Response::json(status, Message::Response(response).to_bytes())
}

/// 400 with `-32020`: a routing header is missing, malformed or disagrees
/// with the body.
fn header_mismatch(id: Option<&RequestId>, message: String) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        id,
        RpcError::new(ErrorCode::HEADER_MISMATCH, message),
    )
}

/// 400 with `-32020` for a session-era body under a stateless header.
pub(crate) fn header_mismatch_response(id: Option<&RequestId>, message: &str) -> Response {
    header_mismatch(id, message.to_owned())
}

/// 400 with `-32602`: the request's stateless `_meta` is incomplete or
/// malformed (or a stateless header came without it).
pub(crate) fn invalid_meta(id: Option<&RequestId>, message: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        id,
        RpcError::new(ErrorCode::INVALID_PARAMS, message),
    )
}

/// The value of header `name`, decoded: `None` when absent.
///
/// # Errors
///
/// When it is given twice, holds a character outside visible ASCII, or is
/// a `=?base64?…?=` that does not decode to UTF-8 text.
fn routing_header(head: &RequestHead, name: &str) -> Result<Option<String>, String> {
    let mut values = head.header_bytes_all(name);
    let Some(raw) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(format!("more than one {name} header"));
    }
    decode_header(raw, name).map(|v| Some(v.into_owned()))
}

/// The value of known header `known` (named `name` in errors), decoded;
/// as [`routing_header`], without scanning the head.
fn known_header<'h>(
    head: &'h RequestHead,
    known: Known,
    name: &str,
) -> Result<Option<std::borrow::Cow<'h, str>>, String> {
    if head.is_repeated(known) {
        return Err(format!("more than one {name} header"));
    }
    match head.known_str(known) {
        Some(text) => decode_text(text, name).map(Some),
        // There, but not text: not visible ASCII either.
        None if head.known(known).is_some() => Err(must_encode(name)),
        None => Ok(None),
    }
}

/// A routing header's raw value, checked, trimmed and decoded.
pub(crate) fn decode_header<'h>(
    raw: &'h [u8],
    name: &str,
) -> Result<std::borrow::Cow<'h, str>, String> {
    // Bytes that are not UTF-8 are not visible ASCII either.
    let text = std::str::from_utf8(raw).map_err(|_| must_encode(name))?;
    decode_text(text, name)
}

/// [`decode_header`] for a value already read as text.
fn decode_text<'h>(text: &'h str, name: &str) -> Result<std::borrow::Cow<'h, str>, String> {
    if !text
        .bytes()
        .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
    {
        return Err(must_encode(name));
    }
    // Only visible ASCII, spaces and tabs are left: trimming ASCII
    // whitespace trims the spaces and tabs.
    let text = text.trim_ascii();
    if let Some(inner) = text
        .strip_prefix("=?base64?")
        .and_then(|t| t.strip_suffix("?="))
    {
        let bytes = crate::base64::decode_standard(inner)
            .ok_or_else(|| format!("{name} is not valid Base64"))?;
        return String::from_utf8(bytes)
            .map(std::borrow::Cow::Owned)
            .map_err(|_| format!("{name} does not decode to UTF-8"));
    }
    Ok(std::borrow::Cow::Borrowed(text))
}

/// The error for a header value with a character outside visible ASCII.
fn must_encode(name: &str) -> String {
    format!("{name} holds a character that must be Base64-encoded")
}

/// A tool argument as its `Mcp-Param-*` header spells it; `None` for a
/// value with no header form (`null`, objects, arrays).
fn header_form(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Checks the routing headers of a stateless request against its body.
///
/// # Errors
///
/// The 400 response refusing it (`-32020`, or `-32022` for a revision not
/// served).
fn check_headers(
    engine: &dyn Dispatch,
    head: &RequestHead,
    message: &Message,
    meta: &RequestMeta,
) -> Result<(), Response> {
    let (id, method, params) = match message {
        Message::Request(r) => (Some(&r.id), r.method.as_str(), r.params.as_ref()),
        Message::Notification(n) => (None, n.method.as_str(), n.params.as_ref()),
        Message::Response(_) => return Ok(()),
    };
    let mismatch = |m: String| header_mismatch(id, m);
    let version = head
        .known_str(Known::ProtocolVersion)
        .map(str::trim_ascii)
        .ok_or_else(|| mismatch("missing MCP-Protocol-Version header".into()))?;
    if version != meta.requested_version() {
        return Err(mismatch(
            "MCP-Protocol-Version header does not match _meta protocolVersion".into(),
        ));
    }
    if meta.version().is_none() {
        return Err(error(
            StatusCode::BAD_REQUEST,
            id,
            unsupported_version(meta.requested_version()),
        ));
    }
    match known_header(head, Known::McpMethod, "Mcp-Method").map_err(mismatch)? {
        None => return Err(mismatch("missing Mcp-Method header".into())),
        Some(m) if m != method => {
            return Err(mismatch(
                "Mcp-Method header does not match the method".into(),
            ));
        }
        Some(_) => {}
    }
    let named = match method {
        "tools/call" | "prompts/get" => Some("name"),
        "resources/read" => Some("uri"),
        // The tasks extension routes by task (SEP-2663).
        "tasks/get" | "tasks/update" | "tasks/cancel" => Some("taskId"),
        _ => None,
    };
    let Some(field) = named else {
        return Ok(());
    };
    let name = meta.target(method);
    match (
        known_header(head, Known::McpName, "Mcp-Name").map_err(mismatch)?,
        name,
    ) {
        (None, _) => return Err(mismatch("missing Mcp-Name header".into())),
        (Some(h), Some(n)) if h == n => {}
        (Some(_), _) => {
            return Err(mismatch(format!(
                "Mcp-Name header does not match params.{field}"
            )));
        }
    }
    if method != "tools/call" {
        return Ok(());
    }
    let declared = engine.header_params(name.unwrap_or_default());
    if declared.is_empty() {
        return Ok(());
    }
    let params: Value = params.and_then(|p| p.parse().ok()).unwrap_or(Value::Null);
    for (property, suffix) in declared {
        let header = format!("mcp-param-{}", suffix.to_ascii_lowercase());
        let Some(expected) = params["arguments"].get(&property).and_then(header_form) else {
            // No value in the body: no header is expected.
            continue;
        };
        match routing_header(head, &header).map_err(mismatch)? {
            None => return Err(mismatch(format!("missing Mcp-Param-{suffix} header"))),
            Some(got) if got == expected => {}
            Some(_) => {
                return Err(mismatch(format!(
                    "Mcp-Param-{suffix} header does not match argument {property}"
                )));
            }
        }
    }
    Ok(())
}

/// Serves one stateless POST whose body decoded to `message` with
/// stateless `_meta` (or a malformed one: `meta`'s error).
pub(crate) async fn post(
    state: &HttpState,
    engine: Arc<dyn Dispatch>,
    head: &RequestHead,
    message: Message,
    meta: Result<RequestMeta, MetaError>,
    mode: Mode,
) -> Response {
    let id = match &message {
        Message::Request(r) => Some(r.id.clone()),
        _ => None,
    };
    let meta = match meta {
        Ok(meta) => meta,
        Err(e) => return invalid_meta(id.as_ref(), &format!("invalid params: {e}")),
    };
    if let Err(refusal) = check_headers(&*engine, head, &message, &meta) {
        return refusal;
    }
    let listen = matches!(&message, Message::Request(r) if r.method == "subscriptions/listen");
    if listen && mode == Mode::JsonOnly {
        // Its notifications could never reach a client that takes only JSON.
        return error(
            StatusCode::NOT_ACCEPTABLE,
            id.as_ref(),
            RpcError::new(
                ErrorCode::INVALID_REQUEST,
                "not acceptable: subscriptions/listen answers with text/event-stream",
            ),
        );
    }
    let (carrier, Dispatched { stream, work }) =
        match engine.dispatch_stateless(None, message, &meta, true) {
            Ok(served) => served,
            Err(Refusal::UnsupportedVersion(requested)) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    id.as_ref(),
                    unsupported_version(&requested),
                );
            }
            Err(Refusal::Busy) => {
                return error(
                    StatusCode::SERVICE_UNAVAILABLE,
                    id.as_ref(),
                    RpcError::new(ErrorCode::SERVER_BUSY, "too many requests in flight"),
                )
                .header(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Err(other) => {
                return error(
                    StatusCode::BAD_REQUEST,
                    id.as_ref(),
                    RpcError::new(ErrorCode::INVALID_REQUEST, other.to_string()),
                );
            }
        };
    let end = CarrierEnd {
        id: carrier.id().clone(),
        engine,
    };
    let Some(stream) = stream else {
        // A notification: it took effect; nothing answers it.
        if let Some(work) = work {
            work.await;
        }
        drop(end);
        return Response::empty(StatusCode::ACCEPTED);
    };
    let events = {
        let mut st = carrier.state();
        StreamReceiver::attach(&carrier, &mut st, stream)
    };
    let Some(events) = events else {
        // The carrier ended between its dispatch and now: the server closed.
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            id.as_ref(),
            RpcError::new(ErrorCode::SERVER_BUSY, "server is shutting down"),
        );
    };
    let job = work.map(|work| Job::new(work, &carrier, stream));
    reply(state, &carrier, stream, events, mode, job, Some(end)).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::wire::testing::head;

    #[test]
    fn blanks_are_trimmed_on_both_sides_only() {
        let d = |v: &[u8]| decode_header(v, "n").map(|t| t.into_owned());
        assert_eq!(d(b" \t a b\t ").unwrap(), "a b");
        assert_eq!(d(b" \t ").unwrap(), "");
        assert_eq!(d(b"").unwrap(), "");
    }

    #[test]
    fn routing_headers_are_trimmed_decoded_and_strict() {
        let h = head(
            "POST /mcp HTTP/1.1\r\nhost: x\r\nmcp-name:   a b  \r\nmcp-param-r: =?base64?SGVsbG8=?=\r\n\
             mcp-param-bad: =?base64?SGVsbG8?=\r\nmcp-param-lit: =?base64?SGVsbG8=\r\n\r\n",
        );
        assert_eq!(
            known_header(&h, Known::McpName, "n").unwrap().unwrap(),
            "a b"
        );
        assert_eq!(routing_header(&h, "Mcp-Param-R").unwrap().unwrap(), "Hello");
        assert!(routing_header(&h, "mcp-param-bad").is_err());
        assert_eq!(
            routing_header(&h, "mcp-param-lit").unwrap().unwrap(),
            "=?base64?SGVsbG8="
        );
        assert_eq!(known_header(&h, Known::McpMethod, "m").unwrap(), None);
        let twice = head("POST /mcp HTTP/1.1\r\nhost: x\r\nmcp-method: a\r\nmcp-method: a\r\n\r\n");
        assert!(known_header(&twice, Known::McpMethod, "m").is_err());
        let twice =
            head("POST /mcp HTTP/1.1\r\nhost: x\r\nmcp-param-a: a\r\nmcp-param-a: a\r\n\r\n");
        assert!(routing_header(&twice, "mcp-param-a").is_err());
    }
}
