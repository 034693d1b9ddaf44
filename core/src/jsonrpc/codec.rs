//! Bytes to messages (one or a batch) with precise error codes, and the
//! encodings of results and batches that skip building JSON values.

use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::error::RpcError;
use super::id::RequestId;
use super::message::{Message, Notification, Params, Request, Response};

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
    match decode_request(bytes) {
        Some(message) => Decoded::Single(Ok(message)),
        None => decode_general(bytes),
    }
}

/// The general path of [`decode`], for everything the fast path does not
/// take. Whatever the fast path takes, this path decodes to the same
/// message (the fuzz target `jsonrpc` checks it).
pub(crate) fn decode_general(bytes: &[u8]) -> Decoded {
    let raw: &RawValue = match std::str::from_utf8(bytes)
        .map_err(|e| e.to_string())
        .and_then(|text| serde_json::from_str(text).map_err(|e| e.to_string()))
    {
        Ok(raw) => raw,
        Err(e) => {
            return Decoded::Single(Err(Response::err(
                None,
                RpcError::parse_error(format!("parse error: {e}")),
            )));
        }
    };
    if raw.get().starts_with('[') {
        let items: Vec<&RawValue> = match serde_json::from_str(raw.get()) {
            Ok(items) => items,
            Err(e) => {
                return Decoded::Single(Err(Response::err(
                    None,
                    RpcError::parse_error(format!("parse error: {e}")),
                )));
            }
        };
        if items.is_empty() {
            return Decoded::Single(Err(Response::err(
                None,
                RpcError::invalid_request("empty batch"),
            )));
        }
        return Decoded::Batch(items.into_iter().map(from_raw).collect());
    }
    Decoded::Single(from_raw(raw))
}

/// One message of the general path: refused when a key of its envelope
/// appears twice (a proxy reading the first and a server reading the last
/// would disagree about what was asked), else read as a value.
fn from_raw(raw: &RawValue) -> Result<Message, Response> {
    if let Some(key) = repeated_key(raw) {
        return Err(Response::err(
            None,
            RpcError::invalid_request(format!("duplicate key in the message: {key}")),
        ));
    }
    let parse_error = |e: serde_json::Error| {
        Response::err(None, RpcError::parse_error(format!("parse error: {e}")))
    };
    // An object is read member by member, as the fast path reads it: only
    // the envelope's members become values, `params` stays raw, and what
    // is not a member is never read (a number no `f64` holds there
    // refuses nothing, on either path).
    let members: Vec<(std::borrow::Cow<'_, str>, &RawValue)> = match raw.get().starts_with('{') {
        true => match serde_json::from_str::<EnvelopeMembers<'_>>(raw.get()) {
            Ok(m) => m.0,
            Err(e) => return Err(parse_error(e)),
        },
        false => match serde_json::from_str(raw.get()) {
            Ok(value) => return from_value(value),
            // Valid JSON that no `Value` can hold (nested past the recursion limit).
            Err(e) => return Err(parse_error(e)),
        },
    };
    let mut map = serde_json::Map::new();
    let mut params = None;
    for (key, value) in members {
        if key == "params" {
            params = Some(value);
        } else if MEMBERS.contains(&key.as_ref()) {
            map.insert(
                key.into_owned(),
                serde_json::from_str(value.get()).map_err(parse_error)?,
            );
        }
    }
    match params {
        None => from_value(Value::Object(map)),
        Some(raw) => {
            // Checked and kept as sent, as the fast path keeps them.
            let kept = Params(raw.to_owned(), None);
            let shape = if kept.is_structured() {
                Value::Object(serde_json::Map::new())
            } else {
                Value::Null
            };
            map.insert("params".to_owned(), shape);
            from_value(Value::Object(map)).map(|mut message| {
                match &mut message {
                    Message::Request(r) => r.params = Some(kept),
                    Message::Notification(n) => n.params = Some(kept),
                    Message::Response(_) => {}
                }
                message
            })
        }
    }
}

/// An object's members in order, each value raw: nothing in them is read.
struct EnvelopeMembers<'a>(Vec<(std::borrow::Cow<'a, str>, &'a RawValue)>);

impl<'de> Deserialize<'de> for EnvelopeMembers<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = EnvelopeMembers<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(entry) = map.next_entry()? {
                    members.push(entry);
                }
                Ok(EnvelopeMembers(members))
            }
        }
        d.deserialize_map(Visit)
    }
}

/// The members of a JSON-RPC message: the keys a repeat of which is refused.
const MEMBERS: [&str; 6] = ["jsonrpc", "id", "method", "params", "result", "error"];

/// The first JSON-RPC member of a JSON object that appears twice, if any
/// (`None` for anything but an object).
fn repeated_key(raw: &RawValue) -> Option<String> {
    use serde::de::{IgnoredAny, MapAccess, Visitor};
    use std::borrow::Cow;
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON value")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            // The whole map is read even after a repeat: the parser insists
            // on seeing it end.
            let mut seen: Vec<Cow<'de, str>> = Vec::new();
            let mut repeated = None;
            while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                map.next_value::<IgnoredAny>()?;
                // Unknown members are ignored, so their repeats are too (as
                // the fast path does).
                if !MEMBERS.contains(&key.as_ref()) {
                    continue;
                }
                if repeated.is_none() && seen.contains(&key) {
                    repeated = Some(key.into_owned());
                } else {
                    seen.push(key);
                }
            }
            Ok(repeated)
        }
        // Anything else has no keys.
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<Self::Value, A::Error> {
            Ok(None)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    let mut de = serde_json::Deserializer::from_str(raw.get());
    serde::Deserializer::deserialize_any(&mut de, Keys)
        .ok()
        .flatten()
}

/// The common case, a well-formed request or notification, read straight
/// into a message without building the envelope as a map first. Anything
/// else (responses, batches, malformed messages, duplicate keys) is `None`
/// and takes the general path, which tells exactly what is wrong.
///
/// The body is checked as UTF-8 once, up front: parsing from a `str` then
/// skips the per-string checks that parsing from bytes does.
pub(crate) fn decode_request(bytes: &[u8]) -> Option<Message> {
    /// `Some` whenever the key is present, even as `null`.
    fn present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
    where
        D: serde::Deserializer<'de>,
        T: Deserialize<'de>,
    {
        T::deserialize(d).map(Some)
    }
    /// The members read. The derived impl refuses a member that appears
    /// twice; the general path then refuses the message.
    #[derive(Deserialize)]
    struct Envelope<'a> {
        #[serde(borrow)]
        jsonrpc: std::borrow::Cow<'a, str>,
        #[serde(default, deserialize_with = "present")]
        id: Option<FastId>,
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
    let params = params.map(|p| Params(p.to_owned(), None));
    if jsonrpc != "2.0" || params.as_ref().is_some_and(|p| !p.is_structured()) {
        return None;
    }
    match id {
        None => Some(Message::Notification(Notification { method, params })),
        Some(FastId(id)) => Some(Message::Request(Request { id, method, params })),
    }
}

/// An id as the fast path reads it: straight into a [`RequestId`], without
/// a [`Value`] first. Anything but a string or an integer of at most 64
/// bits (`null`, a fraction, an array) fails the whole read, and the
/// general path says what is wrong. The numbers are made as a `Value`'s
/// are, from the same `u64` or `i64`, so both paths hold the same id.
struct FastId(RequestId);

impl<'de> Deserialize<'de> for FastId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl serde::de::Visitor<'_> for Visit {
            type Value = FastId;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string or an integer of at most 64 bits")
            }
            fn visit_u64<E>(self, n: u64) -> Result<FastId, E> {
                Ok(FastId(RequestId::Number(n.into())))
            }
            fn visit_i64<E>(self, n: i64) -> Result<FastId, E> {
                Ok(FastId(RequestId::Number(n.into())))
            }
            fn visit_str<E>(self, s: &str) -> Result<FastId, E> {
                Ok(FastId(RequestId::String(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<FastId, E> {
                Ok(FastId(RequestId::String(s)))
            }
        }
        d.deserialize_any(Visit)
    }
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
                    RpcError::invalid_request(
                        "id must be a string or an integer of at most 64 bits",
                    ),
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

    /// Found by the `jsonrpc` fuzz target: a number no `f64` holds, in a
    /// member the envelope does not have or in the params, was refused by
    /// the general path (as a parse error) and taken by the fast path.
    #[test]
    fn both_paths_take_a_huge_number_they_never_read() {
        for body in [
            r#"{"jsonrpc":"2.0","x":-9e800000000775808,"method":"ping","params":[]}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"n":1e999}}"#,
        ] {
            let fast = decode_request(body.as_bytes()).expect("the fast path takes it");
            assert_eq!(decode_general(body.as_bytes()), Decoded::Single(Ok(fast)));
        }
        // Where the envelope reads it, it is refused on both paths.
        let body = br#"{"jsonrpc":"2.0","id":1e999,"method":"m"}"#;
        assert!(decode_request(body).is_none());
        assert!(matches!(decode_general(body), Decoded::Single(Err(_))));
    }

    #[test]
    fn the_fast_path_reads_ids_as_the_general_path_does() {
        for id in [
            "0",
            "7",
            "-7",
            "18446744073709551615",
            "-9223372036854775808",
            r#""a""#,
            r#""\u00e9""#,
        ] {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"m","params":{{}}}}"#);
            let fast = decode_request(body.as_bytes()).expect("fast path");
            assert_eq!(
                decode_general(body.as_bytes()),
                Decoded::Single(Ok(fast)),
                "{id}"
            );
        }
        for id in [
            "null",
            "-0",
            "1.5",
            "1e2",
            "18446744073709551616",
            "true",
            "[1]",
            "{}",
        ] {
            let body = format!(r#"{{"jsonrpc":"2.0","id":{id},"method":"m"}}"#);
            assert!(decode_request(body.as_bytes()).is_none(), "{id}");
        }
    }
}
