"""Many writers at once into one container: no lost row and never "database is locked"."""

from __future__ import annotations

import json
import logging
import multiprocessing
import urllib.parse

from webob import Request

from swiftlite.common import green
from swiftlite.common.timestamp import Timestamp
from swiftlite.container.server import ContainerServer, ContainerServerOptions


def make_server(devices):
    options = ContainerServerOptions(
        devices=devices, mount_check=False, account_update_interval=0, log_requests=False
    )
    return ContainerServer(options, logger=logging.getLogger("test.container"))


def send(app, method, path, headers=None, query=""):
    url = "/sda/0/" + urllib.parse.quote(path) + (f"?{query}" if query else "")
    return Request.blank(url, method=method, headers=headers or {}).get_response(app)


def update(app, name, ts, size=1):
    headers = {
        "X-Timestamp": Timestamp(ts).internal,
        "X-Size": str(size),
        "X-Content-Type": "text/plain",
        "X-Etag": "e",
    }
    return send(app, "PUT", f"a/c/{name}", headers).status_int


def listed_names(app):
    resp = send(app, "GET", "a/c", query="format=json")
    assert resp.status_int == 200
    return [r["name"] for r in json.loads(resp.body)]


def test_many_green_threads_updating_and_listing_lose_nothing(devices):
    app = make_server(devices)
    assert send(app, "PUT", "a/c", {"X-Timestamp": "1"}).status_int == 201
    statuses = []

    def writer(w):
        for i in range(40):
            statuses.append(update(app, f"g{w:02d}/o{i:03d}", 1000 + i))
            if i % 10 == 0:
                green.sleep(0)  # interleave with the other writers and the readers

    def reader():
        for _ in range(20):
            statuses.append(send(app, "HEAD", "a/c").status_int)
            green.sleep(0)

    pool = green.GreenPool(60)
    for w in range(50):
        pool.spawn_n(writer, w)
    for _ in range(5):
        pool.spawn_n(reader)
    pool.waitall()
    assert set(statuses) <= {201, 204}
    names = listed_names(app)
    assert len(names) == 2000
    assert names == sorted(f"g{w:02d}/o{i:03d}" for w in range(50) for i in range(40))


def _process_writer(devices, worker, count, queue):
    app = make_server(devices)
    bad = []
    for i in range(count):
        status = update(app, f"p{worker}/o{i:04d}", 2000 + i, size=worker + 1)
        if status != 201:
            bad.append(status)
        if i % 50 == 0:  # reads merge the journal while the others append
            head = send(app, "HEAD", "a/c")
            if head.status_int != 204:
                bad.append(head.status_int)
    queue.put(bad)


def test_many_processes_updating_one_container_lose_nothing(devices):
    app = make_server(devices)
    assert send(app, "PUT", "a/c", {"X-Timestamp": "1"}).status_int == 201
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    workers, per = 4, 400
    procs = [
        ctx.Process(target=_process_writer, args=(devices, w, per, queue)) for w in range(workers)
    ]
    for p in procs:
        p.start()
    problems = [queue.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert problems == [[]] * workers  # no 500 (database is locked) and no other failure
    head = send(app, "HEAD", "a/c")
    assert head.headers["X-Container-Object-Count"] == str(workers * per)
    assert head.headers["X-Container-Bytes-Used"] == str(sum((w + 1) * per for w in range(workers)))
    assert len(listed_names(app)) == workers * per


def test_same_updates_from_two_processes_in_opposite_order_agree(devices):
    """Duplicated, reordered deliveries (as async retries cause) converge on the newest row."""
    app = make_server(devices)
    send(app, "PUT", "a/c", {"X-Timestamp": "1"})
    events = [(f"o{i % 25}", 3000 + i, i) for i in range(200)]
    ctx = multiprocessing.get_context("fork")

    def deliver(order):
        local = make_server(devices)
        for name, ts, size in order:
            update(local, name, ts, size)

    procs = [ctx.Process(target=deliver, args=(seq,)) for seq in (events, events[::-1])]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
        assert p.exitcode == 0
    rows = json.loads(send(app, "GET", "a/c", query="format=json").body)
    assert {r["name"]: r["bytes"] for r in rows} == {f"o{k}": 175 + k for k in range(25)}
