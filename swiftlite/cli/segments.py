"""``swiftlite-segments``: find (and with ``--delete`` remove) segments no manifest references.

Swift leaks segments: overwriting or deleting a DLO or SLO manifest without its segments
(``swift delete --leave-segments``, a plain DELETE, a failed client) leaves them behind, billed
and listed, forever. This tool scans one account through the proxy, as its user:

1. lists every container, all pages;
2. reads every SLO manifest (listing rows with ``slo_etag``; ``GET ?multipart-manifest=get``)
   and notes each segment it names; finds DLO manifests by HEADing the zero-byte objects (the
   manifests clients write are empty) and notes their ``<container>/<prefix>``;
3. reports each object of a *segment container* (by default every container whose name ends
   in ``_segments``, as the swift CLI and rclone name them; or ``--segment-container``) that
   no SLO names and no DLO prefix covers, and is older than ``--min-age`` seconds (an upload
   in flight writes its segments before its manifest).

Cost: one listing request per 10,000 objects of the account, one GET per SLO manifest, one
HEAD per zero-byte object. The report is a line per orphan (``<bytes> <container>/<object>``)
and a total. Manifests in other accounts are not seen: a segment only they use looks orphaned.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import sys
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    container: str
    name: str
    bytes: int
    last_modified: float  # unix seconds


@dataclass
class References:
    """What the account's manifests point at."""

    objects: set[tuple[str, str]] = field(default_factory=set)  # SLO segments
    prefixes: set[tuple[str, str]] = field(default_factory=set)  # DLO (container, prefix)

    def covers(self, row: Row) -> bool:
        if (row.container, row.name) in self.objects:
            return True
        return any(c == row.container and row.name.startswith(p) for c, p in self.prefixes)


def orphans(
    rows: Iterable[Row], refs: References, is_segment_container: set[str] | None, newest: float
) -> list[Row]:
    """Rows of segment containers that no reference covers, last modified before ``newest``.

    ``is_segment_container`` None means every container named ``*_segments``.
    """
    out = []
    for row in rows:
        if is_segment_container is None:
            if not row.container.endswith("_segments"):
                continue
        elif row.container not in is_segment_container:
            continue
        if row.last_modified <= newest and not refs.covers(row):
            out.append(row)
    return out


def _iso_seconds(text: str) -> float:
    try:
        when = datetime.datetime.fromisoformat(text)
    except ValueError:
        return 0.0
    return when.replace(tzinfo=datetime.UTC).timestamp()


class Account:
    """One account through the proxy, with a token."""

    def __init__(self, storage_url: str, token: str) -> None:
        parts = urllib.parse.urlsplit(storage_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80
        self.path = parts.path.rstrip("/")
        self.token = token

    def request(
        self, method: str, names: tuple[str, ...] = (), query: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        target = self.path + "".join("/" + urllib.parse.quote(n, safe="") for n in names)
        if query:
            target += "?" + urllib.parse.urlencode(query)
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, target, headers={"X-Auth-Token": self.token})
            resp = conn.getresponse()
            body = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body
        finally:
            conn.close()

    def listing(self, *names: str) -> Iterator[dict]:
        marker = ""
        while True:
            status, _, body = self.request("GET", names, {"format": "json", "marker": marker})
            if status == 204 or (status == 200 and not body.strip(b"[] \n")):
                return
            if status != 200:
                raise SystemExit(f"swiftlite-segments: listing {'/'.join(names)}: {status}")
            page = json.loads(body)
            yield from page
            if not page:
                return
            marker = page[-1].get("name") or page[-1].get("subdir")


def scan(account: Account) -> tuple[list[Row], References]:
    rows: list[Row] = []
    refs = References()
    for container in [c["name"] for c in account.listing()]:
        for item in account.listing(container):
            if "name" not in item:
                continue
            when = _iso_seconds(item.get("last_modified", ""))
            row = Row(container, item["name"], int(item["bytes"]), when)
            rows.append(row)
            if "slo_etag" in item:
                _note_slo(account, container, item["name"], refs)
            elif row.bytes == 0:
                _note_dlo(account, container, item["name"], refs)
    return rows, refs


def _note_slo(account: Account, container: str, name: str, refs: References) -> None:
    status, _, body = account.request("GET", (container, name), {"multipart-manifest": "get"})
    if status != 200:
        return
    try:
        records = json.loads(body)
    except ValueError:
        return
    for record in records if isinstance(records, list) else []:
        seg = str(record.get("name", "")).lstrip("/")
        seg_container, _, seg_obj = seg.partition("/")
        if seg_obj:
            refs.objects.add((seg_container, seg_obj))


def _note_dlo(account: Account, container: str, name: str, refs: References) -> None:
    status, headers, _ = account.request("HEAD", (container, name))
    manifest = headers.get("x-object-manifest") if status // 100 == 2 else None
    if manifest:
        text = urllib.parse.unquote(manifest)
        seg_container, _, prefix = text.partition("/")
        refs.prefixes.add((seg_container, prefix))


def authenticate(auth_url: str, user: str, key: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(auth_url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port or 80, timeout=30)
    try:
        conn.request("GET", parts.path, headers={"X-Auth-User": user, "X-Auth-Key": key})
        resp = conn.getresponse()
        resp.read()
    finally:
        conn.close()
    if resp.status // 100 != 2:
        raise SystemExit(f"swiftlite-segments: auth failed with {resp.status}")
    return resp.getheader("X-Storage-Url") or "", resp.getheader("X-Auth-Token") or ""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="swiftlite-segments", description=__doc__.split("\n")[0])
    parser.add_argument("-A", "--auth-url", default=os.environ.get("ST_AUTH"))
    parser.add_argument("-U", "--user", default=os.environ.get("ST_USER"))
    parser.add_argument("-K", "--key", default=os.environ.get("ST_KEY"))
    parser.add_argument("--account", help="scan this account (needs a reseller admin's token)")
    parser.add_argument(
        "--segment-container",
        action="append",
        help="a container holding segments (repeatable); default: every *_segments container",
    )
    parser.add_argument(
        "--min-age",
        type=float,
        default=86400.0,
        help="ignore segments younger than this many seconds (default 86400)",
    )
    parser.add_argument("--delete", action="store_true", help="delete the orphans found")
    args = parser.parse_args(argv)
    if not (args.auth_url and args.user and args.key):
        parser.error("-A, -U and -K (or ST_AUTH, ST_USER, ST_KEY) are required")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    storage_url, token = authenticate(args.auth_url, args.user, args.key)
    if args.account:
        base = storage_url.rsplit("/", 1)[0]
        storage_url = f"{base}/{urllib.parse.quote(args.account)}"
    account = Account(storage_url, token)
    rows, refs = scan(account)
    wanted = set(args.segment_container) if args.segment_container else None
    now = datetime.datetime.now(datetime.UTC).timestamp()
    found = orphans(rows, refs, wanted, now - args.min_age)
    failed = 0
    for row in found:
        print(f"{row.bytes} {row.container}/{row.name}")
        if args.delete:
            status, _, _ = account.request("DELETE", (row.container, row.name))
            if status // 100 != 2 and status != 404:
                failed += 1
                print(f"  delete failed: {status}", file=sys.stderr)
    total = sum(r.bytes for r in found)
    verb = "deleted" if args.delete else "found"
    print(f"{len(found) - failed} orphan segments {verb}, {total} bytes")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
