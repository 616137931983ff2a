"""One all-in-one cluster of real processes for the whole functional session.

With ``SWIFTLITE_FUNCTIONAL_MULTIHOST=1`` the session runs instead against four loopback
"machines" each started with ``swiftlite-init start all`` (``tests/support/multihost.py``).
"""

from __future__ import annotations

import os

import pytest

from tests.support.cluster import Cluster
from tests.support.multihost import MultiHost


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    if os.environ.get("SWIFTLITE_FUNCTIONAL_MULTIHOST"):
        hosts = MultiHost(str(tmp_path_factory.mktemp("multihost")))
        hosts.build()
        try:
            hosts.start()
        except BaseException:
            hosts.stop()
            raise
        c: Cluster = hosts.cluster()
    else:
        c = Cluster.start(str(tmp_path_factory.mktemp("aio")))
    yield c
    c.stop()


@pytest.fixture(scope="session")
def tester(cluster: Cluster):
    return cluster.auth("test:tester", "testing")


# A cluster with three storage policies: gold (0, default, 3 replicas), silver (1, 2 replicas,
# on all but each node's last device) and bronze (2, deprecated). Started only when asked for.
POLICIES_CONF = """[swift-hash]
swift_hash_path_prefix = policies-prefix
swift_hash_path_suffix = policies-suffix

[storage-policy:0]
name = gold
aliases = Policy-0, yellow
default = yes

[storage-policy:1]
name = silver

[storage-policy:2]
name = bronze
deprecated = yes
"""


@pytest.fixture(scope="session")
def policy_cluster(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("aio-policies")
    (root / "etc").mkdir()
    (root / "etc" / "swiftlite.conf").write_text(POLICIES_CONF)  # start keeps an existing one
    c = Cluster.start(str(root), policies=2)
    yield c
    c.stop()
