//! The session a request names: its header read, the session found and
//! touched, and bound to the party that opened it.

use crate::clock::Instant;
use std::sync::Arc;

use crate::http::replies::refusals::{bad_request, session_not_found, store_unavailable};
use crate::http::replies::response::Response;
use crate::http::wire::{Known, RequestHead};
use crate::id::SessionId;
use crate::principal::Principal;
use crate::protocol::ProtocolVersion;
use crate::session::Session;
use crate::transport::Dispatch;

/// The refusal of a session-era request whose `MCP-Protocol-Version` names
/// no session-based revision this server supports (400), if it does.
/// Absent means 2025-03-26 (the spec's rule); any supported value is
/// accepted, even one that differs from the session's (clients do send
/// that).
pub(crate) fn session_version(header: Option<Option<ProtocolVersion>>) -> Option<Response> {
    let supported = header?.is_some_and(|v| !v.is_stateless());
    (!supported).then(|| bad_request("bad request: unsupported MCP-Protocol-Version"))
}

/// The session named by the request's header, touched at `now`, or the
/// response refusing it: 400 without the header, 404 for a session that is
/// not open, or that another subject's token opened (so a stolen or guessed
/// id tells its holder nothing), 503 when the shared session store (if
/// any) cannot answer. Touching keeps the session from expiring as idle.
///
/// Without a shared store this is one look-up in the engine's table, as
/// ever; with one, the engine may ask the store
/// ([`Dispatch::find_session`]).
pub(crate) async fn session_of(
    engine: &dyn Dispatch,
    head: &RequestHead,
    now: Instant,
    caller: Option<&Arc<Principal>>,
) -> Result<Arc<Session>, Response> {
    let id = head
        .known_str(Known::SessionId)
        .ok_or_else(|| bad_request("bad request: missing Mcp-Session-Id header"))?;
    let id = SessionId::new(id);
    let found = if engine.shares_sessions() {
        engine
            .find_session(&id, now)
            .await
            .map_err(|e| store_unavailable(&e))?
    } else {
        engine.session(&id)
    };
    let session = found.ok_or_else(session_not_found)?;
    if !same_party(session.facts().principal.as_deref(), caller.map(|p| &**p)) {
        return Err(session_not_found());
    }
    session.touch(now);
    Ok(session)
}

/// Whether the session's owner and the caller are the same party: both
/// anonymous (no auth hook), or the same issuer and subject.
pub(crate) fn same_party(owner: Option<&Principal>, caller: Option<&Principal>) -> bool {
    match (owner, caller) {
        (None, None) => true,
        (Some(owner), Some(caller)) => owner.same_party(caller),
        _ => false,
    }
}
