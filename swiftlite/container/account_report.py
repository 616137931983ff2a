"""Container totals to the account servers: the reporter the container server and the
updater daemon share, and the async records it leaves when the accounts did not answer.

``AccountReporter.report(broker)`` reads a container's info (merging its journal), and when
the totals or timestamps differ from what an account last accepted, sends ``PUT
/<adev>/<apart>/<account>/<container>`` with ``X-Put-Timestamp``, ``X-Delete-Timestamp``,
``X-Object-Count``, ``X-Bytes-Used``, ``X-Backend-Storage-Policy-Index`` and ``X-Timestamp``
(when the totals were read), and ``X-Account-Override-Deleted: yes`` for a deleted container, to
every account replica at once. A majority of 2xx marks the totals
reported in the database; otherwise an async record is saved under
``<device>/async_account_updates/`` for the daemon (``updater.py``). Account nodes come from the
account ring (``account.ring.gz`` in ``swift_dir``) or, without one, from the hint the proxy last
gave the container server.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from swiftlite.common import errors, fs, green, reserved, update_targets
from swiftlite.common.http.client import direct_request
from swiftlite.common.timestamp import Timestamp
from swiftlite.container.broker import ContainerBroker, needs_report
from swiftlite.db import layout
from swiftlite.ring import Ring

ASYNC_VERSION = 1
ACCOUNT_RING = "account.ring.gz"


@dataclass(frozen=True)
class AccountNode:
    ip: str
    port: int
    device: str
    partition: int

    def text(self) -> str:
        return f"{self.ip}:{self.port}/{self.device}/{self.partition}"


def parse_hint(hint: str) -> list[AccountNode]:
    """Nodes from a stored hint ``ip:port/device/partition[,...]``; bad entries are skipped."""
    nodes = []
    for item in hint.split(","):
        host, _, rest = item.strip().partition("/")
        device, _, part = rest.partition("/")
        ip, _, port = host.rpartition(":")
        if ip and port.isdigit() and device and part.isdigit():
            nodes.append(AccountNode(ip.strip("[]"), int(port), device, int(part)))
    return nodes


def format_hint(nodes: Sequence[AccountNode]) -> str:
    return ",".join(n.text() for n in nodes)


def nodes_from_headers(headers: Any) -> list[AccountNode]:
    """Swift's request contract: X-Account-Host ``ip:port[,...]``, X-Account-Device
    ``dev[,...]`` (same length) and X-Account-Partition. BadInput when they disagree."""
    found = update_targets.named(headers, "Account")
    if found is None:
        return []
    part, replicas = found
    return [AccountNode(r.ip, r.port, r.device, part) for r in replicas]


@dataclass
class Report:
    """What one report did: statuses per node (None = unreachable)."""

    sent: bool = False
    statuses: list[int | None] | None = None
    reported: bool = False

    @property
    def all_not_found(self) -> bool:
        return bool(self.statuses) and all(s == 404 for s in self.statuses or [])


class AccountReporter:
    """Sends one container's totals to its account replicas (used by server and daemon)."""

    def __init__(
        self,
        swift_dir: str,
        conn_timeout: float = 0.5,
        node_timeout: float = 3.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self.ring_path = os.path.join(swift_dir, ACCOUNT_RING)
        self.conn_timeout = conn_timeout
        self.node_timeout = node_timeout
        self.logger = logger or logging.getLogger("swiftlite.container.updater")
        self._ring: Ring | None = None

    def _ring_nodes(self, account: str) -> list[AccountNode]:
        if not os.path.exists(self.ring_path):
            return []
        try:
            if self._ring is None:
                self._ring = Ring(self.ring_path)
            part, nodes = self._ring.get_nodes(account)
        except Exception:
            self.logger.exception("cannot use account ring %s", self.ring_path)
            return []
        return [AccountNode(n.ip, n.port, n.device, part) for n in nodes]

    def account_nodes(self, account: str, hint: str = "") -> list[AccountNode]:
        """The ring's nodes for ``account``, else those in the stored hint."""
        return self._ring_nodes(account) or parse_hint(hint)

    def report(
        self,
        broker: ContainerBroker,
        nodes: Sequence[AccountNode] | None = None,
        trans_id: str = "-",
        force: bool = False,
    ) -> Report:
        """Send the totals if they changed (or ``force``); save an async record on failure."""
        info = broker.get_info()
        if not force and not needs_report(info):
            return Report()
        targets = (
            list(nodes) if nodes else self.account_nodes(info["account"], info["account_hint"])
        )
        if not targets:
            self.logger.debug("no account nodes known for %s", broker.db_file)
            return Report()
        headers = {
            "X-Put-Timestamp": info["put_timestamp"],
            "X-Delete-Timestamp": info["delete_timestamp"],
            "X-Object-Count": str(info["object_count"]),
            "X-Bytes-Used": str(info["bytes_used"]),
            "X-Backend-Storage-Policy-Index": str(info["storage_policy_index"]),
            "X-Timestamp": Timestamp.now().internal,
            "X-Trans-Id": trans_id,
            "User-Agent": f"container-server {os.getpid()}",
            # the database may be a reserved-namespace container (object versioning's)
            reserved.ALLOW_HEADER: "true",
        }
        if ContainerBroker.info_is_deleted(info):
            # A deleted account still takes the news that one of its containers is gone
            # (the reaper's container DELETEs), so its container count can reach zero.
            headers["X-Account-Override-Deleted"] = "yes"
        path = f"/{info['account']}/{info['container']}"
        pile = green.GreenPile(len(targets))
        for node in targets:
            pile.spawn(self._send, node, path, headers)
        statuses: list[int | None] = list(pile)
        successes = sum(1 for s in statuses if s is not None and 200 <= s < 300)
        result = Report(sent=True, statuses=statuses)
        if successes >= len(targets) // 2 + 1:
            broker.reported(
                info["put_timestamp"],
                info["delete_timestamp"],
                info["object_count"],
                info["bytes_used"],
            )
            result.reported = True
        else:
            save_async(broker, info)
        return result

    def _send(self, node: AccountNode, path: str, headers: dict[str, str]) -> int | None:
        try:
            resp = direct_request(
                node.ip,
                node.port,
                "PUT",
                f"/{node.device}/{node.partition}{path}",
                headers,
                conn_timeout=self.conn_timeout,
                node_timeout=self.node_timeout,
            )
        except (OSError, errors.Timeout) as exc:
            self.logger.warning("account update to %s failed: %s", node.text(), exc)
            return None
        if not 200 <= resp.status < 300:
            self.logger.warning("account update to %s: status %s", node.text(), resp.status)
        return resp.status


def save_async(broker: ContainerBroker, info: dict[str, Any]) -> str | None:
    """Write the async record for this container (one per container, newest wins)."""
    try:
        loc = layout.parse_db_path(broker.db_file)
    except ValueError:
        return None
    record = {
        "v": ASYNC_VERSION,
        "account": info["account"],
        "container": info["container"],
        "db": loc.relative,
        "saved_at": Timestamp.now().internal,
    }
    path = layout.async_file(loc.device_path, loc.name_hash)
    fs.makedirs(os.path.dirname(path))
    fs.write_file_durable(path, json.dumps(record, ensure_ascii=False).encode("utf-8"))
    return path


def load_async(path: str) -> dict[str, Any] | None:
    try:
        with open(path, encoding="utf-8") as fh:
            record = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or record.get("v") != ASYNC_VERSION:
        return None
    return record
