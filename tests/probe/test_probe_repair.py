"""Probe: a node that missed writes, a wiped device, and rotted bytes all come back whole.

These tests run in order on one 4-node cluster: each leaves the cluster converged for the next,
and the last checks the dispersion report after all of them.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess

import pytest

from swiftlite.aio import cluster as aio_cluster
from tests.support.cluster import Cluster

ACCOUNT = "AUTH_test"
CONTAINER = "probe-repair"


def _body(name: str) -> bytes:
    return (name * 50).encode()


def _replicate(c: Cluster) -> None:
    for kind in ("object", "container", "account"):
        c.run_once(kind, "replicator")


def _dispersion(c: Cluster, *extra: str) -> dict:  # type: ignore[type-arg]
    argv = [
        aio_cluster._script("swiftlite-dispersion-report"),
        "--swift-dir",
        c.plan.etc_dir,
        "--auth-url",
        c.auth_url,
        "--coverage",
        "5",
        "--json",
        *extra,
    ]
    done = subprocess.run(
        argv,
        env=aio_cluster.process_env(c.plan),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.stdout, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def names(probe: Cluster) -> dict[str, list[str]]:
    """Dispersion samples placed on a healthy cluster; then 200 objects PUT while node 2 was
    down, and 20 of them DELETEd, also while it was down."""
    placed = _dispersion(probe)
    assert placed["object"]["pct_found"] == 100.0, placed
    auth = probe.auth()
    h = {"X-Auth-Token": auth.token}
    assert probe.request("PUT", f"{auth.path}/{CONTAINER}", h)[0] == 201
    probe.stop_node(2)
    live = [f"obj-{i:03d}" for i in range(200)]
    for name in live:
        status = probe.request("PUT", f"{auth.path}/{CONTAINER}/{name}", h, _body(name))[0]
        assert status == 201, (name, status)
    deleted = live[::10]
    for name in deleted:
        assert probe.request("DELETE", f"{auth.path}/{CONTAINER}/{name}", h)[0] == 204
    probe.start_missing()
    return {"live": [n for n in live if n not in deleted], "deleted": deleted}


def _check_exact(c: Cluster, names: dict[str, list[str]]) -> int:
    """Every primary holds exactly one newest file of the right kind; no handoff holds any."""
    checked = 0
    for state, suffix in (("live", ".data"), ("deleted", ".ts")):
        for name in names[state]:
            primaries = set(c.primaries("object", ACCOUNT, CONTAINER, name))
            dirs = c.object_dirs(ACCOUNT, CONTAINER, name)
            for place in primaries:
                assert place in dirs, f"{name} ({state}) missing on primary {place}"
                files = dirs[place]
                assert len(files) == 1, f"{name} on {place} holds {files}"
                assert files[0].endswith(suffix), f"{name} on {place} holds {files}"
                checked += 1
            extra = set(dirs) - primaries
            assert not extra, f"{name} still on handoffs {sorted(extra)}"
    return checked


def test_node_down_during_writes_converges_after_one_replication_pass(
    probe: Cluster, names: dict[str, list[str]]
) -> None:
    _replicate(probe)
    checked = _check_exact(probe, names)
    auth = probe.auth()
    listing = probe.json(f"{auth.path}/{CONTAINER}", auth.token)
    assert [r["name"] for r in listing] == names["live"]  # type: ignore[index,union-attr]
    print(
        f"probe 1: {checked} primary replicas exact (180 .data, 20 .ts x 3), no handoff copies,"
        " listing exact"
    )


def test_wiped_device_is_restored_by_replication(
    probe: Cluster, names: dict[str, list[str]]
) -> None:
    ip, device = probe.all_devices()[4]  # a device of node 3
    root = probe.device_path(ip, device)
    expected = [
        n for n in names["live"] if (ip, device) in probe.primaries("object", ACCOUNT, CONTAINER, n)
    ]
    assert expected, "the wiped device should be a primary for some objects"
    for entry in os.listdir(root):
        shutil.rmtree(os.path.join(root, entry))
    _replicate(probe)
    for name in expected:
        files = probe.object_dirs(ACCOUNT, CONTAINER, name).get((ip, device))
        assert files is not None, f"{name} not restored on {ip}/{device}"
        assert files[0].endswith(".data")
    _check_exact(probe, names)
    print(f"probe 2: wiped {ip}/{device}; {len(expected)} objects restored on it by one pass")


def test_flipped_byte_is_quarantined_and_restored(
    probe: Cluster, names: dict[str, list[str]]
) -> None:
    name = names["live"][7]
    ip, device = probe.primaries("object", ACCOUNT, CONTAINER, name)[0]
    dirs = probe.object_dirs(ACCOUNT, CONTAINER, name)
    data_name = dirs[(ip, device)][0]
    from swiftlite.common.hashing import hash_path, suffix_of

    with probe.own_conf():
        name_hash = hash_path(ACCOUNT, CONTAINER, name)
        part = probe.ring("object").get_part(ACCOUNT, CONTAINER, name)
    path = os.path.join(
        probe.device_path(ip, device),
        "objects",
        str(part),
        suffix_of(name_hash),
        name_hash,
        data_name,
    )
    with open(path, "r+b") as fh:
        first = fh.read(1)
        fh.seek(0)
        fh.write(bytes([first[0] ^ 0xFF]))
    node = next(n.index for n in probe.plan.nodes if n.ip == ip)
    probe.run_once("object", "auditor", [node])
    quarantined = os.path.join(probe.device_path(ip, device), "quarantined", "objects", name_hash)
    assert os.path.isdir(quarantined), "the auditor did not quarantine the rotten file"
    assert not os.path.exists(path)
    probe.run_once("object", "replicator")
    with open(path, "rb") as fh:
        assert (
            hashlib.md5(fh.read(len(_body(name)))).hexdigest()
            == hashlib.md5(_body(name)).hexdigest()
        )
    auth = probe.auth()
    status, _, body = probe.request(
        "GET", f"{auth.path}/{CONTAINER}/{name}", {"X-Auth-Token": auth.token}
    )
    assert (status, hashlib.md5(body).hexdigest()) == (200, hashlib.md5(_body(name)).hexdigest())
    print(f"probe 3: flipped a byte of {name} on {ip}/{device}: quarantined, restored, GET md5 ok")


def test_dispersion_report_finds_every_replica(probe: Cluster, names: dict[str, list[str]]) -> None:
    """The samples placed before probes 1-3 are all where the rings say, after the repairs."""
    report = _dispersion(probe, "--no-populate")
    assert report["object"]["pct_found"] == 100.0, report
    assert report["container"]["pct_found"] == 100.0, report
    assert report["object"]["samples"] >= 10
    print(
        f"probe 7: dispersion {report['object']['samples']} objects and "
        f"{report['container']['samples']} containers sampled, 100% of replicas found"
    )


def test_recon_summarises_every_node_after_repairs(
    probe: Cluster, names: dict[str, list[str]]
) -> None:
    argv = [aio_cluster._script("swiftlite-recon"), "--swift-dir", probe.plan.etc_dir, "--all"]
    done = subprocess.run(
        argv,
        env=aio_cluster.process_env(probe.plan),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    hosts = 3 * len(probe.plan.nodes)  # account, container and object server per node
    assert f"[ring md5] {hosts}/{hosts} hosts matched, 0 error(s)" in out, out
    assert "[object replication pass time (s)]" in out
    assert f"reported: {len(probe.plan.nodes)}" in out.split("[object replication pass time")[1]
    assert "[async_pending]" in out
    assert "quarantined_objects" in out
    print(
        "recon: every server answered; ring md5s match on all "
        f"{hosts}; replication pass times reported by all {len(probe.plan.nodes)} nodes"
    )
