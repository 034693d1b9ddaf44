//! Request ids: a number or a string, echoed as they came.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A JSON-RPC request id: a number or a string, echoed exactly as received.
///
/// A number keeps its JSON form (`18446744073709551615` and `1.5` round-trip
/// unchanged), so an id compares equal only to the same JSON: `1` and `"1"`
/// are different ids, and so are `1` and `1.0`. `null` is not an id: a
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

    /// Reads an id from a JSON value; `None` unless it is a number or string
    /// (`null`, booleans, arrays and objects are not ids).
    ///
    /// # Examples
    ///
    /// ```
    /// use serde_json::json;
    /// use switchboard_core::RequestId;
    ///
    /// assert_eq!(RequestId::from_value(&json!("x")), Some(RequestId::from("x")));
    /// assert_eq!(RequestId::from_value(&json!(null)), None);
    /// ```
    pub fn from_value(value: &Value) -> Option<Self> {
        match value {
            Value::Number(n) => Some(Self::Number(n.clone())),
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
