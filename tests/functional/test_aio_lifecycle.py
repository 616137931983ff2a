"""``swiftlite-aio start`` either starts everything or leaves nothing running, and says why.

Real clusters on free ports; every process a test starts is stopped by its recorded pid.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys

import pytest

from swiftlite.aio import cluster, procs, render
from swiftlite.aio.plan import KINDS, ClusterPlan, free_proxy_port, make_plan
from tests.support.cluster import Cluster

AIO = os.path.join(os.path.dirname(sys.executable), "swiftlite-aio")


def _live(plan: ClusterPlan) -> list[str]:
    """Names whose recorded pid is still alive."""
    if not os.path.isdir(plan.run_dir):
        return []
    names = [e[:-4] for e in os.listdir(plan.run_dir) if e.endswith(".pid")]
    return [n for n in names if procs.pid_alive(procs.read_pid(plan.run_dir, n))]


@pytest.fixture
def plan(tmp_path):
    plan = make_plan(str(tmp_path / "aio"), port=free_proxy_port(), nodes=1)
    yield plan
    cluster.stop(plan)


def test_port_in_use_fails_the_start_naming_it_and_starts_nothing(plan) -> None:
    node = plan.nodes[0]
    with socket.socket() as squatter:
        squatter.bind((node.ip, node.object_port))
        squatter.listen()
        with pytest.raises(cluster.ClusterError) as err:
            cluster.start(plan, timeout=30)
    assert f"{node.ip}:{node.object_port} is already in use" in str(err.value)
    assert "node1-object-server" in str(err.value)
    assert _live(plan) == []


@pytest.mark.skipif(shutil.which("memcached") is None, reason="needs memcached")
def test_missing_binary_stops_what_was_already_started(plan) -> None:
    tools = cluster.Tools(memcached=shutil.which("memcached"), rsync="/nonexistent/rsync")
    with pytest.raises(cluster.ClusterError) as err:
        cluster.start(plan, tools=tools, timeout=30)
    assert "node1-rsyncd" in str(err.value)
    assert "/nonexistent/rsync: No such file or directory" in str(err.value)
    assert _live(plan) == []  # memcached, started first, was stopped again


def test_server_that_exits_at_start_is_reported_with_its_reason(
    plan, tmp_path, monkeypatch
) -> None:
    etc = tmp_path / "etc"
    shutil.copytree(render.templates_dir(), etc)
    conf = etc / "object-server.conf"
    conf.write_text(conf.read_text().replace("pipeline = ", "pipeline = nosuchfilter ", 1))
    monkeypatch.setenv(render.ETC_ENV, str(etc))
    with pytest.raises(cluster.ClusterError) as err:
        cluster.start(plan, timeout=30)
    text = str(err.value)
    assert "node1-object-server: exited" in text
    assert "nosuchfilter" in text
    assert _live(plan) == []


def test_status_lists_every_daemon_of_every_node(tmp_path) -> None:
    c = Cluster.start(str(tmp_path / "aio"), nodes=2)
    try:
        done = subprocess.run(
            [AIO, "status", "--root", c.plan.root], capture_output=True, text=True, check=False
        )
        rows = {line.split()[0]: line.split()[1:] for line in done.stdout.splitlines()[1:]}
        for node in (1, 2):
            for kind, daemon in cluster.DAEMONS:
                pid, state = rows[f"node{node}-{kind}-{daemon}"]
                assert procs.pid_alive(int(pid)), (kind, daemon)
                assert state == "running"
            for kind in KINDS:
                assert rows[f"node{node}-{kind}-server"][1] == "healthy"
        assert {d for _, d in cluster.DAEMONS} == {
            "replicator",
            "auditor",
            "updater",
            "expirer",
            "reaper",
        }
        assert done.returncode == 0
    finally:
        c.stop()
