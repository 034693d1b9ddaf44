//! Links the example binaries with packed relative relocations (DT_RELR)
//! on Linux with glibc: a position-independent executable otherwise
//! carries one 24-byte `.rela.dyn` entry per pointer to relocate (470 KB
//! for `hello`), which the loader reads, and so keeps resident, at every
//! start; packed, they take a few KB. glibc reads them since 2.36.
//! Nothing else changes: the binaries stay position-independent.

fn main() {
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
