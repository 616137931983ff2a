"""Log lines the proxy and the object servers write under faults hold the object's name
escaped: a name may hold any character but NUL, so a decoded ``%0a`` in it would otherwise end
the line and forge the next one (handoffs, node errors, resumes, container updates)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator

import pytest

from tests.support.inproc import InprocCluster

FORGED = "o\n2030-01-01 00:00:00 proxy-server ERROR forged line\r\x1b[31m"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InprocCluster]:
    options = {"sorting_method": "none", "node_timeout": "1", "log_level": "INFO"}
    found = InprocCluster(
        tmp_path_factory.mktemp("loglines"), devices_per_server=2, proxy_options=options
    ).start()
    try:
        yield found
    finally:
        found.stop_all()


@pytest.fixture
def box(cluster: InprocCluster) -> Iterator[str]:
    path = f"/v1/AUTH_test/log-{uuid.uuid4().hex[:12]}"
    assert cluster.request("PUT", path).status == 201
    yield path
    for kind in ("object", "container"):
        for i, backend in enumerate(cluster.backends[kind]):
            if not backend.running:
                cluster.restart(kind, i)
    cluster.proxy_app.limiter.clear()


def _primary(cluster: InprocCluster, path: str, n: int) -> int:
    _v, account, container, obj = path.split("/", 4)[1:]
    node = cluster.ring("object").get_nodes(account, container, obj)[1][n]
    return cluster.backend_of(node).index


def _lines(caplog: pytest.LogCaptureFixture, word: str) -> list[str]:
    found = [r.getMessage() for r in caplog.records if word in r.getMessage()]
    assert found, f"nothing logged about {word!r}: {[r.getMessage() for r in caplog.records]}"
    return found


def _assert_escaped(lines: list[str]) -> None:
    for line in lines:
        for raw in ("\n", "\r", "\x1b"):
            assert raw not in line, repr(line)
        assert "o%0A2030-01-01" in line, line


def test_handoff_and_node_error_lines_escape_a_line_break_in_the_name(cluster, box, caplog):
    path = f"{box}/{FORGED}"
    cluster.stop("object", _primary(cluster, path, 0))
    with caplog.at_level(logging.INFO):
        assert cluster.request("PUT", path, {}, b"body").status == 201
        assert cluster.request("GET", path).status == 200
    _assert_escaped(_lines(caplog, "handoff requested"))
    _assert_escaped(_lines(caplog, "ERROR with Object server"))


def test_too_few_servers_line_escapes_a_line_break_in_the_name(cluster, box, caplog):
    path = f"{box}/{FORGED}"
    for i in range(len(cluster.backends["object"])):
        cluster.stop("object", i)
    with caplog.at_level(logging.INFO):
        assert cluster.request("PUT", path, {}, b"body").status == 503
    _assert_escaped(_lines(caplog, "too few object servers"))


def test_container_update_line_escapes_a_line_break_in_the_name(cluster, box, caplog):
    path = f"{box}/{FORGED}"
    assert cluster.request("PUT", f"{box}/first", {}, b"x").status == 201  # container info cached
    for i in range(len(cluster.backends["container"])):
        cluster.stop("container", i)
    with caplog.at_level(logging.INFO):
        assert cluster.request("PUT", path, {}, b"body").status in (201, 503)
    _assert_escaped(_lines(caplog, "container update"))
