//! [`SessionRecord`]: what a store keeps of one session, and its JSON form.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::StoreError;
use crate::protocol::LogLevel;

/// What a store keeps of one session: what `initialize` fixed (the
/// negotiated revision, the client's capabilities and `clientInfo`, the
/// party whose token opened it) and what the client changes later (its log
/// level, its resource subscriptions).
///
/// Stores treat it as opaque text: [`to_json`](Self::to_json) and
/// [`from_json`](Self::from_json). Tokens are never in it: of the
/// principal only the issuer and subject are kept, to bind the session.
///
/// # Examples
///
/// ```
/// use switchboard_core::session_store::SessionRecord;
///
/// let record = SessionRecord::new("2025-11-25");
/// let text = record.to_json();
/// assert_eq!(text, r#"{"protocolVersion":"2025-11-25"}"#);
/// assert_eq!(SessionRecord::from_json(&text).unwrap(), record);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionRecord {
    /// The negotiated revision.
    pub(crate) protocol_version: String,
    /// The client capabilities the engine reads, by name (`sampling`,
    /// `elicitation`, `roots`, `tasks`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) capabilities: Vec<String>,
    /// `initialize`'s `clientInfo`, as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) client_info: Option<Value>,
    /// The party that opened the session, when tokens are checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) owner: Option<Owner>,
    /// Set by `logging/setLevel`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) log_level: Option<LogLevel>,
    /// The URIs subscribed to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) subscriptions: Vec<String>,
}

/// The party a session is bound to: an issuer (when the verifier names
/// one) and a subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Owner {
    /// The token's issuer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) issuer: Option<String>,
    /// The token's subject.
    pub(crate) subject: String,
}

impl SessionRecord {
    /// A record of a session at revision `protocol_version` and nothing
    /// else: no capabilities, no owner, no level, no subscriptions.
    pub fn new(protocol_version: impl Into<String>) -> Self {
        Self {
            protocol_version: protocol_version.into(),
            capabilities: Vec::new(),
            client_info: None,
            owner: None,
            log_level: None,
            subscriptions: Vec::new(),
        }
    }

    /// The negotiated revision, as text.
    pub fn protocol_version(&self) -> &str {
        &self.protocol_version
    }

    /// The subject of the token that opened the session, when tokens are
    /// checked.
    pub fn subject(&self) -> Option<&str> {
        self.owner.as_ref().map(|o| o.subject.as_str())
    }

    /// The JSON form a store keeps.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Reads the JSON form back.
    ///
    /// # Errors
    ///
    /// [`StoreError::Malformed`] when `text` is not a record.
    pub fn from_json(text: &str) -> Result<Self, StoreError> {
        serde_json::from_str(text).map_err(|e| StoreError::Malformed(e.to_string()))
    }
}
