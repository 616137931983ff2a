"""UpdateBatcher: concurrent container updates to one replica travel together."""

from __future__ import annotations

import json
from dataclasses import dataclass

from swiftlite.common import green
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


def put_headers(n: int) -> dict[str, str]:
    return updates.put_headers(Timestamp(1000 + n), n, "text/plain", f"etag{n}", None)


def run_writers(batcher: UpdateBatcher, recorder: Recorder, count: int) -> list:
    results: list = [None] * count

    def writer(i: int) -> None:
        results[i] = batcher.send("PUT", f"/a/c/o{i}", put_headers(i), PLAN)

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
    assert batcher.send("DELETE", "/a/c/o", {"X-Timestamp": "1.00000"}, PLAN) == list(PLAN.targets)
    # and the queue is free for the next writer
    assert batcher.send("DELETE", "/a/c/o", {"X-Timestamp": "2.00000"}, PLAN) == list(PLAN.targets)
