//! One step from a request head to an admitted request: every header the
//! rules decide by is read here, once, in the order the module describes.

use crate::clock::Instant;
use crate::clock::now;
use std::sync::Arc;

use http::header::ALLOW;
use http::{HeaderValue, Method, StatusCode};

use super::cors;
use super::sessions::session_version;
use crate::http::auth::AuthConfig;
use crate::http::config::ReplyMode;
use crate::http::replies::refusals::{bad_request, refuse, shutting_down};
use crate::http::replies::reply::Mode;
use crate::http::replies::response::Response;
use crate::http::replies::routing::HttpState;
use crate::http::wire::media::{accepts, is_json};
use crate::http::wire::{Known, RequestHead};
use crate::jsonrpc::{self, Decoded, ErrorCode, Message};
use crate::principal::Principal;
use crate::protocol::ProtocolVersion;
use crate::transport::Dispatch;

/// A request that passed every check that does not depend on its body or
/// its era: what the eras need to serve it, each header read once.
pub(crate) struct Admitted {
    /// The engine that answers it.
    pub(crate) engine: Arc<dyn Dispatch>,
    /// Who is asking, when the endpoint checks tokens.
    pub(crate) principal: Option<Arc<Principal>>,
    /// `MCP-Protocol-Version`: `None` when absent, `Some(None)` for a value
    /// naming no revision this server knows.
    pub(crate) version: Option<Option<ProtocolVersion>>,
    /// When the request was admitted (the time sessions are touched at).
    pub(crate) now: Instant,
    /// What the request asks.
    pub(crate) ask: Ask,
}

/// What an admitted request asks, by method.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ask {
    /// A POST, whose reply goes out as `Mode` says (from `Accept` and the
    /// configured reply mode).
    Post(Mode),
    /// A GET: listen to a session's standalone stream, or resume a stream.
    Get,
    /// A DELETE: end a session.
    Delete,
}

/// Applies the era-independent checks to `head`: the admitted request, or
/// the response refusing it. Only an auth hook's verifier is awaited.
pub(crate) async fn admit(state: &HttpState, head: &RequestHead) -> Result<Admitted, Response> {
    let config = &state.config;
    if head.path() != config.path {
        if let Some(auth) = &config.auth {
            if AuthConfig::serves_metadata(head.path(), &config.path) {
                // A browser client reads the metadata to learn how to
                // authenticate, so it answers cross-origin reads too.
                if config.cors.enabled && cors::is_preflight(head) {
                    return Err(cors::answer_preflight(config, head, cors::METADATA_METHODS));
                }
                return Err(metadata_response(auth, &head.method));
            }
        }
        return Err(Response::text(StatusCode::NOT_FOUND, "not found"));
    }
    // A header the server decides by must be unambiguous (RFC 9110 §5.3):
    // a proxy that reads the first of two and a server that reads the last
    // would disagree about who is asking, and for which session.
    for (header, name) in [
        (Known::Host, "Host"),
        (Known::Origin, "Origin"),
        (Known::SessionId, "Mcp-Session-Id"),
        (Known::ProtocolVersion, "MCP-Protocol-Version"),
    ] {
        if head.is_repeated(header) {
            return Err(bad_request(&format!(
                "bad request: more than one {name} header"
            )));
        }
    }
    // An absolute-form target names the host itself (RFC 9112 §3.2.2).
    let host = head
        .absolute_authority()
        .or_else(|| head.known_str(Known::Host));
    match host {
        None => return Err(bad_request("bad request: missing Host header")),
        Some(host) if config.allowed_hosts.allows_host(host) => {}
        Some(_) => {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                ErrorCode::INVALID_REQUEST,
                "forbidden: invalid Host header",
            ));
        }
    }
    if let Some(origin) = head.known(Known::Origin) {
        if !std::str::from_utf8(origin).is_ok_and(|o| config.allowed_origins.allows_origin(o)) {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                ErrorCode::INVALID_REQUEST,
                "forbidden: invalid Origin header",
            ));
        }
    }
    // A preflight carries no token and no session: it is answered before
    // they are asked for.
    if config.cors.enabled && cors::is_preflight(head) {
        return Err(cors::answer_preflight(config, head, cors::ENDPOINT_METHODS));
    }
    let principal = match &config.auth {
        None => None,
        Some(auth) => {
            let header = head.known(Known::Authorization);
            let principal = auth
                .authenticate(header, head.is_repeated(Known::Authorization))
                .await?;
            let missing = auth.missing_scopes(&principal, std::iter::empty());
            if !missing.is_empty() {
                return Err(auth.insufficient_scope(&missing).into());
            }
            Some(Arc::new(principal))
        }
    };
    let ask = match head.method {
        Method::POST => Ask::Post(Mode::Auto),
        Method::GET => Ask::Get,
        Method::DELETE => Ask::Delete,
        _ => {
            return Err(
                Response::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
                    .header(ALLOW, HeaderValue::from_static("GET, POST, DELETE")),
            );
        }
    };
    let Some(engine) = state.engine() else {
        return Err(shutting_down());
    };
    let version = head
        .known_str(Known::ProtocolVersion)
        .map(|v| v.trim().parse::<ProtocolVersion>().ok());
    let ask = match ask {
        Ask::Post(_) => Ask::Post(post_mode(state, head)?),
        get_or_delete => {
            if !engine.eras().sessions() {
                // A stateless-only endpoint has no sessions to listen to or end.
                return Err(
                    Response::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
                        .header(ALLOW, HeaderValue::from_static("POST")),
                );
            }
            if let Some(refusal) = session_version(version) {
                return Err(refusal);
            }
            if get_or_delete == Ask::Get && !accepts(head).sse {
                return Err(refuse(
                    StatusCode::NOT_ACCEPTABLE,
                    ErrorCode::INVALID_REQUEST,
                    "not acceptable: accept text/event-stream",
                ));
            }
            get_or_delete
        }
    };
    Ok(Admitted {
        engine,
        principal,
        version,
        now: now(),
        ask,
    })
}

/// How a POST's reply may go out, from its `Accept` (406 if it takes
/// neither JSON nor SSE) and the configured mode; 415 for a body not
/// declared JSON.
fn post_mode(state: &HttpState, head: &RequestHead) -> Result<Mode, Response> {
    let accepts = accepts(head);
    if !accepts.json && !accepts.sse {
        return Err(refuse(
            StatusCode::NOT_ACCEPTABLE,
            ErrorCode::INVALID_REQUEST,
            "not acceptable: accept application/json or text/event-stream",
        ));
    }
    if !is_json(head) {
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::INVALID_REQUEST,
            "unsupported media type: send application/json",
        ));
    }
    Ok(match (accepts.json, accepts.sse) {
        (true, false) => Mode::JsonOnly,
        (false, true) => Mode::Sse,
        _ => match state.config.reply_mode {
            ReplyMode::Sse => Mode::Sse,
            _ => Mode::Auto,
        },
    })
}

/// The protected resource metadata document's response (GET only; 405
/// otherwise).
fn metadata_response(auth: &AuthConfig, method: &Method) -> Response {
    if method != Method::GET {
        return Response::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
            .header(ALLOW, HeaderValue::from_static("GET"));
    }
    Response::json(StatusCode::OK, auth.metadata().to_string().into_bytes()).header(
        http::header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=3600"),
    )
}

/// Refuses (403 `insufficient_scope`) a POST that calls a tool with a scope
/// of its own that the caller lacks; `Ok` without an auth hook or tool
/// scopes.
pub(crate) fn check_tool_scopes(
    state: &HttpState,
    principal: Option<&Arc<Principal>>,
    decoded: &Decoded,
) -> Result<(), Response> {
    let (Some(auth), Some(principal)) = (&state.config.auth, principal) else {
        return Ok(());
    };
    if !auth.has_tool_scopes() {
        return Ok(());
    }
    let tools = called_tools(decoded);
    let missing = auth.missing_scopes(principal, tools.iter().map(String::as_str));
    if missing.is_empty() {
        Ok(())
    } else {
        Err(auth.insufficient_scope(&missing).into())
    }
}

/// The tools a POST body calls (`params.name` of each `tools/call`), for
/// the scopes [`AuthConfig::tool_scope`] asks of them.
fn called_tools(decoded: &Decoded) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Call {
        name: String,
    }
    let name = |m: &Result<Message, jsonrpc::Response>| match m {
        Ok(Message::Request(r)) if r.method == "tools/call" => r
            .params
            .as_ref()
            .and_then(|p| p.parse::<Call>().ok())
            .map(|c| c.name),
        _ => None,
    };
    match decoded {
        Decoded::Single(m) => name(m).into_iter().collect(),
        Decoded::Batch(items) => items.iter().filter_map(name).collect(),
    }
}
