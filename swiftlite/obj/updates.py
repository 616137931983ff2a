"""Container updates after an object PUT or DELETE, and the async_pending records for retries.

The update itself is a ``ListingUpdate`` (``common/listing_update.py``, which owns its wire
forms); this module sends it and keeps it for later. Owns the async_pending format
(``<dev>/async_pending/<sfx>/<hash>-<timestamp>``, versioned JSON, see
docs/formats/listing-update.md): written when a container server cannot be told, read back by
the object-updater daemon with ``read_async_pending``.

The proxy names the container replicas in ``X-Container-Host`` (comma-separated ``ip:port``),
``X-Container-Device`` (comma-separated, same order) and ``X-Container-Partition``. Each gets
``PUT|DELETE /<cdev>/<cpart>/<a>/<c>/<o>`` through ``common.http.client`` (the server's pool,
or ``direct_request`` in the updater). Without those headers (tests, replication) there is
nothing to do.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from swiftlite.common import fs, green, logs, reserved, update_targets
from swiftlite.common.errors import BadInput, Corrupt
from swiftlite.common.errors import Timeout as PeerTimeout
from swiftlite.common.http.client import Requester, direct_request
from swiftlite.common.listing_update import ListingUpdate
from swiftlite.common.timestamp import Timestamp
from swiftlite.obj import layout
from swiftlite.obj.diskfile import makedirs_durable, makedirs_plain

VERSION = 1


@dataclass(frozen=True)
class Target:
    """One container replica: ``host`` is ``ip:port``."""

    host: str
    device: str

    @property
    def ip_port(self) -> tuple[str, int]:
        ip, _, port = self.host.rpartition(":")
        return ip.strip("[]"), int(port)


@dataclass(frozen=True)
class UpdatePlan:
    partition: str
    targets: tuple[Target, ...]


def plan_from_headers(headers: Mapping[str, str]) -> UpdatePlan | None:
    """The container replicas named by the proxy, or None when no update was asked for.

    BadInput when hosts and devices do not pair up or a host has no port.
    """
    found = update_targets.named(headers, "Container")
    if found is None:
        return None
    partition, replicas = found
    return UpdatePlan(str(partition), tuple(Target(r.host, r.device) for r in replicas))


def send(
    update: ListingUpdate,
    plan: UpdatePlan,
    conn_timeout: float,
    node_timeout: float,
    request: Requester = direct_request,
    logger: logging.Logger | None = None,
) -> list[Target]:
    """Send ``update`` as Swift's per-object request to every target at once; the targets
    that did not answer 2xx. Each gets ``/<dev>/<part>/<a>/<c>/<o>``."""
    headers = update.to_headers()

    def one(target: Target) -> Target | None:
        full = f"/{target.device}/{plan.partition}{update.path}"
        ok = send_to(
            target, update.op, full, headers, None, conn_timeout, node_timeout, request, logger
        )
        return None if ok else target

    if len(plan.targets) == 1:
        failed = [one(plan.targets[0])]
    else:
        pile = green.GreenPile(len(plan.targets))
        for target in plan.targets:
            pile.spawn(one, target)
        failed = list(pile)
    return [t for t in failed if t is not None]


def send_to(
    target: Target,
    method: str,
    full_path: str,
    headers: Mapping[str, str],
    body: bytes | None,
    conn_timeout: float,
    node_timeout: float,
    request: Requester = direct_request,
    logger: logging.Logger | None = None,
) -> bool:
    """One update request to one container replica; True for a 2xx (failures are logged)."""
    ip, port = target.ip_port
    # Object servers hold reserved names only for filters that were allowed them; the
    # container row keeps that name, so the update may name it too.
    headers = {**headers, reserved.ALLOW_HEADER: "true"}
    try:
        resp = request(ip, port, method, full_path, headers, body, conn_timeout, node_timeout)
    except (OSError, PeerTimeout, green.Timeout) as exc:
        if logger:
            logger.warning(
                "container update %s %s%s failed: %s",
                method,
                target.host,
                logs.escape(full_path),
                exc,
            )
        return False
    if 200 <= resp.status < 300:
        return True
    if logger:
        logger.warning(
            "container update %s %s%s got %s",
            method,
            target.host,
            logs.escape(full_path),
            resp.status,
        )
    return False


@dataclass(frozen=True)
class AsyncPending:
    """A container update to retry: what the object-updater reads back."""

    op: str
    account: str
    container: str
    obj: str
    headers: dict[str, str]
    partition: str
    targets: tuple[Target, ...]

    @classmethod
    def of(cls, update: ListingUpdate, partition: str, targets: Iterable[Target]) -> AsyncPending:
        """The record of ``update`` still owed to ``targets``: it keeps the update's headers."""
        names = (update.account, update.container, update.obj)
        return cls(update.op, *names, update.to_headers(), partition, tuple(targets))

    def listing_update(self) -> ListingUpdate:
        """The update to replay; Corrupt when the record's headers do not describe one."""
        try:
            return ListingUpdate.from_headers(
                self.op, self.account, self.container, self.obj, self.headers
            )
        except BadInput as exc:
            raise Corrupt(f"async_pending with a bad update: {exc}") from None

    def to_json(self) -> bytes:
        doc = {
            "version": VERSION,
            "op": self.op,
            "account": self.account,
            "container": self.container,
            "obj": self.obj,
            "headers": self.headers,
            "container_partition": self.partition,
            "container_targets": [{"host": t.host, "device": t.device} for t in self.targets],
        }
        return json.dumps(doc, ensure_ascii=False, sort_keys=True).encode("utf-8")


def write_async_pending(
    dev_path: str, name_hash: str, timestamp: Timestamp, pending: AsyncPending, policy: int = 0
) -> str:
    """Save ``pending`` durably for the updater; the file's path.

    A later failure for the same object version replaces the record (same name), which is
    what the updater wants: the newest word on that version.
    """
    path = layout.async_pending_path(dev_path, name_hash, timestamp, policy)
    tmp = layout.tmp_dir(dev_path, policy)
    makedirs_plain(tmp, dev_path)  # never re-creates a device that is gone
    for attempt in range(3):
        makedirs_durable(os.path.dirname(path), dev_path)
        try:
            fs.write_file_durable(path, pending.to_json(), tmp_dir=tmp)
            break
        except FileNotFoundError:
            # the updater removed the emptied suffix dir between mkdir and rename: again
            if attempt == 2:
                raise
    return path


def read_async_pending(path: str) -> AsyncPending:
    """Parse an async_pending file; Corrupt if it is not one of ours."""
    try:
        with open(path, "rb") as fh:
            doc = json.loads(fh.read().decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Corrupt(f"{path}: not an async_pending record") from None
    if not isinstance(doc, dict) or doc.get("version") != VERSION:
        raise Corrupt(f"{path}: unknown async_pending version")
    try:
        targets = tuple(Target(t["host"], t["device"]) for t in doc["container_targets"])
        return AsyncPending(
            op=doc["op"],
            account=doc["account"],
            container=doc["container"],
            obj=doc["obj"],
            headers=dict(doc["headers"]),
            partition=str(doc["container_partition"]),
            targets=targets,
        )
    except (KeyError, TypeError) as exc:
        raise Corrupt(f"{path}: incomplete async_pending record ({exc})") from None
