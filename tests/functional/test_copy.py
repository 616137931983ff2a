"""Server-side copy through the copy filter of a real cluster: the source's error wins."""

from __future__ import annotations

import urllib.parse
import uuid

import pytest

from tests.functional.rawhttp import LogWatch, send
from tests.support.cluster import Auth, Cluster


@pytest.fixture(scope="module", autouse=True)
def watch(cluster: Cluster) -> LogWatch:
    """What the cluster's logs gain from this module's requests (checked by the last test)."""
    w = LogWatch(cluster)
    w.start()
    return w


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _h(auth: Auth, **extra: str) -> dict[str, str]:
    return {"X-Auth-Token": auth.token, **{k.replace("_", "-"): v for k, v in extra.items()}}


def test_copy_of_missing_source_is_404_even_when_destination_account_is_not_writable(
    cluster: Cluster,
) -> None:
    other = cluster.auth("test2:tester2", "testing2")
    c = _name("cp404")
    assert cluster.request("PUT", f"{other.path}/{c}", _h(other))[0] == 201
    # tester2 may not write into AUTH_test; the missing source is still what it hears about
    status, _, _ = cluster.request(
        "COPY",
        f"{other.path}/{c}/absent",
        _h(other, Destination=f"{c}/dst", Destination_Account="AUTH_test"),
    )
    assert status == 404


def test_copy_from_unreadable_foreign_source_is_403_even_when_destination_container_is_missing(
    cluster: Cluster, tester: Auth
) -> None:
    other = cluster.auth("test2:tester2", "testing2")
    c = _name("cp403")
    assert cluster.request("PUT", f"{tester.path}/{c}", _h(tester))[0] == 201
    assert cluster.request("PUT", f"{tester.path}/{c}/secret", _h(tester), b"s")[0] == 201
    status, _, _ = cluster.request(
        "PUT",
        f"{other.path}/{_name('nocontainer')}/o",
        _h(other, X_Copy_From=f"{c}/secret", X_Copy_From_Account="AUTH_test", Content_Length="0"),
        b"",
    )
    assert status == 403


def test_x_copied_from_of_a_source_name_with_a_line_break_is_quoted_not_split(
    cluster: Cluster, tester: Auth
) -> None:
    c = _name("cplf")
    source = "a\nSet-Cookie: x=1\u5605"  # a valid object name; it must not become a header
    quoted = urllib.parse.quote(source, safe="")
    assert send(cluster, "PUT", f"{tester.path}/{c}", _h(tester)).status == 201
    assert send(cluster, "PUT", f"{tester.path}/{c}/{quoted}", _h(tester), b"s").status == 201
    expected = urllib.parse.quote(f"{c}/{source}")
    copy_verb = send(
        cluster, "COPY", f"{tester.path}/{c}/{quoted}", _h(tester, Destination=f"{c}/d1")
    )
    put_from = send(
        cluster, "PUT", f"{tester.path}/{c}/d2", _h(tester, X_Copy_From=f"{c}/{quoted}")
    )
    for reply in (copy_verb, put_from):
        assert reply.status == 201
        assert reply.header("x-copied-from") == expected
        assert reply.header("x-copied-from-account") == "AUTH_test"
        assert reply.header("set-cookie") is None


def test_options_on_an_object_allows_copy(cluster: Cluster, tester: Auth) -> None:
    c = f"{tester.path}/{_name('cpopt')}"
    cluster.request("PUT", c, _h(tester))
    cluster.request("PUT", f"{c}/o", _h(tester), b"x")
    status, headers, _ = cluster.request("OPTIONS", f"{c}/o", _h(tester))
    assert status == 200
    assert "COPY" in headers["allow"]


def test_zz_copy_requests_leave_no_5xx_and_no_traceback_in_any_log(watch: LogWatch) -> None:
    assert watch.problems() == []
