"""The object replicator: keep every partition's replicas the same, and empty handoffs.

Owns the replication pass (console script ``swiftlite-object-replicator CONF [once]``, section
``[object-replicator]`` of object-server.conf). For every partition directory on this node's
ring devices (``ring.local.local_devices``):

1. compute the local suffix hashes (``hashes.get_hashes``: rehashing invalidated suffixes
   also removes obsolete files and reclaims tombstones older than ``reclaim_age``);
2. ask each peer for its hashes (``REPLICATE /<dev>/<part>``; a primary's partitions are asked
   for ``replicate_batch`` at a time, ``obj.hash_batch``); for each suffix that differs,
   rehash it locally once more (a lost invalidation), then push the suffix dirs that still
   differ with rsync (``obj.rsync``) and ask the peer to rehash them (``REPLICATE
   /<dev>/<part>/<sfx>-<sfx>``), which also applies newest-file-wins on its side;
3. a primary pushes to the other primaries (and to a handoff in place of a primary that
   answers 507); a handoff pushes to every primary and deletes its copy only when all of them
   have it (``hashes.remove_synced``: suffixes changed since the push stay for the next pass).

Every storage policy is replicated in turn with its own ring (``object-N.ring.gz``) and
directories (``objects-N``, ``tmp-N``; ``X-Backend-Storage-Policy-Index`` on REPLICATE).
Files in ``<dev>/tmp`` (``tmp-N``) older than ``reclaim_age`` are removed. Partitions run
concurrently (``concurrency`` greenthreads); ``rsync_bwlimit`` caps each rsync's bandwidth. The
pass summary (``run_once``) counts partitions (also per policy), suffixes checked and synced,
files pushed, handoffs removed and failures; the Daemon base adds the duration and stores it
for recon.
"""

from __future__ import annotations

import contextlib
import enum
import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from swiftlite.common import daemon, errors, fs, green, policies, recon_cache
from swiftlite.common.config import DeviceOptions
from swiftlite.common.http.client import Requester, Response, direct_request
from swiftlite.obj import hash_batch, hashes, layout, rsync
from swiftlite.ring import Ring, RingError
from swiftlite.ring.local import local_devices
from swiftlite.ring.node import Node
from swiftlite.ring.rings import RingSet


@dataclass(frozen=True)
class ObjectReplicatorOptions(DeviceOptions):
    """``[object-replicator]`` options (Swift's names; [DEFAULT] supplies the node's)."""

    bind_ip: str = "0.0.0.0"  # noqa: S104 - matched against the ring, never bound
    bind_port: int = 6200
    recon_cache_path: str = recon_cache.DEFAULT_RECON_DIR
    interval: float = 30.0
    concurrency: int = 1
    reclaim_age: int = 604800
    handoffs_first: bool = False
    rsync_module: str = "rsync://{replication_ip}:{rsync_port}/object"
    rsync_port: int = 873
    rsync_timeout: float = 900.0
    rsync_io_timeout: float = 30.0
    rsync_bwlimit: str = "0"
    rsync_compress: bool = False
    conn_timeout: float = 0.5
    node_timeout: float = 10.0
    # partitions per batched REPLICATE (obj.hash_batch); 0 asks one by one, as Swift does
    replicate_batch: int = 128


class Outcome(enum.Enum):
    OK = "ok"
    FAILED = "failed"
    UNMOUNTED = "unmounted"


@dataclass
class Job:
    """One local partition to replicate: ``nodes`` are the peers to push to."""

    device: str
    dev_id: int
    dev_path: str
    partition: int
    nodes: Sequence[Node]
    handoff: bool
    policy: int = 0
    # the peers' hashes fetched by a batched REPLICATE, by node id (the rest are asked alone)
    remote: dict[int, dict[str, Any]] = field(default_factory=dict)

    @property
    def part_dir(self) -> str:
        return layout.partition_dir(self.dev_path, self.partition, self.policy)


@dataclass
class PassStats:
    partitions: int = 0
    primary_partitions: int = 0
    handoff_partitions: int = 0
    suffixes_checked: int = 0
    suffixes_synced: int = 0
    files_pushed: int = 0
    rsyncs: int = 0
    handoffs_removed: int = 0
    tmp_removed: int = 0
    failures: int = 0
    failed_nodes: dict[str, int] = field(default_factory=dict)
    # per policy index (as text, for JSON): partitions looked at this pass
    policy_partitions: dict[str, int] = field(default_factory=dict)

    def fail(self, node: Node | None = None) -> None:
        self.failures += 1
        if node is not None:
            key = f"{node.replication_ip}:{node.replication_port}/{node.device}"
            self.failed_nodes[key] = self.failed_nodes.get(key, 0) + 1

    def summary(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SyncResult:
    """What one peer holds after a sync: ``confirmed`` maps suffix -> hash it now matches."""

    outcome: Outcome
    confirmed: dict[str, str] = field(default_factory=dict)


def differing(local: Mapping[str, str | None], remote: Mapping[str, Any]) -> list[str]:
    """Local suffixes whose hash the peer does not have (sorted)."""
    return sorted(s for s, h in local.items() if h is not None and remote.get(s) != h)


RsyncRunner = Callable[[list[str], float], rsync.Result]


class ObjectReplicator(daemon.Daemon):
    name = "object-replicator"
    recon_kind = "object"

    def __init__(
        self,
        options: ObjectReplicatorOptions,
        logger: logging.Logger | None = None,
        request: Requester = direct_request,
        run_rsync: RsyncRunner = rsync.run,
    ) -> None:
        super().__init__(options, logger)
        self.options: ObjectReplicatorOptions = options
        self.request = request
        self.run_rsync = run_rsync
        self.reclaim_age = float(options.reclaim_age)
        self.rings = RingSet(options.swift_dir)

    @property
    def ring(self) -> Ring:
        """Policy 0's ring."""
        return self.ring_for(0)

    def ring_for(self, policy: int) -> Ring:
        """A policy's object ring, loaded once (it reloads itself when its file changes)."""
        return self.rings.object_ring(policy)

    # -- the pass ------------------------------------------------------------------------------

    def run_once(self) -> dict[str, Any]:
        stats = PassStats()
        try:
            jobs = self.collect_jobs(stats)
        except RingError as exc:
            self.logger.error("object-replicator: no usable object ring: %s", exc)
            stats.fail()
            return stats.summary()
        pool = green.GreenPool(max(1, self.options.concurrency))
        size = self.options.replicate_batch
        for start in range(0, len(jobs), size if size > 0 else max(1, len(jobs))):
            chunk = jobs[start : start + size] if size > 0 else jobs
            if size > 0:
                self.prefetch(chunk)
            for job in chunk:
                pool.spawn_n(self._replicate_safely, job, stats)
        pool.waitall()
        return stats.summary()

    def prefetch(self, jobs: Sequence[Job]) -> None:
        """Ask each peer once for the hashes of all the primary partitions in ``jobs`` it
        holds too, and keep them on the jobs. A handoff asks alone, just before it decides what
        it may delete; so does every job whose peer refused the batch or could not be asked."""
        wanted: dict[tuple[int, int], tuple[Node, list[Job]]] = {}
        for job in jobs:
            if job.handoff:
                continue
            for node in job.nodes:
                wanted.setdefault((job.policy, node.id), (node, []))[1].append(job)
        for (policy, _), (node, with_node) in wanted.items():
            parts = [job.partition for job in with_node]
            body = hash_batch.encode_request(parts)
            resp = self._replicate_call(node, f"/{node.device}", policy, body)
            if resp is None or resp.status != 200:
                continue  # each partition asks alone, and counts what fails
            answer = hash_batch.parse_answer(resp.body or b"", parts)
            if answer is None:
                self.logger.warning(
                    "object-replicator: bad batched REPLICATE answer from %s:%s/%s",
                    node.replication_ip,
                    node.replication_port,
                    node.device,
                )
                continue
            for job in with_node:
                job.remote[node.id] = answer[job.partition]

    def collect_jobs(self, stats: PassStats) -> list[Job]:
        """A job for every partition dir of every policy on this node's devices in that
        policy's ring (handoffs first if asked)."""
        jobs = []
        for policy in policies.load():
            if policy.policy_type != policies.REPLICATION:
                continue  # other types have their own reconstructor
            jobs.extend(self._policy_jobs(policy.idx, stats))
        if self.options.handoffs_first:
            jobs.sort(key=lambda j: not j.handoff)
        return jobs

    def _policy_jobs(self, policy: int, stats: PassStats) -> list[Job]:
        ring = self.ring_for(policy)
        opts = self.options
        jobs = []
        for dev in local_devices(ring.devs, opts.bind_ip, opts.bind_port):
            try:
                dev_path = fs.check_device(opts.devices, dev.device, opts.mount_check)
            except errors.DeviceUnavailable as exc:
                self.logger.warning("object-replicator: skipping %s: %s", dev.device, exc)
                continue
            stats.tmp_removed += self.remove_stale_tmp(dev_path, policy)
            for part in self._partitions(dev_path, ring.partition_count, policy):
                primaries = ring.get_part_nodes(part)
                mine = any(n.id == dev.id for n in primaries)
                peers = [n for n in primaries if n.id != dev.id]
                job = Job(dev.device, dev.id, dev_path, part, peers, not mine, policy)
                jobs.append(job)
        return jobs

    def _partitions(self, dev_path: str, count: int, policy: int = 0) -> list[int]:
        try:
            names = os.listdir(layout.objects_dir(dev_path, policy))
        except FileNotFoundError:
            return []
        parts = []
        for name in names:
            if not name.isdigit():
                continue
            if int(name) >= count:
                self.logger.warning("object-replicator: %s/%s is beyond the ring", dev_path, name)
                continue
            parts.append(int(name))
        return sorted(parts)

    def remove_stale_tmp(self, dev_path: str, policy: int = 0) -> int:
        """Unlink temp files (abandoned uploads, killed rsyncs) older than reclaim_age."""
        tmp = layout.tmp_dir(dev_path, policy)
        try:
            names = os.listdir(tmp)
        except FileNotFoundError:
            return 0
        cutoff = time.time() - self.reclaim_age
        removed = 0
        for name in names:
            path = os.path.join(tmp, name)
            with contextlib.suppress(FileNotFoundError):
                if os.path.isfile(path) and os.stat(path).st_mtime < cutoff:
                    os.unlink(path)
                    removed += 1
        return removed

    def _replicate_safely(self, job: Job, stats: PassStats) -> None:
        try:
            self.replicate(job, stats)
        except Exception:
            self.logger.exception(
                "object-replicator: partition %s on %s failed", job.partition, job.device
            )
            stats.fail()

    # -- one partition -------------------------------------------------------------------------

    def replicate(self, job: Job, stats: PassStats) -> None:
        stats.partitions += 1
        key = str(job.policy)
        stats.policy_partitions[key] = stats.policy_partitions.get(key, 0) + 1
        if job.handoff:
            stats.handoff_partitions += 1
        else:
            stats.primary_partitions += 1
        try:
            local = hashes.get_hashes(job.part_dir, reclaim_age=self.reclaim_age)
        except errors.Timeout as exc:
            self.logger.warning("object-replicator: %s busy: %s", job.part_dir, exc)
            stats.fail()
            return
        if not local:
            # nothing left (all reclaimed or removed): an empty partition dir serves nobody
            if hashes.remove_partition_if_empty(job.part_dir) and job.handoff:
                stats.handoffs_removed += 1
            return
        if job.handoff:
            self._replicate_handoff(job, local, stats)
        else:
            self._replicate_primary(job, local, stats)

    def _replicate_primary(self, job: Job, local: dict[str, str | None], stats: PassStats) -> None:
        targets = list(job.nodes)
        ring = self.ring_for(job.policy)
        spares = (n for n in ring.get_more_nodes(job.partition) if n.id != job.dev_id)
        while targets:
            node = targets.pop(0)
            if self.sync(job, node, local, stats).outcome is Outcome.UNMOUNTED:
                # a primary lost its disk: keep enough copies on a handoff meanwhile
                spare = next(spares, None)
                if spare is not None:
                    targets.append(spare)

    def _replicate_handoff(self, job: Job, local: dict[str, str | None], stats: PassStats) -> None:
        results = [self.sync(job, node, local, stats) for node in job.nodes]
        if not results or any(r.outcome is not Outcome.OK for r in results):
            return
        # delete only what every primary confirmed at the same hash as ours
        safe = {
            s: h
            for s, h in local.items()
            if h is not None and all(r.confirmed.get(s) == h for r in results)
        }
        hashes.remove_synced(job.part_dir, safe, self.reclaim_age)
        if hashes.remove_partition_if_empty(job.part_dir):
            stats.handoffs_removed += 1
            self.logger.info(
                "object-replicator: handoff partition %s on %s removed", job.partition, job.device
            )

    def sync(
        self, job: Job, node: Node, local: dict[str, str | None], stats: PassStats
    ) -> SyncResult:
        """Bring ``node`` up to date with our copy of the partition (updates ``local``)."""
        base = f"/{node.device}/{job.partition}"
        remote = self._remote_hashes(job, node, base, stats)
        if isinstance(remote, Outcome):
            return SyncResult(remote)
        stats.suffixes_checked += len(local)
        suffixes = differing(local, remote)
        if suffixes:
            # our own view may be stale (an invalidation lost in a crash): look again first
            fresh = hashes.get_hashes(
                job.part_dir, recalculate=suffixes, reclaim_age=self.reclaim_age
            )
            for suffix in suffixes:
                if suffix in fresh:
                    local[suffix] = fresh[suffix]
                else:
                    local.pop(suffix, None)  # nothing left in it
            suffixes = differing({s: local.get(s) for s in suffixes}, remote)
        confirmed = {s: h for s, h in local.items() if h is not None and remote.get(s) == h}
        if not suffixes:
            return SyncResult(Outcome.OK, confirmed)
        if not self._push(job, node, suffixes, stats):
            if any(os.path.isdir(os.path.join(job.part_dir, s)) for s in suffixes):
                stats.fail(node)
            # else another pass (the daemon beside a ``once`` run) moved them away meanwhile:
            # nothing of ours is left unpushed, so this pass has not failed
            return SyncResult(Outcome.FAILED, confirmed)
        rehash = self._replicate_call(node, f"{base}/{'-'.join(suffixes)}", job.policy)
        if rehash is None or rehash.status != 200:
            # the files are there, but the peer will not see them until it rehashes
            stats.fail(node)
            return SyncResult(Outcome.FAILED, confirmed)
        confirmed.update({s: h for s in suffixes if (h := local.get(s)) is not None})
        return SyncResult(Outcome.OK, confirmed)

    def _remote_hashes(
        self, job: Job, node: Node, base: str, stats: PassStats
    ) -> dict[str, Any] | Outcome:
        """The peer's hashes of the partition: the batch's, else asked for now."""
        remote = job.remote.pop(node.id, None)
        if remote is not None:
            return remote
        resp = self._replicate_call(node, base, job.policy)
        if resp is None or resp.status != 200:
            stats.fail(node)
            if resp is not None and resp.status == 507:
                return Outcome.UNMOUNTED
            return Outcome.FAILED
        try:
            remote = json.loads(resp.body or b"{}")
            if not isinstance(remote, dict):
                raise ValueError("not an object")
        except ValueError:
            self.logger.warning("object-replicator: bad REPLICATE answer from %s", base)
            stats.fail(node)
            return Outcome.FAILED
        return remote

    def _push(self, job: Job, node: Node, suffixes: list[str], stats: PassStats) -> bool:
        opts = self.options
        module = rsync.module_for(opts.rsync_module, node, opts.rsync_port)
        argv = rsync.command(
            job.dev_path,
            job.partition,
            suffixes,
            module,
            node.device,
            opts.rsync_io_timeout,
            opts.rsync_bwlimit,
            opts.rsync_compress,
            policy=job.policy,
        )
        stats.rsyncs += 1
        result = self.run_rsync(argv, opts.rsync_timeout)
        if not result.ok:
            self.logger.warning(
                "object-replicator: rsync of %s/%s to %s failed (%s): %s",
                job.device,
                job.partition,
                module,
                result.code,
                result.output.strip()[-500:],
            )
            return False
        stats.suffixes_synced += len(suffixes)
        stats.files_pushed += result.files
        return True

    def _replicate_call(
        self, node: Node, path: str, policy: int = 0, body: bytes | None = None
    ) -> Response | None:
        ip, port = node.replication_ip, node.replication_port
        try:
            return self.request(
                ip,
                port,
                "REPLICATE",
                path,
                {policies.INDEX_HEADER: str(policy)},
                body,
                self.options.conn_timeout,
                self.options.node_timeout,
            )
        except (OSError, errors.Timeout, green.Timeout) as exc:
            self.logger.warning(
                "object-replicator: REPLICATE %s:%s%s failed: %s", ip, port, path, exc
            )
            return None


def main(argv: list[str] | None = None) -> int:
    """``swiftlite-object-replicator CONF [once]``."""
    return daemon.main(
        "swiftlite-object-replicator",
        "object-replicator",
        ObjectReplicatorOptions,
        ObjectReplicator,
        argv,
    )
