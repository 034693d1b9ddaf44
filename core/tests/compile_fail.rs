//! What must not compile: handlers that are not `Send` where the server may
//! run them on another thread.

// The expected compiler output (`compile-fail/*.stderr`) is recorded with
// the default features; other feature sets word some of it differently.
//
// It is also recorded with the toolchain's `rust-src` component installed
// (`rustup component add rust-src`; CI installs it, and the tiny build
// needs it): with it, the compiler quotes std's source in its notes, and
// without it it does not, so the text differs. Rather than compare against
// the wrong text, the test says what is missing.
#[cfg(all(feature = "schemars", feature = "request-state"))]
#[test]
fn not_send_where_send_is_needed() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = std::process::Command::new(rustc)
        .args(["--print", "sysroot"])
        .output()
        .expect("rustc runs");
    let sysroot = String::from_utf8_lossy(&sysroot.stdout);
    let std_source = std::path::Path::new(sysroot.trim()).join("lib/rustlib/src/rust/library");
    assert!(
        std_source.is_dir(),
        "the expected compiler output is recorded with std's source at hand: \
         run `rustup component add rust-src` (not found at {})",
        std_source.display()
    );
    trybuild::TestCases::new().compile_fail("tests/compile-fail/*.rs");
}
