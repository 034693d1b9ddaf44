//! The JSON-RPC decoder: never panics; whatever the fast path takes, the
//! general path decodes to the same message; a request's id survives
//! encoding exactly (the reply carries the id that came in).
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use switchboard_core::fuzzing::{decode_fast, decode_general};
use switchboard_core::jsonrpc::{Decoded, decode};
use switchboard_core::{Message, RequestId};

fuzz_target!(|data: &[u8]| {
    let decoded = decode(data);
    if let Some(fast) = decode_fast(data) {
        assert_eq!(
            decode_general(data),
            Decoded::Single(Ok(fast.clone())),
            "the fast and general paths disagree"
        );
        assert_eq!(decoded, Decoded::Single(Ok(fast)));
    }
    let messages = match &decoded {
        Decoded::Single(m) => std::slice::from_ref(m),
        Decoded::Batch(items) => items.as_slice(),
        _ => &[],
    };
    for message in messages {
        if let Ok(Message::Request(request)) = message {
            let text = serde_json::to_string(&request.id).expect("an id encodes");
            let back: RequestId = serde_json::from_str(&text).expect("an id decodes");
            assert_eq!(back, request.id, "id changed in a round trip: {text}");
        }
    }
});
