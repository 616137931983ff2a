"""Hypothesis strategies for hostile HTTP requests, and a raw client that reads one answer.

Requests are bytes: a request line, a header block and a body, each drawn from a mix of valid
values (so requests reach deep into the servers), Swift's odd corners (UTF-8 names across the
BMP, U+1801 and U+5605 whose bytes hold 0xA0 and 0x85, ``%00`` markers) and hostile forms (line
breaks that would inject ``X-Injected`` headers, lenient numbers such as ``0x5``, ``+5`` and
``²``, 5,000-digit ranges, broken chunked framing). Used by the fuzz suite against a real
cluster (``tests/functional/test_fuzz_hostile.py``) and by the h11 cross-check of the server's
parser (``tests/unit/common/test_http_server_h11.py``).
"""

from __future__ import annotations

import os
import socket
import urllib.parse
from dataclasses import dataclass, field

from hypothesis import strategies as st

INJECTED = "X-Injected"  # the header name only an injection payload ever carries
INJECTIONS = (
    "\r\nX-Injected: 1",
    "\nX-Injected: 1",
    "\rX-Injected: 1",
    "%0d%0aX-Injected:%201",
    "%0aX-Injected:%201",
    "%0D%0AX-Injected%3A%201",
)
SPECIAL_CHARS = "\u1801\u5605\u0105\u00a0\u0085\u00e9\u00df\u00ff\u2028\ufeff\u071c\ud7ff\ue000"


def examples(default: int) -> int:
    """Examples per test: ``SWIFTLITE_FUZZ_EXAMPLES`` scales the bounded CI run up."""
    scale = os.environ.get("SWIFTLITE_FUZZ_EXAMPLES")
    if scale and scale.isdigit() and scale.isascii():
        return max(int(scale), 1)
    return default


# -- text pieces -----------------------------------------------------------------------------

bmp_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFFFF, blacklist_categories=("Cs",)),
    min_size=1,
    max_size=12,
)
name_text = st.one_of(
    bmp_text,
    st.text(alphabet=SPECIAL_CHARS + "abc-_.~ /%", min_size=1, max_size=8),
    st.sampled_from(["o", "a b", "%", "..", ".", "x/y", "\u1801", "\u5605", "a\u00a0"]),
)
number_text = st.one_of(
    st.integers(min_value=0, max_value=10**12).map(str),
    st.sampled_from(
        ["", "-1", "+5", "0x5", "0_5", " 5", "5 ", "\u00b2", "\u0665", "1e3", "9" * 30]
    ),
    st.just("9" * 5000),
)
stamp_text = st.one_of(
    st.floats(min_value=1e9, max_value=2e9).map(lambda f: f"{f:016.5f}"),
    st.sampled_from(["1_-1", "1.5_", "-1", "99999999999.99999", "\u00b2", "1700000000.5_+1"]),
    number_text,
)


def encode_name(text: str, how: str) -> bytes:
    """A name for a path: raw UTF-8, or percent-encoded (``/`` kept as a separator)."""
    raw = text.encode("utf-8")
    if how == "raw":
        # raw bytes, but never SP, CR, LF, '?', '#' or NUL (those end or break the target),
        # and '%' stays a literal percent sign
        safe = bytes(b if b > 0x20 and b not in b"?#\x7f" else ord("_") for b in raw)
        return safe.replace(b"%", b"%25")
    return urllib.parse.quote(raw, safe="/").encode("ascii")


@st.composite
def path_name(draw, allow_bad_utf8: bool) -> bytes:
    """One path segment (or a short run of them)."""
    text = draw(name_text)
    how = draw(st.sampled_from(["raw", "quoted"]))
    out = encode_name(text, how)
    extra = [b"", b"%00", b"//", b"%2F", b"%0d%0aX-Injected:%201"]
    if allow_bad_utf8:
        extra += [b"%ff", b"%c0%af", b"%ed%a0%80", b"%c3", b"\xff", b"%E5%98"]
    return out + draw(st.sampled_from(extra))


@st.composite
def header_value(draw, allow_line_breaks: bool) -> bytes:
    pieces = [
        draw(bmp_text).encode("utf-8"),
        draw(number_text).encode("utf-8"),
        b"bytes=" + draw(range_spec()),
        "a\u5605".encode(),
        b"\xff\xfe",
        b"\x01\x7f\x1b[31m",
        b"text/plain;swift_bytes=" + draw(number_text).encode("utf-8"),  # the SLO listing param
    ]
    value = draw(st.sampled_from(pieces))
    if allow_line_breaks and draw(st.booleans()):
        value += draw(st.sampled_from(INJECTIONS)).encode("latin-1")
    elif draw(st.integers(0, 9)) == 0:
        value += draw(st.sampled_from(INJECTIONS[3:])).encode("latin-1")
    if not allow_line_breaks:
        value = value.replace(b"\r", b"").replace(b"\n", b"").replace(b"\x00", b"")
    return value


# query parameters whose value is a number somewhere in the pipeline
NUMERIC_PARAMS = (
    "limit",
    "part-number",
    "heartbeat",
    "temp_url_expires",
    "version-id",
)
content_type = st.one_of(
    st.sampled_from([b"text/plain", b"a/b; charset=utf-8", b"application/x-www-form-urlencoded"]),
    number_text.map(lambda n: b"text/plain;swift_bytes=" + n.encode("utf-8")),
    bmp_text.map(lambda t: t.encode("utf-8")),
)


@st.composite
def range_spec(draw) -> bytes:
    one = st.one_of(
        st.tuples(st.integers(0, 50), st.integers(0, 50)).map(lambda t: f"{t[0]}-{t[1]}"),
        st.integers(0, 50).map(lambda n: f"-{n}"),
        st.integers(0, 50).map(lambda n: f"{n}-"),
        st.sampled_from(["\u00b2-3", "1-\u00b3", "0-" + "5" * 5000, "-", "a-b", "5-1", " 1 - 2"]),
    )
    specs = draw(st.lists(one, min_size=1, max_size=4))
    return ",".join(specs).encode("utf-8")


HEADER_NAMES = (
    "Content-Type",
    "X-Object-Meta-Color",
    "X-Container-Meta-Color",
    "X-Account-Meta-Color",
    "X-Delete-After",
    "X-Delete-At",
    "X-Timestamp",
    "Range",
    "If-Match",
    "If-None-Match",
    "If-Modified-Since",
    "Content-Disposition",
    "Content-Encoding",
    "Cache-Control",
    "X-Copy-From",
    "Destination",
    "X-Container-Read",
    "X-Trans-Id-Extra",
    "X-Forwarded-For",
    "X-Size",
    "X-Etag",
    "X-Content-Type",
    "X-Bytes-Used",
    "X-Object-Count",
    "X-Put-Timestamp",
    "X-Delete-Timestamp",
    "X-Backend-Storage-Policy-Index",
    "X-Backend-Container-Update-Override-Size",
    "X-Container-Partition",
    "X-Account-Partition",
    "X-If-Delete-At",
    # the middleware tier's headers
    "X-Object-Manifest",
    "X-Static-Large-Object",
    "X-Symlink-Target",
    "X-Symlink-Target-Account",
    "X-Symlink-Target-Etag",
    "X-Versions-Location",
    "X-History-Location",
    "X-Versions-Enabled",
    "X-Container-Meta-Quota-Bytes",
    "X-Container-Meta-Quota-Count",
    "X-Account-Meta-Quota-Bytes",
    "X-Container-Meta-Web-Index",
    "X-Container-Meta-Web-Listings",
    "X-Container-Meta-Web-Error",
    "X-Container-Meta-Temp-URL-Key",
    "X-Container-Meta-Access-Control-Allow-Origin",
    "Origin",
    "Access-Control-Request-Method",
    "Access-Control-Request-Headers",
    "X-Copy-From-Account",
    "Destination-Account",
    "X-Fresh-Metadata",
    "X-Detect-Content-Type",
    "X-Web-Mode",
    "X-Storage-Policy",
    "X-Service-Token",
    "Referer",
)


@st.composite
def header_block(draw, allow_line_breaks: bool) -> list[tuple[bytes, bytes]]:
    names = st.one_of(
        st.sampled_from(HEADER_NAMES).map(str.encode),
        st.sampled_from(["X-Object-Meta-\u5605\u00e9", "X-Object-Meta-\u00df", "X-A_B"]).map(
            lambda s: s.encode("utf-8")
        ),
        st.from_regex(r"\A[A-Za-z][A-Za-z0-9-]{0,12}\Z").map(str.encode),
    )
    pairs = draw(st.lists(st.tuples(names, header_value(allow_line_breaks)), max_size=6))
    return pairs


@st.composite
def query_string(draw, allow_bad_utf8: bool) -> bytes:
    keys = st.sampled_from(
        [
            "format",
            "limit",
            "marker",
            "end_marker",
            "prefix",
            "delimiter",
            "path",
            "reverse",
            "multipart-manifest",
            "part-number",
            "symlink",
            "x",
            # the middleware tier's parameters
            "extract-archive",
            "bulk-delete",
            "heartbeat",
            "temp_url_sig",
            "temp_url_expires",
            "temp_url_prefix",
            "temp_url_ip_range",
            "filename",
            "inline",
            "versions",
            "version-id",
            "version_id",
        ]
    )
    values = st.one_of(
        name_text.map(lambda t: urllib.parse.quote(t.encode("utf-8"), safe="")),
        number_text.map(lambda t: urllib.parse.quote(t.encode("utf-8"), safe="")),
        st.sampled_from(["json", "xml", "plain", "%00", "a%00", "%C2%B2", ""]),
        st.sampled_from(["%ff", "%c3", "%ed%a0%80"] if allow_bad_utf8 else ["ok"]),
    )
    pairs = draw(st.lists(st.tuples(keys, values), max_size=3))
    return "&".join(f"{k}={v}" for k, v in pairs).encode("ascii")


@st.composite
def body_and_framing(draw) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """(framing headers, body bytes): none, Content-Length, chunked, or broken chunked."""
    data = draw(st.binary(max_size=64))
    kind = draw(st.sampled_from(["none", "length", "chunked", "bad-chunked", "coding"]))
    if kind == "none":
        return [], b""
    if kind == "length":
        return [(b"Content-Length", str(len(data)).encode())], data
    parts = [data[i : i + 7] for i in range(0, len(data), 7)] or [b""]
    if kind == "chunked":
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts if p) + b"0\r\n\r\n"
        return [(b"Transfer-Encoding", b"chunked")], body
    if kind == "bad-chunked":
        size = draw(st.sampled_from([b"0x5", b"+5", b"0_5", b" 5", b"5 ;x", b"\xd9\xa5", b"-1"]))
        return [(b"Transfer-Encoding", b"chunked")], size + b"\r\nhello\r\n0\r\n\r\n"
    coding = draw(st.sampled_from([b"gzip, chunked", b"chunked, chunked", b"gzip", b""]))
    return [(b"Transfer-Encoding", coding)], b"5\r\nhello\r\n0\r\n\r\n"


METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE", "COPY", "OPTIONS")
methods = st.one_of(
    st.sampled_from(METHODS),
    st.sampled_from(["LICK", "GETorHEAD_base", "get", "M-SEARCH", "G@T", "GET /x"]),
)


@dataclass
class RawRequest:
    method: str
    target: bytes
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    version: bytes = b"HTTP/1.1"

    def encode(self) -> bytes:
        lines = [self.method.encode("latin-1") + b" " + self.target + b" " + self.version]
        lines += [name + b": " + value for name, value in self.headers]
        return b"\r\n".join(lines) + b"\r\n\r\n" + self.body


@dataclass
class RawResponse:
    status: int
    head: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes


def exchange(host: str, port: int, data: bytes, timeout: float) -> RawResponse | None:
    """Send ``data``, half-close, and read everything the server sends until it closes.

    None when the server closed without a response (allowed only for framing it refused);
    ``TimeoutError`` when it neither answered nor closed in ``timeout`` seconds.
    """
    with socket.create_connection((host, port), timeout=timeout) as sock:
        try:
            sock.sendall(data)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may refuse and close before reading everything
        chunks = []
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    raw = b"".join(chunks)
    if not raw:
        return None
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers.append((name, value.strip(b" \t")))
    return RawResponse(status, head, headers, body)


# -- S3 ------------------------------------------------------------------------------------------

S3_QUERY_KEYS = (
    "uploads",
    "uploadId",
    "partNumber",
    "tagging",
    "acl",
    "cors",
    "versioning",
    "versions",
    "versionId",
    "location",
    "delete",
    "attributes",
    "list-type",
    "continuation-token",
    "start-after",
    "max-keys",
    "max-uploads",
    "max-parts",
    "part-number-marker",
    "key-marker",
    "upload-id-marker",
    "version-id-marker",
    "encoding-type",
    "fetch-owner",
    "prefix",
    "delimiter",
    "marker",
    "response-content-type",
    "response-content-disposition",
    "lifecycle",
    "policy",
    "X-Amz-Expires",
    "X-Amz-Date",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "Signature",
    "Expires",
    "AWSAccessKeyId",
)
S3_HEADER_NAMES = (
    "x-amz-date",
    "x-amz-content-sha256",
    "x-amz-decoded-content-length",
    "x-amz-copy-source",
    "x-amz-copy-source-range",
    "x-amz-copy-source-if-match",
    "x-amz-metadata-directive",
    "x-amz-tagging",
    "x-amz-tagging-directive",
    "x-amz-acl",
    "x-amz-grant-read",
    "x-amz-storage-class",
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-sha256",
    "x-amz-checksum-algorithm",
    "x-amz-checksum-mode",
    "x-amz-sdk-checksum-algorithm",
    "x-amz-trailer",
    "x-amz-object-attributes",
    "x-amz-meta-\u00e9",
    "x-amz-meta-a",
    "Content-MD5",
    "Content-Encoding",
    "If-None-Match",
    "If-Match",
    "Range",
)


@st.composite
def s3_query(draw) -> bytes:
    keys = st.sampled_from(S3_QUERY_KEYS)
    values = st.one_of(
        st.just(""),
        name_text.map(lambda t: urllib.parse.quote(t.encode("utf-8"), safe="")),
        number_text.map(lambda t: urllib.parse.quote(t.encode("utf-8"), safe="")),
        st.sampled_from(["2", "url", "%00", "%ff", "AWS4-HMAC-SHA256", "9" * 40]),
    )
    pairs = draw(st.lists(st.tuples(keys, values), max_size=3))
    if draw(st.integers(0, 2)) == 0:  # an upload's part: the number is checked before the id
        number = number_text.map(lambda t: urllib.parse.quote(t.encode("utf-8"), safe=""))
        pairs.append(("partNumber", draw(st.one_of(number, values))))
        pairs.append(("uploadId", draw(st.sampled_from(["0" * 32, "x", ""]))))
    return "&".join(f"{k}={v}" if v or draw(st.booleans()) else k for k, v in pairs).encode()


@st.composite
def s3_headers(draw, printable: bool) -> list[tuple[str, str]]:
    """S3 headers; ``printable`` keeps values to visible ASCII, so a signature can cover them."""
    modes = st.sampled_from(
        [
            "UNSIGNED-PAYLOAD",
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
            "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
            "0" * 64,
            "zz",
        ]
    )
    text = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=40)
    value = text if printable else st.one_of(text, bmp_text, number_text)
    pairs = draw(st.lists(st.tuples(st.sampled_from(S3_HEADER_NAMES), value), max_size=5))
    out = [(n, v) for n, v in pairs if n.lower() not in ("x-amz-date", "x-amz-content-sha256")]
    return [*out, ("x-amz-content-sha256", draw(modes))] if draw(st.booleans()) else out
