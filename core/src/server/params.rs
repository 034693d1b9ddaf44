//! Reading a request's params into the types methods want, and encoding
//! their results: the helpers every method family shares.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::MethodError;
use crate::jsonrpc::{self, Message, Params, RequestId, Response};

/// A method's result: a JSON value, or a typed result already encoded (which
/// spares building a `Value` only to serialize it).
pub(crate) enum Payload {
    Value(Value),
    Json(Vec<u8>),
}

/// What a method returns.
pub(crate) type Outcome = Result<Payload, MethodError>;

/// Reads parameters (absent ones as `{}`) into the method's own type.
pub(crate) fn parse_params<'a, T: Deserialize<'a>>(
    params: Option<&'a Params>,
) -> Result<T, MethodError> {
    params
        .map_or_else(|| serde_json::from_str("{}"), Params::parse)
        .map_err(|e| MethodError::InvalidParams(e.to_string()))
}

/// `params.uri`.
pub(crate) fn uri_param(params: Option<&Params>) -> Result<String, MethodError> {
    #[derive(Deserialize)]
    struct UriParams {
        uri: String,
    }
    Ok(parse_params::<UriParams>(params)?.uri)
}

/// `params.cursor`, which must be a string when present.
pub(crate) fn cursor(params: Option<&Params>) -> Result<Option<String>, MethodError> {
    #[derive(Deserialize)]
    struct Paging {
        cursor: Option<Value>,
    }
    let Some(params) = params else {
        return Ok(None);
    };
    match params.parse::<Paging>().ok().and_then(|p| p.cursor) {
        None => Ok(None),
        Some(Value::String(c)) => Ok(Some(c)),
        Some(_) => Err(MethodError::InvalidParams("cursor must be a string".into())),
    }
}

/// Cuts one page of `page_size` out of a listing, under `key`. Cursors are
/// the decimal offset of the next page: opaque to clients, and checked on
/// the way back in.
pub(crate) fn page<T: Serialize>(
    key: &str,
    items: &[T],
    cursor: Option<String>,
    page_size: usize,
) -> Outcome {
    let start = match cursor {
        None => 0,
        Some(c) => c
            .parse::<usize>()
            .ok()
            .filter(|&n| n <= items.len())
            .ok_or(MethodError::InvalidCursor)?,
    };
    let end = (start + page_size).min(items.len());
    let mut result = json!({ key: &items[start..end] });
    if end < items.len() {
        result["nextCursor"] = json!(end.to_string());
    }
    Ok(Payload::Value(result))
}

/// Serializes a typed result straight to JSON bytes.
pub(crate) fn encode<T: Serialize>(value: T) -> Outcome {
    serde_json::to_vec(&value)
        .map(Payload::Json)
        .map_err(|e| MethodError::Encode(e.to_string()))
}

/// The encoded response to request `id`.
pub(crate) fn encode_response(id: RequestId, outcome: Outcome) -> Vec<u8> {
    match outcome {
        Ok(Payload::Json(result)) => jsonrpc::encode_result(&id, &result),
        Ok(Payload::Value(result)) => Message::Response(Response::ok(id, result)).to_bytes(),
        Err(error) => encode_error(Some(id), error),
    }
}

/// The encoded error response to request `id` (`None`: the id was unreadable).
pub(crate) fn encode_error(id: Option<RequestId>, error: MethodError) -> Vec<u8> {
    Message::Response(Response::err(id, error.into_rpc())).to_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_and_cursors() {
        let items: Vec<u32> = (0..5).collect();
        let Ok(Payload::Value(first)) = page("n", &items, None, 2) else {
            panic!()
        };
        assert_eq!(first, json!({"n": [0, 1], "nextCursor": "2"}));
        let Ok(Payload::Value(last)) = page("n", &items, Some("4".into()), 2) else {
            panic!()
        };
        assert_eq!(last, json!({"n": [4]}));
        for bad in ["6", "-1", "x"] {
            assert!(matches!(
                page("n", &items, Some(bad.into()), 2),
                Err(MethodError::InvalidCursor)
            ));
        }
    }

    #[test]
    fn params_absent_read_as_an_empty_object() {
        #[derive(Deserialize, Debug)]
        struct P {
            #[serde(default)]
            a: u8,
        }
        let p: P = parse_params(None).unwrap();
        assert_eq!(p.a, 0);
        let wrong = Params::from(json!({"a": "x"}));
        assert!(matches!(
            parse_params::<P>(Some(&wrong)),
            Err(MethodError::InvalidParams(_))
        ));
        assert!(cursor(Some(&Params::from(json!({"cursor": 3})))).is_err());
    }
}
