"""Fill a container database or a storage node directly, for the cost curves (``curves.py``).

Owns the names the curves use (``row_name``, ``object_name``) and the file-system step both
systems share (``link_replicas``: the other primaries of an object get hard links to the files
written on the first, so every replica is in place and a replicator pass has nothing to
repair). The Swift side runs this file as a script in Swift's virtual environment
(``python bench/fill.py rows|objects ...``), where it writes through Swift's own
``ContainerBroker`` and ``DiskFileManager``; it imports nothing of swiftlite or the bench, so
it runs under either interpreter. swiftlite's side of the same work is in ``curves.py``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from collections.abc import Callable

ETAG = "d41d8cd98f00b204e9800998ecf8427e"
BATCH = 10_000
BODY = b"x" * 1024
ACCOUNT = "AUTH_test"
OBJECT_CONTAINER = "curve-objects"
ROW_TIMESTAMP = 1700000001.0


def row_name(n: int) -> str:
    """Row ``n`` of the listed container: spread over the key space (a multiplicative hash
    first), so each batch inserts all over the table's index, as real names do."""
    return f"{(n * 2654435761) % 4294967296:010d}-{n:07d}"


def object_name(n: int) -> str:
    return f"obj-{n:08d}"


def link_replicas(
    devices: str,
    first: str,
    others: list[str],
    hash_dir: str,
    invalidate: Callable[[str], None],
) -> None:
    """Hard-link every file of ``hash_dir`` (under ``devices/first``) to the same relative
    path under each device of ``others``, and ``invalidate(suffix_dir)`` each new copy's
    suffix there, as the system's own write of that replica would: without it a partition
    whose hashes an earlier pass cached keeps the old hash on the linked replicas, and the next
    pass finds suffixes to sync (2,317 rsyncs at 10^5 objects) where nothing differs."""
    rel = os.path.relpath(hash_dir, os.path.join(devices, first))
    names = os.listdir(hash_dir)
    for dev in others:
        target = os.path.join(devices, dev, rel)
        os.makedirs(target, exist_ok=True)
        for name in names:
            os.link(os.path.join(hash_dir, name), os.path.join(target, name))
        invalidate(os.path.dirname(target))


# -- Swift's side (run by Swift's interpreter) ------------------------------------------------


def swift_rows(db_files: list[str], start: int, count: int) -> float:
    """Merge rows ``start..start+count-1`` into each Swift container DB; seconds taken."""
    from swift.container.backend import ContainerBroker  # type: ignore[import-not-found]

    t0 = time.perf_counter()
    for db_file in db_files:
        broker = ContainerBroker(db_file)
        for first in range(start, start + count, BATCH):
            last = min(first + BATCH, start + count)
            broker.merge_items(
                [
                    {
                        "name": row_name(n),
                        "created_at": f"{ROW_TIMESTAMP:016.5f}",
                        "size": n % 100_000,
                        "content_type": "application/octet-stream",
                        "etag": ETAG,
                        "deleted": 0,
                        "storage_policy_index": 0,
                    }
                    for n in range(first, last)
                ]
            )
    return time.perf_counter() - t0


def swift_objects(swift_dir: str, devices: str, start: int, count: int) -> float:
    """Write objects ``start..start+count-1`` (1 KiB each) with Swift's DiskFileManager on
    their first primary (the writer's fsyncs skipped; one sync at the end) and link them to
    the other primaries."""
    import logging

    from swift.common import utils  # type: ignore[import-not-found]

    utils.set_swift_dir(swift_dir)
    from swift.common.ring import Ring  # type: ignore[import-not-found]
    from swift.common.storage_policy import POLICIES  # type: ignore[import-not-found]
    from swift.common.utils import Timestamp  # type: ignore[import-not-found]
    from swift.obj import diskfile  # type: ignore[import-not-found]

    for name in ("fsync", "fdatasync", "fsync_dir"):
        if hasattr(diskfile, name):
            setattr(diskfile, name, lambda *_a, **_k: None)
    mgr = diskfile.DiskFileManager(
        {"devices": devices, "mount_check": "false"}, logging.getLogger("fill")
    )
    ring = Ring(swift_dir, ring_name="object")
    etag = hashlib.md5(BODY).hexdigest()
    t0 = time.perf_counter()
    for n in range(start, start + count):
        obj = object_name(n)
        part, nodes = ring.get_nodes(ACCOUNT, OBJECT_CONTAINER, obj)
        ts = Timestamp(ROW_TIMESTAMP + n / 1e5)
        df = mgr.get_diskfile(
            nodes[0]["device"], part, ACCOUNT, OBJECT_CONTAINER, obj, policy=POLICIES[0]
        )
        with df.create(size=len(BODY)) as writer:
            writer.write(BODY)
            writer.put(
                {
                    "name": f"/{ACCOUNT}/{OBJECT_CONTAINER}/{obj}",
                    "X-Timestamp": ts.internal,
                    "Content-Length": str(len(BODY)),
                    "Content-Type": "application/octet-stream",
                    "ETag": etag,
                }
            )
            writer.commit(ts)
        link_replicas(
            devices,
            nodes[0]["device"],
            [d["device"] for d in nodes[1:]],
            df._datadir,
            diskfile.invalidate_hash,
        )
    os.sync()
    return time.perf_counter() - t0


def swift_daemon(swift_dir: str, module_name: str, argv: list[str]) -> int:
    """Run the daemon of ``swift.<module_name>`` (``obj.replicator``) with ``argv``, reading
    ``swift_dir``'s swift.conf: Swift's daemons otherwise read /etc/swift/swift.conf for the
    hash prefix (its servers are told ``swift_dir`` by their config, its daemons are not)."""
    import importlib

    from swift.common import utils  # type: ignore[import-not-found]

    utils.set_swift_dir(swift_dir)
    module = importlib.import_module(f"swift.{module_name}")
    sys.argv = [f"swift-{module_name.replace('.', '-')}", *argv]
    module.main()
    return 0


def main(argv: list[str]) -> int:
    """``rows START COUNT DB...``, ``objects SWIFT_DIR DEVICES START COUNT`` (both print JSON)
    or ``daemon SWIFT_DIR MODULE ARGS...`` (MODULE: ``obj.replicator``, ...)."""
    if argv[0] == "daemon":
        return swift_daemon(argv[1], argv[2], argv[3:])
    if argv[0] == "rows":
        seconds = swift_rows(argv[3:], int(argv[1]), int(argv[2]))
    elif argv[0] == "objects":
        seconds = swift_objects(argv[1], argv[2], int(argv[3]), int(argv[4]))
    else:
        print(f"unknown command {argv[0]!r}", file=sys.stderr)
        return 2
    print(json.dumps({"seconds": round(seconds, 3)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
