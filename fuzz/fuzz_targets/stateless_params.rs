//! A stateless request's params: the fast scan of `_meta` and the fields
//! the routing headers repeat reads exactly what serde reads (or leaves
//! the params to serde), and never panics.
#![no_main]
#![forbid(unsafe_code)]

use libfuzzer_sys::fuzz_target;
use switchboard_core::fuzzing::stateless_params;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some((fast, serde)) = stateless_params(text) {
        assert_eq!(fast, serde, "the scan and serde disagree on {text}");
    }
});
