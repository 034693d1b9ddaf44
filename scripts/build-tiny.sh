#!/usr/bin/env bash
# Builds the `tiny` example (one tool over HTTP) as small as it gets and
# prints the binary's path as its last line.
#
# - The `tiny` profile: opt-level "z", fat LTO, one codegen unit,
#   panic=abort, stripped.
# - None of the examples' optional features: `-p examples
#   --no-default-features` builds core without its default features
#   (Cargo unifies features over what one command builds, so building
#   tiny with the other examples would hand it schemars, validation,
#   tracing, metrics, Redis and hyper).
# - Linked statically against musl, not position-independent, when the
#   target is installed (`rustup target add x86_64-unknown-linux-musl`): no
#   libc.so to map, which is most of a small server's memory, and no
#   relocations to apply at start. Otherwise for the host, as is.
# - When the toolchain has `rust-src` (`rustup component add rust-src`),
#   std is rebuilt for size too (`-Zbuild-std`, its `optimize_for_size`
#   feature) and a panic aborts at once, without formatting a message or a
#   backtrace (`-Cpanic=immediate-abort`): that is what brings it under
#   700,000 bytes. Those flags are unstable: on a stable toolchain the
#   script sets RUSTC_BOOTSTRAP=1 for this one build (as fuzz/run.sh does),
#   which lets a stable compiler accept them. TINY_STD=1 keeps the
#   precompiled std (no rust-src needed).
#
# TINY_TARGET=<triple> builds for another target.
set -euo pipefail
cd "$(dirname "$0")/.."

musl=x86_64-unknown-linux-musl
target=${TINY_TARGET:-}
if [ -z "$target" ] && [ "$(uname -m)" = x86_64 ] \
  && rustup target list --installed 2>/dev/null | grep -qx "$musl"; then
  target=$musl
fi

unstable=()
flags=()
[ "$target" = "$musl" ] && flags+=(-Crelocation-model=static)
if [ -z "${TINY_STD:-}" ] && [ -n "$target" ] \
  && rustup component list --installed 2>/dev/null | grep -q '^rust-src'; then
  unstable=(-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size)
  flags+=(-Zunstable-options -Cpanic=immediate-abort -Cforce-unwind-tables=no)
  export RUSTC_BOOTSTRAP=1
  echo "build-tiny: std rebuilt for size ($(rustc --version))" >&2
fi

args=(build --profile tiny -p examples --no-default-features --bin tiny)
[ -n "$target" ] && args+=(--target "$target")
# A target directory of its own: these flags would otherwise rebuild the
# workspace's usual artifacts, and those these.
dir=target/tiny-build
RUSTFLAGS="${flags[*]}" cargo "${args[@]}" "${unstable[@]}" --target-dir "$dir" >&2
bin="$dir/${target:+$target/}tiny/tiny"
echo "$(stat -c %s "$bin") bytes" >&2
echo "$PWD/$bin"
