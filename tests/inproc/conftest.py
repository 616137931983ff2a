"""Fixtures for the in-process layer: one cluster per module, started and stopped for real."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.support.inproc import InprocCluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InprocCluster]:
    """A bare proxy (no auth) over 3 object, container and account servers."""
    found = InprocCluster(tmp_path_factory.mktemp("inproc")).start()
    try:
        yield found
    finally:
        found.stop_all()


@pytest.fixture
def container(cluster: InprocCluster) -> str:
    """A fresh container path ``/v1/AUTH_test/<random>`` that exists."""
    path = f"/v1/AUTH_test/c-{uuid.uuid4().hex[:12]}"
    resp = cluster.request("PUT", path)
    assert resp.status == 201, resp
    return path


@pytest.fixture(scope="module")
def piped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InprocCluster]:
    """The whole sample pipeline (etc/proxy-server.conf: tempauth and every filter) over 3
    object, container and account servers; one fresh cluster per module."""
    found = InprocCluster(tmp_path_factory.mktemp("pipeline"), pipeline=True).start()
    try:
        yield found
    finally:
        found.stop_all()
