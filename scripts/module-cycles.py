#!/usr/bin/env python3
"""Checks that the modules of a crate import one another without cycles.

Reads the graph `cargo modules dependencies` prints (from the cargo-modules
crate: `cargo install cargo-modules --version 0.27.0 --locked`), folds every
item into the module that holds it, and looks for strongly connected groups of
modules among the "uses" edges. Exits 1 when there is a cycle.

    cargo modules dependencies --lib -p switchboard-core --no-externs --no-sysroot \
        | python3 scripts/module-cycles.py
"""
import re
import sys

node_re = re.compile(r'^\s*"([^"]+)" \[label="([^"|]*)\|')
edge_re = re.compile(r'^\s*"([^"]+)" -> "([^"]+)" \[label="uses"')

modules, edges = set(), []
for line in sys.stdin:
    m = node_re.match(line)
    if m:
        path, kind = m.groups()
        if kind.endswith(" mod") or kind == "crate":
            modules.add(path)
        continue
    m = edge_re.match(line)
    if m:
        edges.append(m.groups())

def module_of(path):
    while path not in modules and "::" in path:
        path = path.rsplit("::", 1)[0]
    return path

graph = {m: set() for m in modules}
for a, b in edges:
    ma, mb = module_of(a), module_of(b)
    if ma != mb:
        graph[ma].add(mb)

# Tarjan's strongly connected components.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]
def strong(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in graph[v]:
        if w not in index:
            strong(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        group = []
        while True:
            w = stack.pop()
            on.discard(w)
            group.append(w)
            if w == v:
                break
        if len(group) > 1:
            sccs.append(sorted(group))

sys.setrecursionlimit(10000)
for v in sorted(graph):
    if v not in index:
        strong(v)

print(f"{len(modules)} modules, {sum(len(v) for v in graph.values())} module-to-module use edges")
for group in sccs:
    print("cycle among: " + ", ".join(group))
    for v in group:
        inside = sorted(w for w in graph[v] if w in group)
        print(f"  {v} -> {', '.join(inside)}")
sys.exit(1 if sccs else 0)
