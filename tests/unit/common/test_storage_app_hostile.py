"""The storage servers under hostile backend input: every header is checked before the disk.

Each test sends one request to a real object, container or account app on a temp device (the
apps' own WSGI entry, as their HTTP server calls it) and names the failure it proves absent:
before issue 13, each was a 500 (with a traceback in the log) or a poisoned replica.
"""

from __future__ import annotations

import logging

import pytest
from webob import Request

from swiftlite.account.server import AccountServer, AccountServerOptions
from swiftlite.common.timestamp import Timestamp
from swiftlite.container.server import ContainerServer, ContainerServerOptions
from swiftlite.obj.server import ObjectServer, ObjectServerOptions

SUPERSCRIPT_TWO = "\xc2\xb2"  # WSGI string of the UTF-8 bytes of "²": str.isdigit() says yes
U5605 = "\u5605".encode().decode("latin-1")  # E5 98 85


@pytest.fixture
def devices(tmp_path):
    (tmp_path / "node" / "sda").mkdir(parents=True)
    return str(tmp_path / "node")


@pytest.fixture
def logger(caplog):
    caplog.set_level(logging.INFO, logger="test.hostile")
    return logging.getLogger("test.hostile")


@pytest.fixture
def obj_app(devices, logger):
    options = ObjectServerOptions(
        devices=devices, mount_check=False, log_requests=True, fsync_in_threads=False
    )
    return ObjectServer(options, logger)


@pytest.fixture
def container_app(devices, logger):
    options = ContainerServerOptions(
        devices=devices, mount_check=False, account_update_interval=0, log_requests=True
    )
    return ContainerServer(options, logger=logger)


@pytest.fixture
def account_app(devices, logger):
    options = AccountServerOptions(devices=devices, mount_check=False, log_requests=True)
    return AccountServer(options, logger=logger)


def call(app, method, path_info, headers=None, body=b"", query=""):
    """One request with a raw WSGI PATH_INFO and raw WSGI header values."""
    req = Request.blank("/", method=method, body=body)
    req.environ["PATH_INFO"] = path_info
    req.environ["QUERY_STRING"] = query
    for key, value in (headers or {}).items():
        if key.lower() == "content-type":
            req.environ["CONTENT_TYPE"] = value
        else:
            # as the HTTP server does: upper-case ASCII only (UTF-8 bytes in a name stay)
            wire = key.encode("latin-1").upper().replace(b"-", b"_").decode("latin-1")
            req.environ["HTTP_" + wire] = value
    if not body:
        req.environ.pop("CONTENT_LENGTH", None)
    return req.get_response(app)


def now() -> str:
    return Timestamp.now().internal


def no_traceback(caplog) -> None:
    assert not [r for r in caplog.records if r.exc_info], "traceback logged"


def put_object(app, name="o", headers=None, body=b"data"):
    hdrs = {"X-Timestamp": now(), "Content-Type": "text/plain", **(headers or {})}
    return call(app, "PUT", f"/sda/1/a/c/{name}", hdrs, body)


# --- paths ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["\xff", "\xc0\xaf", "\xed\xa0\x80", "\xc3", "a\x00b"])
@pytest.mark.parametrize("server", ["obj_app", "container_app", "account_app"])
def test_non_utf8_path_is_412_and_logged_escaped_not_500(request, caplog, server, name) -> None:
    app = request.getfixturevalue(server)
    path = {"obj_app": "/sda/1/a/c/", "container_app": "/sda/1/a/", "account_app": "/sda/1/"}
    resp = call(app, "GET", path[server] + name)
    assert resp.status_int == 412
    no_traceback(caplog)
    lines = [r.getMessage() for r in caplog.records]
    assert any(" 412 " in line for line in lines), lines
    assert all("\n" not in line and "\x00" not in line for line in lines)


@pytest.mark.parametrize("server", ["obj_app", "container_app", "account_app"])
def test_non_ascii_digit_partition_is_400_not_500(request, caplog, server) -> None:
    app = request.getfixturevalue(server)
    resp = call(app, "PUT", f"/sda/{SUPERSCRIPT_TWO}/a/c/o", {"X-Timestamp": now()}, b"")
    assert resp.status_int == 400
    no_traceback(caplog)


def test_replicate_with_non_ascii_partition_is_400(obj_app, caplog) -> None:
    assert call(obj_app, "REPLICATE", f"/sda/{SUPERSCRIPT_TWO}").status_int == 400
    no_traceback(caplog)


# --- object server ------------------------------------------------------------------------------


def test_bad_update_override_size_is_400_before_the_object_is_stored(obj_app, caplog) -> None:
    resp = put_object(
        obj_app,
        headers={
            "X-Backend-Container-Update-Override-Size": "abc",
            "X-Container-Host": "127.0.0.1:1",
            "X-Container-Device": "sdb",
            "X-Container-Partition": "0",
        },
    )
    assert resp.status_int == 400
    assert call(obj_app, "HEAD", "/sda/1/a/c/o").status_int == 404
    no_traceback(caplog)


def test_non_ascii_container_partition_is_400(obj_app, caplog) -> None:
    headers = {
        "X-Container-Host": "127.0.0.1:1",
        "X-Container-Device": "sdb",
        "X-Container-Partition": SUPERSCRIPT_TWO,
    }
    assert put_object(obj_app, headers=headers).status_int == 400
    assert call(obj_app, "HEAD", "/sda/1/a/c/o").status_int == 404


@pytest.mark.parametrize("coding", ["gzip, chunked", "chunked, chunked", "gzip"])
def test_put_with_non_chunked_coding_is_refused_not_stored_empty(obj_app, coding) -> None:
    resp = put_object(
        obj_app, headers={"Transfer-Encoding": coding}, body=b"5\r\nhello\r\n0\r\n\r\n"
    )
    assert resp.status_int == 400
    assert call(obj_app, "HEAD", "/sda/1/a/c/o").status_int == 404


@pytest.mark.parametrize("stamp", ["1_-1", "1700000000.5_", "\xd9\xa5", "1e9", "+1700000000"])
def test_lenient_x_timestamp_is_400(obj_app, stamp) -> None:
    resp = put_object(obj_app, headers={"X-Timestamp": stamp})
    assert resp.status_int == 400
    assert call(obj_app, "HEAD", "/sda/1/a/c/o").status_int == 404


def test_x_delete_after_is_clamped_to_ten_digits(obj_app) -> None:
    assert put_object(obj_app, headers={"X-Delete-After": "9" * 100}).status_int == 201
    head = call(obj_app, "HEAD", "/sda/1/a/c/o")
    assert head.headers["X-Delete-At"] == "9999999999"


@pytest.mark.parametrize("value", ["+5", " 5", "5_0", "\xb2"])
def test_lenient_x_delete_after_is_400(obj_app, value) -> None:
    assert put_object(obj_app, headers={"X-Delete-After": value}).status_int == 400


@pytest.mark.parametrize("header", ["bytes=\xb2-3", "bytes=1-\xb3", "bytes=0-" + "5" * 5000])
def test_range_with_bad_digits_is_ignored_not_503(obj_app, caplog, header) -> None:
    assert put_object(obj_app, body=b"0123456789").status_int == 201
    resp = call(obj_app, "GET", "/sda/1/a/c/o", {"Range": header})
    assert resp.status_int == 200
    assert resp.body == b"0123456789"
    no_traceback(caplog)


def test_non_ascii_x_if_delete_at_is_400(obj_app) -> None:
    assert put_object(obj_app).status_int == 201
    resp = call(obj_app, "DELETE", "/sda/1/a/c/o", {"X-Timestamp": now(), "X-If-Delete-At": "\xb2"})
    assert resp.status_int == 400


@pytest.mark.parametrize("name", [U5605, "\xc3\xa9\xc3\xa9\xc3\xa9", "\xc3\x9f", "\xc3\xbf"])
def test_utf8_metadata_name_is_stored_and_returned_byte_exact(obj_app, name) -> None:
    assert put_object(obj_app, headers={"X-Object-Meta-" + name: "v"}).status_int == 201
    head = call(obj_app, "HEAD", "/sda/1/a/c/o")
    names = [k for k, _ in head.headerlist]
    assert "X-Object-Meta-" + name in names, names


def test_metadata_value_ending_in_0x85_is_kept_whole(obj_app) -> None:
    assert put_object(obj_app, headers={"X-Object-Meta-V": "a" + U5605}).status_int == 201
    assert call(obj_app, "HEAD", "/sda/1/a/c/o").headers["X-Object-Meta-V"] == "a" + U5605


# --- container server ---------------------------------------------------------------------------


def _make_container(app) -> None:
    assert call(app, "PUT", "/sda/1/a/c", {"X-Timestamp": now()}).status_int in (201, 202)


@pytest.mark.parametrize("size", ["abc", "\xb2", "1" * 30, "-1", "+1"])
def test_bad_x_size_is_400_and_no_row(container_app, caplog, size) -> None:
    _make_container(container_app)
    headers = {
        "X-Timestamp": now(),
        "X-Size": size,
        "X-Content-Type": "text/plain",
        "X-Etag": "d41d8cd98f00b204e9800998ecf8427e",
    }
    assert call(container_app, "PUT", "/sda/1/a/c/o", headers).status_int == 400
    listing = call(container_app, "GET", "/sda/1/a/c", query="format=json")
    assert listing.status_int in (200, 204)
    assert listing.body in (b"", b"[]")
    no_traceback(caplog)


def test_non_ascii_policy_index_is_400(container_app) -> None:
    headers = {"X-Timestamp": now(), "X-Backend-Storage-Policy-Index": "\xb2"}
    assert call(container_app, "PUT", "/sda/1/a/c", headers).status_int == 400


def test_non_ascii_account_partition_is_400(container_app, caplog) -> None:
    headers = {
        "X-Timestamp": now(),
        "X-Account-Host": "127.0.0.1:1",
        "X-Account-Device": "sdb",
        "X-Account-Partition": SUPERSCRIPT_TWO,
    }
    assert call(container_app, "PUT", "/sda/1/a/c", headers).status_int == 400
    no_traceback(caplog)


def test_listing_limit_of_5000_digits_is_412_not_500(container_app, caplog) -> None:
    _make_container(container_app)
    resp = call(container_app, "GET", "/sda/1/a/c", query="limit=" + "1" * 5000)
    assert resp.status_int == 412
    no_traceback(caplog)


# --- account server -----------------------------------------------------------------------------


def _container_row(app, used: str):
    headers = {
        "X-Put-Timestamp": now(),
        "X-Delete-Timestamp": "0",
        "X-Object-Count": "1",
        "X-Bytes-Used": used,
        "X-Timestamp": now(),
    }
    return call(app, "PUT", "/sda/1/a/c", headers)


@pytest.mark.parametrize("used", ["9" * 30, str(1 << 63), "\xb2", " 5"])
def test_row_too_large_or_not_ascii_is_400_and_account_stays_readable(account_app, used) -> None:
    assert call(account_app, "PUT", "/sda/1/a", {"X-Timestamp": now()}).status_int == 201
    assert _container_row(account_app, used).status_int == 400
    assert call(account_app, "GET", "/sda/1/a", query="format=json").status_int in (200, 204)
    assert call(account_app, "HEAD", "/sda/1/a").status_int == 204


def test_largest_int64_row_is_accepted_and_read_back(account_app) -> None:
    assert call(account_app, "PUT", "/sda/1/a", {"X-Timestamp": now()}).status_int == 201
    assert _container_row(account_app, str((1 << 63) - 1)).status_int == 201
    head = call(account_app, "HEAD", "/sda/1/a")
    assert head.headers["X-Account-Bytes-Used"] == str((1 << 63) - 1)


def test_utf8_account_metadata_name_is_stored_byte_exact(account_app) -> None:
    headers = {"X-Timestamp": now(), "X-Account-Meta-" + U5605: "v"}
    assert call(account_app, "PUT", "/sda/1/a", headers).status_int == 201
    head = call(account_app, "HEAD", "/sda/1/a")
    assert "X-Account-Meta-" + U5605 in [k for k, _ in head.headerlist]


class _BrokenChunks:
    def read(self, *args):
        from swiftlite.common.http.reader import ChunkError

        raise ChunkError("bad chunk size b'0x5'")


def test_broken_chunked_body_of_an_update_is_400_not_500(container_app, caplog) -> None:
    _make_container(container_app)
    req = Request.blank("/sda/1/a/c", method="UPDATE", headers={"X-Timestamp": now()})
    req.environ["wsgi.input"] = _BrokenChunks()
    req.environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    req.environ.pop("CONTENT_LENGTH", None)
    assert req.get_response(container_app).status_int == 400
    no_traceback(caplog)
