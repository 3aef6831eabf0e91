"""The project's layering rules as code: the import graph of a source tree and its violations.

Groups are the first name under the package (``openclaw.feeds.okx`` -> ``feeds``; a top-level
module is its own group). Rules (docs/architecture.md, "Rules"):

1. a group imports only groups of its own layer or below (``LAYERS``);
2. no cycle between groups;
3. the simulators (``sim``) import nothing of the client code, and only the app layer imports
   them;
4. no name with a leading underscore is imported from another module.

Imports inside functions count: a deferred import is still a dependency.
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# lower layers first; a group may import its own layer and those below
LAYERS: dict[str, int] = {
    "_core": 0,
    "model": 1,
    # services
    "feeds": 2, "execution": 2, "risk": 2, "journal": 2, "alerts": 2, "latency": 2,
    "schedule": 2, "logs": 2, "bus": 2,
    # venues: one folder per venue (its feed, trading route, history; IBKR's session, pacing)
    "venues": 3,
    "strategies": 4,
    # the app layer: wiring a running system from a config (app/), and the embedding API
    "app": 5, "api": 5, "control": 5,
    # entry points and harnesses
    "cli": 6, "__main__": 6, "bench": 6, "errors": 6, "__init__": 6,
}
SIM = "sim"
SIM_USERS = {"app", "cli", "bench", "api"}   # start simulators for sim/paper runs
_CYIMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+c?import|c?import\s+([\w.]+))")


@dataclass(frozen=True)
class Import:
    module: str          # the importing module
    target: str          # the imported module
    names: tuple[str, ...]
    line: int


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root.parent).with_suffix("").parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def group(package: str, module: str) -> str:
    parts = module.split(".")
    if parts[0] != package:
        return ""
    if len(parts) == 1:
        return "__init__"
    return parts[1]


def imports(root: Path) -> Iterator[Import]:
    """Every import of the package at ``root`` (``.py`` by AST, ``.pyx``/``.pxd`` by line)."""
    package = root.name
    for path in sorted(root.rglob("*.py")):
        mod = module_name(root, path)
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                if node.module.split(".")[0] == package:
                    yield Import(mod, node.module, tuple(a.name for a in node.names), node.lineno)
            elif isinstance(node, ast.ImportFrom) and node.level > 0:
                base = mod.split(".")[: -node.level + (1 if path.name == "__init__.py" else 0)
                                      or None]
                target = ".".join([*base, node.module] if node.module else base)
                yield Import(mod, target, tuple(a.name for a in node.names), node.lineno)
            elif isinstance(node, ast.Import):
                for a in node.names:
                    if a.name.split(".")[0] == package:
                        yield Import(mod, a.name, (), node.lineno)
    for path in sorted([*root.rglob("*.pyx"), *root.rglob("*.pxd")]):
        mod = module_name(root, path)
        for n, line in enumerate(path.read_text().splitlines(), 1):
            m = _CYIMPORT.match(line)
            target = m and (m.group(1) or m.group(2))
            if target and target.split(".")[0] == package:
                yield Import(mod, target, (), n)


def violations(root: Path, layers: dict[str, int] = LAYERS) -> list[str]:
    """Every broken rule in the package at ``root``, one line each (empty: all rules hold)."""
    package = root.name
    out: list[str] = []
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in imports(root):
        src, dst = group(package, imp.module), group(package, imp.target)
        where = f"{imp.module}:{imp.line} imports {imp.target}"
        for name in imp.names:
            if name.startswith("_") and not name.startswith("__") and imp.target != imp.module:
                out.append(f"{where}: private name {name}")
        if not dst or src == dst:
            continue
        graph[src].add(dst)
        if src == SIM:
            out.append(f"{where}: the simulators import nothing of the client code")
            continue
        if dst == SIM:
            if src not in SIM_USERS:
                out.append(f"{where}: only {sorted(SIM_USERS)} may start simulators")
            continue
        if src not in layers or dst not in layers:
            out.append(f"{where}: group {src if src not in layers else dst!r} has no layer")
        elif layers[dst] > layers[src]:
            out.append(f"{where}: layer {src} ({layers[src]}) may not import {dst} "
                       f"({layers[dst]})")
    out += [f"import cycle between packages: {' -> '.join(c)}" for c in cycles(graph)]
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of more than one group (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp) + [sorted(comp)[0]])

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found
