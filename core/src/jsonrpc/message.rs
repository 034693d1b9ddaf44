//! The three kinds of message (requests, notifications, responses), their
//! params kept as JSON text, and their encoding.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use super::error::RpcError;
use super::id::RequestId;

/// A request: it has an id and expects a response.
///
/// Exactly one response must answer it, carrying the same id; within a
/// session no two requests in flight may share an id.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    /// The id the response must echo.
    pub id: RequestId,
    /// The method name.
    pub method: String,
    /// The parameters, if any.
    pub params: Option<Params>,
}

/// A notification: no id, no response (the server ignores a notification
/// method it does not know, rather than answering it).
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    /// The method name.
    pub method: String,
    /// The parameters, if any.
    pub params: Option<Params>,
}

/// A message's parameters, kept as the JSON text they arrived in and read
/// straight into the type each method wants: no `Value` tree is built for
/// a request the server only needs a few typed fields of.
///
/// Always a JSON object or array when decoded (JSON-RPC allows nothing
/// else; [`decode`](crate::jsonrpc::decode) refuses other params). Build them from a
/// [`Value`] with `From`.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use switchboard_core::Params;
///
/// #[derive(serde::Deserialize)]
/// struct Call<'a> { name: &'a str }
///
/// let params = Params::from(json!({"name": "echo", "arguments": {}}));
/// let call: Call<'_> = params.parse().unwrap();
/// assert_eq!(call.name, "echo");
/// assert_eq!(params.as_str(), r#"{"arguments":{},"name":"echo"}"#);
/// ```
#[derive(Clone, Debug, Serialize)]
#[serde(transparent)]
pub struct Params(
    pub(crate) Box<RawValue>,
    /// Where `name` and `arguments` sit in the text, when a pass that read
    /// the params already found them (a stateless request's `_meta` pass):
    /// `tools/call` then reads them without a second pass.
    #[serde(skip)]
    pub(crate) Option<CallSpans>,
);

/// The spans of a call's `name` (a string without escapes, quotes
/// excluded) and `arguments` (raw JSON) in its params' text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct CallSpans {
    /// `params.name`, inside its quotes.
    pub(crate) name: (usize, usize),
    /// `params.arguments`, when present.
    pub(crate) arguments: Option<(usize, usize)>,
}

impl CallSpans {
    /// The spans of `name` and `arguments`, which must both borrow from
    /// `text`; `None` when either does not (they were copied out).
    pub(crate) fn within(text: &str, name: &str, arguments: Option<&str>) -> Option<Self> {
        let span = |part: &str| {
            let start = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
            let end = start.checked_add(part.len())?;
            // In bounds and at the same address: the very bytes, no compare.
            (text.get(start..end)?.as_ptr() == part.as_ptr()).then_some((start, end))
        };
        Some(Self {
            name: span(name)?,
            arguments: match arguments {
                Some(a) => Some(span(a)?),
                None => None,
            },
        })
    }
}

impl Params {
    /// Reads the parameters into `T` (which may borrow from them).
    ///
    /// Borrow with `Cow<str>` (and `#[serde(borrow)]`) rather than `&str`
    /// for strings that may contain escapes: a `&str` cannot point into
    /// `"a\"b"`, and such a string fails to parse into one.
    ///
    /// # Errors
    ///
    /// When the JSON does not fit `T`.
    pub fn parse<'a, T: Deserialize<'a>>(&'a self) -> Result<T, serde_json::Error> {
        serde_json::from_str(self.0.get())
    }

    /// The parameters as a JSON value.
    ///
    /// # Errors
    ///
    /// Only when they nest deeper than serde_json's recursion limit (params
    /// built from such a `Value`; decoded ones never do).
    pub fn to_value(&self) -> Result<Value, serde_json::Error> {
        self.parse()
    }

    /// The JSON text, as received (whitespace and key order kept) or as
    /// serialized from a [`Value`].
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// `name` and `arguments` as an earlier pass found them: `None` when no
    /// pass recorded them. `arguments` is `None` when absent or `null`.
    pub(crate) fn call_parts(&self) -> Option<(&str, Option<&RawValue>)> {
        let spans = self.1?;
        let text = self.0.get();
        let name = text.get(spans.name.0..spans.name.1)?;
        let arguments = match spans.arguments {
            None => None,
            Some((start, end)) => match text.get(start..end)? {
                "null" => None,
                raw => Some(serde_json::from_str::<&RawValue>(raw).ok()?),
            },
        };
        Some((name, arguments))
    }

    /// Records where `name` and `arguments` are (see [`Params::call_parts`]).
    pub(crate) fn remember(&mut self, spans: Option<CallSpans>) {
        self.1 = spans;
    }

    /// Whether they are an object or an array, the only forms JSON-RPC allows.
    pub(crate) fn is_structured(&self) -> bool {
        matches!(self.0.get().as_bytes().first(), Some(b'{' | b'['))
    }
}

impl From<Value> for Params {
    fn from(value: Value) -> Self {
        Self(
            serde_json::value::to_raw_value(&value).expect("a value always serializes"),
            None,
        )
    }
}

/// Parameters are equal when their JSON is (whitespace and key order aside).
impl PartialEq for Params {
    fn eq(&self, other: &Self) -> bool {
        self.0.get() == other.0.get()
            || matches!((self.to_value(), other.to_value()), (Ok(a), Ok(b)) if a == b)
    }
}

/// A response: a result or an error for the request with this id.
///
/// The server builds these for its replies; from a client they answer the
/// server's own requests and are matched to them by id.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// The id of the request answered; `None` (sent as `null`) when that id
    /// could not be read.
    pub id: Option<RequestId>,
    /// The outcome: `result` when `Ok`, `error` when `Err` (a response
    /// carries exactly one of them).
    pub outcome: Result<Value, RpcError>,
}

impl Response {
    /// A successful response to request `id`.
    pub fn ok(id: RequestId, result: Value) -> Self {
        Self {
            id: Some(id),
            outcome: Ok(result),
        }
    }

    /// An error response; `id` is `None` only when the request's id could
    /// not be read (it is then sent as `null`).
    pub fn err(id: Option<RequestId>, error: RpcError) -> Self {
        Self {
            id,
            outcome: Err(error),
        }
    }
}

/// One JSON-RPC message.
///
/// Decoded from bytes with [`decode`](crate::jsonrpc::decode) (or [`from_value`](crate::jsonrpc::from_value)), encoded with
/// [`Message::to_bytes`]. Serializing one always succeeds.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use switchboard_core::jsonrpc::Notification;
/// use switchboard_core::Message;
///
/// let note = Message::Notification(Notification {
///     method: "notifications/initialized".into(),
///     params: None,
/// });
/// assert_eq!(note.to_value(), json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Message {
    /// A request: the peer expects a response with its id.
    Request(Request),
    /// A notification: the peer expects nothing back.
    Notification(Notification),
    /// A response to a request the server sent.
    Response(Response),
}

impl Message {
    /// Encodes the message as compact JSON bytes, `"jsonrpc":"2.0"` first,
    /// with no trailing newline (what [`Outbound::bytes`](crate::Outbound::bytes)
    /// carries).
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a message always serializes")
    }

    /// The message as a JSON value (for tests and inspection; sending uses
    /// [`Message::to_bytes`], which builds no tree).
    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("a message always serializes")
    }
}

/// Serializes without copying: `jsonrpc` first, then the message's fields.
impl Serialize for Message {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("jsonrpc", "2.0")?;
        match self {
            Self::Request(r) => {
                map.serialize_entry("id", &r.id)?;
                map.serialize_entry("method", &r.method)?;
                if let Some(p) = &r.params {
                    map.serialize_entry("params", p)?;
                }
            }
            Self::Notification(n) => {
                map.serialize_entry("method", &n.method)?;
                if let Some(p) = &n.params {
                    map.serialize_entry("params", p)?;
                }
            }
            Self::Response(r) => {
                map.serialize_entry("id", &r.id)?;
                match &r.outcome {
                    Ok(v) => map.serialize_entry("result", v)?,
                    Err(e) => map.serialize_entry("error", e)?,
                }
            }
        }
        map.end()
    }
}
