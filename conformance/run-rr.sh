#!/usr/bin/env bash
# The official MCP conformance suite through HAProxy in plain round robin
# (no session affinity) in front of three `conformance` servers keeping
# their sessions in one Redis (`--redis URL`, one shared `--state-key`):
# every request of a session may land on another replica, answers to
# server->client requests (sampling, elicitation) included. Runs every
# server scenario of 0.1.16 and the 2025-11-25 set of 0.2.0-alpha.12 (the
# session era; the stateless era needs no shared sessions). Prints a line
# per scenario and `conformance-rr: N passed, M failed`; exits non-zero on
# any failure. Needs redis-server and haproxy (.ci/run installs them) and
# the suite that conformance/run.sh installs.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
# shellcheck source=../scripts/listening.sh
source "$root/scripts/listening.sh"
cd "$here"
export PATH="$PATH:/usr/sbin:/sbin"
for tool in redis-server redis-cli haproxy; do
  command -v "$tool" >/dev/null || { echo "conformance-rr: $tool is missing" >&2; exit 1; }
done
if ! cmp -s package-lock.json node_modules/.switchboard-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null || { echo "npm ci failed" >&2; exit 1; }
  cp package-lock.json node_modules/.switchboard-lock
fi
node="$here/node_modules/.bin/node"
(cd "$root" && cargo build -q -p examples --bin conformance) || exit 1
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac

work="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.05
done
redis-cli -p "$redis_port" ping >/dev/null || { echo "conformance-rr: redis-server did not start" >&2; exit 1; }

key=$(python3 -c 'import secrets; print(secrets.token_hex(32))')
ports=()
for name in a b c; do
  log="$work/$name.log"
  "$target/debug/conformance" --addr 127.0.0.1:0 --redis "redis://127.0.0.1:$redis_port/" \
    --state-key "$key" >"$log" 2>&1 &
  pid=$!
  pids+=("$pid")
  url=$(listening_url "$log" "$pid" || true)
  [ -n "$url" ] || { echo "conformance-rr: replica $name did not start" >&2; cat "$log" >&2; exit 1; }
  port=${url##*:}
  ports+=("${port%%/*}")
done

front=$(free_port)
cat >"$work/haproxy.cfg" <<EOF
global
    maxconn 1024
defaults
    mode http
    option http-no-delay
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    timeout http-keep-alive 10s
frontend mcp
    bind 127.0.0.1:$front
    default_backend replicas
backend replicas
    balance roundrobin
    server a 127.0.0.1:${ports[0]}
    server b 127.0.0.1:${ports[1]}
    server c 127.0.0.1:${ports[2]}
EOF
haproxy -c -q -f "$work/haproxy.cfg" || { echo "conformance-rr: haproxy -c failed" >&2; exit 1; }
haproxy -db -f "$work/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
pids+=($!)
url="http://127.0.0.1:$front/mcp"
for _ in $(seq 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $front), 1)" 2>/dev/null && break
  sleep 0.05
done

passed=0
failed=0
suite() { # label package extra-args...
  local label="$1" pkg="$2"; shift 2
  local out="$work/$label.txt"
  timeout 900 "$node" "node_modules/$pkg/dist/index.js" server --url "$url" --suite all "$@" >"$out" 2>&1
  local lines
  lines=$(sed -n '/=== SUMMARY ===/,$p' "$out" | grep -E '^(✓|✗) ' || true)
  if [ -z "$lines" ]; then
    echo "conformance-rr $label: no summary" >&2
    tail -20 "$out" >&2
    failed=$((failed + 1))
    return
  fi
  while IFS= read -r line; do
    local name nfail
    name=$(sed -E 's/^(✓|✗) ([^:]+):.*/\2/' <<<"$line")
    nfail=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
    if [[ "$line" == ✓* && "$nfail" == 0 ]]; then
      passed=$((passed + 1)); echo "rr $label $name: passed"
    else
      failed=$((failed + 1)); echo "rr $label $name: FAILED (${line#* $name: })"
    fi
  done <<<"$lines"
  grep -q '^✗' <<<"$lines" && grep -E 'FAILURE|Error' "$out" | head -20 >&2
  return 0
}
suite 0.1.16 conformance-0.1
suite 0.2.0-alpha.12 conformance-0.2 --spec-version 2025-11-25

# The round robin really moved sessions between replicas: requests read
# their sessions from Redis, and letters (answers to sampling and
# elicitation posted to another replica than the waiting tool's) crossed.
stats=$(redis-cli -p "$redis_port" info commandstats)
loads=$(sed -nE 's/^cmdstat_getex:calls=([0-9]+).*/\1/p' <<<"$stats")
letters=$(sed -nE 's/^cmdstat_publish:calls=([0-9]+).*/\1/p' <<<"$stats")
echo "conformance-rr: ${loads:-0} session loads, ${letters:-0} letters between replicas"
if [ "${loads:-0}" -eq 0 ] || [ "${letters:-0}" -eq 0 ]; then
  echo "conformance-rr: the sessions did not move between replicas" >&2
  failed=$((failed + 1))
fi
echo "conformance-rr: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
