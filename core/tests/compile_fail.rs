//! What must not compile: handlers that are not `Send` where the server may
//! run them on another thread.

#[test]
fn not_send_where_send_is_needed() {
    trybuild::TestCases::new().compile_fail("tests/compile-fail/*.rs");
}
