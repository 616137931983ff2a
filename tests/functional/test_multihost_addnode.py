"""Adding a fourth storage machine to the multi-host cluster under steady load.

The cluster of ``tests/support/multihost`` (its own, as this test changes the rings). With the
bench's load generator running rounds of GETs and PUTs through the proxy, the operator starts a
new machine on 127.0.0.5 with ``swiftlite-init start all``, adds its devices to every builder
with ``swiftlite-ring-builder``, rebalances and copies the new ring files to every machine.
No client request fails; after the replicators run once on every storage machine,
``swiftlite-dispersion-report`` finds every replica of its samples where the new rings say.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import subprocess
import sys
import threading

import pytest

from bench import loadgen
from swiftlite.aio.plan import KINDS
from tests.support.cluster import Auth
from tests.support.multihost import DEVICES, Machine, MultiHost, MultiHostCluster
from tests.support.wait import wait_until

BIN = os.path.dirname(sys.executable)
NEW_IP = "127.0.0.5"
REPLICATORS = ("object-replicator", "container-replicator", "account-replicator")

pytestmark = pytest.mark.skipif(not shutil.which("rsync"), reason="replication needs rsync")


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory):
    hosts = MultiHost(str(tmp_path_factory.mktemp("multihost-add")))
    hosts.build()
    try:
        hosts.start()
        yield hosts
    finally:
        hosts.stop()


@pytest.fixture(scope="module")
def mh(hosts: MultiHost) -> MultiHostCluster:
    return hosts.cluster()  # type: ignore[return-value]


@pytest.fixture(scope="module")
def user(mh: MultiHostCluster) -> Auth:
    return mh.auth()


def _dispersion(mh: MultiHostCluster, hosts: MultiHost, *extra: str) -> dict:  # type: ignore[type-arg]
    """``swiftlite-dispersion-report --json`` run from the proxy machine, with its rings."""
    argv = [os.path.join(BIN, "swiftlite-dispersion-report"), "--swift-dir", hosts.proxy.etc]
    argv += ["--auth-url", mh.auth_url, "--coverage", "10", "--json", *extra]
    env = {**os.environ, "SWIFTLITE_CONF": os.path.join(hosts.proxy.etc, "swiftlite.conf")}
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode in (0, 1), done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _ring_builder(*args: str) -> subprocess.CompletedProcess[str]:
    argv = [os.path.join(BIN, "swiftlite-ring-builder"), *args]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def _add_to_rings(hosts: MultiHost, machine: Machine) -> None:
    """What the operator does: add the devices, rebalance, copy the rings to every machine."""
    staging = os.path.join(hosts.base, "operator")
    for kind in KINDS:
        builder = os.path.join(staging, f"{kind}.builder")
        devices = [f"r1z4-{machine.ip}:{hosts.port_of(kind)}/{device}" for device in DEVICES]
        done = _ring_builder(builder, "add", *(arg for dev in devices for arg in (dev, "100")))
        assert done.returncode == 0, done.stdout + done.stderr
        # The first rings were built moments ago; their min_part_hours has not passed.
        assert _ring_builder(builder, "pretend_min_part_hours_passed").returncode == 0
        done = _ring_builder(builder, "rebalance", "--seed", "2")
        assert done.returncode == 0, done.stdout + done.stderr
    for target in hosts.machines:
        for kind in KINDS:
            new = os.path.join(target.etc, f"{kind}.ring.gz.new")
            shutil.copy(os.path.join(staging, f"{kind}.ring.gz"), new)  # what scp would do
            os.replace(new, os.path.join(target.etc, f"{kind}.ring.gz"))


def _settled(report: dict) -> bool:  # type: ignore[type-arg]
    return all(report[kind]["pct_found"] == 100.0 for kind in ("container", "object"))


def test_adding_a_node_under_load_has_no_client_error_and_disperses(mh, hosts, user) -> None:
    placed = _dispersion(mh, hosts)  # places the samples with the three-machine rings
    assert _settled(placed), placed
    token = {"X-Auth-Token": user.token}
    assert mh.request("PUT", f"{user.path}/load", token)[0] == 201
    for i in range(20):
        assert mh.request("PUT", f"{user.path}/load/o{i}", token, b"x" * 1024)[0] == 201
    job = loadgen.Job(
        name="add-node",
        host=mh.plan.proxy_ip,
        port=mh.plan.proxy_port,
        ops=(
            loadgen.Op("GET", f"{user.path}/load/o", spread=20),
            loadgen.Op("PUT", f"{user.path}/load/new-", body=b"y" * 512),
        ),
        pattern=(0, 0, 0, 1),
        count=200,  # one round; rounds repeat until the new machine holds its share
        connections=6,
        headers=(("X-Auth-Token", user.token),),
        max_seconds=60.0,  # a round not done by then counts its missing requests as errors
    )
    rounds: list[loadgen.RunResult] = []
    done = threading.Event()

    def steady_load() -> None:
        while not done.is_set():
            rounds.append(loadgen.run_python(job))

    load = threading.Thread(target=steady_load)
    load.start()
    reports = []
    try:
        wait_until(lambda: rounds, timeout=60, what="a first round of load")
        new = hosts.add_storage(NEW_IP)
        _add_to_rings(hosts, new)
        for _ in range(3):  # a pass moves what it can; a second one only finishes the rest
            for machine in hosts.storage:
                machine.init("once", *REPLICATORS, timeout=120)
            reports.append(_dispersion(mh, hosts, "--no-populate"))
            if _settled(reports[-1]):
                break
        count = len(rounds)
        wait_until(lambda: len(rounds) > count, timeout=60, what="a round after the change")
    finally:
        done.set()
        load.join()
    requests = sum(r.requests for r in rounds)
    errors = sum(r.errors for r in rounds)
    statuses = {code for r in rounds for code in r.statuses}
    assert requests >= 400
    assert errors == 0, [r.to_dict() for r in rounds if r.errors]
    assert statuses <= {"200", "201"}
    assert _settled(reports[-1]), reports
    assert reports[-1]["object"]["samples"] == placed["object"]["samples"]
    assert reports[-1]["container"]["samples"] == placed["container"]["samples"]
    for kind in ("objects", "containers"):
        assert glob.glob(os.path.join(new.srv, "*", kind, "*")), f"no {kind} on {new.name}"
