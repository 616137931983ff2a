"""The container updater daemon (console script ``swiftlite-container-updater``).

It retries the async records ``account_report`` left, then sweeps every container database on
its devices and reports those that changed, through the same ``AccountReporter`` the container
server uses.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass

from swiftlite.common import config, daemon, errors, fs, green
from swiftlite.common.config import DeviceOptions
from swiftlite.common.timestamp import Timestamp
from swiftlite.container.account_report import AccountReporter, load_async
from swiftlite.container.broker import ContainerBroker
from swiftlite.db import layout


@dataclass(frozen=True)
class ContainerUpdaterOptions(DeviceOptions):
    interval: float = 300.0
    concurrency: int = 4
    conn_timeout: float = 0.5
    node_timeout: float = 3.0
    slowdown: float = 0.01
    reclaim_age: float = 604800.0
    recon_cache_path: str | None = None


class ContainerUpdater(daemon.Daemon):
    """The daemon: async records first, then a sweep of every container database."""

    name = "container-updater"
    recon_kind = "container"
    section = "container-updater"
    options: ContainerUpdaterOptions

    def __init__(
        self, options: ContainerUpdaterOptions, logger: logging.Logger | None = None
    ) -> None:
        super().__init__(options, logger)
        self.reporter = AccountReporter(
            options.swift_dir, options.conn_timeout, options.node_timeout, self.logger
        )

    @classmethod
    def from_conf_file(cls, path: str) -> ContainerUpdater:
        return cls(config.load_section(path, cls.section, ContainerUpdaterOptions))

    def _devices(self) -> list[str]:
        def skipped(device: str, _exc: errors.DeviceUnavailable) -> None:
            self.logger.warning("skipping unavailable device %s", device)

        found = fs.local_devices(self.options.devices, self.options.mount_check, skipped)
        return [path for _, path in found]

    def _report_path(self, db_path: str, stats: dict[str, int], reclaim: bool = False) -> bool:
        """Report one database; True when the account is up to date afterwards.

        With ``reclaim`` it first drops rows deleted more than ``reclaim_age`` ago (the sweep
        does this until the container replicator, which owns it in Swift, lands).
        """
        broker = ContainerBroker(db_path, logger=self.logger)
        try:
            if reclaim:
                stats["reclaimed"] += broker.reclaim(
                    Timestamp(max(0.0, time.time() - self.options.reclaim_age))
                )
            result = self.reporter.report(broker)
        except errors.SwiftliteError as exc:
            self.logger.error("cannot report %s: %s", db_path, exc)
            stats["failures"] += 1
            return False
        finally:
            broker.close()
        if not result.sent:
            stats["unchanged"] += 1
            return True
        stats["successes" if result.reported else "failures"] += 1
        return result.reported

    def run_once(self) -> dict[str, int]:
        """One pass over every device; returns counts (successes, failures, unchanged, ...)."""
        stats = {"successes": 0, "failures": 0, "unchanged": 0, "async_cleared": 0, "reclaimed": 0}
        start = time.monotonic()
        pool = green.GreenPool(max(1, self.options.concurrency))
        for device_path in self._devices():
            self._retry_async(device_path, stats)
            for db_path in layout.walk_db_files(device_path, layout.CONTAINER):
                pool.spawn_n(self._report_path, db_path, stats, True)
                if self.options.slowdown:
                    green.sleep(self.options.slowdown)
            pool.waitall()
        self.logger.debug("container-updater sweep took %.2fs", time.monotonic() - start)
        return stats

    def _retry_async(self, device_path: str, stats: dict[str, int]) -> None:
        directory = layout.async_dir(device_path)
        for name in fs.sorted_names(directory):
            path = os.path.join(directory, name)
            record = load_async(path)
            db_path = os.path.join(device_path, record["db"]) if record else ""
            done = not record or not os.path.exists(db_path) or self._report_path(db_path, stats)
            if done:
                try:
                    os.unlink(path)
                    stats["async_cleared"] += 1
                except FileNotFoundError:
                    pass


def main(argv: list[str] | None = None) -> int:
    """``swiftlite-container-updater CONF [once]``."""
    return daemon.main(
        "swiftlite-container-updater",
        ContainerUpdater.section,
        ContainerUpdaterOptions,
        ContainerUpdater,
        argv,
    )
