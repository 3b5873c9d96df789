#!/usr/bin/env python3
"""Check that the core crate's layers only depend downwards.

Every `crate::<layer>` path in a file of `crates/polars-redis/src/<layer>/`
must name the file's own layer or one it may depend on (see LAYERS), and no
two files may import each other in a cycle. Exits 1 listing the violations.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "crates" / "polars-redis" / "src"

# layer -> the layers it may use (besides itself)
LAYERS: dict[str, set[str]] = {
    "error": set(),
    "net": {"error"},
    "types": {"error", "net"},
    "read": {"error", "net", "types"},
    "write": {"error", "net", "types"},
    "infer": {"error", "net", "types", "read"},
    "search": {"error", "net", "types", "read"},
}

PATH = re.compile(r"\bcrate::([a-z_]+)((?:::[a-z_]+)*)")
# `use child::...` in a mod.rs, `super::...` anywhere: paths relative to the file
RELATIVE = re.compile(r"^\s*(?:pub(?:\([a-z]+\))? )?use (super|self|[a-z_]+)((?:::[a-z_]+)*)", re.M)


class _Match:
    def __init__(self, first: str, tail: str) -> None:
        self._groups = (first, tail)

    def group(self, n: int) -> str:
        return self._groups[n - 1]


def layer_of(path: Path) -> str | None:
    rel = path.relative_to(SRC)
    top = rel.parts[0].removesuffix(".rs")
    return top if top in LAYERS else None


def module_of(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = [p for p in rel.parts if p != "mod"]
    return "::".join(parts)


def main() -> int:
    files = sorted(SRC.rglob("*.rs"))
    modules = {module_of(f): f for f in files}
    problems: list[str] = []
    edges: dict[str, set[str]] = {}
    for file in files:
        own = layer_of(file)
        text = file.read_text()
        # Unit tests may reach anywhere.
        text = text.split("#[cfg(test)]")[0]
        me = module_of(file)
        targets = [(m.group(1), m.group(2)) for m in PATH.finditer(text)]
        parent = me.rsplit("::", 1)[0] if "::" in me else ""
        base = me if file.name == "mod.rs" or file.name == "lib.rs" else parent
        for m in RELATIVE.finditer(text):
            head, rest = m.group(1), m.group(2)
            if head == "super":
                prefix = parent if file.name != "mod.rs" else (me.rsplit("::", 1)[0] if "::" in me else "")
            elif head == "self":
                prefix = base
            elif head in ("crate", "std", "core", "alloc") or not base:
                continue
            elif f"{me}::{head}" not in modules:
                continue  # `use tokio::...`: an external crate, not a module of ours
            else:
                prefix = me
                rest = "::" + head + rest
            full = (prefix + rest).strip(":")
            if full:
                first, _, tail = full.partition("::")
                targets.append((first, "::" + tail if tail else ""))
        for first, tail in targets:
            match = _Match(first, tail)
            target_layer = match.group(1)
            if own is not None and target_layer in LAYERS and target_layer != own:
                if target_layer not in LAYERS[own]:
                    problems.append(
                        f"{file.relative_to(SRC)}: {own}/ uses crate::{target_layer}"
                        f"{match.group(2)} (allowed: {sorted(LAYERS[own]) or 'nothing'})"
                    )
            parts = [match.group(1), *[p for p in match.group(2).split("::") if p]]
            # the longest prefix naming a module of ours
            for n in range(len(parts), 0, -1):
                name = "::".join(parts[:n])
                if name in modules:
                    if name != me:
                        edges.setdefault(me, set()).add(name)
                    break
    # cycles between files (Tarjan's strongly connected components)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    counter = [0]
    components: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(modules):
        if v not in index:
            visit(v)
    for component in components:
        problems.append("import cycle: " + " <-> ".join(component))
    for problem in sorted(set(problems)):
        print(problem)
    if problems:
        return 1
    print(f"layers ok: {len(files)} files, no upward import, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
