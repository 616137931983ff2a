"""UpdateBatcher: concurrent container updates to one replica travel together."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from swiftlite.common import green
from swiftlite.common.listing_update import ListingUpdate
from swiftlite.common.timestamp import Timestamp
from swiftlite.obj import updates
from swiftlite.obj.update_batch import UpdateBatcher

PLAN = updates.UpdatePlan("7", (updates.Target("127.0.0.1:6201", "sdc"),))


@dataclass
class Answer:
    status: int


class Recorder:
    """A requester that holds its first call until released, and records every call."""

    def __init__(self, status: int = 201) -> None:
        self.calls: list[tuple[str, str, dict, bytes | None]] = []
        self.release = green.Event()
        self.status = status

    def __call__(self, ip, port, method, path, headers, body, conn_timeout, node_timeout):
        self.calls.append((method, path, dict(headers), body))
        if len(self.calls) == 1:
            self.release.wait()
        return Answer(self.status)


def put_update(n: int) -> ListingUpdate:
    return ListingUpdate("PUT", "a", "c", f"o{n}", Timestamp(1000 + n), n, "text/plain", f"etag{n}")


def delete_update(stamp: str) -> ListingUpdate:
    return ListingUpdate("DELETE", "a", "c", "o", Timestamp(stamp))


def run_writers(batcher: UpdateBatcher, recorder: Recorder, count: int) -> list:
    results: list = [None] * count

    def writer(i: int) -> None:
        results[i] = batcher.send(put_update(i), PLAN)

    threads = [green.spawn(writer, 0)]
    while not recorder.calls:  # the first update is on its way (and held there)
        green.sleep(0)
    threads += [green.spawn(writer, i) for i in range(1, count)]
    green.sleep(0)  # the others queue while it is in flight
    recorder.release.send(None)
    for thread in threads:
        thread.wait()
    return results


def test_updates_arriving_during_a_request_go_in_one_update_request() -> None:
    recorder = Recorder()
    batcher = UpdateBatcher(recorder, 1.0, 1.0)
    results = run_writers(batcher, recorder, 5)
    assert results == [[]] * 5
    assert [(m, p) for m, p, _, _ in recorder.calls] == [
        ("PUT", "/sdc/7/a/c/o0"),
        ("UPDATE", "/sdc/7/a/c"),
    ]
    rows = json.loads(recorder.calls[1][3])
    assert [r[0] for r in rows] == ["o1", "o2", "o3", "o4"]
    assert rows[0] == ["o1", Timestamp(1001).internal, 1, "text/plain", "etag1", 0]
    assert recorder.calls[1][2]["X-Timestamp"] == Timestamp(1004).internal
    assert (batcher.requests_sent, batcher.rows_sent) == (2, 5)


def test_a_failed_batch_fails_every_writer_in_it() -> None:
    recorder = Recorder(status=503)
    batcher = UpdateBatcher(recorder, 1.0, 1.0)
    results = run_writers(batcher, recorder, 3)
    assert results == [list(PLAN.targets)] * 3


def test_a_requester_that_raises_fails_its_writers_instead_of_hanging() -> None:
    def broken(*args):
        raise OSError("refused")

    batcher = UpdateBatcher(broken, 1.0, 1.0)
    assert batcher.send(delete_update("1.00000"), PLAN) == list(PLAN.targets)
    # and the queue is free for the next writer
    assert batcher.send(delete_update("2.00000"), PLAN) == list(PLAN.targets)


def test_a_batch_names_its_rows_policy_and_policies_do_not_share_a_batch() -> None:
    recorder = Recorder()
    batcher = UpdateBatcher(recorder, 1.0, 1.0)
    results: list = []

    def writer(n: int, policy: int) -> None:
        results.append(batcher.send(replace(put_update(n), policy=policy), PLAN))

    first = green.spawn(writer, 0, 1)
    while not recorder.calls:
        green.sleep(0)
    others = [green.spawn(writer, n, 1 if n < 3 else 2) for n in range(1, 5)]
    green.sleep(0)
    recorder.release.send(None)
    for thread in [first, *others]:
        thread.wait()
    assert results == [[]] * 5
    told: dict[str, list[str]] = {}
    for method, path, headers, body in recorder.calls:
        rows = json.loads(body) if method == "UPDATE" else [[path.rsplit("/", 1)[1]]]
        told.setdefault(headers["X-Backend-Storage-Policy-Index"], []).extend(r[0] for r in rows)
    assert {k: sorted(v) for k, v in told.items()} == {"1": ["o0", "o1", "o2"], "2": ["o3", "o4"]}
    assert "UPDATE" in [method for method, _, _, _ in recorder.calls]
