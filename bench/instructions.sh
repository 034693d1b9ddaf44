#!/usr/bin/env bash
# Instructions per `tools/call echo`, counted by callgrind at the margin:
# (Ir of a run with HIGH calls - Ir of a run with LOW calls) / (HIGH - LOW),
# so start-up, initialize and shutdown cancel out. Each run starts a server
# under `valgrind --tool=callgrind`, makes the calls one after another on ONE
# keep-alive connection with `loadgen --calls N` (every reply checked: status,
# id, echoed text; stateless replies must be `complete`), then stops the
# server with SIGTERM so that callgrind writes its profile.
#
#   bash bench/instructions.sh            # LOW=200 HIGH=2200 by default
#   BEFORE=/path/to/other/checkout bash bench/instructions.sh
#
# With BEFORE (a checkout of an earlier commit, e.g. `git worktree add
# /tmp/before COMMIT`), that checkout's servers are built and measured in the
# same run, before this one's, each line labelled with its checkout.
#
# Figures: `hello` (examples, smol) in the session era (initialize, then
# calls with Mcp-Session-Id) and the stateless 2026-07-28 era (`_meta` and
# the Mcp-Method/Mcp-Name headers on every call); then the session era on
# bench's echo-tokio (our listener) and echo-hyper (the hyper mount), and
# their ratio. Each figure comes with its breakdown by layer (JSON, our HTTP
# layer, the engine, the allocator, the executor, hyper...) and the dearest
# symbols, from bench/breakdown.py. Profiles stay in
# bench/target/instructions/ for `callgrind_annotate --inclusive=yes FILE`.
# Only 127.0.0.1 is used.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=../scripts/listening.sh
source "$root/scripts/listening.sh"
low="${LOW:-200}"
high="${HIGH:-2200}"
command -v valgrind >/dev/null || {
  echo "instructions.sh needs valgrind (Debian/Ubuntu: apt-get install valgrind)" >&2
  exit 1
}

out="$here/target/instructions"
mkdir -p "$out"
# The loader, from this checkout.
(cd "$here" && cargo build -q --profile profiling -p loadgen)
loadgen="${CARGO_TARGET_DIR:-$here/target}/profiling/loadgen"

pid=""
cleanup() { if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi; }
trap cleanup EXIT

# No $(...) around these: the server's pid must stay in this shell for cleanup.
total_ir() { # NAME MODE CALLS SERVER ARGS... -> sets ir, the run's total Ir
  local name="$1" mode="$2" calls="$3"
  shift 3
  local log="$out/$name-$calls.log" file="$out/$name-$calls.callgrind" url=""
  valgrind --tool=callgrind --callgrind-out-file="$file" "$@" >"$log" 2>&1 &
  pid=$!
  url=$(listening_url "$log" "$pid" 60 || true) # valgrind starts slowly
  [ -n "$url" ] || { echo "$name did not start:" >&2; cat "$log" >&2; exit 1; }
  timeout 600 "$loadgen" --url "$url" --mode "$mode" --calls "$calls" >/dev/null ||
    { echo "$name: loadgen failed ($mode, $calls calls)" >&2; exit 1; }
  kill -TERM "$pid"
  wait "$pid" || true # a server without a signal handler dies of SIGTERM
  pid=""
  ir=$(awk '/^(summary|totals):/ { print $2; exit }' "$file")
  [ -n "$ir" ] || { echo "$name: no totals in $file" >&2; exit 1; }
}

per_call() { # NAME MODE SERVER ARGS... -> sets per, instructions per call
  total_ir "$1" "$2" "$low" "${@:3}"
  local a="$ir"
  total_ir "$1" "$2" "$high" "${@:3}"
  per=$(((ir - a) / (high - low)))
  # Where they went: by layer, and the dearest symbols (breakdown.py).
  echo "$1: $per instructions per call"
  python3 "$here/breakdown.py" "$out/$1-$low.callgrind" "$out/$1-$high.callgrind" "$((high - low))" 8
}

measure() { # LABEL CHECKOUT: builds its servers (with symbols) and prints its figures
  local label="$1" root="$2"
  # Release builds that keep symbols, so that profiles name functions; the
  # checkout's own target dir, so two checkouts never share binaries.
  (cd "$root" && CARGO_TARGET_DIR="$root/target" CARGO_PROFILE_RELEASE_STRIP=false \
    CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build -q --release -p examples --bin hello)
  (cd "$root/bench" && CARGO_TARGET_DIR="$root/bench/target" \
    cargo build -q --profile profiling -p echo-tokio -p echo-hyper)
  local hello="$root/target/release/hello" bench_bin="$root/bench/target/profiling"
  local hello_args=(--runtime smol --addr 127.0.0.1:0) session stateless tokio hyper
  per_call "$label-hello-session" one "$hello" "${hello_args[@]}"
  session=$per
  per_call "$label-hello-stateless" stateless "$hello" "${hello_args[@]}"
  stateless=$per
  echo "$label: instructions per tools/call: session-era $session, stateless $stateless" \
    "(hello, smol, 1 connection, margin $high-$low)"
  per_call "$label-echo-tokio" one "$bench_bin/echo-tokio" 127.0.0.1:0
  tokio=$per
  per_call "$label-echo-hyper" one "$bench_bin/echo-hyper" 127.0.0.1:0
  hyper=$per
  echo "$label: hyper mount: echo-tokio $tokio, echo-hyper $hyper instructions per call," \
    "ratio $(awk -v h="$hyper" -v t="$tokio" 'BEGIN { printf "%.2f", h / t }')" \
    "(session era, 1 connection, margin $high-$low)"
}

if [ -n "${BEFORE:-}" ]; then
  measure before "$(cd "$BEFORE" && pwd)"
fi
measure this "$root"
