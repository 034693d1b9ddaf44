//! Request ids: a number or a string, echoed as they came.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A JSON-RPC request id: an integer or a string, echoed exactly as
/// received.
///
/// MCP ids are strings or integers. An integer is kept if it fits 64 bits
/// (`-9223372036854775808` to `18446744073709551615`), so it round-trips
/// unchanged; a fraction (`1.5`) or a larger integer, which JSON parsers
/// read as floating point and could not echo exactly (2^64 and 2^64 + 1
/// would be one id), is refused as an invalid request. `1` and `"1"` are
/// different ids. `null` is not an id: a
/// response to a request whose id could not be read has
/// [`Response::id`](crate::jsonrpc::Response::id) `None` instead.
///
/// It displays as JSON would write it: numbers bare, strings quoted.
///
/// # Examples
///
/// ```
/// use switchboard_core::RequestId;
///
/// assert_eq!(RequestId::number(7), RequestId::from(7));
/// assert_ne!(RequestId::from(1), RequestId::from("1"));
/// assert_eq!(RequestId::from("a").to_string(), r#""a""#);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RequestId {
    /// A numeric id, kept as the JSON number it arrived as.
    Number(serde_json::Number),
    /// A string id.
    String(String),
}

impl RequestId {
    /// Builds a numeric id (what the server uses for its own requests).
    pub fn number(n: i64) -> Self {
        Self::Number(n.into())
    }

    /// Reads an id from a JSON value; `None` unless it is a string or an
    /// integer that fits 64 bits (`null`, fractions, larger numbers,
    /// booleans, arrays and objects are not ids).
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use switchboard_core::RequestId;
    ///
    /// assert_eq!(RequestId::from_value(&json!("x")), Some(RequestId::from("x")));
    /// assert_eq!(RequestId::from_value(&json!(null)), None);
    /// assert_eq!(RequestId::from_value(&json!(1.5)), None);
    /// ```
    pub fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Number(n) if n.is_i64() || n.is_u64() => Some(Self::Number(n.clone())),
            Value::String(s) => Some(Self::String(s.clone())),
            _ => None,
        }
    }

    /// The id as a JSON value, for embedding in params (the `requestId` of
    /// `notifications/cancelled`, say). The inverse of
    /// [`RequestId::from_value`].
    pub fn to_value(&self) -> Value {
        match self {
            Self::Number(n) => Value::Number(n.clone()),
            Self::String(s) => Value::String(s.clone()),
        }
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(n) => write!(f, "{n}"),
            Self::String(s) => write!(f, "{s:?}"),
        }
    }
}

impl From<i64> for RequestId {
    fn from(n: i64) -> Self {
        Self::number(n)
    }
}

impl From<&str> for RequestId {
    fn from(s: &str) -> Self {
        Self::String(s.to_owned())
    }
}
