"""S3 clients for functional tests: a boto3 client in its default configuration, and a raw
SigV4 signer (botocore's, for the headers) with ``aws-chunked`` body builders for what boto3
does not send over plain HTTP (signed chunks, unsigned chunks with a trailing checksum)."""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import http.client
import urllib.parse
import zlib
from typing import Any

ACCESS, SECRET, REGION = "test:tester", "testing", "us-east-1"
EMPTY = hashlib.sha256(b"").hexdigest()


def client(endpoint: str, access: str = ACCESS, secret: str = SECRET, **kwargs: Any) -> Any:
    """A boto3 S3 client for ``endpoint``, no checksum or signature overrides."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=access,
        aws_secret_access_key=secret,
        region_name=REGION,
        **kwargs,
    )


def signed_headers(
    method: str,
    url: str,
    headers: dict[str, str],
    payload: str,
    secret: str = SECRET,
    skew: float = 0.0,
) -> dict[str, str]:
    """``headers`` plus a SigV4 Authorization over every header and ``payload`` (a body hash
    or a streaming mode), as if the client's clock were ``skew`` seconds off."""
    parts = urllib.parse.urlsplit(url)
    when = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=skew)
    amz_date = when.strftime("%Y%m%dT%H%M%SZ")
    out = {**headers, "Host": parts.netloc, "X-Amz-Date": amz_date, "X-Amz-Content-SHA256": payload}
    lower = {k.lower(): " ".join(str(v).split()) for k, v in out.items()}
    names = sorted(lower)
    pairs = sorted(
        (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
        for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    )
    canonical = "\n".join(
        [
            method,
            urllib.parse.quote(urllib.parse.unquote(parts.path), safe="/-_.~"),
            "&".join(f"{k}={v}" for k, v in pairs),
            "".join(f"{n}:{lower[n]}\n" for n in names),
            ";".join(names),
            payload,
        ]
    )
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    text = (
        f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n" + hashlib.sha256(canonical.encode()).hexdigest()
    )
    sig = hmac.new(signing_key(amz_date[:8], secret), text.encode(), "sha256").hexdigest()
    out["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={ACCESS}/{scope}, SignedHeaders={';'.join(names)}, "
        f"Signature={sig}"
    )
    return out


def signing_key(date: str, secret: str = SECRET) -> bytes:
    key = hmac.new(("AWS4" + secret).encode(), date.encode(), "sha256").digest()
    for part in (REGION, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), "sha256").digest()
    return key


def signed_chunks(
    data: bytes, headers: dict[str, str], chunk: int = 65536, bad_chunk: int | None = None
) -> bytes:
    """``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` framing of ``data``, each chunk signed from
    the seed signature in ``headers``; chunk ``bad_chunk`` gets a wrong signature."""
    auth = headers["Authorization"]
    previous = auth.rsplit("Signature=", 1)[1]
    amz_date = headers["X-Amz-Date"]
    scope = f"{amz_date[:8]}/{REGION}/s3/aws4_request"
    key = signing_key(amz_date[:8])
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)] + [b""]
    out = []
    for index, piece in enumerate(pieces):
        text = "\n".join(
            [
                "AWS4-HMAC-SHA256-PAYLOAD",
                amz_date,
                scope,
                previous,
                EMPTY,
                hashlib.sha256(piece).hexdigest(),
            ]
        )
        sig = hmac.new(key, text.encode(), "sha256").hexdigest()
        previous = sig
        if index == bad_chunk:
            sig = "0" * 64
        out.append(f"{len(piece):x};chunk-signature={sig}\r\n".encode() + piece + b"\r\n")
    return b"".join(out)


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def unsigned_trailer_chunks(data: bytes, checksum: str, chunk: int = 65536) -> bytes:
    """``STREAMING-UNSIGNED-PAYLOAD-TRAILER`` framing with ``x-amz-checksum-crc32``."""
    pieces = [data[i : i + chunk] for i in range(0, len(data), chunk)]
    out = [f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces]
    out.append(b"0\r\n" + f"x-amz-checksum-crc32:{checksum}\r\n".encode() + b"\r\n")
    return b"".join(out)


def send(
    host: str, port: int, method: str, path: str, headers: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection(host, port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()
