"""The reserved namespace (names starting with NUL) cannot be reached from a client."""

from __future__ import annotations

import socket
import uuid

import pytest

from tests.support.cluster import Auth, Cluster


def _raw(cluster: Cluster, method: str, raw_path: bytes, token: str) -> tuple[int, bytes]:
    """Send ``raw_path`` byte for byte (http.client refuses control characters in URLs)."""
    with socket.create_connection(cluster.proxy, timeout=30) as sock:
        sock.sendall(
            method.encode()
            + b" "
            + raw_path
            + b" HTTP/1.1\r\nHost: x\r\nX-Auth-Token: "
            + token.encode()
            + b"\r\nX-Backend-Allow-Reserved-Names: true\r\nContent-Length: 0\r\n"
            b"Connection: close\r\n\r\n"
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


@pytest.mark.parametrize(
    "suffix",
    [
        "/%00versions%00c",
        "/%00versions%00c/o",
        "/c/%00o%00123",
        "/%00x",
    ],
)
@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
def test_encoded_reserved_name_is_412_even_with_allow_header(
    cluster: Cluster, tester: Auth, suffix: str, method: str
) -> None:
    status, body = _raw(cluster, method, f"{tester.path}{suffix}".encode(), tester.token)
    assert status == 412
    if method != "HEAD":
        assert b"NULL" in body


@pytest.mark.parametrize("suffix", [b"/\x00versions\x00c", b"/c/\x00o"])
def test_raw_nul_in_path_is_412(cluster: Cluster, tester: Auth, suffix: bytes) -> None:
    status, _ = _raw(cluster, "GET", tester.path.encode() + suffix, tester.token)
    assert status == 412


def test_listing_marker_or_prefix_with_nul_is_refused(cluster: Cluster, tester: Auth) -> None:
    c = f"res-{uuid.uuid4().hex[:8]}"
    headers = {"X-Auth-Token": tester.token}
    assert cluster.request("PUT", f"{tester.path}/{c}", headers)[0] == 201
    status, _, _ = cluster.request("GET", f"{tester.path}/{c}?prefix=%00", headers)
    assert status == 400
    status, _, _ = cluster.request("GET", f"{tester.path}?marker=%00versions", headers)
    assert status == 400
