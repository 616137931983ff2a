"""One call at process start: the log target and StatsD options from a config's [DEFAULT].

Servers (``common/wsgi.run_server``) and daemons (``common/daemon.main``) call
``configure_from_file`` before they make their first logger, so every logger and StatsD
client of the process (and of the workers it forks) follows the file.
"""

from __future__ import annotations

from dataclasses import dataclass

from swiftlite.common import config, logs, statsd


@dataclass(frozen=True)
class TelemetryOptions:
    """The ``[DEFAULT]`` keys this module applies, with their defaults (for swiftlite-config;
    ``logs.syslog_target`` and ``statsd.options_from_conf`` read them)."""

    log_facility: str | None = None  # any of the three set: syslog (LOG_LOCAL0, /dev/log)
    log_address: str | None = None
    log_udp_host: str | None = None
    log_udp_port: int = 514
    log_statsd_host: str | None = None
    log_statsd_port: int = 8125
    log_statsd_metric_prefix: str = ""
    log_statsd_default_sample_rate: float = 1.0
    log_statsd_sample_rate_factor: float = 1.0


def configure_from_file(conf_path: str) -> None:
    """Apply ``[DEFAULT]``'s ``log_facility``/``log_address``/``log_udp_*`` and
    ``log_statsd_*`` keys of ``conf_path``; ConfigError for a bad one."""
    parser = config.read_file(conf_path, raw_sections=True)
    defaults = dict(parser.items("DEFAULT")) if parser.has_section("DEFAULT") else {}
    logs.configure_process(defaults)
    statsd.configure_process(defaults)
