#!/usr/bin/env bash
# Runs the official MCP conformance suite against the `conformance` example
# server, on smol, on tokio, on each on one thread (smol-local, tokio-local)
# and mounted in axum (`axum --server conformance`, hyper on tokio): every server scenario of 0.1.16, and the
# 2025-11-25 and 2026-07-28 sets of 0.2.0-alpha.12 (pending scenarios
# included; 2026-07-28 is the stateless era on the same endpoint), and the
# extension scenarios of 0.2.0-alpha.12 (the tasks extension and skills,
# run one by one by name, at the 2026-07-28 wire; a scenario whose only
# check is SKIPPED upstream counts as skipped). Prints a line per scenario
# and a last line `conformance: N passed, M failed, K skipped`; exits
# non-zero on any failure. No expected-failures list.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=../scripts/listening.sh
source "$root/scripts/listening.sh"
cd "$here"

# Install the pinned suite and its Node 22 (the machine's Node may be older).
if ! cmp -s package-lock.json node_modules/.switchboard-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null || { echo "npm ci failed" >&2; exit 1; }
  cp package-lock.json node_modules/.switchboard-lock
fi
node="$here/node_modules/.bin/node"
"$node" --version >/dev/null || { echo "node 22 is not installed" >&2; exit 1; }

(cd "$root" && cargo build -q -p examples --bin conformance --bin axum) || exit 1
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac

passed=0
failed=0
skipped=0
# The extension scenarios of 0.2.0-alpha.12 (`conformance list --server`
# tags them [extension]; no --spec-version selects them).
extension_scenarios=(
  tasks-lifecycle tasks-capability-negotiation tasks-wire-fields
  tasks-request-state-removal tasks-mrtr-input tasks-request-headers
  tasks-dispatch-and-envelope tasks-status-notifications
  tasks-required-task-error tasks-mrtr-composition
  sep-2640-skills-directory sep-2640-skills-enumeration sep-2640-skills-manifest
)
logs="$(mktemp -d)"
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; }
trap cleanup EXIT

run_suite() { # runtime label package extra-args...
  local rt="$1" label="$2" pkg="$3"; shift 3
  local out="$logs/$rt-$label.txt"
  timeout 900 "$node" "node_modules/$pkg/dist/index.js" server --url "$url" --suite all "$@" >"$out" 2>&1
  local rc=$?
  local lines
  lines=$(sed -n '/=== SUMMARY ===/,$p' "$out" | grep -E '^(✓|✗) ' || true)
  if [ -z "$lines" ]; then
    echo "conformance $rt $label: no summary (exit $rc); see below" >&2
    tail -20 "$out" >&2
    failed=$((failed + 1))
    return
  fi
  while IFS= read -r line; do
    local name ok nfail
    name=$(sed -E 's/^(✓|✗) ([^:]+):.*/\2/' <<<"$line")
    nfail=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
    if [[ "$line" == ✓* && "$nfail" == 0 ]]; then ok=passed; passed=$((passed + 1)); else ok=FAILED; failed=$((failed + 1)); fi
    echo "$rt $label $name: $ok (${line#* $name: })"
  done <<<"$lines"
  if [ $rc -ne 0 ] && ! grep -q '^✗' <<<"$lines"; then
    echo "conformance $rt $label: the suite exited $rc" >&2
    failed=$((failed + 1))
  fi
  if grep -q '^✗' <<<"$lines"; then
    grep -E 'FAILURE|Error' "$out" | head -20 >&2
  fi
}

run_scenario() { # runtime label package scenario
  local rt="$1" label="$2" pkg="$3" name="$4"
  local out="$logs/$rt-$label-$name.txt"
  timeout 300 "$node" "node_modules/$pkg/dist/index.js" server --url "$url" --scenario "$name" >"$out" 2>&1
  local rc=$?
  local tally
  tally=$(grep -E '^Passed: [0-9]+/[0-9]+, [0-9]+ failed' "$out" | tail -1)
  if [ -z "$tally" ]; then
    echo "$rt $label $name: FAILED (no result, exit $rc)"
    tail -20 "$out" >&2
    failed=$((failed + 1))
  elif [[ "$tally" == "Passed: 0/0, 0 failed"* ]] && grep -q 'SKIPPED' "$out" && [ $rc -eq 0 ]; then
    echo "$rt $label $name: skipped (upstream)"
    skipped=$((skipped + 1))
  elif [[ "$tally" == *", 0 failed"* ]] && [ $rc -eq 0 ]; then
    echo "$rt $label $name: passed (${tally#Passed: })"
    passed=$((passed + 1))
  else
    echo "$rt $label $name: FAILED (${tally#Passed: }, exit $rc)"
    grep -E 'FAILURE|Error' "$out" | head -20 >&2
    failed=$((failed + 1))
  fi
}

# CONFORMANCE_RUNTIMES picks some (say, to rerun one); CI runs them all.
for rt in ${CONFORMANCE_RUNTIMES:-smol tokio smol-local tokio-local axum}; do
  log="$logs/server-$rt.txt"
  if [ "$rt" = axum ]; then
    "$target/debug/axum" --server conformance --addr 127.0.0.1:0 >"$log" 2>&1 &
  else
    "$target/debug/conformance" --runtime "$rt" --addr 127.0.0.1:0 >"$log" 2>&1 &
  fi
  pid=$!
  url=$(listening_url "$log" "$pid" || true)
  if [ -z "$url" ]; then
    echo "conformance: the $rt server did not start" >&2
    cat "$log" >&2
    failed=$((failed + 1))
    kill "$pid" 2>/dev/null; pid=""
    continue
  fi
  run_suite "$rt" 0.1.16 conformance-0.1
  run_suite "$rt" 0.2.0-alpha.12 conformance-0.2 --spec-version 2025-11-25
  run_suite "$rt" 0.2.0-alpha.12-2026 conformance-0.2 --spec-version 2026-07-28
  for name in "${extension_scenarios[@]}"; do
    run_scenario "$rt" 0.2.0-alpha.12-ext conformance-0.2 "$name"
  done
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  pid=""
done

rm -rf "$logs"
echo "conformance: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
