"""Which names S3 accepts for buckets and keys (pure)."""

from __future__ import annotations

import re

_DNS = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_LOOSE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{1,253}[A-Za-z0-9]$")
_IP = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
MAX_KEY = 1024


def valid_bucket(name: str, dns_compliant: bool = True) -> bool:
    """S3's bucket rules: 3-63 lower-case letters, digits, ``.`` and ``-``, no ``..``, not an
    IP address (with ``dns_compliant`` off, Swift's looser rule: upper case and ``_`` too)."""
    pattern = _DNS if dns_compliant else _LOOSE
    if not pattern.match(name) or ".." in name or _IP.match(name):
        return False
    return not (dns_compliant and (".-" in name or "-." in name))


def check_key(key: str) -> str | None:
    """Why ``key`` cannot be stored, or None."""
    if len(key.encode("utf-8")) > MAX_KEY:
        return "KeyTooLongError"
    if "\x00" in key:
        return "InvalidURI"
    return None
