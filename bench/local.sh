#!/usr/bin/env bash
# CPU per `tools/call` on one thread against the usual setups, in one run:
# echo-smol (an Executor run on one thread) against echo-smol-local (a
# LocalExecutor), and echo-tokio (multi-threaded) against echo-tokio-local
# (current_thread + LocalSet), each on 1 and on 16 keep-alive connections of
# one session (loadgen --mode one); and echo-smol-local-handler, the
# echo tool as a local handler (McpServerBuilder::local), for what its
# stand-in and channel cost.
#
#   bash bench/local.sh [SECONDS_PER_RUN] [ROUNDS]     # defaults: 5 s, 3 rounds
#
# Servers are pinned to core 0 and the load generator to core 1; every run
# is bounded in time; all traffic goes to 127.0.0.1. Rounds interleave the
# servers so machine drift hits all alike; prints each figure's median.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../scripts/listening.sh
source "$here/../scripts/listening.sh"
cd "$here"
secs="${1:-5}"
rounds="${2:-3}"
cargo build --release -q
target="${CARGO_TARGET_DIR:-$here/target}"
case "$target" in /*) ;; *) target="$here/$target" ;; esac
bin="$target/release"
raw="$(mktemp)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT

for round in $(seq 1 "$rounds"); do
  for server in echo-smol echo-smol-local echo-smol-local-handler echo-tokio echo-tokio-local; do
    for conns in 1 16; do
      log="$(mktemp)"
      taskset -c 0 "$bin/$server" 127.0.0.1:0 >"$log" 2>&1 &
      pid=$!
      url=$(listening_url "$log" "$pid" 10 || true)
      [ -n "$url" ] || { echo "$server did not start" >&2; cat "$log" >&2; exit 1; }
      threads=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status")
      line=$(taskset -c 1 timeout $((secs + 60)) "$bin/loadgen" --url "$url" --mode one \
        --concurrency "$conns" --duration "$secs" --warmup 1 --pid "$pid")
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      pid=""
      rm -f "$log"
      echo "server=$server conns=$conns threads=$threads round=$round $line" | tee -a "$raw"
    done
  done
done

echo
echo "median over $rounds rounds (CPU µs per call, requests/s):"
python3 - "$raw" <<'PY'
import re, statistics, sys
rows = {}
for line in open(sys.argv[1]):
    f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
    key = (f["server"], int(f["conns"]))
    rows.setdefault(key, []).append((float(f["cpu_us_per_op"]), float(f["rps"]), f["threads"]))
base = {}
for (server, conns), runs in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
    cpu = statistics.median(r[0] for r in runs)
    rps = statistics.median(r[1] for r in runs)
    family = "-".join(server.split("-")[:2])
    if server == family:
        base[(family, conns)] = cpu
    ratio = cpu / base[(family, conns)] if (family, conns) in base else float("nan")
    print(f"{server:18} conns={conns:2}  cpu_us_per_call={cpu:6.1f}  rps={rps:7.0f}  threads={runs[0][2]:>2}  vs {family}: {ratio:.2f}")
PY
