# Sourced by the scripts that start an example server and wait for it.
#
# listening_url LOG [PID] [SECONDS]: prints the URL of the first
# `listening on http://127.0.0.1:PORT/mcp` line in LOG once it is there,
# waiting up to SECONDS (default 30); stops early when process PID (if
# given) has exited. Prints nothing and returns 1 when no URL came.
listening_url() {
  local log="$1" pid="${2:-}" seconds="${3:-30}" url="" _
  for _ in $(seq 1 $((seconds * 10))); do
    url=$(grep -oE 'http://127\.0\.0\.1:[0-9]+/mcp' "$log" 2>/dev/null | head -1 || true)
    [ -n "$url" ] && break
    [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && break
    sleep 0.1
  done
  [ -n "$url" ] && echo "$url"
}
