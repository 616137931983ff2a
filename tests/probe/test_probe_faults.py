"""Probe: the fault matrix. Under a journaling load on a 4-node aio, one fault per scenario;
then every daemon once (replicators twice), and the journal must hold: each acknowledged PUT
reads back byte-exact from a fresh proxy, each acknowledged DELETE is 404, the listing equals
the objects, every primary holds its replica, and client errors fall inside the fault window.

``SWIFTLITE_FAULT_SECONDS`` sets the load's length per scenario (default 6; the documented long
run uses 60). The figures of each scenario are printed; ``docs/reliability.md`` has a table.
"""

from __future__ import annotations

import os
import shutil

import pytest

from tests.support import fault_inject, fault_matrix
from tests.support.cluster import Cluster
from tests.support.fault_inject import SCENARIOS, Scenario

SECONDS = float(os.environ.get("SWIFTLITE_FAULT_SECONDS", "6"))
FULL_NODE, FULL_DEVICE = 4, "d41"  # the device on a small file system of its own
ROWS: list[str] = []


@pytest.fixture(scope="module")
def matrix(tmp_path_factory: pytest.TempPathFactory):
    if shutil.which("rsync") is None:
        pytest.skip("rsync is not installed (Debian package rsync): replication needs it")
    root = str(tmp_path_factory.mktemp("faults"))
    small = os.path.join(root, "srv", f"node{FULL_NODE}", FULL_DEVICE)
    mounted = fault_inject.mount_small_fs(small)
    try:
        c = Cluster.start(root, nodes=4, daemons=False, part_power=4)
        try:
            yield c, (c.plan.nodes[FULL_NODE - 1].ip, FULL_DEVICE) if mounted else None
        finally:
            c.stop()
    finally:
        if mounted:
            fault_inject.unmount_small_fs(small)
    print("\n" + fault_matrix.TABLE_HEAD)
    for row in ROWS:
        print(row)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_fault_under_load_loses_no_acknowledged_write(
    matrix: tuple[Cluster, tuple[str, str] | None], scenario: Scenario
) -> None:
    cluster, full_device = matrix
    if scenario.needs_full_device and full_device is None:
        pytest.skip("needs root to mount a small tmpfs as one device")
    fig = fault_matrix.run_scenario(cluster, scenario, SECONDS, full_device)
    ROWS.append(fig.row())
    print(
        f"\n{scenario.name}: {fig.ops} ops ({fig.acked_puts} PUT, {fig.acked_posts} POST,"
        f" {fig.acked_deletes} DELETE acknowledged), {fig.errors} errors"
        f" ({len(fig.errors_outside)} outside the fault window), p50/p99"
        f" {fig.p50_ms:.0f}/{fig.p99_ms:.0f} ms; replicas bad before repair"
        f" {fig.bad_replicas_before}, repaired {fig.repaired}; {'; '.join(fig.notes)};"
        f" repair {fig.timings['daemons']:.0f} s; replicator passes that reported a failure:"
        f" {', '.join(fig.replication_failures) or 'none'}; damage found by a daemon pass:"
        f" {', '.join(fig.damage_found) or 'none'}"
    )
    assert not fig.wrong_reads, fig.wrong_reads[:10]
    assert not fig.listing_mismatch, fig.listing_mismatch[:10]
    assert not fig.bad_replicas_after, fig.bad_replicas_after[:10]
    assert not fig.errors_outside, fig.errors_outside[:10]
    assert min(fig.acked_puts, fig.acked_deletes, fig.acked_posts) > 0, "the load did too little"
