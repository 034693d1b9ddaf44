#!/usr/bin/env bash
# Soak test: mixed load on the conformance example server for MINUTES on
# each runtime (smol, then tokio), the server's RSS printed every minute.
#
#   bash bench/soak.sh [MINUTES]     # default: 20 minutes per runtime
#
# The load (bench/loadgen, `--mode soak`; see loadgen/src/soak.rs): calls
# on long-lived sessions, stateless calls, session churn, SSE calls with
# progress, resumption with Last-Event-ID, clients that vanish mid-reply,
# slow readers (one kept until the server's write timeout closes it) and a
# DELETE storm every 15 s. Every reply is checked and every wait bounded.
#
# A runtime passes when there are no unexpected errors, the RSS at the end
# is at most 10% above its value after the first minute, and the server
# stops cleanly on SIGTERM. The script exits non-zero if either fails.
#
# Loopback only. The server is pinned to core 0 and the load generator to
# core 1 (taskset, when there are two cores or more). CARGO_TARGET_DIR is
# honoured for both builds.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../scripts/listening.sh
source "$here/../scripts/listening.sh"
repo="$(dirname "$here")"
minutes="${1:-20}"
if ! [[ "$minutes" =~ ^[0-9]+$ ]] || [ "$minutes" -lt 1 ]; then
  echo "usage: bash bench/soak.sh [MINUTES]   (a whole number, at least 1)" >&2
  exit 2
fi
secs=$((minutes * 60))
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  CARGO_TARGET_DIR="$(realpath -m "$CARGO_TARGET_DIR")"
  export CARGO_TARGET_DIR
fi

(cd "$here" && cargo build --release -q -p loadgen)
(cd "$repo" && cargo build --release -q -p examples --bin conformance)
loadgen="${CARGO_TARGET_DIR:-$here/target}/release/loadgen"
server="${CARGO_TARGET_DIR:-$repo/target}/release/conformance"

# Pinning prefixes: a plain command line (no shell function), so that `$!`
# is the server itself (taskset execs it).
pin0=()
pin1=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then
  pin0=(taskset -c 0)
  pin1=(taskset -c 1)
fi

running() { # pid: alive and not a zombie awaiting `wait`
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null || true)
  [ -n "$state" ] && [[ "$state" != Z* ]]
}

pid=""
log=""
lg=""
tailer=""
cleanup() {
  for p in $lg $tailer; do
    kill -TERM "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
  if [ -n "$pid" ]; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  if [ -n "$log" ]; then rm -f "$log"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

failed=""
summaries=()
for runtime in smol tokio; do
  echo "=== soak: runtime=$runtime minutes=$minutes ==="
  log="$(mktemp)"
  "${pin0[@]}" "$server" --runtime "$runtime" --addr 127.0.0.1:0 >"$log" 2>&1 &
  pid=$!
  url=$(listening_url "$log" "$pid" 10 || true)
  if [ -z "$url" ]; then
    echo "the $runtime server did not start:" >&2
    cat "$log" >&2
    exit 1
  fi
  # The RSS read must be the server's own.
  if [ "$(readlink "/proc/$pid/exe")" != "$(realpath "$server")" ]; then
    echo "pid $pid is not the $runtime server" >&2
    exit 1
  fi

  # In the background, so that a signal to this script is handled at once.
  out="$(mktemp)"
  "${pin1[@]}" timeout $((secs + 300)) "$loadgen" --mode soak --url "$url" --pid "$pid" \
    --secs "$secs" --runtime "$runtime" >"$out" 2>&1 &
  lg=$!
  tail -n +1 -f --pid="$lg" "$out" &
  tailer=$!
  rc=0
  wait "$lg" || rc=$?
  lg=""
  wait "$tailer" || true
  tailer=""
  summary=$(grep '^soak: runtime=' "$out" | tail -1 || true)
  rm -f "$out"
  [ "$rc" -eq 0 ] || failed="$failed $runtime(loadgen exit $rc)"

  # Stop it as an operator would: SIGTERM, then up to 30 s to finish.
  kill -TERM "$pid" 2>/dev/null || true
  stopped=""
  for _ in $(seq 1 300); do
    if ! running "$pid"; then
      stopped=yes
      break
    fi
    sleep 0.1
  done
  if [ -z "$stopped" ]; then
    echo "the $runtime server did not stop within 30 s of SIGTERM" >&2
    kill -KILL "$pid" 2>/dev/null || true
    failed="$failed $runtime(no clean stop)"
  fi
  status=0
  wait "$pid" 2>/dev/null || status=$?
  pid=""
  if [ -n "$stopped" ] && [ "$status" -ne 0 ]; then
    failed="$failed $runtime(server exit $status)"
  fi
  if grep -v '^listening on ' "$log" | grep -q .; then
    echo "--- $runtime server output ---"
    grep -v '^listening on ' "$log" | tail -20
  fi
  rm -f "$log"
  log=""
  echo "server_exit=$status"
  summaries+=("${summary:-soak: runtime=$runtime (no summary)} server_exit=$status")
done

echo "=== soak results ==="
printf '%s\n' "${summaries[@]}"
if [ -n "$failed" ]; then
  echo "soak: FAILED:$failed" >&2
  exit 1
fi
echo "soak: PASSED"
