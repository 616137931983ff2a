"""swiftlite-object-info: metadata, ring placement and the ETag check of an object file."""

from __future__ import annotations

import logging
import os

import pytest
from webob import Request

from swiftlite.cli.info import object_main
from swiftlite.common.timestamp import Timestamp
from swiftlite.obj.server import ObjectServer, ObjectServerOptions
from swiftlite.ring.builder import RingBuilder


@pytest.fixture
def data_file(tmp_path):
    devices = tmp_path / "node"
    (devices / "sda").mkdir(parents=True)
    app = ObjectServer(
        ObjectServerOptions(devices=str(devices), mount_check=False, log_requests=False),
        logging.getLogger("test.info"),
    )
    req = Request.blank("/sda/9/AUTH_a/c/caf%C3%A9", method="PUT", body=b"object body")
    req.headers.update(
        {
            "X-Timestamp": Timestamp.now().internal,
            "Content-Type": "text/plain",
            "X-Object-Meta-Color": "bl\u00c3\u00bc",
            "X-Object-Sysmeta-Thing": "s",
        }
    )
    assert req.get_response(app).status_int == 201
    [path] = [
        os.path.join(d, f)
        for d, _, fs in os.walk(devices / "sda" / "objects")
        for f in fs
        if f.endswith(".data")
    ]
    return path


def test_info_prints_metadata_and_valid_etag(data_file, tmp_path, capsys) -> None:
    assert object_main([data_file, "--swift-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Path: /AUTH_a/c/caf\u00e9" in out
    assert "  Object: caf\u00e9" in out
    assert "Content-Type: text/plain" in out
    assert "X-Object-Meta-Color: bl\u00fc" in out  # wire bytes shown as UTF-8 text
    assert "X-Object-Sysmeta-Thing: s" in out
    assert "MD5 matches ETag" in out
    assert "placement skipped" in out


def test_info_flags_content_that_does_not_match_etag(data_file, capsys) -> None:
    with open(data_file, "r+b") as fh:
        fh.write(b"O")
    assert object_main([data_file]) == 1
    assert "does NOT match" in capsys.readouterr().out


def test_info_on_file_without_metadata_fails(tmp_path, capsys) -> None:
    plain = tmp_path / "plain.data"
    plain.write_bytes(b"x")
    assert object_main([str(plain)]) == 1
    assert "no metadata" in capsys.readouterr().err


def test_info_on_missing_file_fails(tmp_path, capsys) -> None:
    assert object_main([str(tmp_path / "nope.data")]) == 1


def test_info_shows_ring_placement(data_file, tmp_path, capsys) -> None:
    builder = RingBuilder(4, 1, 1)
    builder.add_dev(
        {"region": 1, "zone": 1, "ip": "127.0.0.9", "port": 6200, "device": "sda", "weight": 1.0}
    )
    builder.rebalance(seed=1)
    builder.write_ring(str(tmp_path / "object.ring.gz"))
    assert object_main([data_file, "--swift-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Partition:" in out
    assert "Primary: 127.0.0.9:6200/sda" in out
