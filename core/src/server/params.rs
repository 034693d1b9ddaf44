//! Reading a request's params into the types methods want, and encoding
//! their results: the helpers every method family shares.
//!
//! Params arrive as raw JSON text ([`Params`]) and are deserialized once,
//! straight into each method's own type; every failure to read them is
//! [`MethodError::InvalidParams`] (`-32602`). Results are encoded once,
//! into the bytes of the whole response.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::MethodError;
use super::registry::Registry;
use super::shared::Shared;
use crate::jsonrpc::{self, Message, Params, RequestId, Response};

/// A method's result: a JSON value, or a typed result already encoded (which
/// spares building a `Value` only to serialize it).
pub(crate) enum Payload {
    /// A result built as a `Value` (list pages, `{}`).
    Value(Value),
    /// A result already serialized: the compact JSON text of one value,
    /// spliced into the response as it is.
    Json(Vec<u8>),
}

/// What a method returns: its result, or why it has none. The dispatcher
/// encodes either with [`encode_response`].
pub(crate) type Outcome = Result<Payload, MethodError>;

/// Reads parameters (absent ones as `{}`) into the method's own type,
/// borrowing from the params where `T` borrows.
///
/// # Errors
///
/// [`MethodError::InvalidParams`] (`-32602`) with serde's account of what
/// did not fit.
pub(crate) fn parse_params<'a, T: Deserialize<'a>>(
    params: Option<&'a Params>,
) -> Result<T, MethodError> {
    params
        .map_or_else(|| serde_json::from_str("{}"), Params::parse)
        .map_err(|e| MethodError::InvalidParams(e.to_string()))
}

/// Reads `params.uri`, which `resources/read`, `resources/subscribe` and
/// `resources/unsubscribe` require.
///
/// # Errors
///
/// [`MethodError::InvalidParams`] (`-32602`) when it is missing or not a
/// string.
pub(crate) fn uri_param(params: Option<&Params>) -> Result<String, MethodError> {
    #[derive(Deserialize)]
    struct UriParams {
        uri: String,
    }
    Ok(parse_params::<UriParams>(params)?.uri)
}

/// Reads `params.cursor`, which must be a string when present. Params that
/// are absent, or not an object, read as no cursor: the first page.
///
/// # Errors
///
/// [`MethodError::InvalidParams`] (`-32602`) when `cursor` is present but
/// not a string (`null` counts as absent).
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
/// the way back in. `nextCursor` is set only when items follow the page.
/// A listing that changed between pages is read at the same offset, so a
/// client may see an item twice or miss one; the `list_changed`
/// notification tells it to list again.
///
/// # Errors
///
/// [`MethodError::InvalidCursor`] (`-32602`) when the cursor is not a
/// decimal offset within the listing.
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
    // Saturating: a page size of `usize::MAX` means "everything".
    let end = start.saturating_add(page_size).min(items.len());
    let mut result = json!({ key: &items[start..end] });
    if end < items.len() {
        result["nextCursor"] = json!(end.to_string());
    }
    Ok(Payload::Value(result))
}

/// `*/list`: one page of what `pick` lists from the registry, under `key`,
/// at the server's page size. Items are encoded by reference (nothing is
/// cloned) while the registry's read lock is held.
///
/// # Errors
///
/// [`MethodError::InvalidParams`] for a cursor that is not a string,
/// [`MethodError::InvalidCursor`] for one no page produced.
pub(crate) fn list_page<T: Serialize>(
    shared: &Shared,
    params: Option<&Params>,
    key: &str,
    pick: impl for<'r> Fn(&'r Registry) -> Vec<&'r T>,
) -> Outcome {
    let cursor = cursor(params)?;
    let registry = shared.registry();
    page(key, &pick(&registry), cursor, shared.config.page_size)
}

/// Serializes a typed result straight to JSON bytes, sparing a `Value`
/// built only to be written out.
///
/// # Errors
///
/// [`MethodError::Encode`] (`-32603`) when serialization fails.
pub(crate) fn encode<T: Serialize>(value: T) -> Outcome {
    serde_json::to_vec(&value)
        .map(Payload::Json)
        .map_err(|e| MethodError::Encode(e.to_string()))
}

/// The JSON-RPC code `outcome` is answered with, or `None` for a result:
/// what a request's observation records.
pub(crate) fn error_code(outcome: &Outcome) -> Option<i32> {
    outcome.as_ref().err().map(|e| e.code().0)
}

/// Returns the encoded response to request `id`: its result, or the error
/// response [`encode_error`] makes.
pub(crate) fn encode_response(id: RequestId, outcome: Outcome) -> Vec<u8> {
    match outcome {
        Ok(Payload::Json(result)) => jsonrpc::encode_result(&id, &result),
        Ok(Payload::Value(result)) => Message::Response(Response::ok(id, result)).to_bytes(),
        Err(error) => encode_error(Some(id), error),
    }
}

/// Returns the encoded error response to request `id` (`None`: the id was
/// unreadable, and the response's `id` is `null`), with the error converted
/// by [`MethodError::into_rpc`].
pub(crate) fn encode_error(id: Option<RequestId>, error: MethodError) -> Vec<u8> {
    Message::Response(Response::err(id, error.into_rpc())).to_bytes()
}

/// Returns `params._meta.progressToken`, read only when the params mention
/// `_meta` (most requests do not, and then a second pass over them is
/// wasted). `None` when there is none or the params do not parse; the
/// token is kept as the JSON value it arrived as, unchecked.
pub(crate) fn progress_token(params: &Params) -> Option<Value> {
    /// `_meta`, of which only the token is read.
    #[derive(serde::Deserialize)]
    struct Meta {
        #[serde(rename = "progressToken")]
        token: Option<Value>,
    }
    /// Params, of which only `_meta` is read.
    #[derive(serde::Deserialize)]
    struct WithMeta {
        #[serde(rename = "_meta")]
        meta: Option<Meta>,
    }
    // A key written with escapes (`"\u005fmeta"`) is `_meta` too, so only
    // text with neither the key nor a backslash is skipped.
    let text = params.as_str();
    if !text.contains("\"_meta\"") && !text.as_bytes().contains(&b'\\') {
        return None;
    }
    params.parse::<WithMeta>().ok()?.meta?.token
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
        // A page size of usize::MAX is "everything", from any cursor.
        let Ok(Payload::Value(rest)) = page("n", &items, Some("1".into()), usize::MAX) else {
            panic!()
        };
        assert_eq!(rest, json!({"n": [1, 2, 3, 4]}));
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

    #[test]
    fn progress_tokens_are_found_under_escaped_keys_too() {
        let plain = Params::from(json!({"_meta": {"progressToken": 7}, "name": "x"}));
        assert_eq!(progress_token(&plain), Some(json!(7)));
        let raw = r#"{"\u005fmeta": {"progressToken": "t"}}"#.to_owned();
        let escaped = Params(serde_json::value::RawValue::from_string(raw).unwrap(), None);
        assert_eq!(progress_token(&escaped), Some(json!("t")));
        assert_eq!(progress_token(&Params::from(json!({"a": 1}))), None);
    }
}
