#!/usr/bin/env python3
"""Check that the core crate's layers depend only downwards, without cycles.

The layers are the top-level modules of ``crates/polars-redis/src``::

    read/ write/ infer/ search/ keyspace/ geo/  ->  types/  ->  net/  ->  error.rs
    cache/  ->  net/

(``infer``, ``search``, ``keyspace``, ``geo`` and ``consume`` also build on ``read``;
``geo`` on ``keyspace``). Every path a file names
(``crate::a::b``, ``super::x``, ``use child::y``) is resolved to the module it
points at; an edge to a layer the file's layer may not use is reported, and so
is every cycle between modules (a ``mod.rs`` that re-exports a child whose
code imports the parent back counts as one). Unit tests (after the first
``#[cfg(test)]``) are not checked. Exit status 1 when anything is reported.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "crates" / "polars-redis" / "src"

# layer -> the layers it may use besides itself
ALLOWED: dict[str, set[str]] = {
    "error": set(),
    "net": {"error"},
    "types": {"error", "net"},
    "read": {"error", "net", "types"},
    "write": {"error", "net", "types"},
    "infer": {"error", "net", "types", "read"},
    "search": {"error", "net", "types", "read"},
    "keyspace": {"error", "net", "types", "read"},
    "geo": {"error", "net", "types", "read", "keyspace"},
    "cache": {"error", "net"},
    "consume": {"error", "net", "types", "read"},
}

CRATE_PATH = re.compile(r"\bcrate::([a-z_]+(?:::[a-z_]+)*)")
RELATIVE_USE = re.compile(
    r"^\s*(?:pub(?:\([a-z]+\))? )?use (super|self|[a-z_]+)((?:::[a-z_]+)*)", re.MULTILINE
)
NOT_OURS = {"crate", "std", "core", "alloc"}


def module_name(path: Path) -> str:
    parts = [p for p in path.relative_to(SRC).with_suffix("").parts if p != "mod"]
    return "::".join(parts)


def named_paths(text: str, module: str) -> list[str]:
    """Every path `text` names, made absolute (relative to the crate root)."""
    parent = module.rpartition("::")[0]
    paths = CRATE_PATH.findall(text)
    for head, rest in RELATIVE_USE.findall(text):
        if head in NOT_OURS:
            continue
        if head == "super":
            base = parent
        elif head == "self":
            base = module
        else:  # a child module of this one (or an external crate: resolved away below)
            base, rest = module, f"::{head}{rest}"
        paths.append(f"{base}{rest}".strip(":"))
    return paths


def target_module(path: str, modules: set[str]) -> str | None:
    """The longest prefix of `path` that is one of our modules."""
    parts = path.split("::")
    for n in range(len(parts), 0, -1):
        name = "::".join(parts[:n])
        if name in modules:
            return name
    return None


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
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
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def main() -> int:
    files = sorted(SRC.rglob("*.rs"))
    modules = {module_name(f) for f in files}
    problems: set[str] = set()
    edges: dict[str, set[str]] = {}
    for file in files:
        module = module_name(file)
        layer = module.split("::")[0]
        code = file.read_text().split("#[cfg(test)]")[0]
        for path in named_paths(code, module):
            target = target_module(path, modules)
            if target is None or target == module:
                continue
            edges.setdefault(module, set()).add(target)
            target_layer = target.split("::")[0]
            if layer in ALLOWED and target_layer != layer and target_layer not in ALLOWED[layer]:
                allowed = ", ".join(sorted(ALLOWED[layer])) or "nothing"
                problems.add(
                    f"{file.relative_to(SRC)}: {layer}/ uses crate::{path} (allowed: {allowed})"
                )
    for component in cycles(edges):
        problems.add("import cycle: " + " <-> ".join(component))
    for problem in sorted(problems):
        print(problem)
    if problems:
        return 1
    print(f"layers ok: {len(files)} files, no upward import, no cycle")
    return 0


if __name__ == "__main__":
    sys.exit(main())
