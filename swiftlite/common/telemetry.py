"""One call at process start: the log target and StatsD options from a config's [DEFAULT].

Servers (``common/wsgi.run_server``) and daemons (``common/daemon.main``) call
``configure_from_file`` before they make their first logger, so every logger and StatsD
client of the process (and of the workers it forks) follows the file.
"""

from __future__ import annotations

from swiftlite.common import config, logs, statsd


def configure_from_file(conf_path: str) -> None:
    """Apply ``[DEFAULT]``'s ``log_facility``/``log_address``/``log_udp_*`` and
    ``log_statsd_*`` keys of ``conf_path``; ConfigError for a bad one."""
    parser = config.read_file(conf_path, raw_sections=True)
    defaults = dict(parser.items("DEFAULT")) if parser.has_section("DEFAULT") else {}
    logs.configure_process(defaults)
    statsd.configure_process(defaults)
