//! JSON-RPC 2.0 messages: typed requests, notifications and responses, and
//! their decoding from bytes with precise error codes.
//!
//! No I/O here: bytes in, [`Decoded`] out; messages in, bytes out.
//!
//! - [`decode`] turns one body (a message or a batch) into [`Decoded`]. It
//!   never fails as a whole: what is not a valid message becomes the error
//!   [`Response`] to send back, with the code the specification names
//!   (`-32700` for bad JSON, `-32600` for a bad message).
//! - [`Message`] is one request, notification or response;
//!   [`Message::to_bytes`] encodes it, `"jsonrpc":"2.0"` first.
//! - [`RequestId`] and [`Params`] keep what the peer sent exactly as sent:
//!   ids are echoed byte for byte, params are read straight into the type
//!   each method wants.
//! - [`RpcError`] and [`ErrorCode`] are the wire's error object; the engine
//!   converts its own errors into them in one place.
//!
//! # Examples
//!
//! ```
//! use serde_json::json;
//! use switchboard_core::jsonrpc::{decode, Decoded, Message, Response};
//!
//! let Decoded::Single(Ok(Message::Request(request))) =
//!     decode(br#"{"jsonrpc":"2.0","id":7,"method":"ping"}"#)
//! else {
//!     panic!("a request");
//! };
//! assert_eq!(request.method, "ping");
//! let reply = Message::Response(Response::ok(request.id, json!({})));
//! assert_eq!(reply.to_bytes(), br#"{"jsonrpc":"2.0","id":7,"result":{}}"#);
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

/// A JSON-RPC request id: a number or a string, echoed exactly as received.
///
/// A number keeps its JSON form (`18446744073709551615` and `1.5` round-trip
/// unchanged), so an id compares equal only to the same JSON: `1` and `"1"`
/// are different ids, and so are `1` and `1.0`. `null` is not an id: a
/// response to a request whose id could not be read has
/// [`Response::id`] `None` instead.
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

/// A JSON-RPC error code.
///
/// Any `i32` is a code; the constants name the ones this crate sends.
/// `-32768..=-32000` is reserved by JSON-RPC: `-32700` and `-32600..=-32603`
/// are its own, `-32000..=-32099` are for implementations (this server's
/// [`ErrorCode::SERVER_BUSY`] and [`ErrorCode::SESSION_NOT_FOUND`]), and MCP
/// claims [`ErrorCode::RESOURCE_NOT_FOUND`]. A handler's own errors may use
/// any code outside the reserved range.
///
/// # Examples
///
/// ```
/// use switchboard_core::ErrorCode;
///
/// assert_eq!(ErrorCode::METHOD_NOT_FOUND, ErrorCode(-32601));
/// assert_eq!(serde_json::to_string(&ErrorCode::PARSE_ERROR).unwrap(), "-32700");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ErrorCode(pub i32);

impl ErrorCode {
    /// Invalid JSON was received. Its response has `id: null`, since no id
    /// could be read.
    pub const PARSE_ERROR: Self = Self(-32700);
    /// The JSON sent is not a valid request object. The engine also answers
    /// with it for messages it refuses whole (a duplicate id, a batch where
    /// batches are not allowed, a message over the size limit) and for
    /// requests out of lifecycle order (any before `initialize`, a second
    /// `initialize`).
    pub const INVALID_REQUEST: Self = Self(-32600);
    /// The method does not exist or is not available.
    pub const METHOD_NOT_FOUND: Self = Self(-32601);
    /// Invalid method parameters; also an unknown tool or prompt, a missing
    /// required prompt argument, or a cursor no page of the server produced.
    pub const INVALID_PARAMS: Self = Self(-32602);
    /// Internal error: the engine sends it when a handler panicked or its
    /// result did not serialize.
    pub const INTERNAL_ERROR: Self = Self(-32603);
    /// Implementation-defined server error: the server refuses the request
    /// for now (a limit was reached); the client may retry later.
    pub const SERVER_BUSY: Self = Self(-32000);
    /// Implementation-defined: the session is unknown or was terminated.
    pub const SESSION_NOT_FOUND: Self = Self(-32001);
    /// MCP: the requested resource does not exist.
    pub const RESOURCE_NOT_FOUND: Self = Self(-32002);
}

/// A JSON-RPC error object: `{code, message, data?}`.
///
/// What a handler returns to answer with an error; the constructors below
/// pick the code. Its `Display` (`json-rpc error -32602: …`) is for logs;
/// on the wire it is the object itself.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use switchboard_core::{ErrorCode, RpcError};
///
/// let error = RpcError::invalid_params("missing city").with_data(json!({"field": "city"}));
/// assert_eq!(error.code, ErrorCode::INVALID_PARAMS);
/// assert_eq!(
///     serde_json::to_value(&error).unwrap(),
///     json!({"code": -32602, "message": "missing city", "data": {"field": "city"}})
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, thiserror::Error)]
#[error("json-rpc error {}: {message}", code.0)]
pub struct RpcError {
    /// The error code.
    pub code: ErrorCode,
    /// A short description.
    pub message: String,
    /// Optional structured detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

impl RpcError {
    /// Builds an error with a code and message, and no `data`.
    ///
    /// For codes the named constructors do not cover, such as a handler's
    /// own codes outside the reserved range.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            data: None,
        }
    }

    /// Attaches structured detail, replacing any already attached.
    #[must_use]
    pub fn with_data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }

    /// A `-32700` parse error: the bytes are not JSON. [`decode`] builds
    /// these itself; a transport rarely needs one.
    pub fn parse_error(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::PARSE_ERROR, message)
    }

    /// A `-32600` invalid request error: JSON that is not a valid message,
    /// or a message refused as a whole.
    pub fn invalid_request(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INVALID_REQUEST, message)
    }

    /// A `-32601` error naming the method (`method not found: x/y`).
    pub fn method_not_found(method: &str) -> Self {
        Self::new(
            ErrorCode::METHOD_NOT_FOUND,
            format!("method not found: {method}"),
        )
    }

    /// A `-32602` invalid params error: what a handler returns for
    /// arguments it cannot use (tool arguments that do not fit the handler's
    /// type are reported by the engine itself).
    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INVALID_PARAMS, message)
    }

    /// A `-32603` internal error: the server failed, not the request. The
    /// message goes to the client, so it should not leak secrets.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::INTERNAL_ERROR, message)
    }

    /// A `-32002` resource-not-found error carrying the URI as
    /// `data: {"uri": …}`, as MCP specifies; what a resource handler returns
    /// for a URI it does not serve.
    ///
    /// # Examples
    ///
    /// ```
    /// use switchboard_core::{ErrorCode, RpcError};
    ///
    /// let error = RpcError::resource_not_found("file:///missing.txt");
    /// assert_eq!(error.code, ErrorCode::RESOURCE_NOT_FOUND);
    /// assert_eq!(error.data.unwrap()["uri"], "file:///missing.txt");
    /// ```
    pub fn resource_not_found(uri: &str) -> Self {
        Self::new(ErrorCode::RESOURCE_NOT_FOUND, "resource not found")
            .with_data(serde_json::json!({ "uri": uri }))
    }
}

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
/// else; [`decode`] refuses other params). Build them from a
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
pub struct Params(Box<RawValue>);

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

    /// Whether they are an object or an array, the only forms JSON-RPC allows.
    fn is_structured(&self) -> bool {
        matches!(self.0.get().as_bytes().first(), Some(b'{' | b'['))
    }
}

impl From<Value> for Params {
    fn from(value: Value) -> Self {
        Self(serde_json::value::to_raw_value(&value).expect("a value always serializes"))
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
/// Decoded from bytes with [`decode`] (or [`from_value`]), encoded with
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

/// What a body of bytes decoded to.
///
/// Each `Err` is the error response to send back for an element that is
/// not a valid message; each `Ok` is a message to act on. A batch's
/// responses go back together, as one array ([`encode_batch`]).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Decoded {
    /// One message, or one that was invalid (answered with the error).
    Single(Result<Message, Response>),
    /// A JSON array: each element decoded on its own.
    Batch(Vec<Result<Message, Response>>),
}

/// Decodes bytes into a message or a batch.
///
/// Unparsable JSON gives a `-32700` response with `id: null`; valid JSON that
/// is not a JSON-RPC message gives `-32600` (with the id when it was readable).
/// An empty array is itself an invalid request. Bytes that are not UTF-8
/// are unparsable JSON.
///
/// Whether a batch is allowed at all depends on the session's protocol
/// revision; that is the engine's decision, not this function's. The
/// common case, one well-formed request, is read without building a
/// [`Value`] of the whole message.
///
/// # Examples
///
/// ```
/// use switchboard_core::jsonrpc::{decode, Decoded, ErrorCode};
/// let Decoded::Single(Err(resp)) = decode(b"{oops") else { panic!() };
/// assert_eq!(resp.outcome.unwrap_err().code, ErrorCode::PARSE_ERROR);
///
/// // A batch decodes element by element: one bad element spoils nothing else.
/// let Decoded::Batch(items) = decode(br#"[{"jsonrpc":"2.0","method":"n"}, 5]"#) else { panic!() };
/// assert!(items[0].is_ok() && items[1].is_err());
/// ```
pub fn decode(bytes: &[u8]) -> Decoded {
    if let Some(message) = decode_request(bytes) {
        return Decoded::Single(Ok(message));
    }
    let value: Value = match serde_json::from_slice(bytes) {
        Ok(v) => v,
        Err(e) => {
            return Decoded::Single(Err(Response::err(
                None,
                RpcError::parse_error(format!("parse error: {e}")),
            )));
        }
    };
    match value {
        Value::Array(items) if items.is_empty() => Decoded::Single(Err(Response::err(
            None,
            RpcError::invalid_request("empty batch"),
        ))),
        Value::Array(items) => Decoded::Batch(items.into_iter().map(from_value).collect()),
        other => Decoded::Single(from_value(other)),
    }
}

/// The common case, a well-formed request or notification, read straight
/// into a message without building the envelope as a map first. Anything
/// else (responses, batches, malformed messages, duplicate keys) is `None`
/// and takes the general path, which tells exactly what is wrong.
///
/// The body is checked as UTF-8 once, up front: parsing from a `str` then
/// skips the per-string checks that parsing from bytes does.
fn decode_request(bytes: &[u8]) -> Option<Message> {
    /// `Some` whenever the key is present, even as `null`.
    fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
    where
        D: serde::Deserializer<'de>,
        T: Deserialize<'de>,
    {
        T::deserialize(d).map(Some)
    }
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        jsonrpc: std::borrow::Cow<'a, str>,
        #[serde(default, deserialize_with = "present")]
        id: Option<Value>,
        method: String,
        #[serde(borrow, default, deserialize_with = "present")]
        params: Option<&'a RawValue>,
    }
    let Envelope {
        jsonrpc,
        id,
        method,
        params,
    } = serde_json::from_str(std::str::from_utf8(bytes).ok()?).ok()?;
    // `"params": null` is not structured: the general path refuses it.
    let params = params.map(|p| Params(p.to_owned()));
    if jsonrpc != "2.0" || params.as_ref().is_some_and(|p| !p.is_structured()) {
        return None;
    }
    let id = match id {
        None => return Some(Message::Notification(Notification { method, params })),
        Some(Value::Number(n)) => RequestId::Number(n),
        Some(Value::String(s)) => RequestId::String(s),
        Some(_) => return None,
    };
    Some(Message::Request(Request { id, method, params }))
}

/// Interprets one JSON value as a JSON-RPC message.
///
/// For a message that is already a [`Value`] (one element of a batch,
/// say); [`decode`] calls it for everything its fast path does not take.
/// Unknown members are ignored. An error response may have `id: null`; a
/// result with `id: null` is refused.
///
/// # Errors
///
/// A `-32600` response (id echoed when readable) for anything that is not a
/// well-formed request, notification or response.
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use switchboard_core::jsonrpc::from_value;
/// use switchboard_core::{ErrorCode, Message, RequestId};
///
/// let message = from_value(json!({"jsonrpc": "2.0", "id": 3, "result": {}})).unwrap();
/// assert!(matches!(message, Message::Response(_)));
///
/// let refused = from_value(json!({"jsonrpc": "1.0", "id": 4, "method": "ping"})).unwrap_err();
/// assert_eq!(refused.id, Some(RequestId::from(4)));
/// assert_eq!(refused.outcome.unwrap_err().code, ErrorCode::INVALID_REQUEST);
/// ```
pub fn from_value(value: Value) -> Result<Message, Response> {
    let Value::Object(mut map) = value else {
        return Err(Response::err(
            None,
            RpcError::invalid_request("message is not an object"),
        ));
    };
    let id = match map.remove("id") {
        None => None,
        Some(v) => match RequestId::from_value(&v) {
            Some(id) => Some(id),
            None if v.is_null() && (map.contains_key("error")) => None,
            None => {
                return Err(Response::err(
                    None,
                    RpcError::invalid_request("id must be a string or a number"),
                ));
            }
        },
    };
    let invalid = |id: &Option<RequestId>, msg: &str| {
        Err(Response::err(id.clone(), RpcError::invalid_request(msg)))
    };
    if map.get("jsonrpc").and_then(Value::as_str) != Some("2.0") {
        return invalid(&id, "jsonrpc must be \"2.0\"");
    }
    let params = map.remove("params");
    if let Some(p) = &params {
        if !p.is_object() && !p.is_array() {
            return invalid(&id, "params must be an object or an array");
        }
    }
    let params = params.map(Params::from);
    match map.remove("method") {
        Some(Value::String(method)) => Ok(match id {
            Some(id) => Message::Request(Request { id, method, params }),
            None => Message::Notification(Notification { method, params }),
        }),
        Some(_) => invalid(&id, "method must be a string"),
        None => {
            let result = map.remove("result");
            let error = map.remove("error");
            let outcome = match (result, error) {
                (Some(r), None) => Ok(r),
                (None, Some(e)) => match serde_json::from_value::<RpcError>(e) {
                    Ok(e) => Err(e),
                    Err(_) => return invalid(&id, "malformed error object"),
                },
                _ => return invalid(&id, "a response needs exactly one of result and error"),
            };
            if id.is_none() && outcome.is_ok() {
                return invalid(&id, "a response needs an id");
            }
            Ok(Message::Response(Response { id, outcome }))
        }
    }
}

/// Encodes a successful response whose result is already JSON (`result`
/// must be one complete JSON value, as serde_json writes it).
pub(crate) fn encode_result(id: &RequestId, result: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(result.len() + 48);
    out.extend_from_slice(br#"{"jsonrpc":"2.0","id":"#);
    serde_json::to_writer(&mut out, id).expect("an id always serializes");
    out.extend_from_slice(br#","result":"#);
    out.extend_from_slice(result);
    out.push(b'}');
    out
}

/// Joins encoded messages into one JSON array. Each must be one complete
/// JSON value; nothing is checked or re-encoded.
pub(crate) fn join_batch(messages: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(messages.iter().map(|m| m.len() + 1).sum::<usize>() + 2);
    out.push(b'[');
    for (i, message) in messages.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(message);
    }
    out.push(b']');
    out
}

/// Encodes a batch of responses as one JSON array, in the order given.
///
/// JSON-RPC sends nothing at all for a batch of notifications only: call
/// this only with at least one response (an empty `responses` encodes as
/// `[]`, which the specification forbids sending).
///
/// # Examples
///
/// ```
/// use serde_json::json;
/// use switchboard_core::jsonrpc::{encode_batch, Response};
/// use switchboard_core::RpcError;
///
/// let bytes = encode_batch(vec![
///     Response::ok(1.into(), json!({})),
///     Response::err(None, RpcError::invalid_request("message is not an object")),
/// ]);
/// let batch: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
/// assert_eq!(batch[0]["id"], 1);
/// assert_eq!(batch[1]["error"]["code"], -32600);
/// ```
pub fn encode_batch(responses: Vec<Response>) -> Vec<u8> {
    let items: Vec<Message> = responses.into_iter().map(Message::Response).collect();
    serde_json::to_vec(&items).expect("a message always serializes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn single(bytes: &[u8]) -> Result<Message, Response> {
        match decode(bytes) {
            Decoded::Single(m) => m,
            Decoded::Batch(_) => panic!("unexpected batch"),
        }
    }

    fn code(r: Result<Message, Response>) -> (Option<RequestId>, ErrorCode) {
        let resp = r.unwrap_err();
        (resp.id, resp.outcome.unwrap_err().code)
    }

    #[test]
    fn parse_error_has_null_id() {
        assert_eq!(code(single(b"{\"id\":1,")), (None, ErrorCode::PARSE_ERROR));
        let bytes = Message::Response(single(b"nope").unwrap_err()).to_bytes();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["id"], Value::Null);
        assert_eq!(v["error"]["code"], -32700);
    }

    #[test]
    fn not_jsonrpc_is_invalid_request() {
        assert_eq!(code(single(b"42")), (None, ErrorCode::INVALID_REQUEST));
        assert_eq!(
            code(single(br#"{"id":7,"method":"x"}"#)),
            (Some(7.into()), ErrorCode::INVALID_REQUEST)
        );
        assert_eq!(
            code(single(br#"{"jsonrpc":"2.0","id":"a","method":5}"#)),
            (Some("a".into()), ErrorCode::INVALID_REQUEST)
        );
        assert_eq!(
            code(single(br#"{"jsonrpc":"2.0","id":{},"method":"x"}"#)),
            (None, ErrorCode::INVALID_REQUEST)
        );
        assert_eq!(
            code(single(
                br#"{"jsonrpc":"2.0","id":1,"method":"x","params":3}"#
            )),
            (Some(1.into()), ErrorCode::INVALID_REQUEST)
        );
        assert_eq!(code(single(b"[]")), (None, ErrorCode::INVALID_REQUEST));
    }

    #[test]
    fn ids_are_echoed_exactly() {
        for raw in ["1", "\"abc\"", "18446744073709551615", "-3", "1.5"] {
            let text = format!(r#"{{"jsonrpc":"2.0","id":{raw},"method":"ping"}}"#);
            let Message::Request(req) = single(text.as_bytes()).unwrap() else {
                panic!()
            };
            let out = Message::Response(Response::ok(req.id, json!({}))).to_bytes();
            let out = String::from_utf8(out).unwrap();
            assert!(out.contains(&format!("\"id\":{raw}")), "{out}");
        }
    }

    #[test]
    fn the_request_shortcut_agrees_with_the_general_path() {
        for raw in [
            r#"{"jsonrpc":"2.0","id":1,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":"x","method":"m","params":{"a":[1]}}"#,
            r#"{"method":"m","params":[],"jsonrpc":"2.0","extra":true}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":null}"#,
            r#"{"jsonrpc":"2.0","id":null,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"m"}"#,
            r#"{"jsonrpc":"1.0","id":1,"method":"m"}"#,
            r#"{"jsonrpc":"2.\u0030","id":1,"method":"m"}"#,
        ] {
            let general = from_value(serde_json::from_str(raw).unwrap());
            assert_eq!(single(raw.as_bytes()), general, "{raw}");
            if let Some(fast) = decode_request(raw.as_bytes()) {
                assert_eq!(Ok(fast), general, "{raw}");
            }
        }
    }

    #[test]
    fn encoded_results_and_batches_match_serialized_messages() {
        let result = json!({"content": [{"type": "text", "text": "hi \"there\""}]});
        for id in [RequestId::number(7), RequestId::from("a\"b")] {
            let raw = serde_json::to_vec(&result).unwrap();
            let expected = Message::Response(Response::ok(id.clone(), result.clone())).to_bytes();
            assert_eq!(encode_result(&id, &raw), expected);
        }
        let one = Response::ok(1.into(), json!(1));
        let two = Response::err(None, RpcError::internal("x"));
        let joined = join_batch(&[
            Message::Response(one.clone()).to_bytes(),
            Message::Response(two.clone()).to_bytes(),
        ]);
        assert_eq!(joined, encode_batch(vec![one, two]));
    }

    #[test]
    fn params_read_into_borrowing_types_and_compare_as_json() {
        let Message::Request(req) =
            single(br#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"b": [1, 2], "a": "x"}}"#)
                .unwrap()
        else {
            panic!()
        };
        #[derive(Deserialize)]
        struct P<'a> {
            a: &'a str,
            b: &'a RawValue,
        }
        let params = req.params.unwrap();
        let p: P<'_> = params.parse().unwrap();
        assert_eq!((p.a, p.b.get()), ("x", "[1, 2]"));
        assert_eq!(params, Params::from(json!({"a": "x", "b": [1, 2]})));
        assert_ne!(params, Params::from(json!({"a": "y", "b": [1, 2]})));
    }

    #[test]
    fn kinds_are_told_apart() {
        assert!(matches!(
            single(br#"{"jsonrpc":"2.0","method":"n"}"#).unwrap(),
            Message::Notification(_)
        ));
        assert!(matches!(
            single(br#"{"jsonrpc":"2.0","id":1,"result":{}}"#).unwrap(),
            Message::Response(Response { outcome: Ok(_), .. })
        ));
        assert!(matches!(
            single(br#"{"jsonrpc":"2.0","id":1,"error":{"code":-1,"message":"m"}}"#).unwrap(),
            Message::Response(Response {
                outcome: Err(_),
                ..
            })
        ));
        let Decoded::Batch(items) =
            decode(br#"[{"jsonrpc":"2.0","method":"n"},{"jsonrpc":"2.0","id":2,"method":"m"}, 5]"#)
        else {
            panic!()
        };
        assert_eq!(items.len(), 3);
        assert!(items[2].is_err());
    }
}
