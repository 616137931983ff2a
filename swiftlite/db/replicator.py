"""Database replication, the sending side shared by the account and container replicators.

A pass (``run_once``) visits every database on this server's devices (the ring devices whose
replication address is ``bind_ip:bind_port``), ``concurrency`` at a time and at most
``databases_per_second``. For one database it:

1. drops rows deleted more than ``reclaim_age`` ago, and removes the whole database when it has
   been deleted and empty for that long (and ``ready_to_remove`` agrees);
2. picks the peers: the other primaries of its partition, or every primary when this device is
   a handoff (a primary whose device answers 507 is replaced by the next handoff node);
3. per peer, sends ``sync`` (our state; the peer merges it and answers its own, which we merge,
   and how far it has our rows). Then, by the answer: nothing (the peer has every row, or the
   same hash); the rows since that point in ``merge_items`` batches of ``per_diff`` (at most
   ``max_diffs`` batches a pass) and our incoming sync points in ``merge_syncs``; or, when the
   peer has no database or fewer than half our rows and more than ``per_diff`` behind, a
   consistent snapshot pushed with rsync to ``<peer device>/tmp/`` and installed by
   ``complete_rsync`` or folded in by ``rsync_then_merge``;
4. removes a handoff database once every primary has it and nothing new arrived meanwhile.

Wire format: ``docs/formats/db.md`` §5; the receiving side is ``db/rpc.py``. Only this module
runs rsync for databases. Counts per pass: attempted (databases), success and failure (per
database: every peer done or not), no_change, hashmatch, diff, diff_capped, rsync,
remote_merge (per peer), remove, reclaimed (rows), quarantined.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import subprocess
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from swiftlite.common import daemon, errors, fs, green
from swiftlite.common.addr import bracket
from swiftlite.common.config import DeviceOptions
from swiftlite.common.http.client import Response, direct_request
from swiftlite.common.timestamp import Timestamp
from swiftlite.db import layout, rpc
from swiftlite.db.broker import DatabaseBroker
from swiftlite.db.sqlite_conn import remove_with_sidecars
from swiftlite.ring import Ring
from swiftlite.ring.local import local_devices
from swiftlite.ring.node import Node
from swiftlite.ring.rings import RingSet

OK, FAILED, UNMOUNTED = "ok", "failed", "unmounted"
STAT_KEYS = (
    "attempted",
    "success",
    "failure",
    "no_change",
    "hashmatch",
    "diff",
    "diff_capped",
    "rsync",
    "remote_merge",
    "remove",
    "reclaimed",
    "quarantined",
)


@dataclass(frozen=True)
class DbReplicatorOptions(DeviceOptions):
    bind_ip: str = "127.0.0.1"
    bind_port: int = 0
    interval: float = 30.0
    concurrency: int = 8
    databases_per_second: float = 50.0
    per_diff: int = 1000
    max_diffs: int = 100
    reclaim_age: float = 604800.0
    conn_timeout: float = 0.5
    node_timeout: float = 10.0
    db_lock_timeout: float = 25.0
    # Where a peer's rsync daemon takes uploads; fields from the peer's ring device plus
    # rsync_port. The path below it is <device>/tmp/<name>.
    rsync_module: str = "rsync://{replication_ip}:{rsync_port}/db"
    rsync_port: int = 873
    rsync_timeout: float = 900.0
    rsync_compress: bool = False
    recon_cache_path: str | None = None


rsync_host = bracket


class DbReplicator(daemon.Daemon):
    """Subclasses set ``name``, ``recon_kind``, ``kind`` and ``broker_cls``."""

    kind: ClassVar[str] = ""
    broker_cls: ClassVar[type[DatabaseBroker]] = DatabaseBroker
    options: DbReplicatorOptions

    def __init__(self, options: DbReplicatorOptions, logger: Any = None) -> None:
        super().__init__(options, logger)
        self.stats = dict.fromkeys(STAT_KEYS, 0)
        self.rings = RingSet(options.swift_dir)

    # -- hooks ------------------------------------------------------------------------------

    def ready_to_remove(self, broker: DatabaseBroker) -> bool:
        """Whether a deleted, reclaimable database may go (containers: the account knows)."""
        return True

    # -- the pass ---------------------------------------------------------------------------

    @property
    def ring(self) -> Ring:
        return self.rings.get(self.kind)

    def run_once(self) -> dict[str, Any]:
        self.stats = dict.fromkeys(STAT_KEYS, 0)
        try:
            devices = local_devices(self.ring.devs, self.options.bind_ip, self.options.bind_port)
        except Exception as exc:  # noqa: BLE001 - a missing or bad ring ends the pass, logged
            self.logger.error("%s: cannot read the %s ring: %s", self.name, self.kind, exc)
            return {**self.stats, "error": f"ring: {exc}"}
        pool = green.GreenPool(max(1, self.options.concurrency))
        started = time.monotonic()
        for n, (dev, db_path) in enumerate(self._databases(devices)):
            self._pace(started, n)
            pool.spawn_n(self.replicate_db, db_path, dev)
        pool.waitall()
        return dict(self.stats)

    def _databases(self, devices: list[Node]) -> Iterator[tuple[Node, str]]:
        for dev in devices:
            try:
                device_path = fs.check_device(
                    self.options.devices, dev.device, self.options.mount_check
                )
            except errors.DeviceUnavailable as exc:
                self.logger.warning("%s: skipping device: %s", self.name, exc)
                continue
            self._clean_uploads(device_path)
            for db_path in layout.walk_db_files(device_path, self.kind):
                yield dev, db_path

    def _pace(self, started: float, count: int) -> None:
        rate = self.options.databases_per_second
        if rate > 0:
            wait = started + count / rate - time.monotonic()
            if wait > 0:
                green.sleep(wait)

    def _clean_uploads(self, device_path: str) -> None:
        """Drop uploads (ours or a peer's) left in ``tmp/`` by a replication that died."""
        tmp = layout.tmp_dir(device_path)
        horizon = time.time() - max(3600.0, 2 * self.options.rsync_timeout)
        try:
            names = os.listdir(tmp)
        except FileNotFoundError:
            return
        for name in names:
            if not name.lstrip(".").startswith(rpc.TMP_PREFIX):
                continue
            path = os.path.join(tmp, name)
            with contextlib.suppress(FileNotFoundError):
                if os.stat(path).st_mtime < horizon:
                    os.unlink(path)

    # -- one database -----------------------------------------------------------------------

    def replicate_db(self, db_path: str, dev: Node) -> bool:
        """Replicate one database to its peers; True when every peer is up to date."""
        self.stats["attempted"] += 1
        ok = False
        broker = self.broker_cls(db_path, timeout=self.options.db_lock_timeout, logger=self.logger)
        try:
            with broker:  # a Corrupt database is quarantined on the way out
                ok = self._replicate(broker, dev)
        except errors.Corrupt:
            self.stats["quarantined"] += 1
        except (errors.SwiftliteError, OSError) as exc:
            self.logger.error("%s: %s: %s", self.name, db_path, exc)
        except Exception:
            self.logger.exception("%s: replicating %s failed", self.name, db_path)
        self.stats["success" if ok else "failure"] += 1
        return ok

    def _replicate(self, broker: DatabaseBroker, dev: Node) -> bool:
        loc = layout.parse_db_path(broker.db_file)
        horizon = Timestamp(max(0.0, time.time() - self.options.reclaim_age))
        self.stats["reclaimed"] += broker.reclaim(horizon)
        info = broker.replication_info()
        if self._reclaimable(info, horizon) and self.ready_to_remove(broker):
            broker.remove()
            self.stats["remove"] += 1
            return True
        primaries = self.ring.get_part_nodes(loc.partition)
        is_primary = any(n.id == dev.id for n in primaries)
        peers = [n for n in primaries if n.id != dev.id]
        spares = (n for n in self.ring.get_more_nodes(loc.partition) if n.id != dev.id)
        results = []
        i = 0
        while i < len(peers):
            result = self.sync_to(peers[i], broker, info, loc)
            if result == UNMOUNTED and is_primary:
                spare = next(spares, None)
                if spare is not None:
                    peers.append(spare)
            results.append(result == OK)
            i += 1
        done = all(results)
        if done and not is_primary and broker.remove(unchanged_since=info["max_row"]):
            self.stats["remove"] += 1
        return done

    @staticmethod
    def _reclaimable(info: Mapping[str, Any], horizon: Timestamp) -> bool:
        deleted = Timestamp(info["delete_timestamp"])
        return (
            info["count"] == 0 and horizon > deleted and deleted > Timestamp(info["put_timestamp"])
        )

    # -- one peer ---------------------------------------------------------------------------

    def sync_to(
        self,
        node: Node,
        broker: DatabaseBroker,
        info: Mapping[str, Any],
        loc: layout.DbLocation,
    ) -> str:
        """Bring one peer up to date with this database: OK, FAILED or UNMOUNTED."""
        resp = self._call(node, loc, {"op": "sync", **info})
        if resp is None:
            return FAILED
        if resp.status == 404:
            self.stats["rsync"] += 1
            return self._push_copy(node, broker, loc, "complete_rsync")
        if resp.status == 507:
            return UNMOUNTED
        if not 200 <= resp.status < 300:
            return FAILED
        theirs = json.loads(resp.body)
        broker.merge_peer_state(theirs)
        their_id = str(theirs["id"])
        point = max(int(theirs["point"]), broker.get_sync(their_id, incoming=False))
        if point >= info["max_row"]:
            self.stats["no_change"] += 1
            return OK
        if theirs["hash"] == info["hash"]:
            self.stats["hashmatch"] += 1
            broker.merge_syncs([{"remote_id": their_id, "sync_point": info["max_row"]}], False)
            return OK
        behind = info["max_row"] - int(theirs["max_row"])
        if behind > self.options.per_diff and int(theirs["max_row"]) * 2 < info["max_row"]:
            self.stats["remote_merge"] += 1
            return self._push_copy(node, broker, loc, "rsync_then_merge")
        self.stats["diff"] += 1
        return self._push_rows(node, broker, loc, info, their_id, point)

    def _push_rows(
        self,
        node: Node,
        broker: DatabaseBroker,
        loc: layout.DbLocation,
        info: Mapping[str, Any],
        their_id: str,
        point: int,
    ) -> str:
        incoming = broker.get_syncs(incoming=True)
        rows = broker.get_records_since(point, self.options.per_diff)
        batches = 0
        while rows:
            if batches >= self.options.max_diffs:
                # The peer's incoming point for us has moved: the next pass goes on from it.
                self.stats["diff_capped"] += 1
                return FAILED
            last = rows[-1][0]
            body = {"op": "merge_items", "source": info["id"], "point": last}
            body["records"] = [r[1:] for r in rows]
            if not self._ok(self._call(node, loc, body)):
                return FAILED
            point = last
            batches += 1
            rows = broker.get_records_since(point, self.options.per_diff)
        if not self._ok(self._call(node, loc, {"op": "merge_syncs", "syncs": incoming})):
            return FAILED
        broker.merge_syncs([{"remote_id": their_id, "sync_point": point}], incoming=False)
        return OK

    def _push_copy(
        self, node: Node, broker: DatabaseBroker, loc: layout.DbLocation, op: str
    ) -> str:
        """Snapshot, rsync to the peer's ``tmp/``, then ask it to install or merge the copy."""
        tmp_dir = layout.tmp_dir(loc.device_path)
        fs.makedirs(tmp_dir)
        name = f"{rpc.TMP_PREFIX}{uuid.uuid4().hex}.db"
        local = os.path.join(tmp_dir, name)
        try:
            broker.snapshot(local)
            if not self.rsync(local, self.rsync_target(node, name)):
                return FAILED
        finally:
            remove_with_sidecars(local)
        return OK if self._ok(self._call(node, loc, {"op": op, "tmp": name})) else FAILED

    def rsync_target(self, node: Node, name: str) -> str:
        module = node.rsync_module(self.options.rsync_module, self.options.rsync_port)
        return f"{module}/{node.device}/{layout.TMP_DIR}/{name}"

    def rsync(self, src: str, dest: str) -> bool:
        """Copy one file with rsync; polls green so the other databases keep going."""
        args = [
            "rsync",
            "--quiet",
            "--no-motd",
            "--whole-file",
            f"--timeout={math.ceil(self.options.node_timeout)}",
            f"--contimeout={math.ceil(self.options.conn_timeout)}",
        ]
        if self.options.rsync_compress:
            args.append("--compress")
        args += [src, dest]
        try:
            proc = subprocess.Popen(  # noqa: S603 - fixed program, arguments are ours
                args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
            )
        except OSError as exc:
            self.logger.error("%s: cannot run rsync: %s", self.name, exc)
            return False
        deadline = time.monotonic() + self.options.rsync_timeout
        delay = 0.002
        while proc.poll() is None:
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                self.logger.error("%s: rsync to %s timed out", self.name, dest)
                return False
            green.sleep(delay)
            delay = min(delay * 2, 0.1)
        err = proc.stderr.read().decode("utf-8", "replace").strip() if proc.stderr else ""
        if proc.stderr:
            proc.stderr.close()
        if proc.returncode != 0:
            self.logger.error(
                "%s: rsync to %s failed (%s): %s", self.name, dest, proc.returncode, err
            )
            return False
        return True

    def _call(self, node: Node, loc: layout.DbLocation, body: Mapping[str, Any]) -> Response | None:
        """One REPLICATE request; None (logged) when the peer cannot be reached."""
        ip, port = node.replication_ip, node.replication_port
        path = f"/{node.device}/{loc.partition}/{loc.name_hash}"
        try:
            resp = direct_request(
                ip,
                port,
                "REPLICATE",
                path,
                {"Content-Type": "application/json"},
                json.dumps(body, ensure_ascii=False).encode("utf-8"),
                conn_timeout=self.options.conn_timeout,
                node_timeout=self.options.node_timeout,
            )
        except (OSError, errors.Timeout) as exc:
            self.logger.warning("%s: %s:%s%s unreachable: %s", self.name, ip, port, path, exc)
            return None
        if resp.status >= 300 and resp.status != 404:
            self.logger.warning(
                "%s: %s %s:%s%s answered %s", self.name, body["op"], ip, port, path, resp.status
            )
        return resp

    @staticmethod
    def _ok(resp: Response | None) -> bool:
        return resp is not None and 200 <= resp.status < 300
