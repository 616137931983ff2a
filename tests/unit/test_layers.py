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
