from __future__ import annotations

import configparser
from pathlib import Path

from swiftlite.aio.render import render_config


def test_default_override_also_replaces_section_values(tmp_path) -> None:
    template = tmp_path / "t.conf"
    template.write_text(
        "[DEFAULT]\nbind_port = 1\n[app:x]\nuse = egg:swiftlite#object\ndevices = /old\n"
        "[filter:y]\nuse = egg:swiftlite#healthcheck\n"
    )
    text = render_config(
        str(template),
        {
            "DEFAULT": {"devices": "/new", "bind_port": "6200"},
            "filter:cache": {"memcache_servers": "127.0.0.1:1"},
        },
    )
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(text)
    assert parser.get("DEFAULT", "bind_port") == "6200"
    assert parser.get("app:x", "devices") == "/new"
    assert parser.get("app:x", "use") == "egg:swiftlite#object"
    assert parser.get("filter:cache", "memcache_servers") == "127.0.0.1:1"


def test_two_policies_write_policy_sections_and_a_ring_each(tmp_path, monkeypatch) -> None:
    import os

    import pytest

    from swiftlite.aio.plan import make_plan
    from swiftlite.aio.render import build_rings, write_cluster_conf
    from swiftlite.common import config, policies
    from swiftlite.ring import Ring

    plan = make_plan(str(tmp_path), port=9000, part_power=6, policies=2)
    write_cluster_conf(plan)
    monkeypatch.setenv(config.CONF_ENV, plan.swiftlite_conf)
    build_rings(plan)
    pols = policies.load()
    assert [(p.idx, p.name, p.is_default) for p in pols] == [
        (0, "gold", True),
        (1, "silver", False),
    ]
    gold = Ring(os.path.join(plan.etc_dir, "object.ring.gz"))
    silver = Ring(os.path.join(plan.etc_dir, "object-1.ring.gz"))
    assert gold.replica_count == 3
    assert silver.replica_count == 2
    assert {d.device for d in gold.devs if d} == {"d1", "d2", "d3", "d4"}
    assert {d.device for d in silver.devs if d} == {"d1", "d2", "d3"}
    one = make_plan(str(tmp_path / "one"), port=9100, part_power=6)
    write_cluster_conf(one)
    monkeypatch.setenv(config.CONF_ENV, one.swiftlite_conf)
    build_rings(one)
    assert not os.path.exists(os.path.join(one.etc_dir, "object-1.ring.gz"))
    assert "storage-policy" not in Path(one.swiftlite_conf).read_text()
    with pytest.raises(ValueError, match="silver"):
        make_plan(str(tmp_path / "x"), port=9200, nodes=1, devices=2, replicas=2, policies=2)
