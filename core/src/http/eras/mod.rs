//! What each era does with an admitted request: the session era
//! ([`session_era`]: `initialize`, POSTs into a session, GET streams,
//! DELETE) and the stateless 2026-07-28 revision ([`stateless_era`]: the
//! routing headers, then a request served in a carrier of its own).
//!
//! May import [`crate::http::rules`] and everything below it; nothing of
//! the front doors. The eras share one endpoint: a POST whose params carry
//! the stateless `_meta` is the 2026-07-28 revision's, any other the
//! session era's.

use std::net::IpAddr;

use http::StatusCode;

use crate::http::replies::refusals::over_cap;
use crate::http::replies::reply::Mode;
use crate::http::replies::response::Response;
use crate::http::replies::routing::HttpState;
use crate::http::rules::{Admitted, Ask, check_tool_scopes};
use crate::http::wire::RequestHead;
use crate::jsonrpc::{self, Decoded, Message};
use crate::protocol::ProtocolVersion;
use crate::stateless::RequestMeta;

mod session_era;
pub(crate) mod stateless_era;

/// Serves an admitted request from a client at `peer` (when the front
/// door knows it). Never fails: every problem is a response. Only a POST
/// awaits anything (its handlers, driven here until the reply or the first
/// related message); dropping the future drops handlers not yet handed to
/// a stream.
///
/// A GET first takes its client's place among its open streams (by
/// address and by principal): a client at its cap is answered 429 with
/// `Retry-After`, before its session is looked at.
pub(crate) async fn serve(
    state: &HttpState,
    admitted: Admitted,
    head: &RequestHead,
    body: Vec<u8>,
    peer: Option<IpAddr>,
) -> Response {
    match admitted.ask {
        Ask::Post(mode) => post(state, admitted, head, body, mode).await,
        Ask::Get => {
            let share = match state.shares.stream(peer, admitted.principal.as_deref()) {
                Ok(share) => share,
                Err(over) => {
                    return over_cap(
                        StatusCode::TOO_MANY_REQUESTS,
                        over.message(),
                        state.config.retry_after,
                    );
                }
            };
            session_era::get(
                state,
                &*admitted.engine,
                head,
                admitted.now,
                admitted.principal.as_ref(),
                share,
            )
            .await
        }
        Ask::Delete => {
            session_era::delete(
                &*admitted.engine,
                head,
                admitted.now,
                admitted.principal.as_ref(),
            )
            .await
        }
    }
}

/// A POST: its body decoded once, its tool scopes checked, then served by
/// the era its params name.
async fn post(
    state: &HttpState,
    admitted: Admitted,
    head: &RequestHead,
    body: Vec<u8>,
    mode: Mode,
) -> Response {
    let decoded = jsonrpc::decode(&body);
    if let Err(refusal) = check_tool_scopes(state, admitted.principal.as_ref(), &decoded) {
        return refusal;
    }
    if admitted.engine.eras().stateless() {
        let (meta, id, method) = match &decoded {
            Decoded::Single(Ok(Message::Request(r))) => (
                RequestMeta::parse(r.params.as_ref()),
                Some(&r.id),
                r.method.as_str(),
            ),
            Decoded::Single(Ok(Message::Notification(n))) => (
                RequestMeta::parse(n.params.as_ref()),
                None,
                n.method.as_str(),
            ),
            _ => (None, None, ""),
        };
        if let Some(mut meta) = meta {
            if let Ok(meta) = &mut meta {
                meta.set_principal(admitted.principal.clone());
            }
            let Decoded::Single(Ok(mut message)) = decoded else {
                unreachable!("only single messages carry stateless _meta")
            };
            // What the `_meta` pass found, so that the call reads its
            // params no second time.
            if let (Ok(meta), Message::Request(r)) = (&meta, &mut message)
                && let Some(params) = &mut r.params
            {
                params.remember(meta.spans);
            }
            return stateless_era::post(state, admitted.engine, head, message, meta, mode).await;
        }
        let stateless_header = admitted
            .version
            .is_some_and(|v| v.is_some_and(ProtocolVersion::is_stateless));
        if stateless_header {
            // A stateless header on a session-era body: never a fall-back.
            if method == "initialize" {
                return stateless_era::header_mismatch_response(
                    id,
                    "initialize is not part of the stateless MCP-Protocol-Version",
                );
            }
            return stateless_era::invalid_meta(
                id,
                "invalid params: a stateless MCP-Protocol-Version needs _meta with \
                 io.modelcontextprotocol/protocolVersion and clientCapabilities",
            );
        }
    }
    session_era::post(state, admitted, head, decoded, mode).await
}
