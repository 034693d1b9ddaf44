#!/usr/bin/env python3
"""Checks the `tiny` build (scripts/build-tiny.sh): its size, and on each
runtime that it answers `initialize` and `tools/call echo` over HTTP on
127.0.0.1 and idles within its memory budget.

Usage: check-tiny.py PATH [MAX_BYTES] [MAX_RSS_KIB]
(defaults 700,000 bytes and 1,536 KiB: issue 23's targets).
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

ACCEPT = "application/json, text/event-stream"


def post(url, body, headers):
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", "accept": ACCEPT, **headers},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(response.headers), json.loads(response.read())


def check(path, runtime, max_rss_kib):
    server = subprocess.Popen(
        [path, "--runtime", runtime, "--addr", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+/mcp)", line)
        if not match:
            sys.exit(f"{runtime}: no `listening on` line: {line!r}")
        url = match.group(1)
        # Idle: a second after it listens, before any request.
        time.sleep(1)
        with open(f"/proc/{server.pid}/status") as status:
            fields = dict(l.split(":", 1) for l in status if ":" in l)
        rss = int(fields["VmRSS"].split()[0])
        threads = int(fields["Threads"])

        headers, init = post(
            url,
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "check-tiny", "version": "1"},
                },
            },
            {},
        )
        assert init["result"]["serverInfo"]["name"] == "tiny", init
        session = {k.lower(): v for k, v in headers.items()}["mcp-session-id"]
        _, call = post(
            url,
            {
                "jsonrpc": "2.0",
                "id": 2,
                "method": "tools/call",
                "params": {"name": "echo", "arguments": {"text": "small"}},
            },
            {"mcp-session-id": session, "mcp-protocol-version": "2025-11-25"},
        )
        assert call["result"]["content"][0]["text"] == "small", call
        print(f"tiny --runtime {runtime}: idle RSS {rss} KiB, {threads} threads, answers")
        if rss > max_rss_kib:
            sys.exit(f"{runtime}: idle RSS {rss} KiB is over {max_rss_kib} KiB")
    finally:
        server.kill()
        server.wait()


def main():
    path = sys.argv[1]
    max_bytes = int(sys.argv[2]) if len(sys.argv) > 2 else 700_000
    max_rss_kib = int(sys.argv[3]) if len(sys.argv) > 3 else 1536
    size = os.path.getsize(path)
    print(f"tiny: {size:,} bytes (at most {max_bytes:,})")
    if size > max_bytes:
        sys.exit(f"tiny is {size} bytes, over {max_bytes}")
    for runtime in ["smol-local", "smol", "tokio-local", "tokio"]:
        check(path, runtime, max_rss_kib)


if __name__ == "__main__":
    main()
