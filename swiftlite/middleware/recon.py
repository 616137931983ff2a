"""``GET /recon/<what>`` on storage servers: the facts ``swiftlite-recon`` gathers.

Endpoints (JSON): ``async`` (async_pending count, and per storage policy under ``policies``),
``replication/<kind>``, ``auditor/<kind>``, ``updater/<kind>``, ``expirer/object``,
``reaper/account`` (the daemons' last pass summaries from the recon cache), ``quarantined``
(counts per kind, quarantined objects also per policy under ``policies``, as Swift's),
``diskusage``, ``unmounted``, ``ringmd5`` (every ring, ``object-N.ring.gz`` included),
``load``, ``mem``, ``time``, ``version``. Anything else is passed on
to the server app, so a storage pipeline can hold recon in front of its app.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass
from typing import Any

from webob import Request, Response

from swiftlite.common import config, fs, policies, recon_cache

KINDS = ("object", "container", "account")
DAEMONS = {
    "replication": "replicator",
    "auditor": "auditor",
    "updater": "updater",
    "expirer": "expirer",
    "reaper": "reaper",
}
QUARANTINE_DIRS = {"objects": "objects", "containers": "containers", "accounts": "accounts"}


@dataclass(frozen=True)
class ReconOptions:
    devices: str = "/srv/node"
    mount_check: bool = True
    swift_dir: str = "/etc/swiftlite"
    recon_cache_path: str = recon_cache.DEFAULT_RECON_DIR


class ReconMiddleware:
    def __init__(self, app: Any, options: ReconOptions) -> None:
        self.app = app
        self.options = options

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/recon/"):
            return self.app(environ, start_response)
        req = Request(environ)
        if req.method != "GET":
            return Response(status=405, headers={"Allow": "GET"})(environ, start_response)
        parts = path[len("/recon/") :].strip("/").split("/")
        try:
            data = self.answer(parts)
        except KeyError:
            return Response(status=404, body=b"Not Found")(environ, start_response)
        body = json.dumps(data, sort_keys=True).encode()
        return Response(body=body, content_type="application/json")(environ, start_response)

    # -- answers -----------------------------------------------------------------------------
    def answer(self, parts: list[str]) -> Any:
        head = parts[0]
        if head in DAEMONS:
            kind = parts[1] if len(parts) > 1 else "object"
            if kind not in KINDS:
                raise KeyError(kind)
            cache = recon_cache.read(recon_cache.cache_path(self.options.recon_cache_path, kind))
            return cache.get(f"{kind}-{DAEMONS[head]}", {})
        simple = {
            "async": self.async_pending,
            "quarantined": self.quarantined,
            "diskusage": self.disk_usage,
            "unmounted": self.unmounted,
            "ringmd5": self.ring_md5,
            "load": self.load,
            "mem": self.mem,
            "time": lambda: {"time": time.time()},
            "version": lambda: {"version": _version()},
        }
        return simple[head]()

    def _devices(self) -> list[str]:
        try:
            return sorted(os.listdir(self.options.devices))
        except OSError:
            return []

    def _per_policy(self, parent: str, base: str, count: Any) -> dict[str, int]:
        """``count(path)`` summed over every device's ``<parent>/<base>[-N]`` dirs, by N."""
        totals: dict[str, int] = {}
        for device in self._devices():
            root = os.path.join(self.options.devices, device, parent)
            for idx, path in policies.policy_dirs(root, base):
                totals[str(idx)] = totals.get(str(idx), 0) + count(path)
        return totals

    def async_pending(self) -> dict[str, Any]:
        per_policy = self._per_policy("", "async_pending", _count_files)
        return {"async_pending": sum(per_policy.values()), "policies": per_policy}

    def quarantined(self) -> dict[str, Any]:
        counts: dict[str, Any] = dict.fromkeys(QUARANTINE_DIRS, 0)
        for device in self._devices():
            for name in ("containers", "accounts"):
                path = os.path.join(self.options.devices, device, "quarantined", name)
                with contextlib.suppress(OSError):
                    counts[name] += len(os.listdir(path))
        per_policy = self._per_policy("quarantined", "objects", _count_entries)
        counts["objects"] = sum(per_policy.values())
        counts["policies"] = {idx: {"objects": n} for idx, n in per_policy.items()}
        return counts

    def disk_usage(self) -> list[dict[str, Any]]:
        out = []
        for device in self._devices():
            path = os.path.join(self.options.devices, device)
            mounted = not self.options.mount_check or os.path.ismount(path)
            row: dict[str, Any] = {"device": device, "mounted": mounted}
            if mounted:
                row.update(fs.disk_usage(path))
            out.append(row)
        return out

    def unmounted(self) -> list[dict[str, Any]]:
        if not self.options.mount_check:
            return []
        return [
            {"device": d, "mounted": False}
            for d in self._devices()
            if not os.path.ismount(os.path.join(self.options.devices, d))
        ]

    def ring_md5(self) -> dict[str, str]:
        out = {}
        names = [f"{kind}.ring.gz" for kind in ("account", "container")]
        names += [p.ring_name + ".ring.gz" for p in policies.load()]
        for name in names:
            path = os.path.join(self.options.swift_dir, name)
            try:
                with open(path, "rb") as fh:
                    out[path] = hashlib.md5(fh.read()).hexdigest()
            except OSError:
                continue
        return out

    def load(self) -> dict[str, float]:
        one, five, fifteen = os.getloadavg()
        return {"1m": one, "5m": five, "15m": fifteen}

    def mem(self) -> dict[str, str]:
        out = {}
        try:
            with open("/proc/meminfo", encoding="ascii") as fh:
                for line in fh:
                    key, _, value = line.partition(":")
                    out[key] = value.strip()
        except OSError:
            pass
        return out


def _count_files(root: str) -> int:
    return sum(1 for _d, _s, files in os.walk(root) for f in files if not f.startswith("."))


def _count_entries(path: str) -> int:
    try:
        return len(os.listdir(path))
    except OSError:
        return 0


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("swiftlite")
    except PackageNotFoundError:
        return "unknown"


def filter_factory(global_conf: dict[str, str], **local_conf: str) -> Any:
    options = config.parse_options(ReconOptions, local_conf, global_conf, where="[filter:recon]")

    def make(app: Any) -> ReconMiddleware:
        return ReconMiddleware(app, options)

    return make
