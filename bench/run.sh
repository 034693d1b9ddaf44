#!/usr/bin/env bash
# Runs every load mode against every echo server in one run, then a memory
# run per server, and writes results/results.md and results/chart.svg.
#
#   bash bench/run.sh [SECONDS_PER_RUN] [ROUNDS]     # defaults: 10 s, 3 rounds
#
# EXTRA_SERVERS="name:/abs/path/to/binary ..." adds servers to every round
# (say, the echo servers of an earlier commit built in another checkout), so
# that before and after are measured in one run.
#
# Servers are pinned to core 0 and the load generator to core 1 (taskset);
# 64 connections, a 2 s warm-up; every run is bounded in time and all traffic
# goes to 127.0.0.1. Each round runs every server in every mode, one after
# another, so machine noise (a shared VM drifts by ±10-15% here) hits all of
# them alike; the report takes each figure's median over the rounds and shows
# the spread.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=../scripts/listening.sh
source "$here/../scripts/listening.sh"
cd "$here"
secs="${1:-10}"
rounds="${2:-3}"
conns=64
out="$here/results"
mkdir -p "$out"
raw="$out/raw.txt"
: >"$raw"

cargo build --release -q
target="${CARGO_TARGET_DIR:-$here/target}"
case "$target" in /*) ;; *) target="$here/$target" ;; esac
bin="$target/release"

pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT

binary_path() { # a name under target/release, or an absolute path
  case "$1" in /*) echo "$1" ;; *) echo "$bin/$1" ;; esac
}

start_server() { # binary -> sets pid and url
  local log
  log="$(mktemp)"
  taskset -c 0 "$(binary_path "$1")" 127.0.0.1:0 >"$log" 2>&1 &
  pid=$!
  url=$(listening_url "$log" "$pid" 10 || true)
  [ -n "$url" ] || { echo "$1 did not start" >&2; cat "$log" >&2; exit 1; }
}

stop_server() {
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=""
}

servers="switchboard-smol:echo-smol switchboard-tokio:echo-tokio switchboard-hyper:echo-hyper rmcp:echo-rmcp ${EXTRA_SERVERS:-}"
for round in $(seq 1 "$rounds"); do
  for server in $servers; do
    name="${server%%:*}"
    binary="${server#*:}"
    for mode in one many churn stateless; do
      start_server "$binary"
      line=$(taskset -c 1 timeout $((secs + 120)) "$bin/loadgen" --url "$url" --mode "$mode" \
        --concurrency "$conns" --duration "$secs" --warmup 2 --sessions 1000 --pid "$pid")
      stop_server
      echo "server=$name round=$round $line" | tee -a "$raw"
    done
  done
  # rmcp's stateless mode, the peer of the stateless calls.
  start_server echo-rmcp-stateless
  line=$(taskset -c 1 timeout $((secs + 120)) "$bin/loadgen" --url "$url" --mode stateless \
    --concurrency "$conns" --duration "$secs" --warmup 2 --pid "$pid")
  stop_server
  echo "server=rmcp-stateless round=$round $line" | tee -a "$raw"
done
for server in $servers; do
  name="${server%%:*}"
  binary="${server#*:}"
  start_server "$binary"
  line=$(taskset -c 1 timeout 300 "$bin/loadgen" --url "$url" --mode sessions --sessions 10000 \
    --concurrency "$conns" --pid "$pid")
  stop_server
  echo "server=$name $line" | tee -a "$raw"
  echo "server=$name mode=binary bytes=$(stat -c %s "$(binary_path "$binary")")" | tee -a "$raw"
done

machine="$(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
python3 "$here/report.py" "$raw" "$out" "$(date -u +%Y-%m-%d)" "$machine" "bash bench/run.sh $secs $rounds"
cat "$out/results.md"
