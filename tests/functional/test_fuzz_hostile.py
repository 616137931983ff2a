"""Fuzz suite: hostile raw requests to the proxy and to each storage server of a real cluster.

Hypothesis draws request lines, header blocks, chunked bodies, ranges, names and query strings
(``tests/support/fuzz_http.py``) and sends each one raw over a fresh socket. Targets: the proxy
(anything, names and parameters that are not UTF-8 included), the proxy again with authorized,
well-framed requests on objects that exist (an SLO among them) so hostile parameters reach the
controllers and filters, s3api, and each storage server. Properties, for every request:

- the server answers (or closes) within its deadline: no hang;
- the status is below 500 (nothing here makes a backend fail; a storage server may answer 507
  for a device name that does not exist, as Swift does);
- no response header carries a client-supplied CR or LF: every head line is a clean
  ``name: value`` line and no ``X-Injected`` header (which only an injection payload names)
  ever appears;

and for the whole run: no traceback in any log, and the objects a control client wrote before
it read back byte-exact after it.

Bounded for ``./bin/test`` (about a minute on 2 cores); ``SWIFTLITE_FUZZ_EXAMPLES=N`` runs N
examples per target for a release check (figures in docs/reliability.md).
"""

from __future__ import annotations

import collections
import hashlib
import http.client
import json
import os
import pathlib
import re
import urllib.parse
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import fuzz_http, s3
from tests.support.cluster import Cluster
from tests.support.fuzz_http import RawRequest, RawResponse

REPLY_DEADLINE = 30.0  # well past the servers' own timeouts on a loaded 2-core machine
HEAD_LINE = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z\x80-\xff]+:[ \t]?[^\r\n]*")
CONTROL_CONTAINER = "fuzz-control"


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=fuzz_http.examples(examples),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        database=None,
    )


@pytest.fixture(scope="module")
def fuzz_cluster(tmp_path_factory) -> Iterator[Cluster]:
    cluster = Cluster.start(str(tmp_path_factory.mktemp("fuzz-aio")))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="module")
def auth(fuzz_cluster):
    return fuzz_cluster.auth("test:tester", "testing")


CONTROL_OBJECTS = {
    "plain": b"control bytes\n" * 50,
    "\u1801\u5605 name": os.urandom(3000),
    "dir/\u00e9\u00df/x": b"",
    "zeros": b"\x00" * 70000,
}


@pytest.fixture(scope="module")
def control(fuzz_cluster, auth) -> None:
    """Objects written before the fuzz run; the module's last test reads them back."""
    base = auth.path + "/" + CONTROL_CONTAINER
    status, _, _ = fuzz_cluster.request("PUT", base, {"X-Auth-Token": auth.token})
    assert status in (201, 202)
    for name, data in CONTROL_OBJECTS.items():
        status, _, _ = fuzz_cluster.request(
            "PUT", f"{base}/{name}", {"X-Auth-Token": auth.token}, data
        )
        assert status == 201


def check_response(resp: RawResponse | None, allowed_5xx: frozenset[int] = frozenset()) -> None:
    if resp is None:
        return  # closed without an answer: allowed (a refused or abandoned connection)
    assert resp.status < 500 or resp.status in allowed_5xx, resp.head[:300]
    for line in resp.head.split(b"\r\n")[1:]:
        assert HEAD_LINE.fullmatch(line), f"response head line {line[:120]!r}"
    names = {name.lower() for name, _ in resp.headers}
    assert fuzz_http.INJECTED.lower().encode() not in names, resp.head[:300]


def allowed_for(req: RawRequest) -> frozenset[int]:
    """A transfer coding other than chunked is 501 Not Implemented, as Swift answers."""
    codings = [v for n, v in req.headers if n.lower() == b"transfer-encoding"]
    return frozenset({501}) if codings and codings != [b"chunked"] else frozenset()


STATUSES: collections.Counter[str] = collections.Counter()  # per run, printed with -s


def send(host: str, port: int, req: RawRequest) -> RawResponse | None:
    resp = fuzz_http.exchange(host, port, req.encode(), REPLY_DEADLINE)
    while resp is not None and resp.status == 100:  # 100 Continue, then the real answer
        rest = resp.body
        resp = _parse(rest) if rest else None
    STATUSES[str(resp.status) if resp is not None else "closed"] += 1
    return resp


def report(target: str) -> None:
    print(f"\nfuzz {target}: {sum(STATUSES.values())} requests, statuses {dict(STATUSES)}")
    STATUSES.clear()


def _parse(raw: bytes) -> RawResponse:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = [(n, v.strip(b" \t")) for n, _, v in (line.partition(b":") for line in lines[1:])]
    return RawResponse(int(lines[0].split(b" ", 2)[1]), head, headers, body)


# -- the proxy -----------------------------------------------------------------------------------


@st.composite
def proxy_requests(draw, account: str, token: str) -> RawRequest:
    segments = [b"/v1", draw(st.sampled_from([account, account, "AUTH_other", "x"])).encode()]
    depth = draw(st.integers(0, 2))
    bad_utf8 = draw(st.integers(0, 4)) == 0  # names and parameters that are not UTF-8: 412/400
    container = draw(st.one_of(st.just(b"fuzz"), fuzz_http.path_name(allow_bad_utf8=bad_utf8)))
    if container.startswith(CONTROL_CONTAINER.encode()):
        container = b"fuzz"
    if depth >= 1:
        segments.append(container)
    if depth >= 2:  # sometimes the SLO the fixture made, so ?part-number and ranges reach it
        name = st.one_of(st.just(b"slo"), fuzz_http.path_name(allow_bad_utf8=bad_utf8))
        segments.append(draw(name))
    target = b"/".join(segments)
    if draw(st.integers(0, 9)) == 0:
        target = draw(st.sampled_from([b"/auth/v1.0", b"/info", b"/healthcheck", b"//v1", b"*"]))
    query = draw(fuzz_http.query_string(allow_bad_utf8=bad_utf8))
    if query:
        target += b"?" + query
    headers = [(b"Host", draw(st.sampled_from([b"x", b"h\xc3\xa9", b"a%0d%0aX-Injected:%201"])))]
    if draw(st.integers(0, 3)):
        headers.append((b"X-Auth-Token", token.encode()))
    headers += draw(fuzz_http.header_block(allow_line_breaks=draw(st.integers(0, 4)) == 0))
    framing, body = draw(fuzz_http.body_and_framing())
    headers += framing
    headers = [  # a destination or copy source never names the control objects
        (n, v.replace(CONTROL_CONTAINER.encode(), b"fuzz"))
        if n.lower() in (b"destination", b"x-copy-from")
        else (n, v)
        for n, v in headers
    ]
    return RawRequest(draw(fuzz_http.methods), target, headers, body)


def test_proxy_survives_hostile_requests(fuzz_cluster, auth, control) -> None:
    host, port = fuzz_cluster.proxy
    token = {"X-Auth-Token": auth.token}
    base = f"{auth.path}/fuzz"
    assert fuzz_cluster.request("PUT", base, token)[0] in (201, 202)
    assert fuzz_cluster.request("PUT", f"{base}/seg", token, b"segment bytes")[0] == 201
    manifest = json.dumps([{"path": "/fuzz/seg"}, {"path": "/fuzz/seg"}]).encode()
    put = fuzz_cluster.request("PUT", f"{base}/slo?multipart-manifest=put", token, manifest)
    assert put[0] == 201
    account = urllib.parse.urlsplit(auth.storage_url).path.split("/")[2]

    @fuzz_settings(250)
    @given(proxy_requests(account, auth.token))
    def run(req: RawRequest) -> None:
        check_response(send(host, port, req), allowed_for(req))

    run()
    report("proxy")


@st.composite
def deep_proxy_requests(draw, account: str, token: str) -> RawRequest:
    """Authorized, well-framed requests on things that exist (the account, the fuzz container,
    a segment, an SLO), with hostile parameters and headers: past auth and framing, into the
    controllers and the middleware tier. Writes go to names of their own, so what the reads
    reach stays there; a write may still leave a hostile row the next listing must survive."""
    base = f"/v1/{account}/fuzz".encode()
    method = draw(st.sampled_from(["GET", "GET", "HEAD", "PUT", "POST", "DELETE", "COPY"]))
    if method in ("GET", "HEAD"):
        target = draw(st.sampled_from([f"/v1/{account}".encode(), base, base + b"/seg"]))
        target = draw(st.sampled_from([target, base + b"/slo"]))
    else:
        target = draw(st.sampled_from([base, base + b"/new-0", base + b"/new-1"]))
    pairs = [draw(fuzz_http.query_string(allow_bad_utf8=draw(st.integers(0, 4)) == 0))]
    if draw(st.booleans()):
        key = draw(st.sampled_from(fuzz_http.NUMERIC_PARAMS))
        value = draw(fuzz_http.number_text).encode("utf-8")
        pairs.append(key.encode() + b"=" + urllib.parse.quote_from_bytes(value).encode())
    query = b"&".join(p for p in pairs if p)
    if query:
        target += b"?" + query
    headers = [(b"Host", b"x"), (b"X-Auth-Token", token.encode())]
    headers += draw(fuzz_http.header_block(allow_line_breaks=False))
    if method in ("PUT", "POST") and draw(st.booleans()):
        headers.append((b"Content-Type", draw(fuzz_http.content_type)))
    body = draw(st.binary(max_size=32)) if method == "PUT" else b""
    headers.append((b"Content-Length", str(len(body)).encode()))
    return RawRequest(method, target, headers, body)


def test_proxy_survives_hostile_parameters_on_existing_objects(fuzz_cluster, auth, control) -> None:
    host, port = fuzz_cluster.proxy
    account = urllib.parse.urlsplit(auth.storage_url).path.split("/")[2]
    slo = fuzz_cluster.request("HEAD", f"{auth.path}/fuzz/slo", {"X-Auth-Token": auth.token})
    assert slo[0] in (200, 404)  # the proxy target made it; one of its DELETEs may have removed it

    @fuzz_settings(200)
    @given(deep_proxy_requests(account, auth.token))
    def run(req: RawRequest) -> None:
        check_response(send(host, port, req), allowed_for(req))

    run()
    report("proxy, deep")


# -- the S3 API ----------------------------------------------------------------------------------


@st.composite
def s3_requests(draw, host: bytes) -> RawRequest:
    """Bucket and object requests through s3api; about half carry a valid V4 signature, so the
    hostile query strings, headers and bodies reach the controllers, not only the auth check."""
    bucket = draw(st.sampled_from([b"fuzzb", b"fuzzb", b"fuzz", b""]))  # fuzzb exists
    bucket = bucket or draw(fuzz_http.path_name(allow_bad_utf8=False))
    if bucket.startswith(CONTROL_CONTAINER.encode()):
        bucket = b"fuzz"
    target = b"/" + bucket
    if draw(st.booleans()):
        target += b"/" + draw(st.one_of(st.just(b"o"), fuzz_http.path_name(False)))
    query = draw(fuzz_http.s3_query())
    if query:
        target += b"?" + query
    method = draw(st.sampled_from(["GET", "GET", "PUT", "POST", "DELETE", "HEAD", ""]))
    method = method or draw(fuzz_http.methods)
    if b"partNumber=" in query and draw(st.booleans()):  # an UploadPart, so the number is read
        target, method = b"/fuzzb/o?" + query, "PUT"
    signed = draw(st.booleans())
    pairs = draw(fuzz_http.s3_headers(printable=signed)) if draw(st.integers(0, 2)) else []
    framing, body = draw(fuzz_http.body_and_framing())
    if signed and target.isascii() and method.isalpha():
        text = dict(pairs)
        payload = text.pop("x-amz-content-sha256", "UNSIGNED-PAYLOAD")
        url = "http://" + host.decode() + target.decode()
        text = s3.signed_headers(method, url, text, payload)
        headers = [(k.encode("utf-8"), v.encode("utf-8")) for k, v in text.items()]
    else:
        headers = [(b"Host", host)] + [(k.encode("utf-8"), v.encode("utf-8")) for k, v in pairs]
        forms = [
            b"AWS test:tester:" + draw(st.binary(max_size=12)).hex().encode(),
            b"AWS4-HMAC-SHA256 Credential=test:tester/20261202/us-east-1/s3/aws4_request, "
            b"SignedHeaders=host, Signature=" + b"0" * 64,
            b"AWS4-HMAC-SHA256 Credential=" + draw(fuzz_http.header_value(False)),
            draw(fuzz_http.header_value(False)),
        ]
        if draw(st.integers(0, 3)):
            headers.append((b"Authorization", draw(st.sampled_from(forms))))
    return RawRequest(method, target, headers + framing, body)


def test_s3api_survives_hostile_requests(fuzz_cluster, auth, control) -> None:
    host, port = fuzz_cluster.proxy
    token = {"X-Auth-Token": auth.token}
    assert fuzz_cluster.request("PUT", f"{auth.path}/fuzzb", token)[0] in (201, 202)
    assert fuzz_cluster.request("PUT", f"{auth.path}/fuzzb/o", token, b"s3 bytes")[0] == 201
    netloc = f"{host}:{port}".encode()

    @fuzz_settings(200)
    @given(s3_requests(netloc))
    def run(req: RawRequest) -> None:
        # 501: S3's NotImplemented for what s3api does not offer, and for other transfer codings
        check_response(send(host, port, req), allowed_for(req) | frozenset({501}))

    run()
    report("s3api")


# -- the storage servers --------------------------------------------------------------------------


@st.composite
def storage_requests(draw, kind: str, devices: tuple[str, ...]) -> tuple[RawRequest, bool]:
    """(request, device-name-fuzzed) for an object, container or account server."""
    fuzzed_device = draw(st.integers(0, 9)) == 0
    device = (
        draw(fuzz_http.path_name(allow_bad_utf8=True))
        if fuzzed_device
        else (draw(st.sampled_from(devices)).encode())
    )
    part = draw(
        st.one_of(
            st.integers(0, 1023).map(lambda n: str(n).encode()),
            st.sampled_from([b"%C2%B2", b"\xc2\xb2", b"-1", b"0x1", b"9" * 30, b""]),
        )
    )
    depth = {"object": 3, "container": 2, "account": 1}[kind]
    depth = draw(st.sampled_from([depth, depth, depth - 1, depth + 1]))
    names = [draw(st.sampled_from([b"fuzzacct", b".fuzz"]))]
    names += [draw(fuzz_http.path_name(allow_bad_utf8=True)) for _ in range(max(depth - 1, 0))]
    target = b"/" + b"/".join([device, part, *names[: max(depth, 0)]])
    query = draw(fuzz_http.query_string(allow_bad_utf8=True))
    if query:
        target += b"?" + query
    headers = [(b"Host", b"x")]
    if draw(st.integers(0, 3)):
        headers.append((b"X-Timestamp", draw(fuzz_http.stamp_text).encode("utf-8")))
    if kind == "object" and draw(st.booleans()):
        headers.append((b"Content-Type", b"text/plain"))
    headers += draw(fuzz_http.header_block(allow_line_breaks=draw(st.integers(0, 4)) == 0))
    framing, body = draw(fuzz_http.body_and_framing())
    headers += framing
    method = draw(st.one_of(fuzz_http.methods, st.sampled_from(["REPLICATE", "UPDATE"])))
    return RawRequest(method, target, headers, body), fuzzed_device


def _names_no_policy(req: RawRequest) -> bool:
    """An X-Backend-Storage-Policy-Index naming no policy of this cluster (it has only 0): the
    object server answers 503 to it, as Swift's does, so that the proxy tries another node."""
    values = [
        v.strip(b" \t") for n, v in req.headers if n.lower() == b"x-backend-storage-policy-index"
    ]
    return any(not (v.isdigit() and not v.lstrip(b"0")) for v in values)  # no int(): 5,000 digits


@pytest.mark.parametrize("kind", ["object", "container", "account"])
def test_storage_server_survives_hostile_requests(fuzz_cluster, control, kind) -> None:
    node = fuzz_cluster.plan.nodes[0]
    port = node.port_of(kind)

    @fuzz_settings(120)
    @given(storage_requests(kind, node.devices))
    def run(drawn: tuple[RawRequest, bool]) -> None:
        req, fuzzed_device = drawn
        allowed = allowed_for(req) | (frozenset({507}) if fuzzed_device else frozenset())
        if kind == "object" and _names_no_policy(req):
            allowed |= frozenset({503})
        check_response(send(node.ip, port, req), allowed)

    run()
    report(f"{kind} server")


# -- after the run --------------------------------------------------------------------------------


def test_control_objects_read_back_byte_exact_after_the_fuzz(fuzz_cluster, auth, control) -> None:
    base = auth.path + "/" + CONTROL_CONTAINER
    for name, data in CONTROL_OBJECTS.items():
        conn = http.client.HTTPConnection(*fuzz_cluster.proxy, timeout=30)
        conn.request(
            "GET", urllib.parse.quote(f"{base}/{name}"), headers={"X-Auth-Token": auth.token}
        )
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        assert resp.status == 200, name
        assert hashlib.md5(body).hexdigest() == hashlib.md5(data).hexdigest(), name


def test_no_traceback_in_any_log_after_the_fuzz(fuzz_cluster) -> None:
    log_dir = pathlib.Path(fuzz_cluster.plan.root) / "log"
    found = {}
    for path in sorted(log_dir.iterdir()):
        text = path.read_text(errors="replace")
        if "Traceback" in text:
            index = text.index("Traceback")
            found[path.name] = text[max(0, index - 400) : index + 1500]
    assert not found, "\n\n".join(f"{k}:\n{v}" for k, v in found.items())
