"""AWS Signature Version 4 for S3: canonical request, string to sign, signing key.

Pure functions over plain values (method, path bytes, query pairs, headers), so the rules
are tested without a server. ``chunk_string_to_sign`` is the per-chunk form of streaming
uploads (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``).
"""

from __future__ import annotations

import hashlib
import hmac
import urllib.parse
from collections.abc import Iterable, Mapping

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED = "UNSIGNED-PAYLOAD"
STREAMING = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
STREAMING_MODES = frozenset({STREAMING, STREAMING_TRAILER, UNSIGNED_TRAILER})


def uri_encode(raw: bytes, safe: str = "/") -> str:
    """AWS's URI encoding: every byte but unreserved ones (and ``safe``) as ``%XX``."""
    return urllib.parse.quote(raw, safe=safe + "-_.~")


def canonical_query(pairs: Iterable[tuple[str, str]], skip: str | None = None) -> str:
    """Sorted ``k=v`` pairs, each side URI-encoded, joined with ``&`` (``skip`` left out)."""
    items = sorted(
        (uri_encode(k.encode("latin-1"), ""), uri_encode(v.encode("latin-1"), ""))
        for k, v in pairs
        if k != skip
    )
    return "&".join(f"{k}={v}" for k, v in items)


def canonical_headers(headers: Mapping[str, str], signed: list[str]) -> str:
    """``name:value\\n`` for each signed header, values trimmed and spaces collapsed."""
    lines = []
    for name in signed:
        value = headers.get(name, "")
        lines.append(f"{name}:{' '.join(value.split())}\n")
    return "".join(lines)


def canonical_request(
    method: str,
    path: bytes,
    query: Iterable[tuple[str, str]],
    headers: Mapping[str, str],
    signed: list[str],
    payload_hash: str,
    skip_query: str | None = None,
    encoded_path: str | None = None,
) -> str:
    """The canonical request; ``headers`` keyed by lower-case name; ``encoded_path`` is the
    path as the client encoded it, used as is instead of encoding ``path``."""
    return "\n".join(
        [
            method,
            uri_encode(path) if encoded_path is None else encoded_path,
            canonical_query(query, skip_query),
            canonical_headers(headers, signed),
            ";".join(signed),
            payload_hash,
        ]
    )


def string_to_sign(amz_date: str, scope: str, canonical: str) -> str:
    """``AWS4-HMAC-SHA256``, the request time, the scope and the canonical request's hash."""
    digest = hashlib.sha256(canonical.encode("latin-1", "replace")).hexdigest()
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{digest}"


def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    """The derived key: HMAC chain over date, region, service and ``aws4_request``."""
    key = hmac.new(("AWS4" + secret).encode("utf-8"), date.encode(), "sha256").digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode("utf-8"), "sha256").digest()
    return key


def sign(key: bytes, text: str) -> str:
    """The hex HMAC-SHA256 of ``text`` under ``key``."""
    return hmac.new(key, text.encode("latin-1", "replace"), "sha256").hexdigest()


def chunk_string_to_sign(amz_date: str, scope: str, previous: str, chunk_hash: str) -> str:
    """The string a streaming upload's chunk signature covers."""
    return f"{ALGORITHM}-PAYLOAD\n{amz_date}\n{scope}\n{previous}\n{EMPTY_SHA256}\n{chunk_hash}"


def trailer_string_to_sign(amz_date: str, scope: str, previous: str, trailer: bytes) -> str:
    """The string the trailer signature of ``...-PAYLOAD-TRAILER`` uploads covers."""
    digest = hashlib.sha256(trailer).hexdigest()
    return f"{ALGORITHM}-TRAILER\n{amz_date}\n{scope}\n{previous}\n{digest}"


def is_sha256(value: str) -> bool:
    """Whether ``value`` is a lower-case hex SHA256 (a signed payload's hash)."""
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)
