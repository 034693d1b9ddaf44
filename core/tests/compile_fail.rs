//! What must not compile: handlers that are not `Send` where the server may
//! run them on another thread.

// The expected compiler output (`compile-fail/*.stderr`) is recorded with
// the default features; other feature sets word some of it differently.
#[cfg(all(feature = "schemars", feature = "request-state"))]
#[test]
fn not_send_where_send_is_needed() {
    trybuild::TestCases::new().compile_fail("tests/compile-fail/*.rs");
}
