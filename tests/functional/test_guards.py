"""ratelimit, name_check, etag_quoter, read_only and list_endpoints on a real cluster.

The module starts its own all-in-one cluster (2 proxy workers and memcached, as the aio
runs) from a copy of ``etc/`` whose pipeline has every guard filter in it and whose ratelimit
section limits object writes and listings in a container of at least one object to
``RATE``/s, with a ``MAX_SLEEP`` of 2 s. The rate test holds keep-alive connections on both
proxy workers (seen in /proc: which worker process owns the server side of each connection)
and counts the listings that finish in a fixed window: listings, because a shared 2-core
machine may not reach many times ``RATE`` object writes a second, and the test first shows
that the same load runs well above ``RATE`` where no limit applies.
"""

from __future__ import annotations

import configparser
import http.client
import json
import os
import shutil
import threading
import time
import urllib.parse
import uuid
from collections.abc import Iterator

import pytest

from swiftlite.aio import render
from tests.support.cluster import Auth, Cluster
from tests.support.proxy_workers import serving_pids

RATE = 5.0
MAX_SLEEP = 2.0
WINDOW = 4.0
PIPELINE = (
    "catch_errors gatekeeper healthcheck name_check proxy_logging cache etag_quoter "
    "list_endpoints ratelimit tempauth read_only copy container_quotas account_quotas slo dlo "
    "versioned_writes object_versioning symlink proxy_logging proxy-server"
)


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _h(auth: Auth, **extra: str) -> dict[str, str]:
    return {"X-Auth-Token": auth.token, **{k.replace("_", "-"): v for k, v in extra.items()}}


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    etc = tmp_path_factory.mktemp("guard-etc")
    for name in os.listdir(render.templates_dir()):
        src = os.path.join(render.templates_dir(), name)
        if os.path.isfile(src):
            shutil.copy(src, etc / name)
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read(etc / "proxy-server.conf")
    parser.set("pipeline:main", "pipeline", PIPELINE)
    parser.set("filter:ratelimit", "container_ratelimit_1", str(RATE))
    parser.set("filter:ratelimit", "container_listing_ratelimit_1", str(RATE))
    parser.set("filter:ratelimit", "max_sleep_time_seconds", str(MAX_SLEEP))
    with open(etc / "proxy-server.conf", "w", encoding="utf-8") as fh:
        parser.write(fh)
    old = os.environ.get(render.ETC_ENV)
    os.environ[render.ETC_ENV] = str(etc)
    try:
        c = Cluster.start(str(tmp_path_factory.mktemp("guard-aio")))
    finally:
        if old is None:
            os.environ.pop(render.ETC_ENV, None)
        else:
            os.environ[render.ETC_ENV] = old
    yield c
    c.stop()


@pytest.fixture(scope="module")
def user(guarded: Cluster) -> Auth:
    return guarded.auth("test:tester", "testing")


@pytest.fixture(scope="module")
def reseller(guarded: Cluster) -> Auth:
    return guarded.auth("admin:admin", "admin")


def _connections_on_both_workers(
    guarded: Cluster, wanted: int = 8
) -> list[http.client.HTTPConnection]:
    """``wanted`` kept-alive connections that, together, reach at least two proxy workers."""
    conns: list[http.client.HTTPConnection] = []
    for _ in range(40):
        conn = guarded.conn()
        conn.request("GET", "/healthcheck")
        conn.getresponse().read()
        conns.append(conn)
        if len(conns) < wanted:
            continue
        owners = serving_pids(guarded, {c.sock.getsockname()[1] for c in conns if c.sock})
        if len(set(owners.values())) < 2:
            continue
        # exactly ``wanted`` of them, the newest (on a worker the others missed) among them:
        # more connections would queue past MAX_SLEEP and turn the sleeps into 498s
        for extra in conns[wanted - 1 : -1]:
            extra.close()
        return conns[: wanted - 1] + conns[-1:]
    pytest.fail("40 connections all landed on one proxy worker")


def _limited_container(guarded: Cluster, auth: Auth) -> str:
    """A container whose cached info shows one object, so its writes and listings are limited."""
    c = f"{auth.path}/{_name('rl')}"
    assert guarded.request("PUT", c, _h(auth))[0] == 201
    assert guarded.request("PUT", f"{c}/first", _h(auth), b"x")[0] == 201
    assert guarded.request("POST", c, _h(auth))[0] == 204  # forget the cached empty container
    return c


def _hammer(
    conns: list[http.client.HTTPConnection], auth: Auth, c: str, seconds: float
) -> list[int]:
    """PUT tiny objects on every connection for ``seconds``; statuses that finished in time."""
    deadline = time.monotonic() + seconds
    done: list[int] = []
    lock = threading.Lock()

    def run(index: int, conn: http.client.HTTPConnection) -> None:
        while time.monotonic() < deadline:
            path = urllib.parse.quote(c) + "?format=json&limit=1"
            conn.request("GET", path, headers={"X-Auth-Token": auth.token})
            resp = conn.getresponse()
            resp.read()
            if time.monotonic() < deadline:
                with lock:
                    done.append(resp.status)

    threads = [threading.Thread(target=run, args=(i, conn)) for i, conn in enumerate(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 30)
    return done


def test_ratelimit_two_workers_share_one_budget_in_memcached(guarded: Cluster, user: Auth) -> None:
    conns = _connections_on_both_workers(guarded)
    try:
        free = f"{user.path}/{_name('free')}"  # empty when first looked up: not limited
        assert guarded.request("PUT", free, _h(user))[0] == 201
        baseline = _hammer(conns, user, free, 1.5)
        assert set(baseline) == {200}
        assert len(baseline) / 1.5 > 2 * RATE, f"cluster too slow to show a limit: {len(baseline)}"
        limited = _limited_container(guarded, user)
        # Book the listing counter once first. On a key that is idle (or missing) every request
        # that reads it before the first reset lands passes at once (Swift's rule too), so 8
        # connections starting together let up to 7 extra requests through: 37 of 30 in CI.
        assert guarded.request("GET", limited, _h(user))[0] == 200
        statuses = _hammer(conns, user, limited, WINDOW)
    finally:
        for conn in conns:
            conn.close()
    assert set(statuses) == {200}
    expected = RATE * WINDOW
    assert abs(len(statuses) - expected) <= 0.2 * expected, (len(statuses), expected)
    with open(os.path.join(guarded.plan.log_dir, "proxy-server.log"), encoding="utf-8") as fh:
        assert "ratelimit: counters in memcached" in fh.read()


def test_ratelimit_past_max_sleep_is_498_slow_down(guarded: Cluster, user: Auth) -> None:
    c = _limited_container(guarded, user)
    # Book the write counter first, as the listing test does: on an idle key every PUT of the
    # burst that reads it before the first reset lands passes at once (21 of 40 in CI, where
    # about 10 fit the budget), so the count would measure that race, not the limit.
    assert guarded.request("PUT", f"{c}/booked", _h(user), b"x")[0] == 201
    results: list[tuple[int, bytes]] = []
    sent_at: list[float] = []
    lock = threading.Lock()
    start = threading.Event()

    def one(i: int) -> None:
        conn = guarded.conn()
        try:
            conn.connect()  # connected before the burst, so the PUTs arrive close together
            start.wait()
            sent = time.monotonic()
            conn.request("PUT", f"{c}/burst-{i}", body=b"x", headers={"X-Auth-Token": user.token})
            resp = conn.getresponse()
            with lock:
                results.append((resp.status, resp.read()))
                sent_at.append(sent)
        finally:
            conn.close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(40)]
    for t in threads:
        t.start()
    start.set()
    for t in threads:
        t.join(timeout=60)
    ok = [r for r in results if r[0] == 201]
    slow = [r for r in results if r[0] == 498]
    assert len(results) == 40
    assert len(ok) + len(slow) == 40
    # slots 1/RATE apart: about RATE * MAX_SLEEP requests fit, plus RATE per second that the
    # burst's sending spread over (a busy machine spreads it), and the rest, which would wait
    # MAX_SLEEP or more, are 498
    spread = max(sent_at) - min(sent_at)
    most = RATE * (MAX_SLEEP + spread) * 1.5
    assert RATE * MAX_SLEEP * 0.75 <= len(ok) <= most, (len(ok), spread)
    assert len(slow) >= 10
    assert {body for _, body in slow} == {b"Slow down"}


# -- name_check ----------------------------------------------------------------------------------
@pytest.mark.parametrize("obj", ["o%27quote", "o%3Cscript%3E", "a/./b", "a/../b", "x" * 300])
def test_name_check_refuses_bad_names(guarded: Cluster, user: Auth, obj: str) -> None:
    conn = guarded.conn()
    try:
        conn.request("PUT", f"{user.path}/c/{obj}", body=b"x", headers=_h(user))
        resp = conn.getresponse()
        body = resp.read()
    finally:
        conn.close()
    assert resp.status == 400
    assert body.startswith(b"Object/Container name")


# -- etag_quoter ---------------------------------------------------------------------------------
def test_etag_quoted_where_the_container_asks(guarded: Cluster, user: Auth) -> None:
    quoted = f"{user.path}/{_name('eq')}"
    bare = f"{user.path}/{_name('eqbare')}"
    assert (
        guarded.request("PUT", quoted, _h(user, X_Container_Rfc_Compliant_Etags="true"))[0] == 201
    )
    assert guarded.request("PUT", bare, _h(user))[0] == 201
    status, headers, _ = guarded.request("PUT", f"{quoted}/o", _h(user), b"hello")
    assert status == 201
    assert headers["etag"] == '"5d41402abc4b2a76b9719d911017c592"'
    _, headers, _ = guarded.request("GET", f"{quoted}/o", _h(user))
    assert headers["etag"] == '"5d41402abc4b2a76b9719d911017c592"'
    _, headers, _ = guarded.request("HEAD", quoted, _h(user))
    assert headers["x-container-rfc-compliant-etags"] == "true"
    guarded.request("PUT", f"{bare}/o", _h(user), b"hello")
    _, headers, _ = guarded.request("HEAD", f"{bare}/o", _h(user))
    assert headers["etag"] == "5d41402abc4b2a76b9719d911017c592"


# -- read_only -----------------------------------------------------------------------------------
def test_reseller_makes_one_account_read_only_and_lifts_it(
    guarded: Cluster, user: Auth, reseller: Auth
) -> None:
    c = f"{user.path}/{_name('ro')}"
    assert guarded.request("PUT", c, _h(user))[0] == 201
    assert guarded.request("PUT", f"{c}/o", _h(user), b"x")[0] == 201
    # the account's owner may not set the flag
    assert guarded.request("POST", user.path, _h(user, X_Account_Read_Only="true"))[0] == 403
    assert guarded.request("POST", user.path, _h(reseller, X_Account_Read_Only="maybe"))[0] == 400
    try:
        assert (
            guarded.request("POST", user.path, _h(reseller, X_Account_Read_Only="true"))[0] == 204
        )
        for method, path in (
            ("PUT", f"{c}/o2"),
            ("POST", f"{c}/o"),
            ("DELETE", f"{c}/o"),
            ("PUT", f"{user.path}/{_name('ro2')}"),
        ):
            status, _, body = guarded.request(method, path, _h(user), b"")
            assert (status, body) == (405, b"Writes are disabled for this account."), method
        assert guarded.request("GET", f"{c}/o", _h(user))[0] == 200
    finally:
        assert guarded.request("POST", user.path, _h(reseller, X_Account_Read_Only=""))[0] == 204
    assert guarded.request("PUT", f"{c}/o2", _h(user), b"x")[0] == 201


# -- list_endpoints ------------------------------------------------------------------------------
def test_list_endpoints_names_the_object_primaries(guarded: Cluster) -> None:
    status, headers, body = guarded.request("GET", "/endpoints/v2/AUTH_test/c/o%20x")
    assert status == 200
    assert headers["content-type"].startswith("application/json")
    got = json.loads(body)
    with guarded.own_conf():
        part, nodes = guarded.ring("object").get_nodes("AUTH_test", "c", "o x")
    assert got["endpoints"] == [
        f"http://{n.ip}:{n.port}/{n.device}/{part}/AUTH_test/c/o%20x" for n in nodes
    ]
    assert got["headers"] == {"X-Backend-Storage-Policy-Index": "0"}
    assert guarded.request("PUT", "/endpoints/v2/AUTH_test")[0] == 405
    assert guarded.request("GET", "/endpoints/v9/AUTH_test")[0] == 400


def test_info_lists_every_guard(guarded: Cluster) -> None:
    info = json.loads(guarded.request("GET", "/info")[2])
    assert info["ratelimit"]["container_ratelimits"] == [[1, RATE]]
    assert info["ratelimit"]["max_sleep_time_seconds"] == MAX_SLEEP
    assert info["name_check"] == {
        "forbidden_chars": "'\"`<>",
        "maximum_length": 255,
        "forbidden_regexp": r"/\./|/\.\./|/\.$|/\.\.$",
    }
    assert info["etag_quoter"] == {"enable_by_default": False}
    assert info["account_quotas"] == {}
    assert info["container_quotas"] == {}
