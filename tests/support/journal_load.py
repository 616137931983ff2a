"""A load generator that keeps a journal of what the cluster acknowledged.

``JournalLoad(host, port, token, container_path).run(seconds)`` drives a few worker threads,
each with its own keep-alive connection to the proxy and its own object names
(``w<worker>-<n>``), so one name is only ever touched by one op at a time and the journal of a
name is a plain sequence. The mix: PUT a new name, PUT over a live one, POST metadata, DELETE,
GET (checks the bytes and metadata against the journal), and HEAD of the account or GET of the
container listing (status only: listings are eventually consistent).

For every name the journal keeps the set of states the cluster may hold for it: after an
acknowledged op exactly one; after a failed write the state before it *or* the one it tried to
write (a failed write may still have reached a replica, whose newer timestamp then wins). A
name whose write failed is not written again, and a deleted name is never reused, so "every
acknowledged DELETE is 404" is a plain check. Bodies are not kept: a body is a pure function
of its name and version, and the journal holds its MD5.

Nothing here starts servers or injects faults; the fault matrix does that around ``run``.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import random
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

from bench.loadgen import percentile


@dataclass(frozen=True)
class Live:
    """An object as the cluster should serve it."""

    md5: str
    size: int
    tag: str  # X-Object-Meta-Tag


Gone = None  # the state of a deleted (or never created) object
State = Live | None


@dataclass
class Op:
    worker: int
    method: str
    target: str  # object name, or "" for account/container requests
    start: float
    end: float
    status: int  # 0: the request did not get a response
    ok: bool
    detail: str = ""


@dataclass
class NameRecord:
    possible: list[State]

    @property
    def certain(self) -> bool:
        return len(self.possible) == 1


def body_for(name: str, version: int) -> bytes:
    """The body of write ``version`` of ``name``: 0 to 48 KiB, a pure function of both."""
    rng = random.Random(f"{name}/{version}")
    size = rng.choice((0, 1, 100, 4096, 20_000, 48 * 1024, rng.randrange(1, 48 * 1024)))
    return rng.randbytes(size)


@dataclass
class Journal:
    names: dict[str, NameRecord] = field(default_factory=dict)
    ops: list[Op] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, op: Op) -> None:
        """Add a read (or any op that changes no object)."""
        with self.lock:
            self.ops.append(op)

    def record_write(self, op: Op, name: str, after: State) -> None:
        """Add a write of ``name``; ``after`` is the state it tried to leave."""
        with self.lock:
            self.ops.append(op)
            rec = self.names.setdefault(name, NameRecord([Gone]))
            if op.ok:
                rec.possible = [after]
            elif after not in rec.possible:
                rec.possible.append(after)

    def errors(self) -> list[Op]:
        return [op for op in self.ops if not op.ok]

    def acked(self, method: str) -> int:
        return sum(1 for op in self.ops if op.ok and op.method == method and op.target)

    def latencies_ms(self) -> tuple[float, float]:
        lat = sorted((op.end - op.start) * 1000 for op in self.ops)
        return percentile(lat, 50), percentile(lat, 99)


class _Worker:
    def __init__(self, load: JournalLoad, index: int) -> None:
        self.load = load
        self.index = index
        self.rng = random.Random(f"{load.container_path}/{index}")
        self.live: list[str] = []  # names whose journal state is certain and live
        self.versions: dict[str, int] = {}
        self.tags: dict[str, str] = {}
        self.next_name = 0
        self.conn: http.client.HTTPConnection | None = None

    # -- transport ---------------------------------------------------------------------------
    def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> tuple[int, dict[str, str], bytes, str]:
        """(status, lower-cased headers, body, error text); status 0 when no response came."""
        headers = {"X-Auth-Token": self.load.token, **headers}
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    self.load.host, self.load.port, timeout=self.load.timeout
                )
            self.conn.request(method, urllib.parse.quote(path, safe="/?=&"), body, headers)
            resp = self.conn.getresponse()
            data = resp.read()
            if resp.will_close:
                self.drop()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, ""
        except (OSError, http.client.HTTPException) as exc:
            self.drop()
            return 0, {}, b"", f"{type(exc).__name__}: {exc}"

    def drop(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    # -- the mix -----------------------------------------------------------------------------
    def step(self) -> None:
        r = self.rng.random()
        if not self.live or r < 0.40:
            name = f"w{self.index}-{self.next_name:05d}"
            self.next_name += 1
            self.put(name)
        elif r < 0.50:
            self.put(self.rng.choice(self.live))
        elif r < 0.62:
            self.post(self.rng.choice(self.live))
        elif r < 0.72:
            self.delete(self.rng.choice(self.live))
        elif r < 0.90:
            self.get(self.rng.choice(self.live))
        else:
            self.read_listing(r < 0.95)

    def _finish(self, method: str, name: str, start: float, status: int, ok: bool, err: str) -> Op:
        return Op(self.index, method, name, start, time.monotonic(), status, ok, err)

    def put(self, name: str) -> None:
        version = self.versions.get(name, -1) + 1
        self.versions[name] = version
        body = body_for(name, version)
        tag = f"put{version}"
        after = Live(hashlib.md5(body).hexdigest(), len(body), tag)
        start = time.monotonic()
        status, headers, _, err = self.request(
            "PUT",
            f"{self.load.container_path}/{name}",
            {"X-Object-Meta-Tag": tag, "Content-Type": "application/octet-stream"},
            body,
        )
        ok = status == 201 and headers.get("etag", "").strip('"') == after.md5
        self.settle(name, ok)
        self.load.journal.record_write(
            self._finish("PUT", name, start, status, ok, err), name, after
        )

    def post(self, name: str) -> None:
        old = self.load.journal.names[name].possible[0]
        assert old is not None
        tag = f"post{self.rng.randrange(10**6)}"
        start = time.monotonic()
        status, _, _, err = self.request(
            "POST", f"{self.load.container_path}/{name}", {"X-Object-Meta-Tag": tag}
        )
        ok = status == 202
        self.settle(name, ok)
        after = Live(old.md5, old.size, tag)
        self.load.journal.record_write(
            self._finish("POST", name, start, status, ok, err), name, after
        )

    def delete(self, name: str) -> None:
        start = time.monotonic()
        status, _, _, err = self.request("DELETE", f"{self.load.container_path}/{name}", {})
        ok = status == 204
        self.live.remove(name)  # deleted names are never reused, acknowledged or not
        self.load.journal.record_write(
            self._finish("DELETE", name, start, status, ok, err), name, Gone
        )

    def get(self, name: str) -> None:
        want = self.load.journal.names[name].possible[0]
        assert want is not None
        start = time.monotonic()
        status, headers, body, err = self.request("GET", f"{self.load.container_path}/{name}", {})
        got = Live(hashlib.md5(body).hexdigest(), len(body), headers.get("x-object-meta-tag", ""))
        ok = status == 200 and got == want
        if status == 200 and not ok:
            err = f"read {got}, journal says {want}"
        self.load.journal.record(self._finish("GET", name, start, status, ok, err))

    def read_listing(self, account: bool) -> None:
        path = self.load.container_path
        method, target = ("HEAD", path.rsplit("/", 1)[0]) if account else ("GET", path)
        start = time.monotonic()
        status, _, _, err = self.request(method, target + ("" if account else "?limit=20"), {})
        ok = 200 <= status < 300
        self.load.journal.record(self._finish(method, "", start, status, ok, err))

    def settle(self, name: str, ok: bool) -> None:
        """Keep writing a name only while its journal state is certain."""
        if ok:
            if name not in self.live:
                self.live.append(name)
        elif name in self.live:
            self.live.remove(name)

    def run(self, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                self.step()
        finally:
            self.drop()


class JournalLoad:
    """Worker threads against one container, journaling every op until ``run`` returns."""

    def __init__(
        self,
        host: str,
        port: int,
        token: str,
        container_path: str,
        workers: int = 4,
        timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port
        self.token = token
        self.container_path = container_path
        self.timeout = timeout
        self.journal = Journal()
        self.workers = [_Worker(self, i) for i in range(workers)]
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> None:
        for w in self.workers:
            t = threading.Thread(target=w.run, args=(self.stop,), name=f"load-{w.index}")
            t.start()
            self.threads.append(t)

    def finish(self) -> Journal:
        """Stop the workers after their current op and return the journal."""
        self.stop.set()
        for t in self.threads:
            t.join(self.timeout + 5)
            assert not t.is_alive(), f"{t.name} is stuck"
        return self.journal


def listing_of(host: str, port: int, token: str, container_path: str) -> dict[str, dict]:  # type: ignore[type-arg]
    """The whole container listing (paged by marker) as {name: row}."""
    rows: dict[str, dict] = {}  # type: ignore[type-arg]
    marker = ""
    while True:
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            query = urllib.parse.urlencode({"format": "json", "marker": marker})
            conn.request(
                "GET",
                f"{urllib.parse.quote(container_path)}?{query}",
                None,
                {"X-Auth-Token": token},
            )
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        assert resp.status in (200, 204), f"listing of {container_path} is {resp.status}"
        page = json.loads(data or b"[]")
        if not page:
            return rows
        for row in page:
            rows[row["name"]] = row
        marker = page[-1]["name"]
