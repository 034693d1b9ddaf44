#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 120) and prints execs
# and crashes per target.
#
#   bash fuzz/run.sh [SECONDS]
#   RUNS=10000000 TARGETS="jsonrpc chunked" bash fuzz/run.sh 1800
#
# RUNS stops a target after that many executions (whichever of RUNS and
# SECONDS comes first); TARGETS picks targets (default: all).
#
# cargo fuzz needs nightly-only flags (sanitizers); on a stable toolchain
# RUSTC_BOOTSTRAP=1 lets rustc accept them, as this script does. Installs
# cargo-fuzz if it is missing. Seeds are in fuzz/seeds/TARGET (committed);
# what the fuzzer finds goes to fuzz/corpus/TARGET (ignored), crashes to
# fuzz/artifacts/TARGET. Memory is capped per run (-rss_limit_mb,
# -malloc_limit_mb): a target that grows past it counts as a crash.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"
secs="${1:-120}"
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo fuzz build -O

targets="${TARGETS:-$(cargo fuzz list)}"
summary=""
failed=0
for t in $targets; do
  mkdir -p "corpus/$t" "artifacts/$t"
  log="$(mktemp)"
  status=0
  started=$SECONDS
  cargo fuzz run -O "$t" "corpus/$t" "seeds/$t" -- \
    -max_total_time="$secs" -runs="${RUNS:--1}" -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=10 \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$log" | grep -oE '[0-9]+$' | tail -1)
  crashes=0
  if [ "$status" -ne 0 ]; then
    crashes=1
    failed=1
    echo "== $t failed (exit $status):" >&2
    grep -E 'panicked|ERROR|SUMMARY|artifact' "$log" >&2 || tail -20 "$log" >&2
  fi
  corpus=$(find "corpus/$t" -type f | wc -l)
  line=$(printf '%-16s execs=%-10s crashes=%s corpus=%s seconds=%s' "$t" "${execs:-0}" "$crashes" "$corpus" "$((SECONDS - started))")
  echo "$line"
  summary+="$line"$'\n'
  rm -f "$log"
done
echo "== fuzz: ${secs}s per target"
printf '%s' "$summary"
exit "$failed"
