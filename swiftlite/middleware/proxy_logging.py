"""proxy_logging: one access-log line and its StatsD metrics per request, when it has ended.

The line is ``proxy_access_line.format_line``: Swift's ``proxy-access`` field order, so
existing log parsers work. Bytes in are counted by wrapping ``wsgi.input``; bytes out by
wrapping the response iterator, and the line is written when that iterator is closed, so the
duration covers the whole transfer. A body closed before it was read to the end (the client
went away) is logged as 499; an exception from below is logged as 500 and re-raised.

With ``log_statsd_host`` set (in ``[DEFAULT]`` or this section) each request also sends
Swift's proxy metrics: ``proxy-server.<type>.<verb>.<status>.timing``,
``proxy-server.<type>.GET.<status>.first-byte.timing`` and
``proxy-server.<type>.<verb>.<status>.xfer`` (bytes in plus out), plus the
``proxy-server.object.policy.<index>...`` copies when the response names its policy.
``<type>`` is account, container or object from the path; other paths (``/info``,
``/auth``) send none. A verb outside Swift's list is ``BAD_METHOD``, so a client cannot mint
metric names.

The proxy pipeline holds this filter twice, as Swift's does: the outer copy logs client
requests; the inner one (just above the proxy app) logs subrequests that filters in between
make with fresh environs (tempauth's account HEAD, for one). The first copy to see a request
marks its environ with ``swiftlite.access_logged`` and later copies pass that request through,
so no request is logged twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from swiftlite.common import config, green, logs, statsd
from swiftlite.common.errors import ConfigError
from swiftlite.middleware import proxy_access_line
from swiftlite.middleware.proxy_access_line import client_address, request_path

__all__ = ["client_address", "filter_factory", "request_path"]

LOGGED = "swiftlite.access_logged"
TRANS_ID = "swiftlite.trans_id"
SOURCE = "swiftlite.source"
CLIENT_DISCONNECT = 499
VALID_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "COPY", "OPTIONS"})
_POLICY_HEADER = "x-backend-storage-policy-index"


@dataclass(frozen=True)
class ProxyLoggingOptions:
    access_log_name: str = "proxy-access"
    access_log_file: str | None = None  # default: log_file, else syslog or stderr
    access_log_level: str = "INFO"
    # Swift's access_log_* syslog keys (default: the process's [DEFAULT] log_* target)
    access_log_facility: str | None = None
    access_log_address: str | None = None
    access_log_udp_host: str | None = None
    access_log_udp_port: int = 514
    access_log_headers: bool = False
    reveal_sensitive_prefix: int = 16
    log_file: str | None = None
    log_statsd_host: str | None = None
    log_statsd_port: int = 8125
    log_statsd_metric_prefix: str = ""
    log_statsd_default_sample_rate: float = 1.0
    log_statsd_sample_rate_factor: float = 1.0


def metric_type(environ: dict[str, Any]) -> str | None:
    """account, container or object for a ``/v<n>/...`` path; None for any other path."""
    parts = str(environ.get("PATH_INFO", "")).lstrip("/").split("/", 3)
    if len(parts) < 2 or not parts[0].startswith("v") or not parts[1]:
        return None
    if len(parts) == 4 and parts[3]:
        return "object"
    if len(parts) >= 3 and parts[2]:
        return "container"
    return "account"


class _CountingInput:
    """``wsgi.input`` with a count of bytes read; other attributes pass through."""

    def __init__(self, wrapped: Any) -> None:
        self._wrapped = wrapped
        self.bytes_read = 0

    def read(self, *args: Any) -> bytes:
        data = self._wrapped.read(*args)
        self.bytes_read += len(data)
        return data

    def readline(self, *args: Any) -> bytes:
        data = self._wrapped.readline(*args)
        self.bytes_read += len(data)
        return data

    def readlines(self, *args: Any) -> list[bytes]:
        lines = self._wrapped.readlines(*args)
        self.bytes_read += sum(len(line) for line in lines)
        return lines

    def __iter__(self) -> Iterator[bytes]:
        for line in self._wrapped:
            self.bytes_read += len(line)
            yield line

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wrapped, name)


class ProxyLoggingMiddleware:
    def __init__(
        self,
        app: Callable[..., Any],
        options: ProxyLoggingOptions,
        logger: logging.Logger,
        metrics: statsd.StatsdClient = statsd.NULL,
    ) -> None:
        self.app = app
        self.options = options
        self.logger = logger
        self.metrics = metrics

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get(LOGGED):
            return self.app(environ, start_response)
        environ[LOGGED] = True
        record = _Record(self, environ)
        environ["wsgi.input"] = record.input = _CountingInput(environ.get("wsgi.input"))

        def counted(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            record.status = int(status.split(" ", 1)[0])
            for name, value in headers:
                if name.lower() == _POLICY_HEADER:
                    record.policy_index = value
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, counted)
        except (Exception, green.Timeout):
            record.status = 500
            record.finish()
            raise
        return _LoggedBody(body, record)


class _Record:
    """What one log line needs, gathered while the request runs."""

    def __init__(self, owner: ProxyLoggingMiddleware, environ: dict[str, Any]) -> None:
        self.owner = owner
        self.environ = environ
        self.start = time.monotonic()
        self.wall_start = time.time()
        self.first_byte: float | None = None
        self.input: _CountingInput | None = None
        self.status = 0
        self.bytes_out = 0
        self.policy_index: str | None = None
        self.done = False

    def finish(self) -> None:
        if self.done:
            return
        self.done = True
        owner = self.owner
        options = owner.options
        bytes_in = self.input.bytes_read if self.input is not None else 0
        status = self.status or 500
        line = proxy_access_line.format_line(
            self.environ,
            status,
            bytes_in,
            self.bytes_out,
            self.wall_start,
            self.wall_start + (time.monotonic() - self.start),
            policy_index=self.policy_index,
            reveal_sensitive_prefix=options.reveal_sensitive_prefix,
            log_headers=options.access_log_headers,
        )
        logs.info_line(owner.logger, line)
        if owner.metrics.enabled:
            self.send_metrics(owner.metrics, status, bytes_in)

    def send_metrics(self, metrics: statsd.StatsdClient, status: int, bytes_in: int) -> None:
        kind = metric_type(self.environ)
        if kind is None:
            return
        method = str(self.environ.get("REQUEST_METHOD"))
        verb = method if method in VALID_METHODS else "BAD_METHOD"
        stems = [f"{kind}.{verb}.{status}"]
        if kind == "object" and self.policy_index and self.policy_index.isdigit():
            stems.append(f"object.policy.{self.policy_index}.{verb}.{status}")
        elapsed = (time.monotonic() - self.start) * 1000
        for stem in stems:
            metrics.timing(f"{stem}.timing", elapsed)
            if verb == "GET":
                first = self.first_byte if self.first_byte is not None else time.monotonic()
                metrics.timing(f"{stem}.first-byte.timing", (first - self.start) * 1000)
            metrics.update_stats(f"{stem}.xfer", bytes_in + self.bytes_out)


class _LoggedBody:
    """Counts bytes out and writes the log line on close."""

    def __init__(self, body: Any, record: _Record) -> None:
        self.body = body
        self.record = record
        self.complete = False

    def __iter__(self) -> Iterator[bytes]:
        try:
            record = self.record
            for chunk in self.body:
                if record.first_byte is None:
                    record.first_byte = time.monotonic()
                record.bytes_out += len(chunk)
                yield chunk
        except (Exception, green.Timeout):
            self.record.status = 500 if self.record.bytes_out == 0 else self.record.status
            self.complete = True
            raise
        self.complete = True

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            if not self.complete and self.record.status:
                self.record.status = CLIENT_DISCONNECT
            self.record.finish()


def make_logger(options: ProxyLoggingOptions) -> logging.Logger:
    keys = {
        "log_facility": options.access_log_facility,
        "log_address": options.access_log_address,
        "log_udp_host": options.access_log_udp_host,
        "log_udp_port": options.access_log_udp_port,
    }
    try:
        syslog = logs.syslog_target(keys)
    except ValueError as exc:
        raise ConfigError(f"[filter:proxy_logging]: access_{exc}") from None
    return logs.get_logger(
        options.access_log_name,
        options.access_log_file or options.log_file,
        options.access_log_level,
        syslog=syslog,
    )


def make_metrics(options: ProxyLoggingOptions) -> statsd.StatsdClient:
    """The StatsD client for ``proxy-server.*`` metrics, or ``statsd.NULL``."""
    return statsd.client(
        statsd.StatsdOptions(
            host=options.log_statsd_host,
            port=options.log_statsd_port,
            metric_prefix=options.log_statsd_metric_prefix.strip(". "),
            default_sample_rate=options.log_statsd_default_sample_rate,
            sample_rate_factor=options.log_statsd_sample_rate_factor,
        ),
        "proxy-server",
    )


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#proxy_logging``."""
    options = config.parse_options(
        ProxyLoggingOptions, local_conf, global_conf, where="[filter:proxy_logging]"
    )

    def make(app: Any) -> ProxyLoggingMiddleware:
        return ProxyLoggingMiddleware(app, options, make_logger(options), make_metrics(options))

    return make
