"""DLO and SLO (with copy) over the proxy and real servers in one process."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from swiftlite.middleware import catch_errors, copy, dlo, slo
from tests.support.faults import Fault
from tests.support.inproc import InprocCluster
from tests.support.wait import wait_until


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InprocCluster]:
    """The bare proxy (no auth) behind catch_errors, copy, slo and dlo, in Swift's order."""
    root = tmp_path_factory.mktemp("inproc-lo")
    filters = (
        catch_errors.filter_factory({}),
        copy.filter_factory({}),
        slo.filter_factory({}, rate_limit_segments_per_sec="0"),
        dlo.filter_factory({}, rate_limit_segments_per_sec="0"),
    )
    found = InprocCluster(root, filters=filters).start()
    try:
        yield found
    finally:
        found.stop_all()


def _md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _container(cluster: InprocCluster) -> str:
    path = f"/v1/AUTH_test/lo-{uuid.uuid4().hex[:10]}"
    assert cluster.request("PUT", path).status == 201
    return path


def _segments(cluster: InprocCluster, c: str, parts: list[bytes], prefix: str = "seg/") -> None:
    for i, part in enumerate(parts):
        assert cluster.request("PUT", f"{c}/{prefix}{i:04d}", {}, part).status == 201


def _dlo(cluster: InprocCluster, parts: list[bytes]) -> str:
    c = _container(cluster)
    _segments(cluster, c, parts)
    manifest = {"X-Object-Manifest": f"{c.rsplit('/', 1)[1]}/seg/", "Content-Type": "x/dlo"}
    assert cluster.request("PUT", f"{c}/big", manifest, b"").status == 201
    return f"{c}/big"


def _slo(cluster: InprocCluster, parts: list[bytes], query: str = "") -> str:
    c = _container(cluster)
    _segments(cluster, c, parts)
    name = c.rsplit("/", 1)[1]
    body = [
        {"path": f"/{name}/seg/{i:04d}", "etag": _md5(p), "size_bytes": len(p)}
        for i, p in enumerate(parts)
    ]
    resp = cluster.request(
        "PUT", f"{c}/big?multipart-manifest=put{query}", {}, json.dumps(body).encode()
    )
    assert resp.status == 201, resp.body
    return f"{c}/big"


PARTS = [b"a" * 7, b"b" * 5, b"c" * 11]
WHOLE = b"".join(PARTS)


# -- DLO --------------------------------------------------------------------------------------
def test_dlo_get_is_the_concatenation_with_its_etag_and_the_manifest_type(cluster):
    path = _dlo(cluster, PARTS)
    resp = cluster.request("GET", path)
    assert (resp.status, resp.body) == (200, WHOLE)
    etag = '"' + _md5("".join(_md5(p) for p in PARTS).encode()) + '"'
    assert resp.header("etag") == etag
    assert resp.header("content-type") == "x/dlo"
    head = cluster.request("HEAD", path)
    assert (head.header("content-length"), head.header("etag")) == (str(len(WHOLE)), etag)
    assert cluster.request("GET", path, {"If-None-Match": etag}).status == 304
    assert cluster.request("GET", path, {"If-Match": '"nope"'}).status == 412


def test_dlo_get_and_head_carry_the_manifests_own_metadata_not_the_segments(cluster):
    c = _container(cluster)
    meta = {"X-Object-Meta-Color": "red"}
    for i, part in enumerate(PARTS):
        assert cluster.request("PUT", f"{c}/seg/{i:04d}", meta, part).status == 201
    manifest = {
        "X-Object-Manifest": f"{c.rsplit('/', 1)[1]}/seg/",
        "Content-Type": "x/dlo",
        "X-Object-Meta-Color": "blue",
    }
    assert cluster.request("PUT", f"{c}/big", manifest, b"").status == 201
    for method in ("GET", "HEAD"):
        resp = cluster.request(method, f"{c}/big")
        assert resp.header("x-object-meta-color") == "blue"
        assert resp.header("content-type") == "x/dlo"
        assert resp.header("content-length") == str(len(WHOLE))


def test_dlo_range_across_segments_and_multi_range_is_whole_body(cluster):
    path = _dlo(cluster, PARTS)
    resp = cluster.request("GET", path, {"Range": "bytes=5-13"})
    assert (resp.status, resp.body) == (206, WHOLE[5:14])
    assert resp.header("content-range") == f"bytes 5-13/{len(WHOLE)}"
    multi = cluster.request("GET", path, {"Range": "bytes=0-1,20-21"})
    assert (multi.status, multi.body) == (200, WHOLE)
    assert cluster.request("GET", path, {"Range": "bytes=999-"}).status == 416


def test_dlo_manifest_get_returns_the_manifest_itself(cluster):
    path = _dlo(cluster, PARTS)
    resp = cluster.request("GET", path + "?multipart-manifest=get")
    assert (resp.status, resp.body) == (200, b"")
    assert resp.header("x-object-manifest")


@pytest.mark.parametrize(
    "value", ["nocontainer", "c/", "/c/p", "c//p", "c/p?x", "c/p&y", "c/p%FF", "c/p%00"]
)
def test_dlo_malformed_manifest_header_on_put_and_post_is_400(cluster, value):
    c = _container(cluster)
    resp = cluster.request("PUT", f"{c}/m", {"X-Object-Manifest": value}, b"")
    assert (resp.status, resp.body) == (400, dlo.BAD_MANIFEST.encode())
    assert cluster.request("PUT", f"{c}/m", {}, b"x").status == 201
    assert cluster.request("POST", f"{c}/m", {"X-Object-Manifest": value}).status == 400


def test_dlo_post_can_make_an_object_a_manifest(cluster):
    c = _container(cluster)
    _segments(cluster, c, PARTS)
    assert cluster.request("PUT", f"{c}/m", {}, b"").status == 201
    name = c.rsplit("/", 1)[1]
    assert cluster.request("POST", f"{c}/m", {"X-Object-Manifest": f"{name}/seg/"}).status in (
        202,
        204,
    )
    assert cluster.request("GET", f"{c}/m").body == WHOLE


def test_dlo_listing_pages_past_the_limit_are_read(cluster, monkeypatch):
    monkeypatch.setattr(dlo, "LISTING_LIMIT", 2)  # small pages: three listing requests
    path = _dlo(cluster, PARTS)
    assert cluster.request("GET", path).body == WHOLE


def test_copy_of_a_dlo_copies_content_unless_manifest_get(cluster):
    path = _dlo(cluster, PARTS)
    c = path.rsplit("/", 1)[0]
    name = c.rsplit("/", 1)[1]
    assert cluster.request("COPY", path, {"Destination": f"{name}/flat"}).status == 201
    flat = cluster.request("GET", f"{c}/flat")
    assert (flat.body, flat.header("x-object-manifest")) == (WHOLE, None)
    assert flat.header("etag") == _md5(WHOLE)
    dest = {"Destination": f"{name}/again"}
    assert cluster.request("COPY", path + "?multipart-manifest=get", dest).status == 201
    again = cluster.request("GET", f"{c}/again")
    assert again.body == WHOLE
    assert again.header("x-object-manifest") == f"{name}/seg/"


# -- SLO --------------------------------------------------------------------------------------
def test_slo_get_and_head_have_total_length_slo_etag_and_marker(cluster):
    path = _slo(cluster, PARTS)
    resp = cluster.request("GET", path)
    assert (resp.status, resp.body) == (200, WHOLE)
    etag = '"' + _md5("".join(_md5(p) for p in PARTS).encode()) + '"'
    assert resp.header("etag") == etag
    assert resp.header("x-static-large-object") == "True"
    assert resp.header("x-manifest-etag")
    head = cluster.request("HEAD", path)
    assert (head.header("content-length"), head.header("etag")) == (str(len(WHOLE)), etag)
    assert cluster.request("GET", path, {"If-None-Match": etag}).status == 304
    assert cluster.request("HEAD", path, {"If-Match": '"other"'}).status == 412
    assert cluster.request("GET", path, {"If-Match": etag}).body == WHOLE


def test_slo_put_answers_the_slo_etag(cluster):
    c = _container(cluster)
    _segments(cluster, c, PARTS)
    name = c.rsplit("/", 1)[1]
    body = json.dumps([{"path": f"{name}/seg/{i:04d}"} for i in range(3)]).encode()
    resp = cluster.request("PUT", f"{c}/m?multipart-manifest=put", {}, body)
    assert resp.status == 201
    assert resp.header("etag") == '"' + _md5("".join(_md5(p) for p in PARTS).encode()) + '"'
    wrong = cluster.request("PUT", f"{c}/m?multipart-manifest=put", {"ETag": "0" * 32}, body)
    assert wrong.status == 422


def test_slo_multi_range_is_multipart_across_segments(cluster):
    path = _slo(cluster, PARTS)
    resp = cluster.request("GET", path, {"Range": "bytes=0-1,6-8,-3"})
    assert resp.status == 206
    assert resp.header("content-type").startswith("multipart/byteranges")
    for part in (WHOLE[0:2], WHOLE[6:9], WHOLE[-3:]):
        assert part in resp.body
    assert int(resp.header("content-length")) == len(resp.body)


def test_slo_manifest_get_and_raw_format(cluster):
    path = _slo(cluster, PARTS)
    stored = cluster.request("GET", path + "?multipart-manifest=get")
    assert stored.header("content-type") == "application/json; charset=utf-8"
    assert [r["bytes"] for r in json.loads(stored.body)] == [len(p) for p in PARTS]
    raw = cluster.request("GET", path + "?multipart-manifest=get&format=raw")
    assert [r["size_bytes"] for r in json.loads(raw.body)] == [len(p) for p in PARTS]
    assert raw.header("etag") == _md5(raw.body)


def test_slo_manifest_is_stored_with_sysmeta_of_its_etag_and_size(cluster):
    path = _slo(cluster, PARTS)
    stored = cluster.request("HEAD", path + "?multipart-manifest=get")
    assert stored.header("x-static-large-object") == "True"
    assert stored.header("x-object-sysmeta-slo-etag") == _md5(
        "".join(_md5(p) for p in PARTS).encode()
    )
    assert stored.header("x-object-sysmeta-slo-size") == str(len(WHOLE))
    assert stored.header("content-length") != str(len(WHOLE))  # the JSON, not the content


def test_slo_stays_an_slo_after_a_metadata_post(cluster):
    path = _slo(cluster, PARTS)
    assert cluster.request("POST", path, {"X-Object-Meta-Color": "blue"}).status == 202
    got = cluster.request("GET", path)
    assert (got.status, got.body) == (200, WHOLE)
    assert got.header("x-static-large-object") == "True"
    assert got.header("x-object-meta-color") == "blue"
    stored = cluster.request("HEAD", path + "?multipart-manifest=get")
    assert stored.header("x-object-sysmeta-slo-size") == str(len(WHOLE))


def test_slo_part_number_answers_one_segment(cluster):
    path = _slo(cluster, PARTS)
    resp = cluster.request("GET", path + "?part-number=2")
    assert (resp.status, resp.body) == (206, PARTS[1])
    assert resp.header("x-parts-count") == "3"
    assert resp.header("content-range") == f"bytes 7-11/{len(WHOLE)}"
    head = cluster.request("HEAD", path + "?part-number=3")
    assert (head.status, head.header("content-length")) == (206, "11")
    assert cluster.request("GET", path + "?part-number=4").status == 416
    assert cluster.request("GET", path + "?part-number=0").status == 400


@pytest.mark.parametrize("part", ["\u00b2", "9" * 5000, "\u0665", "+1", "1 "])
def test_slo_part_number_int_cannot_read_or_not_ascii_is_400_not_500(cluster, part):
    path = _slo(cluster, PARTS)
    for method in ("GET", "HEAD"):
        resp = cluster.request(method, path + "?part-number=" + part)
        assert resp.status == 400, (method, part, resp.status)


def test_listing_with_a_row_whose_swift_bytes_is_not_a_number_is_200(cluster):
    c = _container(cluster)
    ctype = "text/plain;swift_bytes=\u00b2".encode().decode("latin-1")
    assert cluster.request("PUT", f"{c}/o", {"Content-Type": ctype}, b"abc").status == 201
    resp = cluster.request("GET", f"{c}?format=json")
    assert resp.status == 200
    [row] = json.loads(resp.body)
    assert (row["name"], row["bytes"], row["content_type"]) == ("o", 3, "text/plain")


def test_slo_nested_with_segment_ranges_and_inline_data(cluster):
    inner = _slo(cluster, PARTS)
    c = inner.rsplit("/", 1)[0]
    name = c.rsplit("/", 1)[1]
    head = cluster.request("HEAD", inner)
    outer = [
        {"data": base64.b64encode(b"<<").decode()},
        {"path": f"/{name}/big", "etag": head.header("etag").strip('"'), "range": "3-20"},
        {"path": f"/{name}/seg/0000", "range": "-2"},
    ]
    resp = cluster.request(
        "PUT", f"{c}/outer?multipart-manifest=put", {}, json.dumps(outer).encode()
    )
    assert resp.status == 201, resp.body
    expected = b"<<" + WHOLE[3:21] + PARTS[0][-2:]
    got = cluster.request("GET", f"{c}/outer")
    assert (got.body, got.header("content-length")) == (expected, str(len(expected)))
    ranged = cluster.request("GET", f"{c}/outer", {"Range": "bytes=1-5"})
    assert ranged.body == expected[1:6]


def test_slo_put_with_missing_and_mismatched_segments_is_400_listing_each(cluster):
    c = _container(cluster)
    _segments(cluster, c, PARTS)
    name = c.rsplit("/", 1)[1]
    body = [
        {"path": f"/{name}/seg/0000", "etag": "0" * 32},
        {"path": f"/{name}/seg/0001", "size_bytes": 99},
        {"path": f"/{name}/absent"},
    ]
    resp = cluster.request("PUT", f"{c}/m?multipart-manifest=put", {}, json.dumps(body).encode())
    assert resp.status == 400
    assert resp.body.decode().splitlines() == [
        "Errors:",
        f"/{name}/seg/0000, Etag Mismatch",
        f"/{name}/seg/0001, Size Mismatch",
        f"/{name}/absent, 404 Not Found",
    ]
    limits = cluster.request("PUT", f"{c}/m?multipart-manifest=put", {}, b"[" * 10)
    assert (limits.status, limits.body) == (400, b"Manifest must be valid JSON.\n")


def test_slo_heartbeat_put_answers_202_then_the_result_in_the_body(cluster):
    path = _slo(cluster, PARTS)  # segments exist under <c>/seg/
    c = path.rsplit("/", 1)[0]
    name = c.rsplit("/", 1)[1]
    body = json.dumps([{"path": f"/{name}/seg/{i:04d}"} for i in range(3)]).encode()
    resp = cluster.request(
        "PUT", f"{c}/hb?multipart-manifest=put&heartbeat=on", {"Accept": "application/json"}, body
    )
    assert resp.status == 202
    result = json.loads(resp.body)
    assert result["Response Status"] == "201 Created"
    assert result["Errors"] == []
    assert cluster.request("GET", f"{c}/hb").body == WHOLE


def test_slo_heartbeat_put_sends_spaces_while_slow_segment_checks_run(tmp_path):
    beating = slo.filter_factory({}, yield_frequency="0.05")
    own = InprocCluster(tmp_path, filters=(beating,)).start()
    try:
        assert own.request("PUT", "/v1/AUTH_test/c").status == 201
        assert own.request("PUT", "/v1/AUTH_test/c/hbseg", {}, b"x" * 5).status == 201
        for index in range(len(own.backends["object"])):  # each check HEAD takes 0.3 s
            own.faults("object", index).add(
                Fault(method="HEAD", path_contains="/hbseg", delay=0.3, times=None)
            )
        body = json.dumps([{"path": "/c/hbseg"}]).encode()
        headers = {"Accept": "application/json"}
        resp = own.request(
            "PUT", "/v1/AUTH_test/c/m?multipart-manifest=put&heartbeat=on", headers, body
        )
    finally:
        own.stop_all()
    assert resp.status == 202
    spaces = len(resp.body) - len(resp.body.lstrip(b" "))
    assert spaces >= 3  # one at once, then one per 0.05 s of the 0.3 s check
    assert resp.body[spaces:].startswith(b"\r\n\r\n")
    assert json.loads(resp.body)["Response Status"] == "201 Created"


def test_slo_reserved_header_on_plain_put_is_400(cluster):
    c = _container(cluster)
    resp = cluster.request("PUT", f"{c}/x", {"X-Static-Large-Object": "True"}, b"[]")
    assert resp.status == 400
    assert resp.body == slo.RESERVED.encode()


def test_slo_container_listing_shows_total_bytes_and_slo_etag(cluster):
    path = _slo(cluster, PARTS)
    c = path.rsplit("/", 1)[0]
    rows = {r["name"]: r for r in json.loads(cluster.request("GET", f"{c}?format=json").body)}
    big = rows["big"]
    assert big["bytes"] == len(WHOLE)
    assert big["slo_etag"] == '"' + _md5("".join(_md5(p) for p in PARTS).encode()) + '"'
    assert ";" not in big["hash"]
    assert "swift_bytes" not in big["content_type"]
    xml = cluster.request("GET", f"{c}?format=xml").body.decode()
    assert f"<bytes>{len(WHOLE)}</bytes>" in xml


def test_slo_listing_keeps_total_bytes_and_slo_etag_after_a_content_type_post(cluster):
    """A POST that changes the type re-sends the row: it must still list the SLO's total and
    its slo_etag, not the manifest's own size (clients compare listing sizes)."""
    path = _slo(cluster, PARTS)
    c = path.rsplit("/", 1)[0]
    assert cluster.request("POST", path, {"Content-Type": "text/x-new"}).status == 202
    rows = {r["name"]: r for r in json.loads(cluster.request("GET", f"{c}?format=json").body)}
    big = rows["big"]
    assert big["content_type"] == "text/x-new"
    assert big["bytes"] == len(WHOLE)
    assert big["slo_etag"] == '"' + _md5("".join(_md5(p) for p in PARTS).encode()) + '"'


def test_slo_xml_listing_reads_the_rows_again_as_an_slo_subrequest(tmp_path):
    seen: list[tuple[str, str | None]] = []

    def recorder(app):
        def record(environ, start_response):
            if environ["REQUEST_METHOD"] == "GET" and environ["PATH_INFO"] == "/v1/AUTH_test/c":
                seen.append((environ["QUERY_STRING"], environ.get("swiftlite.source")))
            return app(environ, start_response)

        return record

    filters = (slo.filter_factory({}, rate_limit_segments_per_sec="0"), recorder)
    own = InprocCluster(tmp_path, filters=filters).start()
    try:
        assert own.request("PUT", "/v1/AUTH_test/c").status == 201
        assert own.request("PUT", "/v1/AUTH_test/c/s", {}, b"x" * 5).status == 201
        body = json.dumps([{"path": "/c/s"}, {"path": "/c/s"}]).encode()
        assert (
            own.request("PUT", "/v1/AUTH_test/c/m?multipart-manifest=put", {}, body).status == 201
        )
        xml = own.request("GET", "/v1/AUTH_test/c?format=xml&prefix=m")
    finally:
        own.stop_all()
    assert "<bytes>10</bytes>" in xml.body.decode()
    assert seen == [
        ("format=xml&prefix=m", None),  # the client's own request, passed down
        ("prefix=m&format=json", slo.SOURCE),  # the rows again, logged as the filter's
    ]


def test_slo_multipart_delete_removes_segments_and_manifest(cluster):
    path = _slo(cluster, PARTS)
    c = path.rsplit("/", 1)[0]
    resp = cluster.request(
        "DELETE", path + "?multipart-manifest=delete", {"Accept": "application/json"}
    )
    assert resp.status == 200
    result = json.loads(resp.body)
    assert (result["Number Deleted"], result["Errors"]) == (4, [])
    assert result["Response Status"] == "200 OK"
    assert cluster.request("GET", c).status == 204


def test_slo_multipart_delete_of_a_plain_object_reports_not_an_slo(cluster):
    c = _container(cluster)
    assert cluster.request("PUT", f"{c}/plain", {}, b"x").status == 201
    resp = cluster.request("DELETE", f"{c}/plain?multipart-manifest=delete")
    assert resp.status == 200
    assert b"Response Status: 400 Bad Request" in resp.body
    assert b"Not an SLO manifest" in resp.body


def test_slo_missing_first_segment_is_409_and_later_one_drops_the_connection(cluster):
    path = _slo(cluster, [b"x" * 100, b"y" * 100])
    c = path.rsplit("/", 1)[0]
    assert cluster.request("DELETE", f"{c}/seg/0001").status == 204
    try:
        got = cluster.request("GET", path)
    except (http.client.HTTPException, ConnectionError):
        pass  # the connection dropped mid-body (Content-Length not reached)
    else:  # eventlet's test server buffers the first bytes and answers 500 instead
        assert got.status != 200
    assert cluster.request("DELETE", f"{c}/seg/0000").status == 204
    assert cluster.request("GET", path).status == 409


def test_slo_changed_segment_is_not_served(cluster):
    path = _slo(cluster, [b"x" * 100, b"y" * 100])
    c = path.rsplit("/", 1)[0]
    assert cluster.request("PUT", f"{c}/seg/0000", {}, b"z" * 100).status == 201
    assert cluster.request("GET", path).status == 409


def test_copy_of_an_slo_copies_content_or_with_manifest_get_the_manifest(cluster):
    path = _slo(cluster, PARTS)
    c = path.rsplit("/", 1)[0]
    name = c.rsplit("/", 1)[1]
    assert cluster.request("COPY", path, {"Destination": f"{name}/flat"}).status == 201
    flat = cluster.request("GET", f"{c}/flat")
    assert (flat.body, flat.header("x-static-large-object")) == (WHOLE, None)
    dest = {"Destination": f"{name}/again"}
    assert cluster.request("COPY", path + "?multipart-manifest=get", dest).status == 201
    again = cluster.request("GET", f"{c}/again")
    assert (again.body, again.header("x-static-large-object")) == (WHOLE, "True")


# -- both kinds: ranges against the original bytes --------------------------------------------
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=300), min_size=1, max_size=5),
    data=st.data(),
)
def test_ranged_get_of_either_kind_is_the_same_slice_of_the_original(cluster, sizes, data):
    parts = [os.urandom(n) for n in sizes]
    whole = b"".join(parts)
    paths = [_dlo(cluster, parts), _slo(cluster, parts)]
    for _ in range(3):
        first = data.draw(st.integers(min_value=0, max_value=len(whole) - 1))
        last = data.draw(st.integers(min_value=first, max_value=len(whole) + 5))
        for path in paths:
            resp = cluster.request("GET", path, {"Range": f"bytes={first}-{last}"})
            assert (resp.status, resp.body) == (206, whole[first : last + 1])
    suffix = data.draw(st.integers(min_value=1, max_value=len(whole) + 5))
    for path in paths:
        assert cluster.request("GET", path, {"Range": f"bytes=-{suffix}"}).body == whole[-suffix:]


def test_slo_put_nesting_past_ten_levels_is_400(cluster):
    c = _container(cluster)
    name = c.rsplit("/", 1)[1]
    assert cluster.request("PUT", f"{c}/level0", {}, b"x" * 10).status == 201
    for level in range(1, 12):
        body = json.dumps([{"path": f"/{name}/level{level - 1}"}]).encode()
        resp = cluster.request("PUT", f"{c}/level{level}?multipart-manifest=put", {}, body)
        if level <= 10:
            assert resp.status == 201, (level, resp.body)
        else:
            assert resp.status == 400
            assert b"Too deeply nested" in resp.body
    assert cluster.request("GET", f"{c}/level10").body == b"x" * 10


def test_slo_put_over_max_manifest_segments_is_413(cluster):
    c = _container(cluster)
    body = json.dumps([{"path": f"/x/seg{i}"} for i in range(1001)]).encode()
    resp = cluster.request("PUT", f"{c}/m?multipart-manifest=put", {}, body)
    assert (resp.status, resp.body) == (413, b"Number of object-backed segments must be <= 1000")


def test_slo_put_over_max_manifest_size_is_413(tmp_path):
    small = slo.filter_factory({}, max_manifest_size="100")
    limited = InprocCluster(tmp_path, filters=(small,)).start()
    try:
        assert limited.request("PUT", "/v1/AUTH_test/c").status == 201
        body = json.dumps([{"path": f"/c/segment-{i:04d}"} for i in range(10)]).encode()
        resp = limited.request("PUT", "/v1/AUTH_test/c/m?multipart-manifest=put", {}, body)
        assert (resp.status, resp.body) == (413, b"Manifest File > 100 bytes")
    finally:
        limited.stop_all()


def test_slo_put_min_segment_size_binds_every_segment_but_the_last(tmp_path):
    sized = slo.filter_factory({}, min_segment_size="10")
    limited = InprocCluster(tmp_path, filters=(sized,)).start()
    try:
        c = "/v1/AUTH_test/c"
        assert limited.request("PUT", c).status == 201
        for name, size in (("ten", 10), ("short", 3)):
            assert limited.request("PUT", f"{c}/{name}", {}, b"s" * size).status == 201
        last_short = json.dumps([{"path": "/c/ten"}, {"path": "/c/short"}]).encode()
        ok = limited.request("PUT", f"{c}/m1?multipart-manifest=put", {}, last_short)
        assert ok.status == 201, ok.body
        assert limited.request("GET", f"{c}/m1").body == b"s" * 13
        first_short = json.dumps([{"path": "/c/short"}, {"path": "/c/ten"}]).encode()
        bad = limited.request("PUT", f"{c}/m2?multipart-manifest=put", {}, first_short)
        assert bad.status == 400
        assert bad.body.decode().splitlines() == [
            "Errors:",
            "/c/short, Too small; each segment, except the last, must be at least 10 bytes.",
        ]
        assert limited.request("HEAD", f"{c}/m2").status == 404
    finally:
        limited.stop_all()


def test_slo_async_delete_removes_the_manifest_now_and_segments_after(cluster):
    path = _slo(cluster, PARTS)
    c = path.rsplit("/", 1)[0]
    resp = cluster.request("DELETE", path + "?multipart-manifest=delete&async=yes")
    assert resp.status == 204
    assert cluster.request("HEAD", path).status == 404
    wait_until(lambda: cluster.request("GET", c).status == 204, timeout=10)


def test_slo_async_delete_of_segments_in_two_containers_is_400(cluster):
    first = _slo(cluster, PARTS)
    other = _container(cluster)
    _segments(cluster, other, [b"z" * 4])
    c = first.rsplit("/", 1)[0]
    names = [c.rsplit("/", 1)[1], other.rsplit("/", 1)[1]]
    body = json.dumps([{"path": f"/{names[0]}/seg/0000"}, {"path": f"/{names[1]}/seg/0000"}])
    assert (
        cluster.request("PUT", f"{c}/two?multipart-manifest=put", {}, body.encode()).status == 201
    )
    resp = cluster.request("DELETE", f"{c}/two?multipart-manifest=delete&async=yes")
    assert resp.status == 400
    assert resp.body.startswith(b"All segments must be in one container. Found segments in ")
