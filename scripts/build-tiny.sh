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
# - With a nightly toolchain that has `rust-src` and that target
#   (`rustup component add rust-src --toolchain nightly`, `rustup target
#   add x86_64-unknown-linux-musl --toolchain nightly`), std is rebuilt
#   for size too (`-Zbuild-std`, its `optimize_for_size` feature) and a
#   panic aborts at once, without formatting a message or a backtrace
#   (`-Cpanic=immediate-abort`): that is what brings it under 700,000
#   bytes. TINY_STABLE=1 keeps the stable toolchain.
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

toolchain=()
unstable=()
flags=()
[ "$target" = "$musl" ] && flags+=(-Crelocation-model=static)
if [ -z "${TINY_STABLE:-}" ] && [ -n "$target" ] \
  && rustup +nightly component list --installed 2>/dev/null | grep -q '^rust-src' \
  && rustup +nightly target list --installed 2>/dev/null | grep -qx "$target"; then
  toolchain=(+nightly)
  unstable=(-Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size)
  flags+=(-Zunstable-options -Cpanic=immediate-abort)
  echo "build-tiny: nightly, std rebuilt for size" >&2
fi

args=(build --profile tiny -p examples --no-default-features --bin tiny)
[ -n "$target" ] && args+=(--target "$target")
# A target directory of its own: these flags would otherwise rebuild the
# workspace's usual artifacts, and those these.
dir=target/tiny-build
RUSTFLAGS="${flags[*]}" cargo "${toolchain[@]}" "${args[@]}" "${unstable[@]}" --target-dir "$dir" >&2
bin="$dir/${target:+$target/}tiny/tiny"
echo "$(stat -c %s "$bin") bytes" >&2
echo "$PWD/$bin"
