"""Hostile temp URL queries and form POSTs against the real cluster: a 4xx (or what Swift
accepts), never a 5xx or a traceback, and no client byte turned into a header."""

from __future__ import annotations

import uuid

import pytest

from swiftlite.middleware import signature
from tests.functional.rawhttp import LogWatch, RawReply, send
from tests.support.cluster import Cluster
from tests.support.sharing import login

KEY = "hostile-key"
FAR = "4102444800"  # 2100-01-01
SIG = "a" * 64


@pytest.fixture(scope="module")
def site(cluster: Cluster) -> tuple[str, dict[str, str]]:
    auth = login(cluster)
    tok = {"X-Auth-Token": auth.token}
    path = f"{auth.path}/hostile-{uuid.uuid4().hex[:8]}"
    assert cluster.request("PUT", path, {**tok, "X-Container-Meta-Temp-URL-Key": KEY})[0] == 201
    assert cluster.request("PUT", f"{path}/o", tok, b"data")[0] == 201
    return path, tok


def checked(cluster: Cluster, *args: object, **kw: object) -> RawReply:
    """``send`` (waiting for the close, so the log is complete) with no 5xx and no traceback
    logged for it."""
    watch = LogWatch(cluster)
    watch.start()
    reply = send(cluster, *args, until_closed=True, **kw)  # type: ignore[arg-type]
    assert reply.status < 500, reply.body
    assert watch.problems() == []
    return reply


def good_query(path: str) -> str:
    sig = signature.hmac_hex(KEY, signature.tempurl_message("GET", int(FAR), path), "sha256")
    return f"temp_url_sig={sig}&temp_url_expires={FAR}"


@pytest.mark.parametrize(
    "query",
    [
        f"temp_url_sig={SIG}&temp_url_expires=%C2%B2",  # isdigit() but not int()
        f"temp_url_sig={SIG}&temp_url_expires=" + "9" * 5000,  # past int()'s digit limit
        f"temp_url_sig={SIG}&temp_url_expires=" + "9" * 400,
        f"temp_url_sig={SIG}&temp_url_expires=\xff\xfe",  # raw bytes, not UTF-8
        f"temp_url_sig={SIG}&temp_url_expires=%FF%FE",
        f"temp_url_sig={SIG}&temp_url_expires=1%0D%0AX-Evil:%201",
        f"temp_url_sig=%FF&temp_url_expires={FAR}",
        f"temp_url_sig=sha512:%FF%FE%0A&temp_url_expires={FAR}",
        f"temp_url_sig={SIG}&temp_url_expires={FAR}&temp_url_ip_range=%0D%0A",
        f"temp_url_sig={SIG}&temp_url_expires={FAR}&temp_url_prefix=%FF%0A",
        f"temp_url_sig={SIG}&temp_url_expires=9999-99-99T99:99:99Z",
    ],
)
def test_hostile_temp_url_query_is_401(cluster, site, query):
    path, _tok = site
    reply = checked(cluster, "GET", f"{path}/o?{query}")
    assert reply.status == 401
    assert reply.body == b"401 Unauthorized: Temp URL invalid\n"


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("a%0D%0AX-Evil:%201", "a%0D%0AX-Evil%3A 1"),
        ("%FF%FE", "%EF%BF%BD%EF%BF%BD"),  # undecodable: replaced, then quoted
    ],
)
def test_filename_bytes_never_reach_a_header_raw(cluster, site, filename, expected):
    path, _tok = site
    reply = checked(cluster, "GET", f"{path}/o?{good_query(path + '/o')}&filename={filename}")
    assert (reply.status, reply.body) == (200, b"data")
    assert reply.header("content-disposition").startswith(f'attachment; filename="{expected}"')
    assert b"X-Evil" not in reply.head.replace(b"X-Evil%3A", b"")


def form(fields: dict[str, bytes], filename: bytes, part_headers: bytes = b"") -> bytes:
    out = b""
    for name, value in fields.items():
        out += b'--BB\r\nContent-Disposition: form-data; name="' + name.encode() + b'"\r\n\r\n'
        out += value + b"\r\n"
    out += b'--BB\r\nContent-Disposition: form-data; name="f"; filename="' + filename + b'"\r\n'
    return out + part_headers + b"\r\ndata\r\n--BB--\r\n"


def signed(path: str, redirect: str = "", **extra: bytes) -> dict[str, bytes]:
    message = signature.formpost_message(f"{path}/", redirect, "100", "2", FAR)
    fields = {
        "max_file_size": b"100",
        "max_file_count": b"2",
        "expires": FAR.encode(),
        "signature": signature.hmac_hex(KEY, message, "sha256").encode(),
    }
    if redirect:
        fields["redirect"] = redirect.encode()
    return {**fields, **extra}


def post_form(cluster: Cluster, path: str, body: bytes) -> RawReply:
    headers = {"Content-Type": "multipart/form-data; boundary=BB"}
    return checked(cluster, "POST", f"{path}/", headers, body)


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"expires": "\u00b2".encode()}, 400),
        ({"expires": b"9" * 5000}, 401),  # read as 4096 digits: the signature is not for them
        ({"max_file_size": b"\xff"}, 400),
        ({"max_file_count": b"1\r\n2"}, 400),
        ({"x_delete_at": b"12\xc2\xb2"}, 400),
        ({"x_delete_after": b"-5"}, 400),
    ],
)
def test_hostile_form_number_is_4xx_and_stores_nothing(cluster, site, change, status):
    path, tok = site
    name = uuid.uuid4().hex
    reply = post_form(cluster, path, form({**signed(path), **change}, name.encode()))
    assert reply.status == status
    assert cluster.request("HEAD", f"{path}/{name}", tok)[0] == 404


def test_part_content_type_that_is_not_utf8_is_stored_as_sent(cluster, site):
    path, tok = site
    body = form(signed(path), b"ct", b"Content-Type: text/\xffplain\r\n")
    assert post_form(cluster, path, body).status == 201
    head = send(cluster, "HEAD", f"{path}/ct", tok)
    assert head.header("content-type").encode("latin-1") == b"text/\xffplain"


@pytest.mark.parametrize(
    ("filename", "status"),
    [(b"a\x00b", 412), (b"a\xffb", 201), (b"a" * 2000, 400), (b"a\rb", 201)],
)
def test_hostile_file_name_is_what_swift_answers_for_that_object_name(
    cluster, site, filename, status
):
    path, _tok = site
    assert post_form(cluster, path, form(signed(path), filename)).status == status


def test_bare_lf_in_part_header_is_refused_not_sent_on(cluster, site):
    path, _tok = site
    body = form(signed(path), b"lf", b"Content-Type: text/plain\nX-Evil: 1\r\n")
    assert post_form(cluster, path, body).status == 400


def test_redirect_with_crlf_is_quoted_into_one_location(cluster, site):
    path, _tok = site
    redirect = "http://app.example/done\r\nX-Evil: 1"
    reply = post_form(cluster, path, form(signed(path, redirect), b"r"))
    assert reply.status == 303
    assert reply.header("location") == (
        "http://app.example/done%0D%0AX-Evil:%201?status=201&message="
    )
    assert b"\r\nX-Evil" not in reply.head
