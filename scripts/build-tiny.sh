#!/usr/bin/env bash
# Builds the `tiny` example (one tool over HTTP) as small as it gets: the
# `tiny` profile (opt-level "z", fat LTO, one codegen unit, panic=abort,
# stripped) and none of the examples' optional features, so core comes
# without its default features (Cargo unifies features across what one
# command builds: `-p examples --no-default-features` keeps schemars,
# validation, tracing, metrics and the rest out).
#
# Linked statically against musl when that target is installed
# (`rustup target add x86_64-unknown-linux-musl`): no libc.so mapped at
# run time, which is most of a small server's memory. Otherwise for the
# host. TINY_TARGET=<triple> picks another target.
#
# Prints the binary's path as its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

target=${TINY_TARGET:-}
if [ -z "$target" ] && rustup target list --installed 2>/dev/null | grep -qx x86_64-unknown-linux-musl \
  && [ "$(uname -m)" = x86_64 ]; then
  target=x86_64-unknown-linux-musl
fi
args=(build --profile tiny -p examples --no-default-features --bin tiny)
[ -n "$target" ] && args+=(--target "$target")
cargo "${args[@]}" >&2
dir=$(cargo metadata --no-deps --format-version 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
bin="$dir/${target:+$target/}tiny/tiny"
echo "$(stat -c %s "$bin") bytes" >&2
echo "$bin"
