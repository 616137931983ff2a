"""StatsD: Swift's option names and metric names, checked on a real UDP listener."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from swiftlite.common import statsd
from swiftlite.common.errors import ConfigError


class Listener:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(10)
        self.port = self.sock.getsockname()[1]

    def packets(self, count: int) -> list[str]:
        return [self.sock.recv(2048).decode() for _ in range(count)]

    def pending(self) -> bytes | None:
        self.sock.setblocking(False)
        try:
            return self.sock.recv(2048)
        except BlockingIOError:
            return None
        finally:
            self.sock.settimeout(10)


@pytest.fixture
def listener() -> Iterator[Listener]:
    got = Listener()
    yield got
    got.sock.close()
    statsd.configure_process({})


def test_client_sends_prefixed_counters_and_timings(listener: Listener) -> None:
    client = statsd.client(
        statsd.options_from_conf(
            {
                "log_statsd_host": "127.0.0.1",
                "log_statsd_port": str(listener.port),
                "log_statsd_metric_prefix": "dc1.",
            }
        ),
        "object-replicator",
    )
    client.increment("errors")
    client.timing("partition.update.timing", 12.5)
    client.update_stats("suffixes", 3)
    assert listener.packets(3) == [
        "dc1.object-replicator.errors:1|c",
        "dc1.object-replicator.partition.update.timing:12.5|ms",
        "dc1.object-replicator.suffixes:3|c",
    ]


def test_sample_rate_marks_packets_and_zero_sends_none(listener: Listener) -> None:
    conf = {"log_statsd_host": "127.0.0.1", "log_statsd_port": str(listener.port)}
    half = statsd.client(
        statsd.options_from_conf({**conf, "log_statsd_default_sample_rate": "0.5"}), "proxy-server"
    )
    while True:  # sampled: some calls send, and those that do say their rate
        half.increment("errors")
        got = listener.pending()
        if got is not None:
            break
    assert got == b"proxy-server.errors:1|c|@0.5"
    none = statsd.client(
        statsd.options_from_conf({**conf, "log_statsd_sample_rate_factor": "0"}), "proxy-server"
    )
    for _ in range(50):
        none.increment("errors")
    assert listener.pending() is None


def test_no_host_is_the_null_client() -> None:
    assert statsd.process_client("object-server") is statsd.NULL
    assert not statsd.NULL.enabled
    statsd.NULL.increment("x")  # a no-op, never raises


def test_bad_port_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="log_statsd"):
        statsd.configure_process({"log_statsd_host": "h", "log_statsd_port": "eighty"})


def test_daemon_pass_sends_swifts_counter_names(listener: Listener) -> None:
    from swiftlite.common.daemon import Daemon

    statsd.configure_process(
        {"log_statsd_host": "127.0.0.1", "log_statsd_port": str(listener.port)}
    )

    class Updater(Daemon):
        name = "object-updater"

        def run_once(self) -> dict:
            return {"successes": 3, "failures": 0, "unlinked": 2, "partial": 1}

    Updater(object()).run_pass()
    assert sorted(listener.packets(2)) == [
        "object-updater.successes:3|c",
        "object-updater.unlinks:2|c",
    ]
    assert listener.pending() is None  # zero counts and keys Swift has no name for: nothing


def test_daemon_counter_table_names_keys_the_daemons_count() -> None:
    import dataclasses

    from swiftlite.account import reaper
    from swiftlite.common.daemon_metrics import COUNTERS
    from swiftlite.db import replicator
    from swiftlite.obj.auditor import AuditStats
    from swiftlite.obj.expirer import ExpiryStats
    from swiftlite.obj.updater import UpdateStats

    def fields(cls: type) -> set[str]:
        return {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]

    assert set(COUNTERS["container-replicator"]) <= set(replicator.STAT_KEYS)
    assert set(COUNTERS["account-reaper"]) <= set(reaper.STAT_KEYS)
    assert set(COUNTERS["object-updater"]) <= fields(UpdateStats)
    assert set(COUNTERS["object-auditor"]) <= fields(AuditStats)
    assert set(COUNTERS["object-expirer"]) <= fields(ExpiryStats)
