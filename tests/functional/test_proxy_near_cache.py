"""The proxy workers' near cache of container info, on the real aio (two proxy workers).

Each connection is pinned to the worker that accepted it (found from ``/proc``: the worker
holding the server side of the connection), so the test knows it reads through one worker
what it wrote through the other, instead of hoping the kernel spread the connections.
"""

from __future__ import annotations

import http.client
import uuid
from collections.abc import Iterator

import pytest

from swiftlite.aio import procs
from tests.support.cluster import Auth, Cluster
from tests.support.proxy_workers import group_pids, serving_pids

pytestmark = pytest.mark.functional


@pytest.fixture
def worker_conns(cluster: Cluster) -> Iterator[list[http.client.HTTPConnection]]:
    """One kept-alive connection served by each proxy worker."""
    master = procs.read_pid(cluster.plan.run_dir, "proxy-server")
    assert master is not None
    workers = set(group_pids(master)) - {master}
    assert len(workers) >= 2, f"the aio proxy should run two workers, has {workers}"
    pinned: dict[int, http.client.HTTPConnection] = {}
    opened = []
    try:
        for _ in range(200):
            conn = cluster.conn()
            opened.append(conn)
            conn.request("GET", "/healthcheck")  # answered: a worker has accepted it
            conn.getresponse().read()
            assert conn.sock is not None
            port = conn.sock.getsockname()[1]
            pid = serving_pids(cluster, {port}).get(port)
            if pid is not None and pid not in pinned:
                pinned[pid] = conn
            if len(pinned) == len(workers):
                break
        assert len(pinned) == len(workers), "200 connections never reached every worker"
        yield list(pinned.values())
    finally:
        for conn in opened:
            conn.close()


def _call(conn: http.client.HTTPConnection, method: str, path: str, headers: dict[str, str]) -> int:
    conn.request(method, path, headers=headers)
    resp = conn.getresponse()
    resp.read()
    return resp.status


def test_an_acl_change_through_one_worker_is_seen_by_the_other_at_once(
    cluster: Cluster, tester: Auth, worker_conns: list[http.client.HTTPConnection]
) -> None:
    """Fails if a worker answers from container info it kept after another worker changed it
    (the near cache's shared generation not reaching it): worker two would still refuse the
    now-public object, then still serve it once it is private again."""
    one, two = worker_conns[:2]
    auth = {"X-Auth-Token": tester.token}
    container = f"{tester.path}/near-{uuid.uuid4().hex[:8]}"
    obj = f"{container}/o"
    assert _call(one, "PUT", container, auth) in (201, 202)
    assert _call(one, "PUT", obj, {**auth, "Content-Length": "0"}) == 201
    assert _call(one, "GET", obj, {}) == 401  # both workers now hold the private info
    assert _call(two, "GET", obj, {}) == 401
    assert _call(one, "POST", container, {**auth, "X-Container-Read": ".r:*"}) == 204
    assert _call(two, "GET", obj, {}) == 200
    assert _call(one, "GET", obj, {}) == 200
    assert _call(two, "POST", container, {**auth, "X-Container-Read": ""}) == 204
    assert _call(one, "GET", obj, {}) == 401
    assert _call(two, "GET", obj, {}) == 401
