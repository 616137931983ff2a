"""The core API answers as Swift does, over raw HTTP against the real cluster (issue 12, 13).

Every request here is written to a socket byte for byte (``rawhttp.send``), so names, paths
and header values reach the proxy exactly as a client sent them. The last test reads what the
cluster's logs gained while this module ran: no 5xx line and no traceback anywhere.
"""

from __future__ import annotations

import json
import urllib.parse
import uuid

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from swiftlite.common import logs
from swiftlite.middleware import proxy_access_line
from tests.functional.rawhttp import LogWatch, RawReply, is_problem, send, send_to
from tests.support.cluster import Auth, Cluster

HTML = "text/html; charset=UTF-8"
NOT_UTF8 = "Invalid UTF8 or contains NULL"


@pytest.fixture(scope="module")
def watch(cluster: Cluster) -> LogWatch:
    w = LogWatch(cluster)
    w.start()
    return w


@pytest.fixture(scope="module", autouse=True)
def _watching(watch: LogWatch) -> None:
    """Start the log watch before this module's first request."""


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


def _tok(auth: Auth, **extra: str | bytes) -> dict[str, str | bytes]:
    return {"X-Auth-Token": auth.token, **extra}


def _container(cluster: Cluster, auth: Auth, prefix: str = "conf") -> str:
    path = f"{auth.path}/{_name(prefix)}"
    assert send(cluster, "PUT", path, _tok(auth)).status == 201
    return path


def _listing(cluster: Cluster, auth: Auth, path: str, query: str = "") -> list[dict]:
    reply = send(cluster, "GET", f"{path}?format=json{query}", _tok(auth))
    assert reply.status == 200, (reply.status, reply.body)
    return json.loads(reply.body)


# -- security -------------------------------------------------------------------------------------
def test_www_authenticate_realm_cannot_inject_a_header_or_a_body(cluster: Cluster) -> None:
    target = "/v1/AUTH_haxx%22%0AContent-Length%3A%2014%0A%0A%3Cb%3EHello"
    reply = send(cluster, "GET", target)
    assert reply.status == 401
    quoted = "AUTH_haxx%22%0AContent-Length%3A%2014%0A%0A%3Cb%3EHello"
    assert reply.header("www-authenticate") == f'Swift realm="{quoted}"'
    assert [v for k, v in reply.headers if k.lower() == "content-length"] != ["14"]
    assert b"<b>Hello" not in reply.body


def test_x_timestamp_from_a_client_cannot_make_an_object_immortal(
    cluster: Cluster, tester: Auth
) -> None:
    base = _container(cluster, tester, "ts")
    far = _tok(tester, **{"X-Timestamp": "99999999999.99999"})
    assert send(cluster, "PUT", f"{base}/o", far, b"first").status == 201
    assert send(cluster, "PUT", f"{base}/o", _tok(tester), b"second").status == 201
    assert send(cluster, "GET", f"{base}/o", _tok(tester)).body == b"second"
    head = send(cluster, "HEAD", f"{base}/o", _tok(tester))
    assert float(head.header("x-timestamp") or 0) < 99999999999


@pytest.mark.parametrize("stamp", ["-1", "garbage", "1_0"])
def test_x_timestamp_garbage_from_a_client_is_ignored_201(
    cluster: Cluster, tester: Auth, stamp: str
) -> None:
    base = _container(cluster, tester, "tsg")
    reply = send(cluster, "PUT", f"{base}/o", _tok(tester, **{"X-Timestamp": stamp}), b"x")
    assert reply.status == 201


def test_x_delete_at_of_100_digits_is_stored_as_ten_nines(cluster: Cluster, tester: Auth) -> None:
    base = _container(cluster, tester, "dat")
    headers = _tok(tester, **{"X-Delete-At": "9" * 100})
    assert send(cluster, "PUT", f"{base}/o", headers, b"x").status == 201
    assert send(cluster, "HEAD", f"{base}/o", _tok(tester)).header("x-delete-at") == "9999999999"
    assert send(cluster, "POST", f"{base}/o", headers).status == 202
    assert send(cluster, "HEAD", f"{base}/o", _tok(tester)).header("x-delete-at") == "9999999999"


# -- paths ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "tail",
    [b"%ff", b"%c0%af", b"%ed%a0%80", b"%c3", b"\xff", b"%e5%98", b"a%00b"],
    ids=["pct-ff", "overlong-slash", "surrogate", "truncated", "raw-ff", "half-u5605", "nul"],
)
@pytest.mark.parametrize("with_token", [False, True], ids=["anonymous", "token"])
def test_path_not_utf8_is_412_not_500(
    cluster: Cluster, tester: Auth, tail: bytes, with_token: bool
) -> None:
    headers = _tok(tester) if with_token else {}
    reply = send(cluster, "GET", b"/v1/AUTH_test2/c/" + tail, headers)
    assert reply.status == 412
    assert reply.body == NOT_UTF8.encode()
    assert reply.header("content-type") == HTML


@pytest.mark.parametrize("path", ["/v1//c/o", "/v1/AUTH_test//o", "//v1/AUTH_test", "/v1//"])
@pytest.mark.parametrize("with_token", [False, True], ids=["anonymous", "token"])
def test_empty_path_segment_is_404_before_auth(
    cluster: Cluster, tester: Auth, path: str, with_token: bool
) -> None:
    reply = send(cluster, "GET", path, _tok(tester) if with_token else {})
    assert reply.status == 404
    assert reply.header("content-type") == HTML


@pytest.mark.parametrize("method", ["LICK", "GETorHEAD_base"])
@pytest.mark.parametrize("path", ["/v1/AUTH_test", "/v1/AUTH_test/c", "/v1/AUTH_test/c/o"])
def test_unimplemented_method_is_405_with_allow_before_auth(
    cluster: Cluster, method: str, path: str
) -> None:
    reply = send(cluster, method, path)
    assert reply.status == 405
    assert "GET" in (reply.header("allow") or "")
    assert reply.header("content-type") == HTML


@pytest.mark.parametrize("kind", ["account", "container", "object"])
def test_storage_server_bad_names_and_params_are_4xx_not_500(cluster: Cluster, kind: str) -> None:
    node = cluster.plan.nodes[0]
    device = node.devices[0]
    addr = (node.ip, node.port_of(kind))
    tails = {
        "account": [b"/a%ff", b"/a\xff", b"/a?format=%ff", b"/a?limit=%C2%B2"],
        "container": [b"/a/c%ff", b"/a/c\xff", b"/a/c?marker=%ff", b"/a/c?limit=%C2%B2"],
        "object": [b"/a/c/%ff", b"/a/c/\xff", b"/a/c/%ed%a0%80"],
    }[kind]
    for tail in tails:
        for part in (b"0", b"%C2%B2"):
            target = b"/" + device.encode() + b"/" + part + tail
            reply = send_to(addr, "GET", target)
            assert 400 <= reply.status < 500, (target, reply.status, reply.body)


# -- error content types --------------------------------------------------------------------------
def test_error_answers_are_swob_html(cluster: Cluster, tester: Auth) -> None:
    tester2 = cluster.auth("test2:tester2", "testing2")
    base = _container(cluster, tester, "err")
    assert send(cluster, "PUT", f"{base}/o", _tok(tester), b"x").status == 201
    cases: list[tuple[int, RawReply]] = [
        (401, send(cluster, "GET", base)),
        (403, send(cluster, "GET", base, _tok(tester2))),
        (404, send(cluster, "GET", f"{base}/missing", _tok(tester))),
        (409, send(cluster, "DELETE", base, _tok(tester))),
        (412, send(cluster, "GET", f"{base}?limit=10001", _tok(tester))),
        (413, send(cluster, "PUT", f"{base}/big", _tok(tester, **{"Content-Length": "9" * 12}))),
        (400, send(cluster, "PUT", f"{base}/m", _tok(tester, **{"X-Object-Meta-A": "v" * 257}))),
    ]
    for status, reply in cases:
        assert reply.status == status, (status, reply.status)
        assert reply.header("content-type") == HTML, (status, reply.header("content-type"))


def test_delete_204_and_404_carry_swob_content_type(cluster: Cluster, tester: Auth) -> None:
    base = _container(cluster, tester, "del")
    assert send(cluster, "PUT", f"{base}/o", _tok(tester), b"x").status == 201
    gone = send(cluster, "DELETE", f"{base}/o", _tok(tester))
    assert (gone.status, gone.header("content-type")) == (204, HTML)
    again = send(cluster, "DELETE", f"{base}/o", _tok(tester))
    assert (again.status, again.header("content-type")) == (404, HTML)


# -- listings -------------------------------------------------------------------------------------
def test_multi_character_delimiter_rolls_up_objects_to_test_dash_amp(
    cluster: Cluster, tester: Auth
) -> None:
    base = _container(cluster, tester, "delim")
    for name in ("test", "test-&1", "test-&2", "test-x"):
        assert send(cluster, "PUT", f"{base}/{_q(name)}", _tok(tester), b"x").status == 201
    rows = _listing(cluster, tester, base, "&delimiter=-%26")
    assert [r.get("name") or r.get("subdir") for r in rows] == ["test", "test-&", "test-x"]


def test_multi_character_delimiter_rolls_up_containers(cluster: Cluster) -> None:
    tester2 = cluster.auth("test2:tester2", "testing2")
    stem = _name("acct")
    for suffix in ("-&1", "-&2", "-x"):
        path = f"{tester2.path}/{_q(stem + suffix)}"
        assert send(cluster, "PUT", path, _tok(tester2)).status == 201
    rows = _listing(cluster, tester2, tester2.path, f"&prefix={stem}&delimiter=-%26")
    assert [r.get("name") or r.get("subdir") for r in rows] == [f"{stem}-&", f"{stem}-x"]


def test_nul_in_marker_means_just_after_the_name(cluster: Cluster, tester: Auth) -> None:
    base = _container(cluster, tester, "nul")
    for name in ("a", "a0", "b"):
        assert send(cluster, "PUT", f"{base}/{name}", _tok(tester), b"x").status == 201
    rows = _listing(cluster, tester, base, "&marker=a%00")
    assert [r["name"] for r in rows] == ["a0", "b"]
    rows = _listing(cluster, tester, base, "&end_marker=b%00&prefix=a")
    assert [r["name"] for r in rows] == ["a", "a0"]


@pytest.mark.parametrize("query", ["format=%ff", "marker=%ff", "end_marker=%ff", "prefix=%ff"])
@pytest.mark.parametrize("level", ["account", "container"])
def test_listing_param_not_utf8_is_400_not_500(
    cluster: Cluster, tester: Auth, query: str, level: str
) -> None:
    path = tester.path if level == "account" else f"{tester.path}/any"
    reply = send(cluster, "GET", f"{path}?{query}", _tok(tester))
    assert reply.status == 400
    key = query.split("=")[0]
    assert reply.body == f'"{key}" parameter not valid UTF-8'.encode()


def test_listing_limit_superscript_two_is_ignored_not_500(cluster: Cluster, tester: Auth) -> None:
    base = _container(cluster, tester, "lim")
    for path in (tester.path, base):
        assert send(cluster, "GET", f"{path}?limit=%C2%B2", _tok(tester)).status in (200, 204)


def test_account_and_container_reads_send_zero_length_and_accept_ranges(
    cluster: Cluster, tester: Auth
) -> None:
    base = _container(cluster, tester, "cl0")
    for path in (tester.path, base):
        head = send(cluster, "HEAD", path, _tok(tester))
        assert head.status == 204
        assert head.header("content-length") == "0"
        assert head.header("accept-ranges") == "bytes"
    empty = send(cluster, "GET", base, _tok(tester))
    assert (empty.status, empty.header("content-length")) == (204, "0")
    assert empty.header("accept-ranges") == "bytes"
    assert send(cluster, "GET", f"{base}?format=json", _tok(tester)).header("accept-ranges")


def test_empty_account_get_is_204_with_zero_length_and_accept_ranges(cluster: Cluster) -> None:
    admin = cluster.auth("admin:admin", "admin")  # the reseller admin may create an account
    path = f"/v1/AUTH_{_name('empty')}"
    assert send(cluster, "PUT", path, _tok(admin)).status == 201
    reply = send(cluster, "GET", path, _tok(admin))
    assert (reply.status, reply.body) == (204, b"")
    assert reply.header("content-length") == "0"
    assert reply.header("accept-ranges") == "bytes"


def test_object_post_changing_content_type_updates_the_listing_row(
    cluster: Cluster, tester: Auth
) -> None:
    base = _container(cluster, tester, "ctype")
    headers = _tok(tester, **{"Content-Type": "text/plain"})
    assert send(cluster, "PUT", f"{base}/o", headers, b"hello").status == 201
    [before] = _listing(cluster, tester, base)
    post = _tok(tester, **{"Content-Type": "image/png"})
    assert send(cluster, "POST", f"{base}/o", post).status == 202
    [after] = _listing(cluster, tester, base)
    assert after["content_type"] == "image/png"
    assert after["last_modified"] > before["last_modified"]
    assert (after["bytes"], after["hash"]) == (before["bytes"], before["hash"])


# -- headers and auth -----------------------------------------------------------------------------
U5605 = "x\u5605".encode()  # ends in the byte 0x85, which str.strip() removes


def test_metadata_value_ending_in_u5605_comes_back_whole(cluster: Cluster, tester: Auth) -> None:
    base = _container(cluster, tester, "u5605")
    meta = _tok(tester, **{"X-Object-Meta-A": U5605})
    assert send(cluster, "PUT", f"{base}/o", meta, b"x").status == 201
    assert send(cluster, "HEAD", f"{base}/o", _tok(tester)).lower["x-object-meta-a"] == (
        U5605.decode("latin-1")
    )
    assert send(cluster, "POST", f"{base}/o", meta).status == 202
    head = send(cluster, "HEAD", f"{base}/o", _tok(tester))
    assert head.lower["x-object-meta-a"] == U5605.decode("latin-1")
    copy = _tok(tester, **{"X-Copy-From": base.split("/", 3)[3] + "/o"})
    assert send(cluster, "PUT", f"{base}/copy", copy).status == 201
    head = send(cluster, "HEAD", f"{base}/copy", _tok(tester))
    assert head.lower["x-object-meta-a"] == U5605.decode("latin-1")


def test_service_account_needs_a_service_token_beside_the_users(cluster: Cluster) -> None:
    tester = cluster.auth("test:tester", "testing")
    service = cluster.auth("test5:tester5", "testing5")
    path = f"/v1/SERVICE_test/{_name('svc')}"
    assert send(cluster, "PUT", path, _tok(tester)).status == 403
    assert send(cluster, "PUT", path, {"X-Auth-Token": service.token}).status == 403
    both = _tok(tester, **{"X-Service-Token": service.token})
    assert send(cluster, "PUT", path, both).status == 201
    assert send(cluster, "HEAD", path, both).status == 204


def test_owner_only_headers_from_a_read_write_user_are_dropped_not_403(
    cluster: Cluster,
) -> None:
    owner = cluster.auth("test2:tester2", "testing2")
    base = _container(cluster, owner, "owner")
    acl = _tok(owner, **{"X-Container-Read": "test2:tester2"})
    assert send(cluster, "POST", base, acl).status == 204
    account_acl = json.dumps({"read-write": ["test:tester3"]})
    grant = _tok(owner, **{"X-Account-Access-Control": account_acl})
    assert send(cluster, "POST", owner.path, grant).status == 204
    tester3 = cluster.auth("test:tester3", "testing3")
    headers = _tok(
        tester3,
        **{
            "X-Container-Read": ".r:*",
            "X-Remove-Container-Read": "x",
            "X-Container-Meta-Temp-URL-Key": "stolen",
            "X-Container-Sync-Key": "k",
            "X-Container-Meta-Color": "blue",
        },
    )
    try:
        reply = send(cluster, "POST", base, headers)
        assert reply.status == 204
        head = send(cluster, "HEAD", base, _tok(owner))
        assert head.header("x-container-meta-color") == "blue"  # the rest applied
        assert head.header("x-container-read") == "test2:tester2"
        assert head.header("x-container-meta-temp-url-key") is None
        assert head.header("x-container-sync-key") is None
    finally:
        revoke = _tok(owner, **{"X-Remove-Account-Access-Control": "x"})
        send(cluster, "POST", owner.path, revoke)


# -- UTF-8 names of every class Swift's suite uses ------------------------------------------------
# Swift's functional suite builds its UTF-8 names from 38 code points: four consecutive ones from
# each of nine bases, plus U+03A9 and U+2603. Six of them (U+1801..U+1804, U+3705, U+5605) hold a
# byte that str.split() or str.strip() treats as whitespace (0xA0, 0x85). The strategy draws from
# that alphabet, from a few more such code points, and from random BMP code points.
_SWIFT_BASES = (0xF10F, 0xD20D, 0xB30B, 0x9409, 0x8508, 0x5605, 0x3703, 0x1801, 0x0900)
SWIFT_ALPHABET = "".join(chr(base + i) for base in _SWIFT_BASES for i in range(4)) + "\u03a9\u2603"
HOSTILE_CHARS = "\u0085\u00a0\u001c\u0105\u5006"
BMP = st.characters(
    min_codepoint=1,
    max_codepoint=0xFFFF,
    blacklist_categories=("Cs",),
    blacklist_characters="/",
)
names = st.text(
    alphabet=st.one_of(st.sampled_from(SWIFT_ALPHABET + HOSTILE_CHARS), BMP),
    min_size=1,
    max_size=24,
)


def _name_round_trip(cluster: Cluster, tester: Auth, name: str, encode) -> None:  # type: ignore[no-untyped-def]
    container = f"c-{uuid.uuid4().hex[:6]}-{name}"
    cpath = f"{tester.path}/".encode() + encode(container)
    opath = cpath + b"/" + encode(name)
    body = name.encode("utf-8")
    assert send(cluster, "PUT", cpath, _tok(tester)).status == 201
    assert send(cluster, "PUT", opath, _tok(tester), body).status == 201
    got = send(cluster, "GET", opath, _tok(tester))
    assert (got.status, got.body) == (200, body)
    assert send(cluster, "HEAD", opath, _tok(tester)).status == 200
    rows = json.loads(send(cluster, "GET", cpath + b"?format=json", _tok(tester)).body)
    assert [r["name"] for r in rows] == [name]
    query = b"?format=json&prefix=" + _q(container).encode()
    rows = json.loads(send(cluster, "GET", f"{tester.path}".encode() + query, _tok(tester)).body)
    assert [r["name"] for r in rows] == [container]
    assert send(cluster, "DELETE", opath, _tok(tester)).status == 204
    assert send(cluster, "DELETE", cpath, _tok(tester)).status == 204


def _percent(text: str) -> bytes:
    return _q(text).encode()


def _raw_utf8(text: str) -> bytes:
    """Non-ASCII as raw UTF-8 bytes in the request line; ASCII percent-quoted where needed."""
    return b"".join(c.encode() if ord(c) > 0x7F else _q(c).encode() for c in text)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(name="\u1801")
@example(name="\u5605")
@example(name="\u1801\u5605\u0085\u00a0 x")
@example(name=SWIFT_ALPHABET)
@given(name=names)
def test_utf8_name_round_trips_percent_encoded(cluster: Cluster, tester: Auth, name: str) -> None:
    _name_round_trip(cluster, tester, name, _percent)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@example(name="\u1801")
@example(name="\u5605")
@example(name="\u1801\u5605")
@example(name=SWIFT_ALPHABET)
@given(name=names)
def test_utf8_name_round_trips_raw_in_the_request_line(
    cluster: Cluster, tester: Auth, name: str
) -> None:
    _name_round_trip(cluster, tester, name, _raw_utf8)


# -- last: the logs -------------------------------------------------------------------------------
def _logged(server: str, line: str) -> str:
    return f"2026-12-03 05:40:00,123 swiftlite.{server} INFO {line}"


def test_log_watch_flags_5xx_access_lines_of_proxy_and_storage_servers() -> None:
    environ = {
        "REQUEST_METHOD": "GETorHEAD_base",
        "PATH_INFO": "/v1/AUTH_test/c/o",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    for status in (500, 503):
        proxy = proxy_access_line.format_line(environ, status, 0, 0, 1.0, 1.5)
        storage = logs.format_access_line("127.0.0.1", "PUT", "/d1/0/a/c/o", status, 0, 0, 0.1, "t")
        assert is_problem(_logged("proxy-server", proxy))
        assert is_problem(_logged("object-server", storage))
    # a 2xx line whose byte counts look like a 5xx is not one
    proxy = proxy_access_line.format_line(environ, 200, 503, 503, 1.0, 1.5)
    storage = logs.format_access_line("127.0.0.1", "GET", "/d1/0/a/c/o", 200, 503, 503, 0.1, "t")
    assert not is_problem(_logged("proxy-server", proxy))
    assert not is_problem(_logged("object-server", storage))
    assert is_problem("Traceback (most recent call last):")


def test_zz_no_5xx_and_no_traceback_in_any_log(watch: LogWatch) -> None:
    assert watch.problems() == []
