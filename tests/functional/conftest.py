"""One all-in-one cluster of real processes for the whole functional session."""

from __future__ import annotations

import pytest

from tests.support.cluster import Cluster


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    c = Cluster.start(str(tmp_path_factory.mktemp("aio")))
    yield c
    c.stop()


@pytest.fixture(scope="session")
def tester(cluster: Cluster):
    return cluster.auth("test:tester", "testing")
