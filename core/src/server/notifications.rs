//! Notifications from the client: they take effect at once and leave no
//! work behind.

use serde_json::Value;

use crate::jsonrpc::{Params, RequestId};
use crate::session::Session;

/// Handles a notification from the client, at once (no work is left).
///
/// `notifications/initialized` marks the session initialized: from then on
/// it receives broadcasts (list changes, resource updates).
/// `notifications/cancelled` aborts the request its `requestId` names, if
/// it is in flight; unreadable params and unknown ids (a request that just
/// finished, say) are ignored, as the spec allows. Every other notification
/// is ignored.
///
/// Returns the id of a request to cancel that is not in flight here.
pub(super) fn accept_notification(
    session: &Session,
    method: &str,
    params: Option<&Params>,
) -> Option<RequestId> {
    match method {
        "notifications/initialized" => session.state().initialized = true,
        "notifications/cancelled" => {
            /// The params of `notifications/cancelled` (its `reason` unread).
            #[derive(serde::Deserialize)]
            struct Cancelled {
                /// The id of the request to cancel, as sent.
                #[serde(rename = "requestId")]
                request_id: Value,
            }
            let id = params
                .and_then(|p| p.parse::<Cancelled>().ok())
                .and_then(|c| RequestId::from_value(&c.request_id));
            if let Some(id) = id {
                // Unknown ids are normal: the request may have just finished.
                match session.state().in_flight.get(&id) {
                    Some(handle) => handle.abort(),
                    None => return Some(id),
                }
            }
        }
        // Other notifications (roots/list_changed, progress) need no action here.
        _ => {}
    }
    None
}
