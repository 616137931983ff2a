"""Object expirer: an entry that cannot be settled is retried until its delete-at time is
``reclaim_age`` old, then dropped instead of being retried forever."""

from __future__ import annotations

import os
import time

import pytest
from objdaemon_helpers import Net, quiet_logger

from swiftlite.common import config, hashing
from swiftlite.obj import layout
from swiftlite.obj.expirer import ObjectExpirer, ObjectExpirerOptions

# a day ahead: computed at collection, it must still be in the future when a long suite gets here
WHEN = int(time.time()) + 86400
WEEK = 604800


@pytest.fixture
def net(tmp_path):
    net = Net(tmp_path, nodes=4, containers=True)
    net.make_container()
    return net


def expirer(net: Net, port: int, now: float, **overrides) -> ObjectExpirer:
    options = ObjectExpirerOptions(
        devices=str(net.devices(port)),
        mount_check=False,
        swift_dir=str(net.swift_dir),
        recon_cache_path=str(net.root / "recon"),
        tasks_per_second=0,
        **overrides,
    )
    return ObjectExpirer(options, quiet_logger("expirer"), net.request, clock=lambda: now)


def entry_path(net: Net, port: int) -> str:
    return layout.expiry_entry_path(net.dev_path(port), WHEN, hashing.hash_path("a", "c", "o"))


def test_entry_unsettled_past_reclaim_age_is_dropped_not_retried_forever(net) -> None:
    _, primaries = net.placement("o")
    net.put(primaries, "o", b"soon gone", headers={"X-Delete-At": str(WHEN)})
    path = entry_path(net, primaries[0])
    assert os.path.exists(path)
    net.down.add(primaries[2])  # a primary that never comes back

    young = expirer(net, primaries[0], now=WHEN + WEEK - 1).run_once()
    assert (young["failures"], young["reclaimed"]) == (1, 0)
    assert os.path.exists(path)  # within reclaim_age: kept for the next pass

    old = expirer(net, primaries[0], now=WHEN + WEEK + 1).run_once()
    assert (old["failures"], old["reclaimed"], old["finished"]) == (0, 1, 0)
    assert not os.path.exists(path)
    assert net.get(primaries[1], "o").status == 404  # the reachable primaries were still tried
    assert expirer(net, primaries[0], now=WHEN + WEEK + 2).run_once()["entries"] == 0


def test_reclaim_age_option_shortens_the_retry_window(net) -> None:
    _, primaries = net.placement("o")
    net.put(primaries, "o", b"soon gone", headers={"X-Delete-At": str(WHEN)})
    net.down.add(primaries[0])
    summary = expirer(net, primaries[1], now=WHEN + 61, reclaim_age=60).run_once()
    assert summary["reclaimed"] == 1
    assert not os.path.exists(entry_path(net, primaries[1]))


def test_reclaim_age_parses_from_config_with_swift_default() -> None:
    assert ObjectExpirerOptions().reclaim_age == WEEK
    parsed = config.parse_options(ObjectExpirerOptions, {"reclaim_age": "3600"}, where="x")
    assert parsed.reclaim_age == 3600
