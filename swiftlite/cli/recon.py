"""``swiftlite-recon``: ask every storage server for its recon facts and summarise them.

Servers come from the rings in ``--swift-dir``. Like swift-recon, each check prints one line of
``low / high / avg / total`` over the servers that answered, plus how many failed to answer.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import operator
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any

from swiftlite.common import green, policies
from swiftlite.common.errors import SwiftliteError
from swiftlite.common.http.client import direct_request

KINDS = ("account", "container", "object")


def servers(swift_dir: str, kind: str) -> list[tuple[str, int]]:
    from swiftlite.ring import Ring

    ring = Ring(os.path.join(swift_dir, f"{kind}.ring.gz"))
    return sorted({(d.ip, d.port) for d in ring.devs if d})


def fetch(hosts: Iterable[tuple[str, int]], what: str, timeout: float) -> dict[str, Any]:
    """``{"ip:port": answer or None}`` for every host, asked concurrently."""
    pool = green.GreenPool(32)

    def one(host: tuple[str, int]) -> tuple[str, Any]:
        try:
            resp = direct_request(
                host[0],
                host[1],
                "GET",
                f"/recon/{what}",
                conn_timeout=timeout,
                node_timeout=timeout,
            )
        except (OSError, SwiftliteError):
            return f"{host[0]}:{host[1]}", None
        if resp.status != 200:
            return f"{host[0]}:{host[1]}", None
        return f"{host[0]}:{host[1]}", json.loads(resp.body)

    return dict(pool.imap(one, list(hosts)))


def summary_line(label: str, values: dict[str, float | None]) -> str:
    got = [v for v in values.values() if v is not None]
    failed = len(values) - len(got)
    if not got:
        return f"[{label}] no hosts returned data ({failed} failed)"
    total = sum(got)
    return (
        f"[{label}] low: {min(got):g}, high: {max(got):g}, avg: {total / len(got):.1f}, "
        f"total: {total:g}, Failed: {100.0 * failed / len(values):.1f}%, "
        f"no_result: {failed}, reported: {len(got)}"
    )


def _pick(
    answers: dict[str, Any], getter: Callable[[Any], float | None]
) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for host, data in answers.items():
        try:
            out[host] = None if data is None else getter(data)
        except (KeyError, TypeError):
            out[host] = None
    return out


def check_replication(swift_dir: str, kind: str, timeout: float) -> list[str]:
    answers = fetch(servers(swift_dir, kind), f"replication/{kind}", timeout)
    lines = [
        summary_line(
            f"{kind} replication pass time (s)", _pick(answers, lambda d: d.get("duration"))
        )
    ]
    lines.append(
        summary_line(f"{kind} replication failures", _pick(answers, lambda d: d.get("failures")))
    )
    return lines


def _policy_pending(index: str, data: Any) -> Any:
    return data["policies"].get(index, 0)


def check_async(swift_dir: str, timeout: float) -> list[str]:
    """The async_pending total, then one line per storage policy the servers report."""
    answers = fetch(servers(swift_dir, "object"), "async", timeout)
    lines = [summary_line("async_pending", _pick(answers, lambda d: d["async_pending"]))]
    found = {i for d in answers.values() if isinstance(d, dict) for i in d.get("policies", {})}
    for index in sorted(found, key=lambda i: int(i) if i.isdigit() else -1):
        per = _pick(answers, functools.partial(_policy_pending, index))
        lines.append(summary_line(f"async_pending policy {index}", per))
    return lines


def check_quarantined(swift_dir: str, timeout: float) -> list[str]:
    hosts = {h for kind in KINDS for h in servers(swift_dir, kind)}
    answers = fetch(hosts, "quarantined", timeout)
    return [
        summary_line(f"quarantined_{name}", _pick(answers, operator.itemgetter(name)))
        for name in ("objects", "containers", "accounts")
    ]


def check_disk_usage(swift_dir: str, timeout: float) -> list[str]:
    answers = fetch(servers(swift_dir, "object"), "diskusage", timeout)

    def used_pct(rows: list[dict[str, Any]]) -> float | None:
        sizes = [r for r in rows if r.get("mounted") and r.get("size")]
        if not sizes:
            return None
        return round(100.0 * sum(r["used"] for r in sizes) / sum(r["size"] for r in sizes), 2)

    return [summary_line("disk usage %", _pick(answers, used_pct))]


def check_ring_md5(swift_dir: str, timeout: float) -> list[str]:
    local = {}
    names = ["account", "container"] + [p.ring_name for p in policies.load()]
    for name in names:
        path = os.path.join(swift_dir, f"{name}.ring.gz")
        with open(path, "rb") as fh:
            local[os.path.basename(path)] = hashlib.md5(fh.read()).hexdigest()
    hosts = {h for kind in KINDS for h in servers(swift_dir, kind)}
    answers = fetch(hosts, "ringmd5", timeout)
    matched = errors = 0
    lines = []
    for host, data in sorted(answers.items()):
        if data is None:
            errors += 1
            continue
        remote = {os.path.basename(k): v for k, v in data.items()}
        bad = [name for name, md5 in local.items() if remote.get(name) != md5]
        if bad:
            lines.append(f"!! {host} ring mismatch: {', '.join(bad)}")
        else:
            matched += 1
    lines.append(f"[ring md5] {matched}/{len(answers)} hosts matched, {errors} error(s)")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="swiftlite-recon", description=__doc__)
    parser.add_argument("--swift-dir", default="/etc/swiftlite")
    parser.add_argument("-r", "--replication", action="store_true")
    parser.add_argument("-a", "--async", dest="async_", action="store_true")
    parser.add_argument("-q", "--quarantined", action="store_true")
    parser.add_argument("-d", "--diskusage", action="store_true")
    parser.add_argument("--md5", action="store_true")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    everything = args.all or not any(
        (args.replication, args.async_, args.quarantined, args.diskusage, args.md5)
    )
    lines: list[str] = []
    try:
        if everything or args.replication:
            for kind in KINDS:
                lines += check_replication(args.swift_dir, kind, args.timeout)
        if everything or args.async_:
            lines += check_async(args.swift_dir, args.timeout)
        if everything or args.quarantined:
            lines += check_quarantined(args.swift_dir, args.timeout)
        if everything or args.diskusage:
            lines += check_disk_usage(args.swift_dir, args.timeout)
        if everything or args.md5:
            lines += check_ring_md5(args.swift_dir, args.timeout)
    except (OSError, SwiftliteError) as exc:
        print(f"swiftlite-recon: {exc}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 1 if any(line.startswith("!!") for line in lines) else 0


if __name__ == "__main__":
    sys.exit(main())
