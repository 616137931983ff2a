"""Every paste entry point registered in pyproject.toml loads and builds its app or filter."""

from __future__ import annotations

import importlib.metadata
import pathlib
import tomllib

import pytest

REPO = pathlib.Path(__file__).resolve().parents[3]
GROUPS = ("paste.filter_factory", "paste.app_factory")


def _registered() -> list[tuple[str, str, str]]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    points = project["entry-points"]
    return [(group, name, target) for group in GROUPS for name, target in points[group].items()]


def _installed(group: str) -> dict[str, str]:
    return {ep.name: ep.value for ep in importlib.metadata.entry_points(group=group)}


@pytest.mark.parametrize(("group", "name", "target"), _registered())
def test_registered_entry_point_is_installed_and_loads(group, name, target):
    assert _installed(group).get(name) == target, "reinstall: pip install -e ."
    factory = next(
        ep for ep in importlib.metadata.entry_points(group=group) if ep.name == name
    ).load()
    assert callable(factory)
    if group == "paste.filter_factory":
        make = factory({})
        app = make(lambda environ, start_response: [])
        assert callable(app)


def test_every_filter_module_registers_its_factory():
    modules = {target.split(":")[0] for _g, _n, target in _registered()}
    for path in (REPO / "swiftlite" / "middleware").glob("*.py"):
        text = path.read_text()
        if "def filter_factory(" in text:
            assert f"swiftlite.middleware.{path.stem}" in modules, path.name
