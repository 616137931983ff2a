"""Layers import downward only (ARCHITECTURE.md §1), checked by walking imports with ast."""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2] / "swiftlite"

# Lower number = lower layer. A module may import its own layer or below.
LAYERS = {
    "common": 0,
    "ring": 1,
    "obj": 2,
    "db": 2,
    "container": 3,
    "account": 3,
    "proxy": 4,
    "middleware": 5,
    "cli": 6,
    "aio": 6,
    "init": 6,  # swiftlite-init: starts and stops what aio and cli name
}
# Daemons sit beside their servers; the account reaper drives container and object deletes
# through the proxy-free direct client, and recon middleware reads storage stats.
ALLOWED = {
    ("container", "account"),
    ("account", "container"),
}


def _layer_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) < 2 or parts[0] != "swiftlite":
        return None
    return parts[1]


def _imports(path: pathlib.Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(path: pathlib.Path, known: set[str]) -> set[str]:
    """The swiftlite modules ``path`` imports when it runs (at import time or in a function):
    ``from pkg import sub`` counts as ``pkg.sub`` when that is a module, and imports under
    ``if TYPE_CHECKING:`` do not count."""
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
                continue
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    found.add(sub if sub in known else node.module)
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.stmt):
                    visit([child])
                elif isinstance(child, ast.excepthandler):
                    visit(child.body)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found & known


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of two or more modules (or a module importing itself),
    by Tarjan's algorithm; the package's depth is far below the recursion limit."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for child in sorted(graph[node]):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in stack:
                low[node] = min(low[node], index[child])
        if low[node] != index[node]:
            return
        group = stack[stack.index(node) :]
        del stack[stack.index(node) :]
        if len(group) > 1 or node in graph[node]:
            cycles.append(sorted(group))

    for name in sorted(graph):
        if name not in index:
            visit(name)
    return cycles


def _modules() -> list[pathlib.Path]:
    return sorted(p for p in ROOT.rglob("*.py") if "__pycache__" not in p.parts)


def test_layer_table_covers_every_package() -> None:
    packages = {p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(LAYERS), f"add {packages - set(LAYERS)} to LAYERS"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_imports_only_lower_layers(path: pathlib.Path) -> None:
    own = path.relative_to(ROOT).parts[0]
    if own not in LAYERS:
        return
    for name in _imports(path):
        other = _layer_of(name)
        if other is None or other not in LAYERS or other == own:
            continue
        if (own, other) in ALLOWED:
            continue
        assert LAYERS[other] <= LAYERS[own], f"{path.name} ({own}) imports {name} ({other})"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_module_stays_under_size_limit(path: pathlib.Path) -> None:
    lines = path.read_text(encoding="utf-8").count("\n")
    assert lines <= 650, f"{path} has {lines} lines: split it by responsibility"


def test_eventlet_imported_only_in_green() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in _modules()
        if p.name != "green.py" and any(n.split(".")[0] == "eventlet" for n in _imports(p))
    ]
    assert offenders == []


def test_import_cycle_finder_sees_a_circle() -> None:
    graph = {"a.x": {"a.y"}, "a.y": {"a.z"}, "a.z": {"a.x"}, "a.w": {"a.x"}, "a.s": {"a.s"}}
    assert sorted(import_cycles(graph)) == [["a.s"], ["a.x", "a.y", "a.z"]]
    assert import_cycles({"a.x": {"a.y"}, "a.y": set()}) == []


def test_runtime_imports_count_functions_but_not_type_checking() -> None:
    paths = {_module_name(p): p for p in _modules()}
    found = _runtime_imports(ROOT / "middleware" / "slo_delete.py", set(paths))
    assert "swiftlite.middleware.subrequest" in found
    assert "swiftlite.middleware.slo" not in found  # only under TYPE_CHECKING
    found = _runtime_imports(ROOT / "cli" / "ring_builder.py", set(paths))
    assert "swiftlite.ring.builder" in found  # "from swiftlite.ring.builder import ..."


def test_no_import_circle_anywhere() -> None:
    """A circle inside one package (even through a function-level import) means two modules
    are one job split wrongly: the test fails on it. ``TYPE_CHECKING`` imports do not run."""
    paths = {_module_name(p): p for p in _modules()}
    known = set(paths)
    graph = {name: _runtime_imports(path, known) for name, path in paths.items()}
    assert import_cycles(graph) == []


# Daemon modules run beside the servers; a server (or anything it loads) importing one drags a
# daemon's start-up and globals into every request process. Shared code lives in a module the
# daemon and the server both import (e.g. ``container/account_report.py``).
DAEMON_MODULES = {"replicator", "auditor", "updater", "reaper", "expirer", "reconciler", "sharder"}


def test_no_module_imports_a_daemon_module() -> None:
    paths = {_module_name(p): p for p in _modules()}
    known = set(paths)
    offenders = [
        f"{name} imports {other}"
        for name, path in paths.items()
        if name.rsplit(".", 1)[-1] not in DAEMON_MODULES
        for other in _runtime_imports(path, known)
        if other.rsplit(".", 1)[-1] in DAEMON_MODULES
    ]
    assert offenders == []


def test_servers_do_not_load_the_ring_builder() -> None:
    """``swiftlite.ring`` gives servers the reader only; the builder is the operator's."""
    import subprocess
    import sys

    code = (
        "import sys, swiftlite.obj.server, swiftlite.container.server, "
        "swiftlite.account.server, swiftlite.proxy.server; "
        "print('swiftlite.ring.builder' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
