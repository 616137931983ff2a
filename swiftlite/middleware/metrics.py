"""metrics: a Prometheus text endpoint (``GET /metrics``) on any server, off unless enabled.

``[filter:metrics]`` with ``enabled = true`` counts every request below it by verb and
status, with a latency histogram (time until the response headers), and answers
``GET <metrics_path>`` with them plus the gauges that are cheap to read at scrape time:

- proxy: ``swiftlite_error_limited_nodes`` (backend nodes the proxy is skipping now);
- storage servers: ``swiftlite_async_pendings``, ``swiftlite_quarantined`` per kind,
  ``swiftlite_device_{size,used,avail}_bytes`` and ``swiftlite_device_mounted`` per device,
  ``swiftlite_replication_last_pass_age_seconds`` per replicator (from the recon cache).

Disabled (the default) the factory hands back the app itself: no cost at all. Enabled, a
request costs a clock read, one dict lookup and a few additions.

Each pre-fork worker counts its own requests. With ``metrics_dir`` set, a worker writes its
snapshot there (``<server>-<pid>.json``) at most every ``flush_interval`` seconds and at each
scrape, and a scrape adds up every worker's file, so any worker answers for the server.
Without it a scrape shows the answering process only (exact with ``workers = 1`` or 0).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from swiftlite.common import config
from swiftlite.middleware import metrics_text
from swiftlite.middleware.metrics_text import Gauge, RequestStats

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
METHODS = frozenset(
    {"GET", "HEAD", "PUT", "POST", "DELETE", "COPY", "OPTIONS", "REPLICATE", "UPDATE"}
)


@dataclass(frozen=True)
class MetricsOptions:
    enabled: bool = False
    metrics_path: str = "/metrics"
    # the ``server`` label; default: log_name, else the kind of app below (proxy-server,
    # object-server...)
    server_name: str | None = None
    log_name: str | None = None
    metrics_dir: str | None = None
    flush_interval: float = 5.0
    # storage servers (for the gauges); the proxy leaves them unused
    devices: str = "/srv/node"
    mount_check: bool = True
    recon_cache_path: str = "/var/cache/swiftlite"


class MetricsMiddleware:
    def __init__(self, app: Callable[..., Any], options: MetricsOptions) -> None:
        self.app = app
        self.options = options
        self.server = options.server_name or options.log_name or app_name(app)
        self.stats = RequestStats()
        self.last_flush = time.monotonic()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == self.options.metrics_path:
            return self.scrape(environ, start_response)
        started = time.monotonic()
        method = environ.get("REQUEST_METHOD")
        verb = method if method in METHODS else "other"
        seen = False

        def counted(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            nonlocal seen
            if not seen:
                seen = True
                self.observe(verb, int(status[:3]), started)
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, counted)
        except Exception:
            if not seen:
                self.observe(verb, 500, started)
            raise

    def observe(self, verb: str, status: int, started: float) -> None:
        now = time.monotonic()
        self.stats.observe(verb, status, now - started)
        if self.options.metrics_dir and now - self.last_flush >= self.options.flush_interval:
            self.flush(now)

    # -- scrape ------------------------------------------------------------------------------
    def scrape(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            start_response(
                "405 Method Not Allowed", [("Allow", "GET, HEAD"), ("Content-Length", "0")]
            )
            return [b""]
        body = metrics_text.render(self.server, self.totals(), self.gauges()).encode()
        start_response(
            "200 OK", [("Content-Type", CONTENT_TYPE), ("Content-Length", str(len(body)))]
        )
        return [b""] if environ["REQUEST_METHOD"] == "HEAD" else [body]

    def totals(self) -> RequestStats:
        if not self.options.metrics_dir:
            return self.stats
        self.flush(time.monotonic())
        return metrics_text.merge(self._snapshots())

    def _snapshot_path(self, pid: int) -> str:
        return os.path.join(self.options.metrics_dir or "", f"{self.server}-{pid}.json")

    def flush(self, now: float) -> None:
        """Write this process's snapshot (tmp + rename, so readers never see half)."""
        self.last_flush = now
        path = self._snapshot_path(os.getpid())
        tmp = f"{path}.tmp"
        with contextlib.suppress(OSError):  # an unwritable dir must not fail requests
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump(self.stats.snapshot(), fh)
            os.replace(tmp, path)

    def _snapshots(self) -> Iterator[dict[str, Any]]:
        folder = self.options.metrics_dir or ""
        prefix = f"{self.server}-"
        try:
            names = os.listdir(folder)
        except OSError:
            return
        for name in names:
            if name.startswith(prefix) and name.endswith(".json"):
                try:
                    with open(os.path.join(folder, name), encoding="utf-8") as fh:
                        data = json.load(fh)
                except (OSError, ValueError):
                    continue
                if isinstance(data, dict):
                    yield data

    def gauges(self) -> list[Gauge]:
        limiter = find_error_limiter(self.app)
        if limiter is not None:
            return [
                Gauge(
                    "swiftlite_error_limited_nodes",
                    "Backend nodes the proxy skips now after errors.",
                    (({}, float(len(limiter.suppressed()))),),
                )
            ]
        if find_storage_server(self.app) is not None:
            from swiftlite.middleware import metrics_storage

            return metrics_storage.gauges(self.options)
        return []


def _chain(app: Any) -> Iterator[Any]:
    """``app`` and every app below it through ``.app`` links (filters keep theirs there)."""
    for _ in range(64):
        if app is None:
            return
        yield app
        app = getattr(app, "app", None)


def app_name(app: Any) -> str:
    """``proxy-server`` or ``<kind>-server`` for the app at the end of the chain."""
    if find_error_limiter(app) is not None:
        return "proxy-server"
    server = find_storage_server(app)
    if server is not None:
        return f"{server.server_type}-server"
    return "server"


def find_error_limiter(app: Any) -> Any:
    from swiftlite.proxy.nodes import ErrorLimiter

    for link in _chain(app):
        limiter = getattr(link, "limiter", None)
        if isinstance(limiter, ErrorLimiter):
            return limiter
    return None


def find_storage_server(app: Any) -> Any:
    from swiftlite.common.storage_app import StorageServer

    for link in _chain(app):
        if isinstance(link, StorageServer):
            return link
    return None


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#metrics``."""
    options = config.parse_options(
        MetricsOptions, local_conf, global_conf, where="[filter:metrics]"
    )
    if not options.enabled:
        return lambda app: app

    def make(app: Any) -> MetricsMiddleware:
        return MetricsMiddleware(app, options)

    return make
