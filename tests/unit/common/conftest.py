"""Fixtures shared by the lean HTTP server's tests (``test_http_server_*.py``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.lean_http_client import (
    CLIENT_TIMEOUT,
    KEEPALIVE_TIMEOUT,
    MAX_HEADER_LINE,
    MAX_REQUEST_LINE,
    Server,
    start_server,
    stop_server,
)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[Server]:
    srv = start_server(
        tmp_path_factory.mktemp("lean-http") / "server.log",
        "--client-timeout=10",
        "--keepalive-timeout=10",
        f"--max-request-line={MAX_REQUEST_LINE}",
        f"--max-header-line={MAX_HEADER_LINE}",
    )
    yield srv
    stop_server(srv)


@pytest.fixture(scope="module")
def short_server(tmp_path_factory) -> Iterator[Server]:
    srv = start_server(
        tmp_path_factory.mktemp("lean-http-short") / "server.log",
        f"--client-timeout={CLIENT_TIMEOUT}",
        f"--keepalive-timeout={KEEPALIVE_TIMEOUT}",
    )
    yield srv
    stop_server(srv)
