//! The stateless era's `requestState`, the one piece of server state a
//! client carries: a token the fuzzer writes never opens (it would need
//! the key); a sealed one opens for its own method and params only, holds
//! exactly the answers sealed, and stops opening when any character of it
//! changes; params that differ only in `_meta`, `inputResponses`,
//! `requestState` or key order open the same state.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};
use switchboard_core::fuzzing::{open_state, seal_state};
use switchboard_core::stateless::RequestStateKeys;

fuzz_target!(|data: &[u8]| {
    let keys = RequestStateKeys::new([7u8; 32]).unwrap();
    let other = RequestStateKeys::new([8u8; 32]).unwrap();
    let params = json!({"name": "t", "arguments": {"n": 1}});
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Whatever the fuzzer writes is refused, never a panic.
    assert!(open_state(&keys, text, "tools/call", &params).is_err());

    // Answers from the input (a JSON object, else one string answer).
    let answers: Map<String, Value> = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => map,
        _ => Map::from_iter([("k".to_owned(), Value::String(text.to_owned()))]),
    };
    let token = seal_state(&keys, "tools/call", &params, answers.clone());
    assert_eq!(
        open_state(&keys, &token, "tools/call", &params).as_ref(),
        Ok(&answers)
    );
    // Another key, method or params: refused.
    assert!(open_state(&other, &token, "tools/call", &params).is_err());
    assert!(open_state(&keys, &token, "prompts/get", &params).is_err());
    let changed = json!({"name": "t", "arguments": {"n": 2}});
    assert!(open_state(&keys, &token, "tools/call", &changed).is_err());
    // What changes from round to round does not count.
    let retry = json!({"arguments": {"n": 1}, "name": "t", "_meta": {"x": text},
        "inputResponses": {"a": 1}, "requestState": text});
    assert!(open_state(&keys, &token, "tools/call", &retry).is_ok());
    // Any one character changed: refused.
    if !data.is_empty() {
        let at = usize::from(data[0]) * 7919 % token.len();
        let mut bytes = token.clone().into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let tampered = String::from_utf8(bytes).unwrap();
        assert!(open_state(&keys, &tampered, "tools/call", &params).is_err());
    }
});
