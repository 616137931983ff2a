"""``swiftlite-dispersion-report``: what share of sampled replicas are where the rings say.

The first run places samples through the proxy: containers ``dispersion_<n>`` spread over
distinct container partitions, and objects in ``dispersion_objects`` spread over distinct object
partitions, until ``--coverage`` percent of each ring's partitions hold one (at least 10). Every
run then asks each primary node of each sample directly (HEAD, bypassing the proxy) and prints
the percentage of replicas found per ring. Exit code 0 when all were found, 1 otherwise.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

from swiftlite.common import green
from swiftlite.common.errors import SwiftliteError
from swiftlite.common.http.client import direct_request
from swiftlite.ring.node import Node

OBJECT_CONTAINER = "dispersion_objects"
CONTAINER_PREFIX = "dispersion_"


@dataclass
class Session:
    host: str
    port: int
    path: str  # /v1/AUTH_x
    token: str

    @property
    def account(self) -> str:
        return urllib.parse.unquote(self.path.split("/")[2])

    def request(
        self, method: str, suffix: str, body: bytes | None = None, query: str = ""
    ) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            target = urllib.parse.quote(self.path + suffix) + (f"?{query}" if query else "")
            headers = {"X-Auth-Token": self.token}
            if method == "PUT":
                headers["Content-Length"] = str(len(body or b""))
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()


def authenticate(auth_url: str, user: str, key: str) -> Session:
    parts = urllib.parse.urlsplit(auth_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
    conn.request("GET", parts.path, headers={"X-Auth-User": user, "X-Auth-Key": key})
    resp = conn.getresponse()
    resp.read()
    if resp.status // 100 != 2:
        raise SystemExit(f"swiftlite-dispersion-report: auth failed with {resp.status}")
    storage = urllib.parse.urlsplit(resp.getheader("X-Storage-Url") or "")
    return Session(
        storage.hostname or "127.0.0.1",
        storage.port or 80,
        storage.path,
        resp.getheader("X-Auth-Token") or "",
    )


def _wanted(part_count: int, coverage: float) -> int:
    return min(part_count, max(10, int(part_count * coverage / 100.0)))


def _listing(session: Session, suffix: str, prefix: str = "") -> list[str]:
    names: list[str] = []
    marker = ""
    while True:
        query = urllib.parse.urlencode({"format": "json", "marker": marker, "prefix": prefix})
        status, body = session.request("GET", suffix, query=query)
        if status == 404 or status == 204:
            return names
        rows = json.loads(body or b"[]")
        if not rows:
            return names
        names += [r["name"] for r in rows]
        marker = names[-1]


def populate(session: Session, container_ring, object_ring, coverage: float) -> None:  # type: ignore[no-untyped-def]
    have = _listing(session, "", CONTAINER_PREFIX)
    parts = {container_ring.get_part(session.account, c) for c in have}
    want = _wanted(container_ring.partition_count, coverage)
    n = 0
    while len(parts) < want:
        name = f"{CONTAINER_PREFIX}{n}"
        n += 1
        part = container_ring.get_part(session.account, name)
        if part in parts or name == OBJECT_CONTAINER:
            continue
        status, _ = session.request("PUT", f"/{name}")
        if status // 100 == 2:
            parts.add(part)
    session.request("PUT", f"/{OBJECT_CONTAINER}")
    have = _listing(session, f"/{OBJECT_CONTAINER}")
    parts = {object_ring.get_part(session.account, OBJECT_CONTAINER, o) for o in have}
    want = _wanted(object_ring.partition_count, coverage)
    n = 0
    while len(parts) < want:
        name = f"{n}"
        n += 1
        part = object_ring.get_part(session.account, OBJECT_CONTAINER, name)
        if part in parts:
            continue
        status, _ = session.request("PUT", f"/{OBJECT_CONTAINER}/{name}", body=name.encode())
        if status // 100 == 2:
            parts.add(part)


def _found(node: Node, part: int, path: str, timeout: float) -> bool:
    try:
        resp = direct_request(
            node.ip,
            node.port,
            "HEAD",
            f"/{node.device}/{part}{path}",
            conn_timeout=timeout,
            node_timeout=timeout,
        )
    except (OSError, SwiftliteError):
        return False
    return resp.status // 100 == 2


def report_ring(ring, samples: Sequence[tuple[str, ...]], timeout: float) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    """(found, expected) replica counts for the sample names (tuples of a[, c[, o]])."""
    pool = green.GreenPool(32)
    jobs = []
    for names in samples:
        part, nodes = ring.get_nodes(*names)
        path = "/" + "/".join(names)
        jobs += [(node, part, path) for node in nodes]
    found = sum(pool.imap(lambda job: _found(job[0], job[1], job[2], timeout), jobs))
    return found, len(jobs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="swiftlite-dispersion-report", description=__doc__)
    parser.add_argument("--swift-dir", default="/etc/swiftlite")
    parser.add_argument("--auth-url", default="http://127.0.0.1:8080/auth/v1.0")
    parser.add_argument("--user", default="test:tester")
    parser.add_argument("--key", default="testing")
    parser.add_argument("--coverage", type=float, default=1.0, help="percent of partitions")
    parser.add_argument("--no-populate", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--timeout", type=float, default=5.0)
    args = parser.parse_args(argv)
    from swiftlite.ring import Ring

    container_ring = Ring(os.path.join(args.swift_dir, "container.ring.gz"))
    object_ring = Ring(os.path.join(args.swift_dir, "object.ring.gz"))
    session = authenticate(args.auth_url, args.user, args.key)
    if not args.no_populate:
        populate(session, container_ring, object_ring, args.coverage)
    containers = [
        (session.account, c)
        for c in _listing(session, "", CONTAINER_PREFIX)
        if c != OBJECT_CONTAINER
    ]
    objects = [
        (session.account, OBJECT_CONTAINER, o) for o in _listing(session, f"/{OBJECT_CONTAINER}")
    ]
    c_found, c_total = report_ring(container_ring, containers, args.timeout)
    o_found, o_total = report_ring(object_ring, objects, args.timeout)
    result = {
        "container": {
            "samples": len(containers),
            "found": c_found,
            "expected": c_total,
            "pct_found": round(100.0 * c_found / c_total, 2) if c_total else 0.0,
        },
        "object": {
            "samples": len(objects),
            "found": o_found,
            "expected": o_total,
            "pct_found": round(100.0 * o_found / o_total, 2) if o_total else 0.0,
        },
    }
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        for kind in ("container", "object"):
            r = result[kind]
            print(
                f"Queried {r['samples']} {kind}s for dispersion reporting: "
                f"{r['pct_found']:.2f}% of {kind} copies found ({r['found']} of {r['expected']})"
            )
    complete = c_found == c_total and o_found == o_total and c_total and o_total
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
