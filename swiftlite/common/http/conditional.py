"""Conditional requests: If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since.

Pure: headers and the resource's ETag and Last-Modified in, a decision out (``None`` to proceed,
304 or 412). WebOb's conditional responses only produce 304, so storage servers use this.

Swift's order and quirks, kept here:

1. If-None-Match lists the current ETag (or ``*``): 304.
2. If-Match is present and does not list it (nor ``*``): 412.
3. Last-Modified <= If-Modified-Since: 304.
4. Last-Modified > If-Unmodified-Since: 412.

ETags in the lists may be quoted or not; ``*`` matches any existing resource. A missing resource
fails ``If-Match: *`` with 412. Dates that do not parse are ignored. Last-Modified is compared
in whole seconds, as sent in the header.
"""

from __future__ import annotations

import datetime
import email.utils
from collections.abc import Mapping


def normalize_etag(tag: str | None) -> str | None:
    """Strip one pair of surrounding double quotes."""
    if tag and len(tag) >= 2 and tag.startswith('"') and tag.endswith('"'):
        return tag[1:-1]
    return tag


def parse_etags(value: str) -> frozenset[str]:
    """The set of ETags in an If-(None-)Match value, unquoted; may contain ``*``."""
    tags = set()
    for raw in value.split(","):
        tag = raw.strip(" \t")
        if tag:
            tags.add(normalize_etag(tag) or "")
    return frozenset(tags)


def etag_matches(value: str, etag: str | None) -> bool:
    """Whether an If-(None-)Match header value names ``etag`` (or is ``*``)."""
    tags = parse_etags(value)
    return "*" in tags or (etag is not None and normalize_etag(etag) in tags)


def parse_http_date(value: str | None) -> int | None:
    """An HTTP date as whole Unix seconds, or None when absent or unparsable."""
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:  # "-0000" means UTC with no claim about the local zone
        parsed = parsed.replace(tzinfo=datetime.UTC)
    try:
        return int(parsed.timestamp())
    except (OverflowError, OSError, ValueError):
        return None


def _get(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None and isinstance(headers, dict):
        # plain dicts in tests may hold other capitalisations (request headers are webob's
        # case-insensitive mapping: no scan per missing header)
        low = name.lower()
        for key, val in headers.items():
            if key.lower() == low:
                return val
    return value


def evaluate(headers: Mapping[str, str], etag: str | None, last_modified: int | None) -> int | None:
    """304, 412 or None (proceed) for an existing resource.

    ``last_modified`` is the Last-Modified value in whole Unix seconds.
    """
    if_none_match = _get(headers, "If-None-Match")
    if if_none_match is not None and etag is not None and etag_matches(if_none_match, etag):
        return 304
    if_match = _get(headers, "If-Match")
    if if_match is not None and etag is not None and not etag_matches(if_match, etag):
        return 412
    if last_modified is not None:
        since = parse_http_date(_get(headers, "If-Modified-Since"))
        if since is not None and last_modified <= since:
            return 304
        unmodified = parse_http_date(_get(headers, "If-Unmodified-Since"))
        if unmodified is not None and last_modified > unmodified:
            return 412
    return None


def evaluate_missing(headers: Mapping[str, str]) -> int | None:
    """412 when a missing resource is asked for with ``If-Match: *``; otherwise None."""
    if_match = _get(headers, "If-Match")
    if if_match is not None and "*" in parse_etags(if_match):
        return 412
    return None
