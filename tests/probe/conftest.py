"""A 4-node cluster of real processes per probe module; daemons run only when a test says."""

from __future__ import annotations

import shutil

import pytest

from tests.support.cluster import Cluster


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory):
    if shutil.which("rsync") is None:
        pytest.skip("rsync is not installed (Debian package rsync): replication needs it")
    c = Cluster.start(str(tmp_path_factory.mktemp("probe")), nodes=4, daemons=False)
    yield c
    c.stop()
