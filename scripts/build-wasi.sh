#!/usr/bin/env bash
# Builds the hello server for WASI (wasm32-wasip1) from core alone (the
# `wasi/` package: no runtime crate, core without default features) and
# prints the module's path as its last line. Needs the target:
# `rustup target add wasm32-wasip1`.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build -p switchboard-wasi --release --target wasm32-wasip1 >&2
wasm="$PWD/target/wasm32-wasip1/release/hello-wasi.wasm"
echo "$(stat -c %s "$wasm") bytes" >&2
echo "$wasm"
