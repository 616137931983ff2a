"""``swiftlite-aio start --policies 2`` builds gold (3 replicas, default) and silver (2 replicas)
with their rings; without the flag the cluster keeps one policy. The processes are not started:
``cluster.start`` is replaced by the part of it that writes configs and rings."""

from __future__ import annotations

import os

import pytest

from swiftlite.aio import cli, cluster
from swiftlite.aio.render import build_rings, write_cluster_conf
from swiftlite.common import config, policies
from swiftlite.ring import Ring


@pytest.fixture
def built(monkeypatch):
    plans = []

    def start(plan):
        write_cluster_conf(plan)
        monkeypatch.setenv(config.CONF_ENV, plan.swiftlite_conf)
        build_rings(plan)
        plans.append(plan)

    monkeypatch.setattr(cluster, "start", start)
    monkeypatch.setattr(cli, "_print_welcome", lambda plan: None)
    return plans


def _start(root, *extra):
    return cli.main(["start", "--root", str(root), "--part-power", "6", *extra])


def test_start_with_policies_2_builds_gold_and_silver_rings(tmp_path, built):
    assert _start(tmp_path / "two", "--policies", "2") == 0
    [plan] = built
    pols = policies.load()
    assert [(p.idx, p.name, p.is_default, p.policy_type) for p in pols] == [
        (0, "gold", True, "replication"),
        (1, "silver", False, "replication"),
    ]
    assert Ring(os.path.join(plan.etc_dir, "object.ring.gz")).replica_count == 3
    assert Ring(os.path.join(plan.etc_dir, "object-1.ring.gz")).replica_count == 2


def test_start_without_the_flag_keeps_one_policy(tmp_path, built):
    assert _start(tmp_path / "one") == 0
    [plan] = built
    assert [p.name for p in policies.load()] == ["Policy-0"]
    assert os.path.exists(os.path.join(plan.etc_dir, "object.ring.gz"))
    assert not os.path.exists(os.path.join(plan.etc_dir, "object-1.ring.gz"))


def test_start_with_policies_3_is_a_usage_error(tmp_path, built, capsys):
    assert _start(tmp_path / "three", "--policies", "3") == 2
    assert built == []
    assert "policies must be 1 or 2" in capsys.readouterr().err
