from __future__ import annotations

import logging

from webob import Request, Response

from swiftlite.common import errors
from swiftlite.common.storage_app import StorageServer
from swiftlite.common.timestamp import Timestamp


class Demo(StorageServer):
    allowed_methods = frozenset({"GET", "PUT"})

    def GET(self, req):
        kind = req.params.get("raise")
        if kind == "deleted":
            raise errors.Deleted(Timestamp(12.5))
        if kind == "full":
            raise errors.DiskFull("no space")
        if kind == "boom":
            raise RuntimeError("secret detail")
        if kind == "device":
            self.device_path("sdx")
        return Response(body=b"ok")

    def PUT(self, req):
        raise errors.BadName("Invalid UTF8 or contains NULL")


def _app(tmp_path, mount_check=False):
    return Demo(str(tmp_path), mount_check, logging.getLogger("test.storage_app"))


def test_deleted_is_404_with_backend_timestamp(tmp_path) -> None:
    resp = Request.blank("/?raise=deleted").get_response(_app(tmp_path))
    assert resp.status_int == 404
    assert resp.headers["X-Backend-Timestamp"] == "0000000012.50000"


def test_disk_full_is_507(tmp_path) -> None:
    assert Request.blank("/?raise=full").get_response(_app(tmp_path)).status_int == 507


def test_unexpected_error_is_500_without_traceback(tmp_path) -> None:
    resp = Request.blank("/?raise=boom").get_response(_app(tmp_path))
    assert resp.status_int == 500
    assert b"secret" not in resp.body
    assert b"Traceback" not in resp.body


def test_bad_name_is_412_with_message(tmp_path) -> None:
    resp = Request.blank("/", method="PUT").get_response(_app(tmp_path))
    assert resp.status_int == 412
    assert b"Invalid UTF8" in resp.body


def test_unknown_verb_is_405_with_allow(tmp_path) -> None:
    resp = Request.blank("/", method="PATCH").get_response(_app(tmp_path))
    assert resp.status_int == 405
    assert resp.headers["Allow"] == "GET, PUT"


def test_missing_device_is_507(tmp_path) -> None:
    resp = Request.blank("/?raise=device").get_response(_app(tmp_path))
    assert resp.status_int == 507


def test_unmounted_device_is_507_with_mount_check(tmp_path) -> None:
    (tmp_path / "sdx").mkdir()
    assert Request.blank("/?raise=device").get_response(_app(tmp_path)).status_int == 200
    resp = Request.blank("/?raise=device").get_response(_app(tmp_path, mount_check=True))
    assert resp.status_int == 507


def test_log_requests_writes_one_access_line_per_request(tmp_path, caplog) -> None:
    logger = logging.getLogger("test.storage_app.access")
    app = Demo(str(tmp_path), False, logger, log_requests=True)
    with caplog.at_level(logging.INFO, logger="test.storage_app.access"):
        Request.blank("/x?raise=full", headers={"X-Trans-Id": "tx9"}).get_response(app)
    (line,) = [r.getMessage() for r in caplog.records]
    fields = line.split(" ")
    assert fields[1:4] == ["GET", "/x", "507"]
    assert fields[7] == "tx9"


def test_access_log_is_off_by_default(tmp_path, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="test.storage_app"):
        Request.blank("/").get_response(_app(tmp_path))
    assert caplog.records == []


def test_access_log_of_a_path_not_utf8_is_not_a_500(tmp_path, caplog) -> None:
    logger = logging.getLogger("test.storage_app.access")
    app = Demo(str(tmp_path), False, logger, log_requests=True)
    req = Request.blank("/")
    req.environ["PATH_INFO"] = "/sdb1/0/a/c/\xff"  # the WSGI form of the raw byte 0xff
    req.method = "PUT"
    with caplog.at_level(logging.INFO, logger="test.storage_app.access"):
        resp = req.get_response(app)
    assert resp.status_int == 412
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.split(" ")[2] == "/sdb1/0/a/c/%FF"  # the raw byte, escaped
