#!/usr/bin/env python3
"""The import graph of the engine: modules and who includes whom.

    import_graph.py SOURCE_DIR [--print]

A module is a .c file of engine/ with its headers (engine/NAME.h and
include/kpieval/NAME.h). A header with no .c of its name (writers.h,
model.h, limits.h) belongs to no module: including it counts as including
what it includes. Exit 1, naming each cycle, when a module reaches itself:
data must flow one way (README, "source tour"). --print lists the edges.
"""
import os
import re
import sys

INCLUDE = re.compile(r'\s*#\s*include\s+"(?:kpieval/)?([A-Za-z0-9_]+)\.h"')


def main():
    root = sys.argv[1]
    dirs = [os.path.join(root, "engine"), os.path.join(root, "include", "kpieval")]
    files = {}
    for d in dirs:
        for f in sorted(os.listdir(d)):
            if f.endswith((".c", ".h")):
                files.setdefault(f[:-2], []).append(os.path.join(d, f))
    modules = {stem for stem, paths in files.items() if any(p.endswith(".c") for p in paths)}
    direct = {}
    for stem, paths in files.items():
        direct[stem] = set()
        for path in paths:
            with open(path, encoding="utf-8", errors="replace") as f:
                for line in f:
                    m = INCLUDE.match(line)
                    if m and m.group(1) in files and m.group(1) != stem:
                        direct[stem].add(m.group(1))

    def reach(stem, seen):
        """Modules stem uses, looking through headers of no module."""
        out = set()
        for dep in direct[stem]:
            if dep in modules:
                out.add(dep)
            elif dep not in seen:
                seen.add(dep)
                out |= reach(dep, seen)
        return out

    edges = {m: reach(m, {m}) - {m} for m in modules}
    cycles, state, stack = [], {}, []

    def visit(u):
        state[u] = 1
        stack.append(u)
        for v in sorted(edges[u]):
            if state.get(v) == 1:
                cycles.append(stack[stack.index(v):] + [v])
            elif v not in state:
                visit(v)
        stack.pop()
        state[u] = 2

    for m in sorted(modules):
        if m not in state:
            visit(m)
    if "--print" in sys.argv:
        for m in sorted(edges):
            print(f"{m} -> {' '.join(sorted(edges[m])) or '-'}")
    for c in cycles:
        print("cycle: " + " -> ".join(c))
    print(f"{len(modules)} modules, {sum(len(e) for e in edges.values())} edges, "
          f"{len(cycles)} cycles")
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
