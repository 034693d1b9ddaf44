#!/usr/bin/env python3
"""Runs hello-wasi.wasm under wasmtime (the PyPI wheel) and checks every reply.

Usage: python3 wasi/test.py path/to/hello-wasi.wasm

The module reads a script of MCP lines on stdin (initialize, initialized,
tools/list, each tool, resources/read, an unknown method, a malformed line,
and last a `sleep` that is still running when the input ends) and must answer
each request exactly once, then exit 0 with nothing on stderr. Then, over a
pipe, as an interactive client would: a `sleep` is answered while stdin stays
open (its timer is not held up by the blocking read of stdin), and closing
stdin ends the module with exit code 0.
"""
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import wasmtime

PROTOCOL = "2025-11-25"


def request(id_, method, params=None):
    message = {"jsonrpc": "2.0", "id": id_, "method": method}
    if params is not None:
        message["params"] = params
    return json.dumps(message)


SCRIPT = [
    request(1, "initialize", {"protocolVersion": PROTOCOL, "capabilities": {},
                              "clientInfo": {"name": "wasi-test", "version": "1"}}),
    json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    request(2, "tools/list"),
    request(3, "tools/call", {"name": "echo", "arguments": {"text": "hi from wasm"}}),
    request(4, "tools/call", {"name": "add", "arguments": {"a": 2, "b": 3.5}}),
    request(5, "tools/call", {"name": "add", "arguments": {"a": 1e308, "b": 1e308}}),
    request(6, "resources/read", {"uri": "hello://greeting"}),
    request(7, "no/such/method"),
    '{"jsonrpc": "2.0", "id": 8, "method": ',
    request(9, "tools/call", {"name": "echo", "arguments": {"wrong": 1}}),
    # Last, and still sleeping when the input ends: answered before exit.
    request(10, "tools/call", {"name": "sleep", "arguments": {"ms": 100},
                               "_meta": {"progressToken": "p"}}),
]


def instantiate(engine, module, config):
    """Runs the module's `_start` with `config`; returns its exit code."""
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    store.set_wasi(config)
    instance = linker.instantiate(store, module)
    try:
        instance.exports(store)["_start"](store)
        return 0
    except wasmtime.ExitTrap as exit_:
        return exit_.code


def serve(compiled):
    """`--serve FILE`: runs a serialized module on this process's stdio."""
    engine = wasmtime.Engine()
    module = wasmtime.Module.deserialize_file(engine, compiled)
    config = wasmtime.WasiConfig()
    config.inherit_stdin()
    config.inherit_stdout()
    config.inherit_stderr()
    sys.exit(instantiate(engine, module, config))


def run(engine, module, lines):
    """Runs the module on `lines`; returns (exit code, stdout lines, stderr)."""
    with tempfile.TemporaryDirectory() as tmp:
        stdin, stdout, stderr = (Path(tmp) / name for name in ("in", "out", "err"))
        stdin.write_text("".join(line + "\n" for line in lines))
        config = wasmtime.WasiConfig()
        config.stdin_file = str(stdin)
        config.stdout_file = str(stdout)
        config.stderr_file = str(stderr)
        code = instantiate(engine, module, config)
        return code, stdout.read_text().splitlines(), stderr.read_text()


def check(condition, what):
    if not condition:
        raise AssertionError(what)


def interactive(compiled):
    """A client that waits for each reply before it sends the next line."""
    child = subprocess.Popen([sys.executable, __file__, "--serve", compiled],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    # A module that stops answering is killed, so a hang fails the test.
    watchdog = threading.Timer(20, child.kill)
    watchdog.start()
    try:
        def call(line):
            child.stdin.write(line + "\n")
            child.stdin.flush()
            reply = child.stdout.readline()
            check(reply, f"no reply to {line}")
            return json.loads(reply)
        init = call(SCRIPT[0])
        check(init["id"] == 1 and "result" in init, init)
        child.stdin.write(SCRIPT[1] + "\n")
        started = time.monotonic()
        slept = call(request(2, "tools/call", {"name": "sleep", "arguments": {"ms": 200}}))
        waited = time.monotonic() - started
        check(slept["result"]["content"][0]["text"] == "slept 200 ms", slept)
        check(0.2 <= waited < 5, f"sleep of 200 ms answered after {waited:.2f} s")
        echo = call(SCRIPT[3])
        check(echo["result"]["content"][0]["text"] == "hi from wasm", echo)
        child.stdin.close()
        code = child.wait(timeout=10)
        check(code == 0, f"exit code {code} after stdin closed")
        check(child.stdout.read() == "", "output after the last reply")
    finally:
        watchdog.cancel()
        child.kill()
    return waited


def main():
    if sys.argv[1] == "--serve":
        serve(sys.argv[2])
    wasm = sys.argv[1]
    engine = wasmtime.Engine()
    started = time.monotonic()
    module = wasmtime.Module.from_file(engine, wasm)
    compiled_in = time.monotonic() - started
    code, out, err = run(engine, module, SCRIPT)
    check(code == 0, f"exit code {code}, stderr {err!r}")
    check(err == "", f"stderr: {err!r}")
    messages = [json.loads(line) for line in out]
    replies = {}
    progress = []
    for m in messages:
        check(m.get("jsonrpc") == "2.0", f"not JSON-RPC 2.0: {m}")
        if m.get("method") == "notifications/progress":
            progress.append(m["params"])
            continue
        check("method" not in m, f"unexpected message from the server: {m}")
        key = json.dumps(m["id"])
        check(key not in replies, f"two replies to id {key}")
        replies[key] = m
    # Every request answered once, the malformed one with id null.
    check(sorted(replies) == sorted(["1", "2", "3", "4", "5", "6", "7", "null", "9", "10"]),
          f"replies to {sorted(replies)}")
    r = lambda id_: replies[json.dumps(id_)]

    init = r(1)["result"]
    check(init["protocolVersion"] == PROTOCOL, init)
    check(init["serverInfo"]["name"] == "hello", init)
    check("tools" in init["capabilities"] and "resources" in init["capabilities"], init)

    tools = {t["name"]: t for t in r(2)["result"]["tools"]}
    check(sorted(tools) == ["add", "echo", "sleep"], tools)
    check(tools["echo"]["inputSchema"]["required"] == ["text"], tools["echo"])
    check(tools["add"]["inputSchema"]["required"] == ["a", "b"], tools["add"])
    check(tools["add"]["outputSchema"]["properties"]["sum"]["type"] == "number", tools["add"])
    check(tools["sleep"]["inputSchema"]["properties"]["ms"]["maximum"] == 60000, tools["sleep"])

    echo = r(3)["result"]
    check(echo["content"] == [{"type": "text", "text": "hi from wasm"}], echo)
    check(not echo.get("isError", False), echo)

    add = r(4)["result"]
    check(add["structuredContent"] == {"sum": 5.5}, add)
    check(json.loads(add["content"][0]["text"]) == {"sum": 5.5}, add)
    overflow = r(5)["result"]
    check(overflow["isError"] is True, overflow)
    check("not a finite number" in overflow["content"][0]["text"], overflow)

    read = r(6)["result"]["contents"]
    check(read == [{"uri": "hello://greeting", "mimeType": "text/plain",
                    "text": "Hello from Switchboard!"}], read)

    check(r(7)["error"]["code"] == -32601, r(7))
    check(r(None)["error"]["code"] == -32700, r(None))
    # At 2025-11-25 arguments that do not fit are the tool's error.
    bad = r(9)["result"]
    check(bad["isError"] is True and "missing field `text`" in bad["content"][0]["text"], bad)

    sleep = r(10)["result"]
    check(sleep["content"] == [{"type": "text", "text": "slept 100 ms"}], sleep)
    check([p["progress"] for p in progress] == list(range(1, 11)), progress)
    check(all(p["progressToken"] == "p" and p["total"] == 10 for p in progress), progress)
    # The progress of request 10 comes before its reply.
    last_progress = max(i for i, m in enumerate(messages) if m.get("method"))
    check(last_progress < messages.index(r(10)), "progress after the reply")

    with tempfile.TemporaryDirectory() as tmp:
        compiled = Path(tmp) / "hello-wasi.cwasm"
        compiled.write_bytes(module.serialize())
        waited = interactive(str(compiled))

    print(f"wasi: {len(replies)} replies and {len(progress)} progress notifications checked; "
          f"interactive sleep of 200 ms answered in {waited:.2f} s; "
          f"module {Path(wasm).stat().st_size} bytes, compiled in {compiled_in:.2f} s")


if __name__ == "__main__":
    main()
