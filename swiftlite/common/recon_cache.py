"""Daemon stats for recon: one small JSON file per daemon kind, replaced atomically.

Daemons call ``update(path, {...})`` after each pass; the recon middleware reads the files.
Format (version 1): a JSON object of stats keys plus ``"version": 1``. Writes take a lock so
two daemons sharing a file (e.g. object replicator and auditor) never lose each other's keys.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from swiftlite.common import fs

VERSION = 1
DEFAULT_RECON_DIR = "/var/cache/swiftlite"


def cache_path(recon_dir: str, kind: str) -> str:
    """``<recon_dir>/<kind>.recon`` with kind one of object, container, account."""
    return os.path.join(recon_dir, f"{kind}.recon")


def read(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
    except (FileNotFoundError, json.JSONDecodeError):
        return {}
    if not isinstance(data, dict) or data.get("version") != VERSION:
        return {}
    data.pop("version", None)
    return data


def update(path: str, stats: Mapping[str, Any]) -> None:
    """Merge ``stats`` into the file (top-level keys replaced), atomically and under a lock."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with fs.flock(path + ".lock", timeout=10):
        data = read(path)
        data.update(stats)
        data["version"] = VERSION
        fs.write_file_durable(path, json.dumps(data, sort_keys=True).encode())
