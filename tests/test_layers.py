"""The layer rules of CONTRIBUTING.md and docs, read from the imports themselves (including the
ones under `TYPE_CHECKING` and inside functions): a rule nobody checks drifts."""

from __future__ import annotations

import ast
from pathlib import Path

import mamdl

SRC = Path(mamdl.__file__).parent

# Lowest first; a module may import its own layer and the ones before it. `config`, `errors`,
# `redact`, `fsutil`, and the HTTP fronts' `bearer` and `jsonbody` are the shared base. `library` (placing finished books, hand-offs to Calibre
# and Audiobookshelf) works on files and MAM's models, below the service that drives it. The
# sandbox is a test double of MAM and peers; it may use libtorrent (its peers are real) but
# nothing above the base.
LAYERS = ["base", "mam", "ranking", "engine", "library", "service", "front"]
BASE = {"mamdl", "mamdl.bearer", "mamdl.jsonbody", "mamdl.config", "mamdl.errors", "mamdl.redact", "mamdl.fsutil"}
PACKAGES = {
    "mam": "mam",
    "ranking": "ranking",
    "engine": "engine",
    "library": "library",
    "service": "service",
    "sandbox": "sandbox",
    "cli": "front",
    "mcp_server": "front",
    "api": "front",
    "web": "front",
    "entry": "front",
    "__main__": "front",
}


def _modules() -> dict[str, Path]:
    out = {}
    for p in SRC.rglob("*.py"):
        parts = ("mamdl", *p.relative_to(SRC).with_suffix("").parts)
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = p
    return out


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
    return found


def _layer(module: str) -> str:
    if module in BASE:
        return "base"
    part = module.split(".")[1]
    assert part in PACKAGES, f"new module or package mamdl.{part}: give it a layer in tests/test_layers.py"
    return PACKAGES[part]


MODULES = _modules()
GRAPH = {m: {t for t in _imports(p) if t in MODULES and t != m} for m, p in MODULES.items()}


def test_each_layer_imports_only_lower_ones():
    """Sabotage caught: `mamdl.mam` importing `mamdl.engine`, the engine importing the service, or
    the sandbox importing the client it stands in for."""
    bad = []
    for m, targets in GRAPH.items():
        mine = _layer(m)
        for t in targets:
            theirs = _layer(t)
            if mine == "sandbox":
                ok = theirs in ("base", "sandbox")
            elif theirs == "sandbox":
                ok = mine == "front"  # `mam sandbox` and the demo start it
            else:
                ok = LAYERS.index(theirs) <= LAYERS.index(mine)
            if not ok:
                bad.append(f"{m} -> {t}")
    assert not bad, bad


def test_only_the_engine_and_the_sandbox_import_libtorrent():
    """Sabotage caught: the service or a front importing libtorrent directly."""
    users = {m for m, p in MODULES.items() if "libtorrent" in _imports(p)}
    assert users and all(_layer(m) in ("engine", "sandbox") for m in users), users


def test_no_import_cycles():
    """Sabotage caught: `engine/seeding.py` importing `Engine` again (store -> seeding -> engine ->
    store), or the sandbox's `server.py` importing `app.py`. An import of one's own package
    `__init__` (which re-exports its modules) is not counted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in GRAPH[v]:
            if v.startswith(w + "."):
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    for v in GRAPH:
        if v not in index:
            visit(v)
    assert not cycles, cycles


def test_the_web_page_is_a_front_of_its_own():
    """Sabotage caught: the web page calling the API's or the CLI's code instead of the service
    (`mamdl.web` importing `mamdl.api`, `mamdl.cli`, `mamdl.mcp_server`), or any module but the one
    that composes the server (`mamdl.api.server`) mounting the web page."""
    fronts = {m for m in MODULES if m != "mamdl" and _layer(m) == "front"}
    web = {m for m in fronts if m == "mamdl.web" or m.startswith("mamdl.web.")}
    assert web, "no mamdl.web modules found"
    bad = [f"{m} -> {t}" for m in web for t in GRAPH[m] if t in fronts - web]
    bad += [f"{m} -> {t}" for m in fronts - web - {"mamdl.api.server"} for t in GRAPH[m] if t in web]
    assert not bad, bad
