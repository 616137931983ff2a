"""docs/deployment.md names only commands, units and sample files that exist."""

from __future__ import annotations

import pathlib
import re
import tomllib

REPO = pathlib.Path(__file__).resolve().parents[3]
DOC = (REPO / "docs" / "deployment.md").read_text()
# the init tool of the same issue, built beside this work (branch h6a-init)
PENDING = {"swiftlite-init"}


def test_every_command_the_guide_names_is_installed() -> None:
    scripts = set(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"])
    named = set(re.findall(r"\b(swiftlite-[a-z-]+[a-z])\b(?![@.-])", DOC))
    named -= {"swiftlite-"}
    assert named, "the guide names no command"
    assert named - scripts - PENDING == set()


def test_every_unit_and_sample_file_the_guide_names_exists() -> None:
    units = set(re.findall(r"swiftlite-([a-z-]+)@", DOC)) - {"$unit"}
    for unit in units:
        assert (REPO / "etc" / "systemd" / f"swiftlite-{unit}@.service").exists(), unit
    for path in re.findall(r"`(etc/[\w./-]+)`", DOC):
        if "{" not in path and "*" not in path:
            assert (REPO / path).exists(), path
