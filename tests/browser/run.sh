#!/usr/bin/env bash
# The browser test: a page on its own loopback origin loads the official MCP
# TypeScript SDK client, once per SDK major (1.x, `@modelcontextprotocol/sdk`,
# from page.js; 2.x, `@modelcontextprotocol/client`, from page-v2.js; each
# bundled with esbuild, versions pinned in package.json) and, in headless
# Chromium (Debian's /usr/bin/chromium, driven by playwright-core), runs
# initialize, tools/list, a tools/call with progress over SSE, a
# notification on the GET stream, resumption after a dropped stream, DELETE
# and a 2026-07-28 session-less call (1.x: hand-written with fetch, as that
# client speaks sessions only; 2.x: negotiated by the client itself, which
# also makes a 2026-07-28 call with progress); a page on a foreign origin
# (127.0.0.2) must be refused, with either client.
# Against the `conformance` example on smol and on tokio (our listener) and
# mounted in axum (`axum --server conformance`).
# Prints a line per step, labelled with the server and the SDK major
# (`browser smol sdk2 http://127.0.0.1:…: initialize: ok`); exits non-zero
# on any failure.
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
# shellcheck source=../../scripts/listening.sh
source "$root/scripts/listening.sh"
cd "$here"

if ! command -v "${CHROMIUM:-/usr/bin/chromium}" >/dev/null; then
  as_root=()
  [ "$(id -u)" = 0 ] || as_root=(sudo -n)
  if command -v apt-get >/dev/null && "${as_root[@]}" true 2>/dev/null; then
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "missing chromium: apt-get install chromium" >&2
    exit 1
  fi
fi
if ! cmp -s package-lock.json node_modules/.switchboard-lock 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error >/dev/null || { echo "npm ci failed" >&2; exit 1; }
  cp package-lock.json node_modules/.switchboard-lock
fi
for page in page.js:bundle.js page-v2.js:bundle-v2.js; do
  node_modules/.bin/esbuild "${page%%:*}" --bundle --format=iife --platform=browser \
    --target=chrome110 --outfile="${page##*:}" --log-level=warning || exit 1
done

(cd "$root" && cargo build -q -p examples --bin conformance --bin axum) || exit 1
target="${CARGO_TARGET_DIR:-$root/target}"
case "$target" in /*) ;; *) target="$root/$target" ;; esac

logs="$(mktemp -d)"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  rm -rf "$logs"
}
trap cleanup EXIT

urls=()
for rt in smol tokio axum; do
  log="$logs/server-$rt.txt"
  if [ "$rt" = axum ]; then
    "$target/debug/axum" --server conformance --addr 127.0.0.1:0 >"$log" 2>&1 &
  else
    "$target/debug/conformance" --runtime "$rt" --addr 127.0.0.1:0 >"$log" 2>&1 &
  fi
  pids+=($!)
  url=$(listening_url "$log" "${pids[-1]}" || true)
  if [ -z "$url" ]; then
    echo "browser: the $rt server did not start" >&2
    cat "$log" >&2
    exit 1
  fi
  urls+=("$url")
done

LABELS=smol,tokio,axum timeout 300 node drive.mjs "${urls[@]}"
