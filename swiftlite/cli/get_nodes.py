"""swiftlite-get-nodes: where a name (or a partition) lives, and how to look at it.

Usage: ``swiftlite-get-nodes <ring_file> <account> [<container> [<object>]]`` or
``swiftlite-get-nodes <ring_file> -p <partition>``. Prints the partition, the name hash, the
primary nodes and handoffs, and a ``curl -I`` line for each (backend path
``/<device>/<part>/<quoted a/c/o>``; for a storage policy's ring ``object-N.ring.gz`` with
``-H "X-Backend-Storage-Policy-Index: N"``). Exit codes: 0 success, 2 error.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from urllib.parse import quote

from swiftlite.common.errors import ConfigError
from swiftlite.common.hashing import hash_path
from swiftlite.common.policies import parse_dir_name
from swiftlite.ring import Ring, RingError
from swiftlite.ring.node import Node


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise ValueError(message)


def _parser() -> _Parser:
    p = _Parser(
        prog="swiftlite-get-nodes",
        description="Show the partition, primaries and handoffs of a name in a ring.",
    )
    p.add_argument("ring", help="ring file, e.g. /etc/swiftlite/object.ring.gz")
    p.add_argument("names", nargs="*", help="<account> [<container> [<object>]]")
    p.add_argument("-p", "--partition", type=int, default=None, help="show this partition")
    p.add_argument("-a", "--all", action="store_true", help="show every handoff")
    return p


def report(
    ring: Ring, names: list[str], part: int | None, show_all: bool, policy: int | None = None
) -> list[str]:
    """The lines swiftlite-get-nodes prints (``policy``: the object ring's policy index)."""
    lines: list[str] = []
    if names:
        account = names[0]
        container = names[1] if len(names) > 1 else None
        obj = names[2] if len(names) > 2 else None
        part, primaries = ring.get_nodes(account, container, obj)
        labels = ("Account", "Container", "Object")
        lines += [f"{label:<9}\t{name}" for label, name in zip(labels, names, strict=False)]
        lines.append("")
        lines.append(f"Partition\t{part}")
        lines.append(f"Hash     \t{hash_path(account, container, obj)}")
        path = "/" + quote("/".join(names))
    else:
        part = int(part or 0)
        primaries = ring.get_part_nodes(part)
        lines.append(f"Partition\t{part}")
        path = ""
    limit = None if show_all else ring.replica_count
    handoffs: list[Node] = []
    for node in ring.get_more_nodes(part):
        if limit is not None and len(handoffs) >= limit:
            break
        handoffs.append(node)
    lines.append("")
    for node in primaries:
        lines.append(f"Server:Port Device\t{node.host} {node.device}")
    for node in handoffs:
        lines.append(f"Server:Port Device\t{node.host} {node.device}\t [Handoff]")
    lines.append("")
    header = "" if policy is None else f' -H "X-Backend-Storage-Policy-Index: {policy}"'
    for node, tag in [(n, "") for n in primaries] + [(n, " # [Handoff]") for n in handoffs]:
        url = f"http://{node.host}/{quote(node.device)}/{part}{path}"
        lines.append(f'curl -g -I -XHEAD "{url}"{header}{tag}')
    lines.append("")
    lines.append(
        f"note: showing {'all' if show_all else ring.replica_count} handoffs; "
        "a handoff holds data only while a primary is down or being replaced."
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Print where a name lives; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        ns = _parser().parse_args(args)
        if not ns.names and ns.partition is None:
            raise ValueError("give <account> [<container> [<object>]] or -p <partition>")
        if len(ns.names) > 3:
            raise ValueError("at most <account> <container> <object>")
    except ValueError as exc:
        print(f"error: {exc}\n", file=sys.stderr)
        _parser().print_usage(sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    try:
        ring = Ring(ns.ring)
        if ns.partition is not None and not 0 <= ns.partition < ring.partition_count:
            raise ValueError(f"partition {ns.partition} is not in 0..{ring.partition_count - 1}")
        ring_name = os.path.basename(ns.ring).removesuffix(".ring.gz")
        policy = parse_dir_name("object", ring_name) or None  # policy 0: no header needed
        lines = report(ring, ns.names, ns.partition, ns.all, policy)
    except (RingError, ConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
