"""Database auditing shared by the account and container auditors.

A pass walks every ``<hash>.db`` of one kind on every device under ``devices`` (mounted ones,
when ``mount_check``), at most ``per_second`` databases a second. Each database is opened
(which checks SQLite's header, the swiftlite application id, the schema version and the kind's
info table), its info row read and SQLite's ``quick_check`` run (``integrity_check`` with
``full_check``). A database that fails is moved whole to ``<device>/quarantined/<kind>s/<hash>``
by ``DatabaseBroker.quarantine`` (never deleted), so the replicators restore a good copy from
its peers. A database that is only busy is counted as a failure and left alone.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

from swiftlite.common import daemon, errors, fs, green
from swiftlite.common.config import DeviceOptions
from swiftlite.db import layout
from swiftlite.db.broker import DatabaseBroker


@dataclass(frozen=True)
class DbAuditorOptions(DeviceOptions):
    interval: float = 1800.0
    full_check: bool = False
    db_lock_timeout: float = 25.0
    recon_cache_path: str | None = None


class DbAuditor(daemon.Daemon):
    """Subclasses set ``kind`` and ``broker_cls``; the daemon's name, config section and recon
    file follow from ``kind`` (``<kind>-auditor``), and the pace is the options'
    ``<kind>s_per_second`` (Swift's names: ``accounts_per_second``, ``containers_per_second``).
    """

    kind: ClassVar[str] = ""
    broker_cls: ClassVar[type[DatabaseBroker]] = DatabaseBroker
    section: ClassVar[str] = ""
    options: DbAuditorOptions

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name = cls.section = f"{cls.kind}-auditor"
        cls.recon_kind = cls.kind

    @property
    def per_second(self) -> float:
        return float(getattr(self.options, f"{self.kind}s_per_second", 0.0))

    @classmethod
    def main(cls, options_cls: type[DbAuditorOptions], argv: list[str] | None) -> int:
        """``swiftlite-<kind>-auditor CONF [once]``."""
        return daemon.main(f"swiftlite-{cls.section}", cls.section, options_cls, cls, argv)

    def run_once(self) -> dict[str, Any]:
        stats = {"passes": 0, "failures": 0, "quarantined": 0}
        started = time.monotonic()
        per_second = self.per_second  # an option read by name: once a pass, not per database
        for count, db_path in enumerate(self._databases()):
            if per_second > 0:
                wait = started + count / per_second - time.monotonic()
                if wait > 0:
                    green.sleep(wait)
            outcome = self.audit(db_path)
            stats[outcome] += 1
            if outcome == "quarantined":
                stats["failures"] += 1
        return stats

    def _databases(self) -> Iterator[str]:
        def skipped(_device: str, exc: errors.DeviceUnavailable) -> None:
            self.logger.warning("%s: skipping device: %s", self.name, exc)

        for _, device_path in fs.local_devices(
            self.options.devices, self.options.mount_check, skipped
        ):
            yield from layout.walk_db_files(device_path, self.kind)

    def audit(self, db_path: str) -> str:
        """Check one database: "passes", "failures" (could not tell) or "quarantined"."""
        broker = self.broker_cls(db_path, timeout=self.options.db_lock_timeout, logger=self.logger)
        try:
            with broker:  # a Corrupt on the way out quarantines the database
                self.check(broker)
        except errors.Corrupt as exc:
            self.logger.error("%s: quarantined %s: %s", self.name, db_path, exc)
            return "quarantined"
        except errors.NotFound:
            return "passes"  # removed by a replicator meanwhile
        except (errors.SwiftliteError, OSError, sqlite3.Error) as exc:
            self.logger.warning("%s: cannot audit %s: %s", self.name, db_path, exc)
            return "failures"
        return "passes"

    def check(self, broker: DatabaseBroker) -> None:
        """Raise errors.Corrupt unless the database is sound."""
        info = broker.get_info(merge=False)
        if not info.get("id") or info.get(broker.count_column) is None:
            raise errors.Corrupt(f"{broker.db_file}: incomplete info row")
        broker.integrity_check(full=self.options.full_check)
