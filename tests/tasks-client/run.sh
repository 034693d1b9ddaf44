#!/usr/bin/env bash
# The TypeScript SDK 1.x client (`@modelcontextprotocol/sdk`, pinned in
# package.json with the Node 22 it runs on) drives the 2025-11-25
# experimental tasks of the `hello` example, on smol and then on tokio:
# a task-augmented call polled with tasks/get (`count_to`), input through
# an elicitation related to the task (`ask_name`), tasks/result, a cancel,
# and tasks/list (client.mjs). Prints client.mjs's lines labelled with the
# runtime and a last line `tasks-client: N runtimes passed`; exits non-zero
# on any mismatch.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=../../scripts/listening.sh
source "$root/scripts/listening.sh"
cd "$here"

if ! cmp -s package-lock.json node_modules/.switchboard-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null || { echo "npm ci failed" >&2; exit 1; }
  cp package-lock.json node_modules/.switchboard-lock
fi
node="$here/node_modules/.bin/node"
"$node" --version >/dev/null || { echo "node 22 is not installed" >&2; exit 1; }

(cd "$root" && cargo build -q -p examples --bin hello) || exit 1
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac

logs="$(mktemp -d)"
pid=""
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null
  rm -rf "$logs"
}
trap cleanup EXIT

passed=0
failed=0
for rt in ${TASKS_CLIENT_RUNTIMES:-smol tokio}; do
  log="$logs/server-$rt.txt"
  "$target/debug/hello" --runtime "$rt" --addr 127.0.0.1:0 >"$log" 2>&1 &
  pid=$!
  url=$(listening_url "$log" "$pid" || true)
  if [ -z "$url" ]; then
    echo "tasks-client $rt: the server did not start" >&2
    cat "$log" >&2
    failed=$((failed + 1))
  else
    timeout 120 "$node" client.mjs "$url" 2>&1 | sed "s/^/tasks-client $rt: /"
    if [ "${PIPESTATUS[0]}" -eq 0 ]; then
      passed=$((passed + 1))
    else
      echo "tasks-client $rt: FAILED (server log below)" >&2
      tail -20 "$log" >&2
      failed=$((failed + 1))
    fi
  fi
  kill "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  pid=""
done

echo "tasks-client: $passed runtimes passed, $failed failed"
[ "$failed" -eq 0 ]
