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

mod codec;
mod error;
mod id;
mod message;

#[cfg(feature = "fuzzing")]
pub(crate) use codec::decode_general;
#[cfg(any(test, feature = "fuzzing"))]
pub(crate) use codec::decode_request;
pub use codec::{Decoded, decode, encode_batch, from_value};
pub(crate) use codec::{encode_result, join_batch};
pub use error::{ErrorCode, RpcError};
pub use id::RequestId;
pub(crate) use message::CallSpans;
pub use message::{Message, Notification, Params, Request, Response};

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::Value;
    use serde_json::json;
    use serde_json::value::RawValue;

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
        for raw in [
            "1",
            "\"abc\"",
            "18446744073709551615",
            "-9223372036854775808",
            "-3",
        ] {
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

    #[test]
    fn duplicate_envelope_keys_are_invalid_requests() {
        // They used to be read as the last one ("id": 2, "tools/list").
        for raw in [
            r#"{"jsonrpc":"2.0","id":1,"id":2,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":1,"method":"ping","method":"tools/list"}"#,
            r#"{"jsonrpc":"2.0","id":1,"\u0069d":2,"method":"m"}"#,
            r#"{"jsonrpc":"2.0","id":1,"result":{},"result":{}}"#,
        ] {
            assert!(
                decode_request(raw.as_bytes()).is_none(),
                "the fast path declines {raw}"
            );
            assert_eq!(
                code(single(raw.as_bytes())),
                (None, ErrorCode::INVALID_REQUEST),
                "{raw}"
            );
        }
        let Decoded::Batch(items) = decode(
            br#"[{"jsonrpc":"2.0","id":1,"method":"a"},{"jsonrpc":"2.0","id":2,"id":3,"method":"b"}]"#,
        ) else {
            panic!()
        };
        assert!(items[0].is_ok() && items[1].is_err());
        // Duplicates deeper down are the params' business.
        assert!(single(br#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":1,"a":2}}"#).is_ok());
        // An unknown member is ignored, repeated or not, on both paths
        // (found by the `jsonrpc` fuzz target: the general path refused
        // what the fast path took).
        let raw = br#"{"jsonrpc":"2.0","x":1,"x":2,"method":"m"}"#;
        assert!(decode_request(raw).is_some());
        assert!(single(raw).is_ok());
        let raw = br#"{"jsonrpc":"2.0","x":1,"x":2,"id":1,"result":{}}"#;
        assert!(single(raw).is_ok());
    }

    #[test]
    fn ids_that_cannot_be_echoed_exactly_are_refused() {
        // A fraction, and integers past 64 bits (read as floating point:
        // 2^64 and 2^64 + 1 were one id, echoed as 1.8446744073709552e19).
        for raw in [
            "1.5",
            "18446744073709551616",
            "18446744073709551617",
            "1e40",
            "-9223372036854775809",
        ] {
            let text = format!(r#"{{"jsonrpc":"2.0","id":{raw},"method":"ping"}}"#);
            let (id, code) = code(single(text.as_bytes()));
            assert_eq!((id, code), (None, ErrorCode::INVALID_REQUEST), "{raw}");
        }
    }

    mod properties {
        use proptest::prelude::*;
        use serde_json::{Value, json};

        use super::super::*;

        /// Every id a client may send: integers of any 64-bit size, strings
        /// with any characters (escapes included).
        fn ids() -> impl Strategy<Value = Value> {
            prop_oneof![
                any::<i64>().prop_map(|n| json!(n)),
                any::<u64>().prop_map(|n| json!(n)),
                any::<String>().prop_map(Value::String),
                "[\\\\\"\\u{0}-\\u{1f}a-z]{0,8}".prop_map(Value::String),
            ]
        }

        proptest! {
            #[test]
            fn ids_come_back_exactly_as_they_went(id in ids()) {
                let text = json!({"jsonrpc": "2.0", "id": id, "method": "ping"}).to_string();
                let Decoded::Single(Ok(Message::Request(request))) = decode(text.as_bytes()) else {
                    return Err(TestCaseError::fail(format!("not a request: {text}")));
                };
                let reply = Message::Response(Response::ok(request.id, json!({}))).to_bytes();
                let reply: Value = serde_json::from_slice(&reply).unwrap();
                prop_assert_eq!(&reply["id"], &id);
                // And through the general path (a batch of one).
                let batch = format!("[{text}]");
                let Decoded::Batch(items) = decode(batch.as_bytes()) else {
                    return Err(TestCaseError::fail("not a batch".to_owned()));
                };
                let Ok(Message::Request(request)) = &items[0] else {
                    return Err(TestCaseError::fail("not a request".to_owned()));
                };
                prop_assert_eq!(request.id.to_value(), id);
            }
        }
    }
}
