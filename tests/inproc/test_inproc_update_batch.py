"""Concurrent object writes: their container updates travel in batches and none is lost."""

from __future__ import annotations

import json
import threading

from tests.support.inproc import InprocCluster


def test_concurrent_puts_and_deletes_are_all_listed_through_batched_updates(
    cluster: InprocCluster, container: str
) -> None:
    batchers = [b.faults.app.notifier.batcher for b in cluster.backends["object"]]  # type: ignore[union-attr]
    before = sum(b.requests_sent for b in batchers), sum(b.rows_sent for b in batchers)
    names = [f"o{i:03d}-\u00e9" for i in range(120)]
    statuses: list[int] = []

    def writer(mine: list[str], method: str) -> None:
        for name in mine:
            statuses.append(cluster.request(method, f"{container}/{name}", {}, b"x").status)

    def run(method: str, which: list[str]) -> None:
        threads = [threading.Thread(target=writer, args=(which[k::24], method)) for k in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)

    run("PUT", names)
    listed = json.loads(cluster.request("GET", f"{container}?format=json").body)
    assert [row["name"] for row in listed] == names
    run("DELETE", names[::2])
    listed = json.loads(cluster.request("GET", f"{container}?format=json").body)
    assert [row["name"] for row in listed] == names[1::2]
    assert set(statuses) == {201, 204}
    requests = sum(b.requests_sent for b in batchers) - before[0]
    rows = sum(b.rows_sent for b in batchers) - before[1]
    assert rows == 3 * (len(names) + len(names[::2]))  # every replica told of every write
    assert requests < rows  # and some of them shared a request


def test_clients_cannot_send_rows_through_the_proxy(cluster: InprocCluster, container: str) -> None:
    rows = json.dumps([["forged", "1700000000.00000", 1, "t/t", "e", 0]]).encode()
    resp = cluster.request("UPDATE", container, {"Content-Type": "application/json"}, rows)
    assert resp.status == 405
    assert json.loads(cluster.request("GET", f"{container}?format=json").body or b"[]") == []
