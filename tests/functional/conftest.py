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
