"""The reserved namespace through the whole sample pipeline: 412, and no backend ever asked.

Every storage app of the in-process cluster sits behind a ``FaultInjector``; a pass-through
``Fault`` on each counts the requests it sees (``hits`` is counted before the app runs, so a
request the proxy made is counted before the client has its answer). The cluster is this
module's own and fresh: nothing else talks to the backends while the probes run.
"""

from __future__ import annotations

from tests.functional.rawhttp import send_to
from tests.support.faults import Fault
from tests.support.inproc import KINDS, InprocCluster

ALLOW = "X-Backend-Allow-Reserved-Names"
ENCODED = ["/%00versions%00c", "/%00versions%00c/o", "/c/%00o%00123", "/%00x", "/c/o%00"]
RAW = [b"/\x00versions\x00c", b"/\x00versions\x00c/o", b"/c/\x00o"]
METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "COPY", "OPTIONS"]


def _counters(cluster: InprocCluster, kinds: tuple[str, ...] = KINDS, **match: str) -> list[Fault]:
    """A pass-through fault counting the requests that ``match`` on every storage app of
    ``kinds`` (the only fault each has)."""
    out = []
    for kind in kinds:
        for backend in cluster.backends[kind]:
            injector = cluster.faults(kind, backend.index)
            injector.clear()
            out.append(injector.add(Fault(times=None, **match)))  # type: ignore[arg-type]
    return out


def _login(cluster: InprocCluster) -> tuple[str, str]:
    resp = cluster.request(
        "GET", "/auth/v1.0", {"X-Auth-User": "test:tester", "X-Auth-Key": "testing"}
    )
    assert resp.status == 200, resp
    return "/" + (resp.header("x-storage-url") or "").split("/", 3)[3], resp.header(
        "x-auth-token"
    ) or ""


def test_reserved_paths_are_412_and_reach_no_backend(piped: InprocCluster) -> None:
    counters = _counters(piped)
    account, token = _login(piped)
    headers = {"X-Auth-Token": token, ALLOW: "true", "Destination": "c/copy"}
    targets = [(account + s).encode() for s in ENCODED] + [account.encode() + s for s in RAW]
    seen = {}
    for target in targets:
        for method in METHODS:
            seen[(method, target)] = send_to(("127.0.0.1", piped.port), method, target, headers)
    assert {key: reply.status for key, reply in seen.items() if reply.status != 412} == {}
    assert sum(c.hits for c in counters) == 0
    # the counters do count: an ordinary request is seen by the backends
    assert piped.request("HEAD", f"{account}/c", {"X-Auth-Token": token}).status == 404
    assert sum(c.hits for c in counters) > 0


def test_copy_to_or_from_a_reserved_name_is_412_and_writes_nothing(
    piped: InprocCluster,
) -> None:
    account, token = _login(piped)
    auth = {"X-Auth-Token": token}
    assert piped.request("PUT", f"{account}/src", auth).status == 201
    assert piped.request("PUT", f"{account}/src/o", auth, b"data").status == 201
    writes = _counters(piped, ("object",), method="PUT", path_contains="\x00")
    for destination in ("%00versions%00src/o", "src/%00o"):
        headers = {**auth, ALLOW: "true", "Destination": destination}
        assert piped.request("COPY", f"{account}/src/o", headers).status == 412
    headers = {**auth, ALLOW: "true", "X-Copy-From": "%00versions%00src/o"}
    assert piped.request("PUT", f"{account}/src/copy", headers, b"").status == 412
    assert sum(w.hits for w in writes) == 0
