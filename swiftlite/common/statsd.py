"""StatsD: Swift's ``log_statsd_*`` options and a fire-and-forget UDP client.

A metric goes out as ``[<log_statsd_metric_prefix>.]<tail>.<metric>:<value>|<type>[|@rate]``,
one datagram each (``c`` counter, ``ms`` timing), where ``tail`` names the sender
(``proxy-server``, ``object-server``, ``object-replicator``...), so names match Swift's
"Reporting Metrics to StatsD" tables. No host configured: ``NULL`` stands in, its
``enabled`` is False and callers skip building names at all (the hot path pays one attribute
read). A send never raises: a metric must not fail a request.

``configure_process`` takes the options from a config's ``[DEFAULT]`` once at start;
``process_client(tail)`` then gives each component its client.
"""

from __future__ import annotations

import contextlib
import random
import socket
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from swiftlite.common.errors import ConfigError


@dataclass(frozen=True)
class StatsdOptions:
    """Swift's keys, without the ``log_statsd_`` prefix."""

    host: str | None = None
    port: int = 8125
    metric_prefix: str = ""
    default_sample_rate: float = 1.0
    sample_rate_factor: float = 1.0


def options_from_conf(conf: Mapping[str, Any], where: str = "config") -> StatsdOptions:
    """The ``log_statsd_*`` keys of ``conf``; ConfigError naming a bad one."""
    try:
        return StatsdOptions(
            host=str(conf.get("log_statsd_host") or "").strip() or None,
            port=int(conf.get("log_statsd_port") or 8125),
            metric_prefix=str(conf.get("log_statsd_metric_prefix") or "").strip(". "),
            default_sample_rate=float(conf.get("log_statsd_default_sample_rate") or 1.0),
            sample_rate_factor=float(conf.get("log_statsd_sample_rate_factor") or 1.0),
        )
    except ValueError as exc:
        raise ConfigError(f"{where}: bad log_statsd_* value ({exc})") from None


class StatsdClient:
    """Sends metrics for one ``tail`` (the sender's name) to one StatsD server."""

    enabled = True

    def __init__(self, options: StatsdOptions, tail: str) -> None:
        self.options = options
        prefix = ".".join(part for part in (options.metric_prefix, tail) if part)
        self.prefix = prefix + "." if prefix else ""
        self.rate = options.default_sample_rate * options.sample_rate_factor
        self._sock: socket.socket | None = None
        self._target: Any = None

    def _socket(self) -> socket.socket | None:
        if self._sock is None:
            try:
                family, kind, proto, _, addr = socket.getaddrinfo(
                    self.options.host, self.options.port, 0, socket.SOCK_DGRAM
                )[0]
                sock = socket.socket(family, kind, proto)
                sock.setblocking(False)
            except OSError:
                return None
            self._sock, self._target = sock, addr
        return self._sock

    def send(self, metric: str, value: float | int, kind: str, rate: float | None = None) -> None:
        """One datagram, sampled at ``rate`` (default: the configured rate)."""
        rate = self.rate if rate is None else rate
        if rate < 1 and random.random() >= rate:  # noqa: S311 - sampling, not security
            return
        text = f"{self.prefix}{metric}:{value}|{kind}"
        if rate < 1:
            text += f"|@{rate}"
        sock = self._socket()
        if sock is None:
            return
        # no StatsD listening, or a full buffer: metrics are best effort
        with contextlib.suppress(OSError):
            sock.sendto(text.encode("ascii", "replace"), self._target)

    def increment(self, metric: str, rate: float | None = None) -> None:
        self.send(metric, 1, "c", rate)

    def update_stats(self, metric: str, count: int, rate: float | None = None) -> None:
        self.send(metric, count, "c", rate)

    def timing(self, metric: str, millis: float, rate: float | None = None) -> None:
        self.send(metric, round(millis, 4), "ms", rate)

    def timing_since(self, metric: str, started: float, rate: float | None = None) -> None:
        """Timing from a ``time.monotonic()`` start until now."""
        self.timing(metric, (time.monotonic() - started) * 1000, rate)


class _NullClient(StatsdClient):
    """No StatsD host: every call is a no-op."""

    enabled = False

    def __init__(self) -> None:
        super().__init__(StatsdOptions(), "")

    def send(self, metric: str, value: float | int, kind: str, rate: float | None = None) -> None:
        return


NULL: StatsdClient = _NullClient()

_process_options = StatsdOptions()


def configure_process(conf: Mapping[str, Any]) -> None:
    """Take this process's ``log_statsd_*`` options from ``conf`` (a ``[DEFAULT]``)."""
    global _process_options
    _process_options = options_from_conf(conf, "[DEFAULT]")


def client(options: StatsdOptions, tail: str) -> StatsdClient:
    """A client for ``tail``, or ``NULL`` when ``options`` name no host."""
    return StatsdClient(options, tail) if options.host else NULL


def process_client(tail: str) -> StatsdClient:
    """The process's client for ``tail`` (see ``configure_process``)."""
    return client(_process_options, tail)


def merged_options(local: Mapping[str, Any]) -> StatsdOptions:
    """The process options with any ``log_statsd_*`` keys of one section over them."""
    if not any(str(key).startswith("log_statsd_") for key in local):
        return _process_options
    base = {
        "log_statsd_host": _process_options.host,
        "log_statsd_port": _process_options.port,
        "log_statsd_metric_prefix": _process_options.metric_prefix,
        "log_statsd_default_sample_rate": _process_options.default_sample_rate,
        "log_statsd_sample_rate_factor": _process_options.sample_rate_factor,
    }
    base.update({k: v for k, v in local.items() if str(k).startswith("log_statsd_")})
    return options_from_conf(base)
