"""bulk: bulk delete and extract-archive over a recording stub of the pipeline below."""

from __future__ import annotations

import io
import json
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest
from webob import Request

from swiftlite.common import registry
from swiftlite.middleware import bulk, bulk_extract
from swiftlite.middleware.bulk_delete import parse_names
from swiftlite.middleware.bulk_extract import pax_headers, place
from swiftlite.middleware.bulk_response import Heartbeat, response_body, response_format
from tests.support.archive import tar_bytes

TOKEN = {"X-Auth-Token": "AUTH_tk"}


class Stub:
    """The rest of the pipeline: records each call; ``answer(method, path)`` picks statuses."""

    def __init__(self, answer: Callable[[str, str], int] | None = None) -> None:
        self.calls: list[dict[str, Any]] = []
        self.answer = answer or (lambda method, path: 204 if method == "DELETE" else 201)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ["PATH_INFO"].encode("latin-1").decode("utf-8")
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {k[5:]: v for k, v in environ.items() if k.startswith("HTTP_")}
        method = environ["REQUEST_METHOD"]
        self.calls.append(
            {"method": method, "path": path, "body": body, "headers": headers, "env": environ}
        )
        status = self.answer(method, path) if "HTTP_X_AUTH_TOKEN" in environ else 401
        start_response(f"{status} X", [("Content-Length", "0")])
        return [b""]


def _filter(stub: Stub, clock: Callable[[], float] | None = None, **conf: str) -> Any:
    opts = {"delete_concurrency": "1", **conf}
    make = bulk.filter_factory({}, **opts)
    app = make(stub)
    if clock is not None:
        app.clock = clock
    return app


def _run(app: Any, req: Request) -> tuple[int, bytes]:
    resp = req.get_response(app)
    return resp.status_int, resp.body


def _delete(names: list[str] | bytes, accept: str = "application/json", **kw: Any) -> Request:
    body = names if isinstance(names, bytes) else "".join(n + "\n" for n in names).encode()
    headers = {**TOKEN, "Accept": accept, "Content-Type": "text/plain", **kw}
    return Request.blank("/v1/AUTH_t?bulk-delete", method="POST", headers=headers, body=body)


def _extract(path: str, body: bytes, kind: str = "tar", **headers: str) -> Request:
    return Request.blank(
        f"{path}?extract-archive={kind}",
        method="PUT",
        headers={**TOKEN, "Accept": "application/json", **headers},
        body=body,
    )


# -- registration ----------------------------------------------------------------------------
def test_info_lists_bulk_delete_and_bulk_upload_with_swifts_keys() -> None:
    bulk.filter_factory({})
    info = registry.registered()
    assert info["bulk_delete"] == {"max_deletes_per_request": 10000, "max_failed_deletes": 1000}
    assert info["bulk_upload"] == {
        "max_containers_per_extraction": 10000,
        "max_failed_extractions": 1000,
    }


def test_other_requests_pass_through_untouched() -> None:
    stub = Stub()
    app = _filter(stub)
    req = Request.blank("/v1/AUTH_t", method="POST", headers=TOKEN)
    assert _run(app, req)[0] == 201
    assert stub.calls[0]["path"] == "/v1/AUTH_t"
    # a GET with the query, and a PUT with bulk-delete, are not bulk operations
    _run(app, Request.blank("/v1/AUTH_t?bulk-delete", headers=TOKEN))
    _run(app, Request.blank("/v1/AUTH_t/c?bulk-delete", method="PUT", headers=TOKEN))
    assert [c["method"] for c in stub.calls] == ["POST", "GET", "PUT"]


# -- bulk delete -----------------------------------------------------------------------------
def test_bulk_delete_deletes_objects_before_containers_with_the_callers_token() -> None:
    stub = Stub(lambda m, p: 404 if p.endswith("gone") else 204)
    app = _filter(stub)
    names = ["/c", "/c/o%20one", "c/\u00e9t\u00e9".encode().hex(), "/c/gone", ""]
    names[2] = urllib.parse.quote("/c/\u00e9t\u00e9")
    status, body = _run(app, _delete(names))
    assert status == 200
    result = json.loads(body)
    assert result == {
        "Number Deleted": 3,
        "Number Not Found": 1,
        "Response Status": "200 OK",
        "Response Body": "",
        "Errors": [],
    }
    paths = [c["path"] for c in stub.calls]
    objects = ["/v1/AUTH_t/c/o one", "/v1/AUTH_t/c/\u00e9t\u00e9", "/v1/AUTH_t/c/gone"]
    assert paths == [*objects, "/v1/AUTH_t/c"]
    assert all(c["headers"]["X_AUTH_TOKEN"] == TOKEN["X-Auth-Token"] for c in stub.calls)
    assert all(c["env"]["swiftlite.source"] == "BD" for c in stub.calls)
    assert all(c["headers"]["USER_AGENT"].endswith("BulkDelete") for c in stub.calls)


def test_a_forbidden_item_is_reported_and_the_others_are_deleted() -> None:
    stub = Stub(lambda m, p: 403 if "/secret/" in p else 204)
    _, body = _run(_filter(stub), _delete(["/pub/a", "/secret/b", "/pub/c"]))
    result = json.loads(body)
    assert result["Number Deleted"] == 2
    assert result["Response Status"] == "400 Bad Request"
    assert result["Errors"] == [["/secret/b", "403 X"]]


def test_a_server_error_item_makes_the_status_502_and_401_is_named() -> None:
    stub = Stub(lambda m, p: 503 if p.endswith("/a") else 204)
    result = json.loads(_run(_filter(stub), _delete(["/c/a", "/c/b"]))[1])
    assert result["Response Status"] == "502 Bad Gateway"
    assert result["Errors"] == [["/c/a", "503 X"]]
    anonymous = _delete(["/c/a"])
    del anonymous.headers["X-Auth-Token"]
    result = json.loads(_run(_filter(Stub()), anonymous)[1])
    assert result["Errors"] == [["/c/a", "401 Unauthorized"]]


def test_lines_that_are_not_utf8_or_hold_nul_are_412_items() -> None:
    stub = Stub()
    body = b"/c/ok\n/c/\xff\xfe\n/c/%FF\n/c/a%00b\n"
    result = json.loads(_run(_filter(stub), _delete(body))[1])
    assert result["Number Deleted"] == 1
    assert result["Errors"] == [
        ["/c/%FF%FE", "412 Precondition Failed"],
        ["/c/%FF", "412 Precondition Failed"],
        ["/c/a%00b", "412 Precondition Failed"],
    ]
    assert [c["path"] for c in stub.calls] == ["/v1/AUTH_t/c/ok"]


def test_too_many_lines_is_413_and_nothing_is_deleted() -> None:
    stub = Stub()
    app = _filter(stub, max_deletes_per_request="3")
    result = json.loads(_run(app, _delete(["/c/1", "/c/2", "/c/3", "/c/4"]))[1])
    assert result["Response Status"] == "413 Request Entity Too Large"
    assert result["Response Body"] == "Maximum Bulk Deletes: 3 per request"
    assert stub.calls == []


def test_an_over_long_line_is_invalid_file_name() -> None:
    stub = Stub()
    status, body = _run(_filter(stub), _delete(b"/c/" + b"x" * 10000 + b"\n/c/o\n"))
    assert status == 200
    result = json.loads(body)
    assert (result["Response Status"], result["Response Body"]) == (
        "400 Bad Request",
        "Invalid File Name",
    )
    assert stub.calls == []


def test_an_empty_list_is_invalid_bulk_delete_and_a_slash_deletes_no_account() -> None:
    stub = Stub()
    result = json.loads(_run(_filter(stub), _delete(b"\n\n"))[1])
    assert (result["Response Status"], result["Response Body"]) == (
        "400 Bad Request",
        "Invalid bulk delete.",
    )
    result = json.loads(_run(_filter(stub), _delete(["/", "//"]))[1])
    assert result["Errors"] == [["/", "400 Bad Request"], ["//", "400 Bad Request"]]
    assert stub.calls == []


def test_wrong_content_type_missing_length_and_unacceptable_accept() -> None:
    stub = Stub()
    req = _delete(["/c/o"], **{"Content-Type": "application/json"})
    assert json.loads(_run(_filter(stub), req)[1])["Response Status"] == "406 Not Acceptable"
    req = _delete(["/c/o"])
    del req.environ["CONTENT_LENGTH"]
    assert json.loads(_run(_filter(stub), req)[1])["Response Status"] == "411 Length Required"
    status, body = _run(_filter(stub), _delete(["/c/o"], accept="image/png"))
    assert status == 200
    assert b"Response Status: 406 Not Acceptable" in body
    assert stub.calls == []


def test_chunked_body_is_read_to_its_end() -> None:
    stub = Stub()
    req = _delete(["/c/a", "/c/b"])
    del req.environ["CONTENT_LENGTH"]
    req.environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    assert json.loads(_run(_filter(stub), req)[1])["Number Deleted"] == 2


def test_max_failed_deletes_stops_the_job() -> None:
    stub = Stub(lambda m, p: 409)
    app = _filter(stub, max_failed_deletes="2")
    result = json.loads(_run(app, _delete(["/a", "/b", "/c", "/d"]))[1])
    assert result["Response Status"] == "400 Bad Request"
    assert result["Response Body"] == "Max delete failures exceeded"
    assert len(stub.calls) == 2


def test_response_formats_plain_and_xml() -> None:
    stub = Stub()
    _, body = _run(_filter(stub), _delete(["/c/o"], accept="text/plain"))
    assert body == (
        b"Number Deleted: 1\nNumber Not Found: 0\nResponse Body: \n"
        b"Response Status: 200 OK\nErrors:\n"
    )
    _, body = _run(_filter(stub), _delete(["/c/o"], accept="application/xml"))
    assert body.startswith(b"<delete>\n<number_deleted>1</number_deleted>\n")
    assert body.endswith(b"<errors>\n</errors>\n</delete>\n")


def test_heartbeats_go_out_between_items_then_a_blank_line_and_the_body() -> None:
    ticks = iter(range(0, 1000, 6))
    stub = Stub()
    app = _filter(stub, clock=lambda: float(next(ticks)), yield_frequency="10")
    resp = _delete(["/c/1", "/c/2", "/c/3", "/c/4"], accept="application/xml").get_response(app)
    chunks = list(resp.app_iter)
    assert chunks[0] == b'<?xml version="1.0" encoding="UTF-8"?>\n'
    assert set(chunks[1:-1]) == {b" "}
    assert chunks[-1].startswith(b"\r\n\r\n<delete>\n")


def test_parse_names_counts_blank_lines_like_swift() -> None:
    reader = io.BytesIO(b"/a\n\n/b").read
    names = parse_names(reader, 10, 100)
    assert [t.name for t in names] == ["/a", "", "/b"]


# -- extract archive -------------------------------------------------------------------------
def test_place_refuses_absolute_and_dot_segments_and_skips_top_level_files() -> None:
    assert place("./c/o", "", 1282).path == "c/o"
    assert place("o", "c", 1282).path == "c/o"
    skipped = place("o", "", 1282)
    assert (skipped.path, skipped.error) == ("", None)
    for bad in ("/etc/passwd", "../x/y", "c/../../y", "c/./o", "c/.."):
        assert place(bad, "", 1282).error == 400, bad
    assert place("../o", "c", 1282).error == 400
    assert place("c/\udcff", "", 1282).error == 412
    assert place("c/", "", 1282).error == 400


def test_pax_records_become_metadata_and_content_type() -> None:
    records = {
        "SCHILY.xattr.user.meta.color": "bl\u00fce",
        "LIBARCHIVE.xattr.user.meta.size": "big",
        "SCHILY.xattr.user.mime_type": "text/x-thing",
        "SCHILY.xattr.user.other": "ignored",
        "mtime": "1.5",
    }
    assert pax_headers(records) == {
        "X-Object-Meta-color": "bl\u00fce".encode().decode("latin-1"),
        "X-Object-Meta-size": "big",
        "Content-Type": "text/x-thing",
    }
    assert pax_headers({"SCHILY.xattr.user.meta.x": "a\r\nX-Evil: 1"}) is None
    assert pax_headers({"SCHILY.xattr.user.meta.a b": "v"}) is None


def test_extract_creates_containers_once_and_puts_each_file_with_metadata() -> None:
    created = set()

    def answer(method: str, path: str) -> int:
        if method == "HEAD":
            return 204 if path in created else 404
        created.add(path)
        return 201

    stub = Stub(answer)
    tar = tar_bytes(
        [
            ("a/one.txt", b"1", {"SCHILY.xattr.user.meta.color": "red"}),
            ("a/d/two.txt", b"22", {}),
            ("b/\u00e9.txt", b"333", {}),
            ("top.txt", b"skipped", {}),
        ],
        mode="w:gz",
    )
    req = _extract("/v1/AUTH_t", tar, "tar.gz", **{"X-Object-Meta-Batch": "7"})
    status, body = _run(_filter(stub), req)
    assert status == 200
    assert json.loads(body) == {
        "Number Files Created": 3,
        "Response Status": "201 Created",
        "Response Body": "",
        "Errors": [],
    }
    calls = [(c["method"], c["path"]) for c in stub.calls]
    assert calls == [
        ("HEAD", "/v1/AUTH_t/a"),
        ("PUT", "/v1/AUTH_t/a"),
        ("PUT", "/v1/AUTH_t/a/one.txt"),
        ("PUT", "/v1/AUTH_t/a/d/two.txt"),
        ("HEAD", "/v1/AUTH_t/b"),
        ("PUT", "/v1/AUTH_t/b"),
        ("PUT", "/v1/AUTH_t/b/\u00e9.txt"),
    ]
    one = stub.calls[2]
    assert one["body"] == b"1"
    assert one["headers"]["X_OBJECT_META_COLOR"] == "red"
    assert one["headers"]["X_OBJECT_META_BATCH"] == "7"
    assert one["env"]["swiftlite.source"] == "EA"
    assert stub.calls[6]["body"] == b"333"


def test_extract_under_a_prefix_and_traversal_is_refused_per_item() -> None:
    stub = Stub(lambda m, p: 204 if m == "HEAD" else 201)
    tar = tar_bytes(
        [
            ("ok.txt", b"ok", {}),
            ("../escape.txt", b"x", {}),
            ("/etc/passwd", b"x", {}),
            ("d/../../up.txt", b"x", {}),
            ("d/fine.txt", b"f", {}),
        ]
    )
    result = json.loads(_run(_filter(stub), _extract("/v1/AUTH_t/c/pre/", tar))[1])
    assert result["Number Files Created"] == 2
    assert result["Response Status"] == "400 Bad Request"
    assert [e[1] for e in result["Errors"]] == ["400 Bad Request"] * 3
    puts = [c["path"] for c in stub.calls if c["method"] == "PUT"]
    assert puts == ["/v1/AUTH_t/c/pre/ok.txt", "/v1/AUTH_t/c/pre/d/fine.txt"]


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"this is not a tar file at all" * 40, "tar"),
        (b"\x1f\x8b\x08\x00garbage-gzip" * 10, "tar.gz"),
        (b"BZh9garbage", "tar.bz2"),
        (b"", "tar.gz"),
    ],
)
def test_garbage_archives_are_400_invalid_tar_file(body: bytes, kind: str) -> None:
    stub = Stub()
    status, text = _run(_filter(stub), _extract("/v1/AUTH_t", body, kind))
    result = json.loads(text)
    assert status == 200
    assert result["Response Status"] == "400 Bad Request"
    assert result["Response Body"].startswith("Invalid Tar File")
    assert not [c for c in stub.calls if c["method"] == "PUT" and "/" in c["path"][11:]]


def test_a_truncated_archive_keeps_what_came_before_and_is_400() -> None:
    stub = Stub(lambda m, p: 204 if m == "HEAD" else 201)
    whole = tar_bytes([("c/a", b"a" * 100, {}), ("c/b", b"b" * 5000, {})])
    cut = whole[: 512 * 4 + 1000]  # pax+header+data of c/a, then c/b's headers and part data
    result = json.loads(_run(_filter(stub), _extract("/v1/AUTH_t", cut))[1])
    assert result["Number Files Created"] == 1
    assert result["Response Status"] == "400 Bad Request"
    assert result["Response Body"] == "Invalid Tar File: unexpected end of data"


def test_a_huge_pax_header_is_refused_before_it_is_buffered() -> None:
    stub = Stub(lambda m, p: 204 if m == "HEAD" else 201)
    tar = tar_bytes([("c/a", b"a", {}), ("c/b", b"b", {"comment": "x" * (2 << 20)})])
    result = json.loads(_run(_filter(stub), _extract("/v1/AUTH_t", tar))[1])
    assert result["Number Files Created"] == 1
    assert result["Response Body"] == "Invalid Tar File: archive header too large"


def test_unsupported_archive_format_is_a_400() -> None:
    resp = _extract("/v1/AUTH_t", b"", "zip").get_response(_filter(Stub()))
    assert (resp.status_int, resp.body) == (400, b"Unsupported archive format")


def test_extract_401_stops_the_job() -> None:
    req = _extract("/v1/AUTH_t", tar_bytes([("c/a", b"a", {}), ("c/b", b"b", {})]))
    del req.headers["X-Auth-Token"]
    stub = Stub()
    result = json.loads(_run(_filter(stub), req)[1])
    assert result["Response Status"] == "401 Unauthorized"
    assert len(stub.calls) == 1  # the container HEAD


def test_files_over_the_size_limit_and_bad_metadata_are_items() -> None:
    stub = Stub(lambda m, p: 204 if m == "HEAD" else 201)
    tar = tar_bytes(
        [("c/big", b"x" * 10, {}), ("c/evil", b"e", {"SCHILY.xattr.user.meta.a": "1\n2"})]
    )
    app = _filter(stub)
    job = bulk_extract.Extract(stub, _extract("/v1/AUTH_t", tar), app.options, app.logger)
    body = b"".join(job.run("application/json", "", 1282, 5))  # max_file_size 5
    result = json.loads(body)
    assert result["Errors"] == [
        ["c/big", "413 Request Entity Too Large"],
        ["c/evil", "400 Bad Request"],
    ]


def test_max_failed_extractions_stops_reading_the_archive() -> None:
    stub = Stub(lambda m, p: 204 if m == "HEAD" else 201)
    tar = tar_bytes([("../1", b"1", {}), ("/2", b"2", {}), ("c/3", b"3", {}), ("c/4", b"4", {})])
    app = _filter(stub, max_failed_extractions="2")
    result = json.loads(_run(app, _extract("/v1/AUTH_t", tar))[1])
    assert len(result["Errors"]) == 2
    assert result["Number Files Created"] == 0
    assert stub.calls == []


def test_max_containers_per_extraction() -> None:
    stub = Stub(lambda m, p: 404 if m == "HEAD" else 201)
    tar = tar_bytes([("a/1", b"1", {}), ("b/1", b"1", {}), ("c/1", b"1", {})])
    app = _filter(stub, max_containers_per_extraction="2")
    result = json.loads(_run(app, _extract("/v1/AUTH_t", tar))[1])
    assert result["Response Status"] == "400 Bad Request"
    assert result["Response Body"] == "More than 2 containers to create from tar."
    assert result["Number Files Created"] == 2


# -- the answer ------------------------------------------------------------------------------
def test_response_body_in_plain_json_and_xml() -> None:
    data = {"Response Status": "400 Bad Request", "Number Deleted": 1}
    errors = [["/c/<o>", "404 Not Found"]]
    assert response_body("text/plain", data, errors, "delete") == (
        b"Number Deleted: 1\nResponse Status: 400 Bad Request\nErrors:\n/c/<o>, 404 Not Found\n"
    )
    assert json.loads(response_body("application/json", data, errors, "delete")) == {
        **data,
        "Errors": errors,
    }
    xml = response_body("text/xml", data, errors, "extract").decode()
    assert xml.startswith("<extract>\n<number_deleted>1</number_deleted>\n")
    assert "<object><name>/c/&lt;o&gt;</name><status>404 Not Found</status></object>" in xml


def test_response_format_follows_accept() -> None:
    def fmt(accept: str | None) -> str | None:
        headers = {"Accept": accept} if accept else {}
        return response_format(Request.blank("/", headers=headers))

    assert fmt(None) == "text/plain"
    assert fmt("application/json") == "application/json"
    assert fmt("text/xml;q=0.9, application/json;q=0.1") == "text/xml"
    assert fmt("image/png") is None


def test_heartbeat_is_due_only_after_the_interval() -> None:
    now = [0.0]
    beat = Heartbeat("text/plain", 10, lambda: now[0])
    assert beat.beat() is None
    now[0] = 10.5
    assert beat.beat() == b" "
    assert beat.beat() is None
    assert beat.final(b"body") == b"\r\n\r\nbody"
    assert Heartbeat("text/plain", 10, lambda: 0.0).final(b"body") == b"body"
