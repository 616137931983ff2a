"""signature: the HMAC signatures of temp URLs and form POSTs (pure; no I/O, no WSGI).

Both ``tempurl`` and ``formpost`` (and their operator CLIs) sign a newline-joined message with
an account or container key, as Swift does:

* temp URL: ``[ip=<range>\\n]<METHOD>\\n<expires>\\n[prefix:]<path>``;
* form POST: ``<path>\\n<redirect>\\n<max_file_size>\\n<max_file_count>\\n<expires>``.

A signature is sent either as hex (sha1: 40 digits, sha256: 64, sha512: 128) or as
``<digest>:<base64>`` (standard or URL-safe alphabet, padding optional). ``parse_signature``
turns either form into ``(digest, hex)``; ``matches`` compares in constant time, so a wrong
signature takes as long to refuse whatever its first wrong byte.
"""

from __future__ import annotations

import base64
import binascii
import calendar
import hashlib
import hmac
import time
from collections.abc import Iterable

SUPPORTED_DIGESTS = ("sha1", "sha256", "sha512")
DEPRECATED_DIGESTS = ("sha1",)  # still accepted; /info says so, as Swift's does
HEX_LENGTHS = {40: "sha1", 64: "sha256", 128: "sha512"}
ISO8601 = "%Y-%m-%dT%H:%M:%SZ"
_HEX = frozenset("0123456789abcdefABCDEF")


def tempurl_message(method: str, expires: int, path: str, ip_range: str | None = None) -> str:
    """The text a temp URL signs; ``path`` is ``/v1/a/c/o`` or ``prefix:/v1/a/c/<prefix>``."""
    parts = [method, str(expires), path]
    if ip_range:
        parts.insert(0, f"ip={ip_range}")
    return "\n".join(parts)


def formpost_message(
    path: str,
    redirect: str,
    max_file_size: int | str,
    max_file_count: int | str,
    expires: int | str,
) -> str:
    """The text a form POST signs."""
    return f"{path}\n{redirect}\n{max_file_size}\n{max_file_count}\n{expires}"


def hmac_hex(key: str, message: str, digest: str) -> str:
    """Hex HMAC of ``message`` with ``key`` (both UTF-8) using ``digest``."""
    if digest not in SUPPORTED_DIGESTS:
        raise ValueError(f"unsupported digest {digest!r}")
    mac = hmac.new(key.encode("utf-8"), message.encode("utf-8"), getattr(hashlib, digest))
    return mac.hexdigest()


def encode_signature(hex_sig: str, digest: str) -> str:
    """The form a client sends: hex for sha1/sha256, ``sha512:<urlsafe base64>`` for sha512."""
    if digest == "sha512":
        raw = binascii.unhexlify(hex_sig)
        return "sha512:" + base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
    return hex_sig


def parse_signature(sig: str) -> tuple[str, str] | None:
    """``(digest, lowercase hex)`` from a client's signature, or None when malformed."""
    if ":" in sig:
        digest, _, text = sig.partition(":")
        if digest not in SUPPORTED_DIGESTS or not text:
            return None
        text = text.replace("-", "+").replace("_", "/")
        text += "=" * (-len(text) % 4)
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) != hashlib.new(digest).digest_size:
            return None
        return digest, raw.hex()
    digest_name = HEX_LENGTHS.get(len(sig))
    if digest_name is None:
        return None
    if not set(sig) <= _HEX:
        return None
    return digest_name, sig.lower()


def matches(given_hex: str, expected: Iterable[str]) -> bool:
    """True when ``given_hex`` equals one of ``expected``, each compared in constant time."""
    found = False
    for candidate in expected:
        # no short cut: every candidate is compared, whatever matched before
        found = hmac.compare_digest(given_hex.encode("ascii"), candidate.encode("ascii")) or found
    return found


def parse_expires(text: str) -> int | None:
    """Unix seconds from ``temp_url_expires`` (an integer or ``%Y-%m-%dT%H:%M:%SZ``).

    None for anything else, as Swift's ``int()`` then ``strptime`` refuse it: digits ``int``
    does not read (``²``) or more of them than it converts (over 4300).
    """
    text = text.strip()
    try:
        if text.isdigit():
            return int(text)
        return calendar.timegm(time.strptime(text, ISO8601))
    except ValueError:
        return None


def digests_info(digests: Iterable[str]) -> dict[str, list[str]]:
    """The digest keys /info publishes for a filter: ``allowed_digests``, and
    ``deprecated_digests`` only when some allowed digest is deprecated (as Swift)."""
    allowed = sorted(digests)
    info = {"allowed_digests": allowed}
    deprecated = [d for d in allowed if d in DEPRECATED_DIGESTS]
    if deprecated:
        info["deprecated_digests"] = deprecated
    return info


def normalize_digests(names: Iterable[str]) -> tuple[str, ...]:
    """The supported digests among ``names`` (lower-cased, sorted); ValueError when none."""
    chosen = sorted({n.lower() for n in names} & set(SUPPORTED_DIGESTS))
    if not chosen:
        raise ValueError("no supported digest among allowed_digests")
    return tuple(chosen)
