"""One measurement per system, in turn, for the bench's stand-alone tools (``curves``,
``idle``): each system in its own directory under a temp root, a failure recorded as
``error`` without losing the other system, the root removed afterwards; and the JSON file."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable
from typing import Any

from bench import swift_ref
from bench.__main__ import log


def each_system(
    tool: str, names: list[str], keep: bool, run: Callable[[str, str], dict[str, Any]]
) -> dict[str, Any]:
    """``{name: run(name, root)}``, or ``{name: {"error": ...}}`` when that run raised."""
    work = tempfile.mkdtemp(prefix=f"swiftlite-{tool}-")
    systems: dict[str, Any] = {}
    try:
        for name in names:
            try:
                systems[name] = run(name, os.path.join(work, name))
            except Exception as exc:  # noqa: BLE001 - one system failing must not lose the other
                log(f"{tool}: {name} failed: {exc!r}")
                systems[name] = {"error": repr(exc)}
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    return systems


def meta(**fields: Any) -> dict[str, Any]:
    """The report's ``meta``: date, machine and Swift's pinned release, plus ``fields``."""
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"cpus": os.cpu_count(), "kernel": platform.release()},
        "swift_requirement": swift_ref.REQUIREMENT,
        **fields,
    }


def write_json(report: dict[str, Any], path: str) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(report, fh, indent=2, sort_keys=True)


def exit_status(systems: dict[str, Any]) -> int:
    return 0 if all("error" not in s for s in systems.values()) else 1
