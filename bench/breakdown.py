"""Where the instructions of one call go, from two callgrind profiles.

Usage: breakdown.py LOW.callgrind HIGH.callgrind CALLS [TOP]

Both profiles come from the same server, one run with CALLS fewer calls
than the other (bench/instructions.sh makes them); the difference, divided
by CALLS, is the cost of one call, with start-up and shutdown cancelled
out. Prints that cost by layer, then the TOP (default 12) dearest symbols.

Costs are exclusive and counted per machine-code symbol, so code the
compiler inlined counts in the symbol it was inlined into (serde's visitor
inlined into our decoder counts as ours). The layers are a reading aid,
not an exact attribution: a symbol goes to the first layer whose pattern
its name matches.
"""
import re
import subprocess
import sys
from collections import defaultdict

# (layer, pattern on the symbol's name); the first match wins.
LAYERS = [
    ("allocator (malloc, free)", r"malloc|free|_int_|__rust_alloc|__rust_dealloc|__rust_realloc|__rdl_|tcache"),
    ("memcpy, memcmp", r"__mem|memcpy|memmove|memcmp"),
    ("JSON (serde_json)", r"serde_json|serde_core|^<?serde::|ryu|itoa"),
    ("schema validation (jsonschema)", r"jsonschema"),
    ("HTTP/1 parsing (httparse)", r"httparse"),
    ("hyper and http types", r"hyper|^<?http::|bytes::"),
    ("tracing", r"tracing"),
    ("switchboard: HTTP layer", r"switchboard_core::http::|switchboard_(smol|tokio)::"),
    ("switchboard: engine and protocol", r"switchboard_core::"),
    ("executor, reactor, syscalls", r"async_io|async_executor|async_task|async_channel|polling|tokio|concurrent_queue|event_listener|epoll|syscall|std::sys|mio::|parking|futures_lite|__GI_|__libc|clock_gettime|pthread"),
    ("futures combinators", r"futures_util|futures_core|futures::"),
    ("the example server", r"examples::|hello::|echo_"),
    ("Rust std (UTF-8 checks, collections, drops)", r"^<?(core|alloc|std)::|drop_in_place"),
]


def exclusive(path):
    """Exclusive instructions per symbol in one profile."""
    out = subprocess.run(
        ["callgrind_annotate", "--inclusive=no", "--auto=no", "--threshold=100", path],
        capture_output=True, text=True, check=True,
    ).stdout
    costs = defaultdict(int)
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([^)]*\)\s+(\S.*)$", line)
        if not m or m.group(2).startswith(("PROGRAM TOTALS", "=>")):
            continue
        name = re.sub(r" \[[^\]]*\]$", "", m.group(2))
        # "file:symbol": the file is where the line was written (inlining
        # moves it), the symbol is the machine code that ran it.
        symbol = name.split(":", 1)[1] if ":" in name and not name.startswith("<") else name
        costs[symbol] += int(m.group(1).replace(",", ""))
    return costs


def layer_of(symbol):
    for layer, pattern in LAYERS:
        if re.search(pattern, symbol):
            return layer
    return "other"


def main():
    low, high, calls = sys.argv[1], sys.argv[2], int(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 12
    a, b = exclusive(low), exclusive(high)
    per = {s: (b.get(s, 0) - a.get(s, 0)) / calls for s in set(a) | set(b)}
    layers = defaultdict(float)
    for symbol, cost in per.items():
        layers[layer_of(symbol)] += cost
    total = sum(per.values())
    print(f"  {total:8.0f}  instructions per call, by layer:")
    for layer, cost in sorted(layers.items(), key=lambda kv: -kv[1]):
        if abs(cost) >= 0.5:
            print(f"  {cost:8.0f}  {100 * cost / total:4.1f}%  {layer}")
    print(f"  the {top} dearest symbols (exclusive):")
    for symbol, cost in sorted(per.items(), key=lambda kv: -kv[1])[:top]:
        print(f"  {cost:8.0f}  {symbol[:110]}")


if __name__ == "__main__":
    main()
