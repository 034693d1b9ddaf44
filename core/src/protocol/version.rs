//! Protocol revisions, and the log levels of `logging/setLevel`.
//!
//! Revisions order by date, so "from 2025-06-18 on" is a comparison
//! (`version >= ProtocolVersion::V2025_06_18`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An MCP protocol revision this server speaks: the session-based ones that
/// `initialize` negotiates, and the stateless 2026-07-28, which every
/// request names in its own `_meta` instead.
///
/// Parses from and displays as its date string. What differs between
/// revisions is asked of the version (`allows_batches`, …) rather than
/// matched on, so that a new revision is one new variant.
///
/// # Examples
///
/// ```
/// use switchboard_core::ProtocolVersion;
///
/// let v: ProtocolVersion = "2025-06-18".parse().unwrap();
/// assert_eq!(v, ProtocolVersion::V2025_06_18);
/// assert!(v < ProtocolVersion::LATEST);
/// assert_eq!(v.to_string(), "2025-06-18");
/// assert!("2023-01-01".parse::<ProtocolVersion>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum ProtocolVersion {
    /// 2024-11-05 (HTTP+SSE era).
    V2024_11_05,
    /// 2025-03-26 (Streamable HTTP, JSON-RPC batches).
    V2025_03_26,
    /// 2025-06-18.
    V2025_06_18,
    /// 2025-11-25, the latest session-based revision.
    V2025_11_25,
    /// 2026-07-28, the first stateless revision: no `initialize`, no
    /// session; each request carries its revision and the client's
    /// capabilities in `_meta`.
    V2026_07_28,
}

impl ProtocolVersion {
    /// The revision `initialize` answers when the client asks for one we do
    /// not support: the newest session-based revision.
    pub const LATEST: Self = Self::V2025_11_25;
    /// Every supported revision, newest first (the stateless ones included).
    pub const ALL: [Self; 5] = [
        Self::V2026_07_28,
        Self::V2025_11_25,
        Self::V2025_06_18,
        Self::V2025_03_26,
        Self::V2024_11_05,
    ];

    /// The revision's date string, as sent in `protocolVersion` and the
    /// `MCP-Protocol-Version` header.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V2024_11_05 => "2024-11-05",
            Self::V2025_03_26 => "2025-03-26",
            Self::V2025_06_18 => "2025-06-18",
            Self::V2025_11_25 => "2025-11-25",
            Self::V2026_07_28 => "2026-07-28",
        }
    }

    /// Whether the revision is stateless (2026-07-28 on): requests carry
    /// their own facts in `_meta`, and no session is ever opened.
    pub fn is_stateless(self) -> bool {
        self >= Self::V2026_07_28
    }

    /// The revision `initialize` answers to a client asking for `requested`:
    /// the same when it is a supported session-based revision, else
    /// [`ProtocolVersion::LATEST`] (a stateless revision has no
    /// `initialize`).
    ///
    /// Never fails: per the specification, a client that cannot speak the
    /// answered revision is the one to disconnect.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::ProtocolVersion;
    ///
    /// assert_eq!(ProtocolVersion::negotiate("2025-03-26"), ProtocolVersion::V2025_03_26);
    /// assert_eq!(ProtocolVersion::negotiate("1999-01-01"), ProtocolVersion::LATEST);
    /// assert_eq!(ProtocolVersion::negotiate("2026-07-28"), ProtocolVersion::LATEST);
    /// ```
    pub fn negotiate(requested: &str) -> Self {
        requested
            .parse()
            .ok()
            .filter(|v: &Self| !v.is_stateless())
            .unwrap_or(Self::LATEST)
    }

    /// Whether JSON-RPC batches (arrays) are part of this revision: only
    /// 2025-03-26 has them (2025-06-18 removed them again). A batch in a
    /// session at another revision is refused whole.
    pub fn allows_batches(self) -> bool {
        self == Self::V2025_03_26
    }

    /// Whether tool input-validation failures are tool results with
    /// `isError` (SEP-1303, 2025-11-25) rather than `-32602` errors.
    pub fn validation_errors_are_tool_errors(self) -> bool {
        self >= Self::V2025_11_25
    }

    /// Whether the revision has the experimental tasks of 2025-11-25
    /// (`capabilities.tasks`, `params.task`, `tasks/get|result|list|cancel`):
    /// only the session of that revision. The stateless revision has the
    /// tasks extension instead, whose shapes differ.
    pub fn has_experimental_tasks(self) -> bool {
        self == Self::V2025_11_25
    }
}

impl fmt::Display for ProtocolVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The string is not a protocol revision this server supports; the error
/// of `ProtocolVersion`'s `FromStr`. (`initialize` does not fail this way:
/// it answers with [`ProtocolVersion::LATEST`].)
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unsupported protocol version")]
pub struct UnsupportedVersion;

impl FromStr for ProtocolVersion {
    type Err = UnsupportedVersion;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or(UnsupportedVersion)
    }
}

/// A syslog severity, as used by `logging/setLevel` and `notifications/message`.
///
/// Ordered from least to most severe, so a filter is a comparison: a
/// session at `Warning` receives `Warning` and everything above it.
/// Serialized lowercase (`"warning"`).
///
/// # Examples
///
/// ```
/// use switchboard_core::LogLevel;
///
/// assert!(LogLevel::Error > LogLevel::Warning);
/// assert_eq!(serde_json::to_value(LogLevel::Critical).unwrap(), "critical");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum LogLevel {
    /// Debug-level messages.
    Debug,
    /// Informational messages.
    Info,
    /// Normal but significant conditions.
    Notice,
    /// Warning conditions.
    Warning,
    /// Error conditions.
    Error,
    /// Critical conditions.
    Critical,
    /// Action must be taken immediately.
    Alert,
    /// The system is unusable.
    Emergency,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_parse_and_order() {
        for v in ProtocolVersion::ALL {
            assert_eq!(v.as_str().parse::<ProtocolVersion>(), Ok(v));
        }
        assert!("2027-01-01".parse::<ProtocolVersion>().is_err());
        assert!(ProtocolVersion::V2026_07_28.is_stateless());
        assert!(!ProtocolVersion::LATEST.is_stateless());
        assert!(ProtocolVersion::V2025_03_26.allows_batches());
        assert!(!ProtocolVersion::LATEST.allows_batches());
    }

    #[test]
    fn log_levels_are_ordered() {
        assert!(LogLevel::Debug < LogLevel::Emergency);
        let l: LogLevel = serde_json::from_value(json!("warning")).unwrap();
        assert_eq!(l, LogLevel::Warning);
    }
}
