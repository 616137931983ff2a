"""Request plans of the middleware workloads: what each one sends, built without a server.

Owns the pure parts of ``slo_get``, ``dlo_get``, ``tempurl_get``, ``versioned_put``,
``bulk_delete`` and ``mixed128``: manifests, signed URLs, request bodies, the load generator's
``Job`` of each, and the reading of a bulk delete's answer. ``mw_bench`` runs them against a
started system; the unit tests check them here.
"""

from __future__ import annotations

import hmac
import json
import time
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

from bench import loadgen

SEGMENTS = 10  # the SLO and the DLO are read as 10 equal segments
MIXED_PATTERN = (0,) * 9 + (1,)  # 90% GET, 10% PUT
MIXED128_CONNECTIONS = 128


def segment_names(prefix: str = "seg-", count: int = SEGMENTS) -> list[str]:
    """Names of the segments, in the order a DLO lists them (zero-padded)."""
    return [f"{prefix}{i:02d}" for i in range(count)]


def slo_manifest(container: str, names: Sequence[str], etag: str, size: int) -> bytes:
    """The JSON body of ``PUT ?multipart-manifest=put``: every segment checked by etag and size.

    ``container`` is the segments' container name (no account): paths are ``/container/name``.
    """
    segments = [
        {"path": f"/{container}/{name}", "etag": etag, "size_bytes": size} for name in names
    ]
    return json.dumps(segments).encode()


def dlo_headers(container: str, prefix: str) -> dict[str, str]:
    """Headers of a DLO manifest PUT: its segments are every object under ``prefix``."""
    return {"X-Object-Manifest": f"{container}/{prefix}", "Content-Length": "0"}


@dataclass(frozen=True)
class TempurlSigner:
    """Temporary URLs for one key: ``sign(method, path)`` adds ``temp_url_sig`` and
    ``temp_url_expires``. The signature is an HMAC of ``METHOD\\nexpires\\npath`` in hex; both
    systems accept sha1, sha256 and sha512 by default (Swift's ``allowed_digests``), and a hex
    signature's length names its digest."""

    key: str
    expires: int
    digest: str = "sha256"

    @classmethod
    def valid_for(cls, key: str, seconds: int = 3600, digest: str = "sha256") -> TempurlSigner:
        return cls(key, int(time.time()) + seconds, digest)

    def signature(self, method: str, path: str) -> str:
        text = f"{method}\n{self.expires}\n{path}"
        return hmac.new(self.key.encode(), text.encode(), self.digest).hexdigest()

    def sign(self, method: str, path: str) -> str:
        query = urllib.parse.urlencode(
            {"temp_url_sig": self.signature(method, path), "temp_url_expires": self.expires}
        )
        return f"{path}?{query}"


def bulk_delete_body(container: str, names: Sequence[str]) -> bytes:
    """The body of ``POST <account>?bulk-delete``: one ``/container/object`` per line, quoted."""
    lines = (urllib.parse.quote(f"/{container}/{name}") for name in names)
    return ("\n".join(lines) + "\n").encode()


BULK_DELETE_HEADERS = {"Content-Type": "text/plain", "Accept": "application/json"}


@dataclass(frozen=True)
class BulkOutcome:
    """A bulk delete's answer: what it deleted, what was missing, what failed."""

    status: str
    deleted: int
    not_found: int
    errors: int

    @property
    def ok(self) -> bool:
        return self.status.startswith("200") and self.errors == 0


def parse_bulk_delete(body: bytes) -> BulkOutcome:
    """Read the JSON answer of a bulk delete (leading keep-alive whitespace allowed)."""
    try:
        data = json.loads(body.decode("utf-8", "replace").strip() or "{}")
    except ValueError:
        return BulkOutcome("unreadable", 0, 0, 0)
    return BulkOutcome(
        str(data.get("Response Status", "")),
        int(data.get("Number Deleted", 0)),
        int(data.get("Number Not Found", 0)),
        len(data.get("Errors", []) or []),
    )


def mixed_ops(base: str, body: bytes, existing: int, suffix: str) -> tuple[loadgen.Op, ...]:
    """GETs of the ``existing`` objects ``base<n>`` and PUTs of new ``base<suffix><k>``."""
    return (loadgen.Op("GET", base, spread=existing), loadgen.Op("PUT", base + suffix, body))


def versioned_ops(base: str, body: bytes, existing: int) -> tuple[loadgen.Op, ...]:
    """One overwrite of each of the ``existing`` objects ``base<n>`` (each archives one
    version), in the bench's scattered order."""
    return (loadgen.Op("PUT", base, body, spread=existing),)


def tempurl_ops(base: str, existing: int, signer: TempurlSigner) -> tuple[loadgen.Op, ...]:
    """GETs of ``base<n>`` (a full ``/v1/...`` path) through signed URLs, no token."""
    return (loadgen.Op("GET", base, spread=existing, sign=signer.sign),)
