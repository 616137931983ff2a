"""Server-side copy (the copy filter) over the proxy and real servers, in one process."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator

import pytest

from swiftlite.middleware import copy
from tests.support.inproc import InprocCluster


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InprocCluster]:
    """The bare proxy (no auth) behind the copy filter."""
    root = tmp_path_factory.mktemp("inproc-copy")
    found = InprocCluster(root, filters=(copy.filter_factory({}),)).start()
    try:
        yield found
    finally:
        found.stop_all()


def test_copy_verb_copies_bytes_and_metadata_across_containers(cluster, container):
    other = f"/v1/AUTH_test/c-{uuid.uuid4().hex[:12]}"
    assert cluster.request("PUT", other).status == 201
    body = b"copy me" * 100
    headers = {"X-Object-Meta-Kind": "src", "Content-Type": "text/x-src"}
    assert cluster.request("PUT", f"{container}/src", headers, body).status == 201
    dest = f"{other.rsplit('/', 1)[1]}/dst"
    resp = cluster.request("COPY", f"{container}/src", {"Destination": dest})
    assert resp.status == 201
    assert resp.header("x-copied-from") == f"{container.rsplit('/', 1)[1]}/src"
    assert resp.header("x-copied-from-last-modified")
    got = cluster.request("GET", f"{other}/dst")
    assert got.body == body
    assert got.header("etag") == hashlib.md5(body).hexdigest()
    assert got.header("x-object-meta-kind") == "src"
    assert got.header("content-type") == "text/x-src"


def test_copy_across_accounts_by_destination_account_and_by_copy_from_account(cluster, container):
    assert cluster.request("PUT", f"{container}/src", {}, b"far away").status == 201
    there = f"/v1/AUTH_other/c-{uuid.uuid4().hex[:12]}"
    assert cluster.request("PUT", there).status == 201
    dest = {"Destination": f"{there.rsplit('/', 1)[1]}/dst", "Destination-Account": "AUTH_other"}
    resp = cluster.request("COPY", f"{container}/src", dest)
    assert resp.status == 201
    assert resp.header("x-copied-from-account") == "AUTH_test"
    assert cluster.request("GET", f"{there}/dst").body == b"far away"
    assert cluster.request("HEAD", f"{container}/dst").status == 404  # not the source account
    back = {"X-Copy-From": f"{there.rsplit('/', 1)[1]}/dst", "X-Copy-From-Account": "AUTH_other"}
    assert cluster.request("PUT", f"{container}/back", back, b"").status == 201
    assert cluster.request("GET", f"{container}/back").body == b"far away"


def test_put_with_copy_from_and_fresh_metadata_drops_source_meta(cluster, container):
    src = container.rsplit("/", 1)[1] + "/orig"
    assert cluster.request("PUT", f"{container}/orig", {"X-Object-Meta-A": "1"}, b"x").status == 201
    headers = {"X-Copy-From": src, "X-Fresh-Metadata": "true", "X-Object-Meta-B": "2"}
    assert cluster.request("PUT", f"{container}/fresh", headers, b"").status == 201
    head = cluster.request("HEAD", f"{container}/fresh")
    assert head.header("x-object-meta-a") is None
    assert head.header("x-object-meta-b") == "2"


def test_copy_from_with_range_copies_only_the_range(cluster, container):
    assert cluster.request("PUT", f"{container}/digits", {}, b"0123456789").status == 201
    headers = {"X-Copy-From": container.rsplit("/", 1)[1] + "/digits", "Range": "bytes=3-5"}
    assert cluster.request("PUT", f"{container}/part", headers, b"").status == 201
    assert cluster.request("GET", f"{container}/part").body == b"345"


def test_copy_from_missing_source_is_404(cluster, container):
    headers = {"X-Copy-From": container.rsplit("/", 1)[1] + "/absent"}
    assert cluster.request("PUT", f"{container}/new", headers, b"").status == 404


def test_copy_with_body_is_400(cluster, container):
    headers = {"X-Copy-From": container.rsplit("/", 1)[1] + "/x"}
    assert cluster.request("PUT", f"{container}/new", headers, b"body").status == 400


def test_copy_without_destination_is_412_and_bad_destination_is_412(cluster, container):
    assert cluster.request("PUT", f"{container}/s", {}, b"x").status == 201
    assert cluster.request("COPY", f"{container}/s").status == 412
    assert cluster.request("COPY", f"{container}/s", {"Destination": "nocontainer"}).status == 412


HTML = "text/html; charset=UTF-8"


def test_copy_filter_412s_are_swob_html_with_swifts_messages(cluster, container):
    assert cluster.request("PUT", f"{container}/s", {}, b"x").status == 201
    cases = [
        ({}, "Destination header required"),
        (
            {"Destination": "nocontainer"},
            "Destination header must be of the form <container name>/<object name>",
        ),
        ({"Destination": "c/o", "Destination-Account": "a/b"}, None),
    ]
    for headers, message in cases:
        resp = cluster.request("COPY", f"{container}/s", headers)
        assert (resp.status, resp.header("content-type")) == (412, HTML), headers
        if message is not None:
            assert resp.body == message.encode()


def test_copy_with_body_is_400_text_plain_as_swift_sets_it(cluster, container):
    headers = {"X-Copy-From": container.rsplit("/", 1)[1] + "/x"}
    resp = cluster.request("PUT", f"{container}/new", headers, b"body")
    assert resp.status == 400
    assert resp.header("content-type").startswith("text/plain")
    assert resp.body == b"Copy requests require a zero byte body"


def test_copy_without_the_copy_filter_is_405(tmp_path):
    bare = InprocCluster(tmp_path).start()  # the proxy app alone: copy is the filter's job
    try:
        container = "/v1/AUTH_test/bare"
        assert bare.request("PUT", container).status == 201
        assert bare.request("PUT", f"{container}/o", {}, b"x").status == 201
        resp = bare.request("COPY", f"{container}/o", {"Destination": "bare/p"})
        assert resp.status == 405
        assert "COPY" not in (resp.header("allow") or "")
    finally:
        bare.stop_all()


def test_options_through_the_copy_filter_lists_copy(cluster, container):
    assert cluster.request("PUT", f"{container}/o", {}, b"x").status == 201
    resp = cluster.request("OPTIONS", f"{container}/o")
    assert resp.status == 200
    assert "COPY" in resp.header("allow")
