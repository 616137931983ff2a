"""Listing parameters and the paging algorithm shared by the account and container servers.

``parse_query`` turns a query string into validated ``ListingParams`` (Swift's rules: ``limit``
at most the listing limit, else 412; a limit that is not ASCII digits is ignored; a
``delimiter`` may be several characters; values must be UTF-8, else 400; NUL is allowed in
``marker``, ``end_marker`` and ``prefix``, where clients use ``name%00`` for "just after
name"). ``list_rows`` runs Swift's
listing algorithm (``marker``, ``end_marker``, ``prefix``, ``delimiter`` with subdir folding,
``path``, ``reverse``) over a ``fetch`` callable that does one indexed range scan, so it never
uses OFFSET and a deep page costs what the first one does. ``range_clause`` builds that scan's
SQL. Names compare as Python ``str`` here and with BINARY collation in SQLite: both give UTF-8
byte order for valid UTF-8.

Nothing here touches a file or a socket.
"""

from __future__ import annotations

import itertools
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from swiftlite.common.config import config_true
from swiftlite.common.errors import BadInput, PreconditionFailed
from swiftlite.common.http.listing import negotiate

MAX_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)

LISTING_PARAMS = (
    "limit",
    "marker",
    "end_marker",
    "prefix",
    "delimiter",
    "path",
    "format",
    "reverse",
)


# name bounds where NUL is a legal character ("marker=name%00" starts just after "name")
NUL_ALLOWED = frozenset({"marker", "end_marker", "prefix"})


@dataclass(frozen=True)
class ListingParams:
    limit: int
    marker: str = ""
    end_marker: str = ""
    prefix: str = ""
    delimiter: str = ""
    path: str | None = None
    reverse: bool = False
    # False hides names in the reserved namespace (first byte NUL) unless the request carried
    # X-Backend-Allow-Reserved-Names (common/reserved.py), as Swift's listings do.
    allow_reserved: bool = True


@dataclass(frozen=True)
class Subdir:
    """A roll-up row: every name under ``name`` (which ends with the delimiter)."""

    name: str


@dataclass(frozen=True)
class Bound:
    value: str
    inclusive: bool


@dataclass(frozen=True)
class RangeQuery:
    """One range scan: names within (lower, upper), ascending or descending, at most limit."""

    lower: Bound | None
    upper: Bound | None
    limit: int
    reverse: bool


# A fetch returns rows lazily (an SQLite cursor): a delimiter listing reads only as far as the
# next roll-up and then jumps, so it must not pay for rows it never looks at.
Fetch = Callable[[RangeQuery], Iterable[Sequence[Any]]]


def query_params(query_string: str, allow_reserved: bool = False) -> dict[str, str]:
    """Decode the listing parameters of a WSGI query string (last value wins).

    Values must be valid UTF-8 (BadInput, 400, as Swift answers); NUL is refused except in
    the parameters that are names or name bounds, or everywhere with ``allow_reserved`` (a
    filter listing the reserved namespace).
    """
    out: dict[str, str] = {}
    pairs = urllib.parse.parse_qsl(query_string, keep_blank_values=True, encoding="latin-1")
    for key, raw in pairs:
        if key not in LISTING_PARAMS:
            continue
        try:
            value = raw.encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            raise BadInput(f'"{key}" parameter not valid UTF-8') from None
        if "\x00" in value and key not in NUL_ALLOWED and not allow_reserved:
            raise BadInput(f'"{key}" parameter not valid')
        out[key] = value
    return out


def listing_request(
    query_string: str, accept: str | None, max_limit: int, allow_reserved: bool
) -> tuple[ListingParams, str | None]:
    """What an account or container GET asks for: its ListingParams and the content type to
    answer in (None when the client accepts none of them: 406)."""
    params = query_params(query_string, allow_reserved)
    listing = parse_params(params, max_limit, allow_reserved)
    return listing, negotiate(params.get("format"), accept)


def parse_params(
    params: dict[str, str], max_limit: int, allow_reserved: bool = True
) -> ListingParams:
    """ListingParams from decoded query values; 412 for a limit above ``max_limit``."""
    limit = max_limit
    given = params.get("limit", "")
    if given.isdigit() and given.isascii():
        # more digits than any limit has: too large, without int()'s 4,300-digit ValueError
        limit = int(given) if len(given) <= 20 else max_limit + 1
        if limit > max_limit:
            raise PreconditionFailed(f"Maximum limit is {max_limit}")
    delimiter = params.get("delimiter", "")
    return ListingParams(
        limit=limit,
        marker=params.get("marker", ""),
        end_marker=params.get("end_marker", ""),
        prefix=params.get("prefix", ""),
        delimiter=delimiter,
        path=params.get("path"),
        reverse=config_true(params.get("reverse", "")),
        allow_reserved=allow_reserved,
    )


def _next_char(char: str) -> str | None:
    code = ord(char) + 1
    if code in _SURROGATES:
        code = _SURROGATES.stop
    return chr(code) if code <= MAX_CODE_POINT else None


def successor(prefix: str) -> str | None:
    """The least string above every string that starts with ``prefix``; None if unbounded."""
    while prefix:
        bumped = _next_char(prefix[-1])
        if bumped is not None:
            return prefix[:-1] + bumped
        prefix = prefix[:-1]
    return None


def _tighter_lower(a: Bound | None, b: Bound | None) -> Bound | None:
    if a is None or b is None:
        return a or b
    if a.value != b.value:
        return a if a.value > b.value else b
    return a if not a.inclusive else b


def _tighter_upper(a: Bound | None, b: Bound | None) -> Bound | None:
    if a is None or b is None:
        return a or b
    if a.value != b.value:
        return a if a.value < b.value else b
    return a if not a.inclusive else b


def range_clause(query: RangeQuery, column: str = "name") -> tuple[str, list[Any]]:
    """SQL conditions (joined by AND, or empty) and their arguments for one range scan."""
    parts: list[str] = []
    args: list[Any] = []
    if query.lower is not None:
        parts.append(f"{column} {'>=' if query.lower.inclusive else '>'} ?")
        args.append(query.lower.value)
    if query.upper is not None:
        parts.append(f"{column} {'<=' if query.upper.inclusive else '<'} ?")
        args.append(query.upper.value)
    return " AND ".join(parts), args


def _empty(lower: Bound | None, upper: Bound | None) -> bool:
    if lower is None or upper is None:
        return False
    if lower.value == upper.value:
        return not (lower.inclusive and upper.inclusive)
    return lower.value > upper.value


def _start(params: ListingParams) -> tuple[str, str, Bound | None, Bound | None]:
    """(prefix, delimiter, lower, upper) for a page, with ``path`` folded in."""
    prefix, delimiter = params.prefix, params.delimiter
    if params.path is not None:
        prefix = params.path.rstrip("/") + "/" if params.path else ""
        delimiter = "/"
    prefix_end = successor(prefix) if prefix else None
    marker = Bound(params.marker, False) if params.marker else None
    end = Bound(params.end_marker, False) if params.end_marker else None
    # Reversed, the marker is the upper bound and end_marker the lower one.
    lower, upper = (end, marker) if params.reverse else (marker, end)
    lower = _tighter_lower(lower, Bound(prefix, True) if prefix else None)
    if not params.allow_reserved:  # every reserved name sorts below "\x01"
        lower = _tighter_lower(lower, Bound("\x01", True))
    upper = _tighter_upper(upper, Bound(prefix_end, False) if prefix_end is not None else None)
    return prefix, delimiter, lower, upper


def page_sql(table: str, columns: str, query: RangeQuery, scope: str = "") -> tuple[str, list[Any]]:
    """The SELECT (and its arguments) of one ``query`` over the live rows of ``table``;
    ``scope`` is more of the WHERE clause (``" AND ..."``)."""
    where, args = range_clause(query)
    sql = (
        f"SELECT {columns} FROM {table} WHERE deleted = 0{scope}"  # noqa: S608 (constants)
        f"{' AND ' + where if where else ''} "
        f"ORDER BY name {'DESC' if query.reverse else 'ASC'} LIMIT ?"
    )
    return sql, [*args, query.limit]


def list_rows(params: ListingParams, fetch: Fetch) -> list[Sequence[Any] | Subdir]:
    """One page of the listing: rows from ``fetch`` (name first) and Subdir roll-ups."""
    prefix, delimiter, lower, upper = _start(params)
    low_marker = params.end_marker if params.reverse else params.marker
    results: list[Sequence[Any] | Subdir] = []
    while len(results) < params.limit and not _empty(lower, upper):
        want = params.limit - len(results)
        rows = fetch(RangeQuery(lower, upper, want, params.reverse))
        try:
            seen, last, jump = _consume(
                rows, params, prefix, delimiter, low_marker, lower, upper, results
            )
        finally:
            close = getattr(rows, "close", None)
            if close is not None:
                close()
        if jump is not None:
            lower, upper = jump
        elif seen < want or last is None:
            break  # the range is exhausted
        elif params.reverse:
            upper = Bound(last, False)
        else:
            lower = Bound(last, False)
    return results


def _consume(
    rows: Iterable[Sequence[Any]],
    params: ListingParams,
    prefix: str,
    delimiter: str,
    low_marker: str,
    lower: Bound | None,
    upper: Bound | None,
    results: list[Sequence[Any] | Subdir],
) -> tuple[int, str | None, tuple[Bound | None, Bound | None] | None]:
    """Fold fetched rows into ``results``: (rows seen, last name, new bounds after a jump)."""
    path = params.path
    if not delimiter:  # the common case: no folding, so take rows without looking at them
        taken = list(itertools.islice(rows, params.limit - len(results)))
        results.extend(taken)
        return len(taken), (taken[-1][0] if taken else None), None
    seen = 0
    name: str | None = None
    for row in rows:
        seen += 1
        name = row[0]
        cut = name.find(delimiter, len(prefix)) if delimiter else -1
        if cut < 0 or (path is not None and len(name) == cut + 1):
            # path=d lists d/x and d/sub/ but neither d/ itself nor d/sub/x
            if path is None or name != prefix:
                results.append(row)
        elif path is not None:
            return seen, name, _skip_subtree(name[: cut + 1], params.reverse, lower, upper, True)
        else:
            subdir = name[: cut + len(delimiter)]
            if subdir != low_marker:  # Swift: a roll-up equal to the marker is not shown
                results.append(Subdir(subdir))
            return seen, name, _skip_subtree(subdir, params.reverse, lower, upper, False)
        if len(results) >= params.limit:
            break
    return seen, name, None


def _skip_subtree(
    subtree: str,
    reverse: bool,
    lower: Bound | None,
    upper: Bound | None,
    keep_subtree_root: bool,
) -> tuple[Bound | None, Bound | None]:
    """New bounds that step over every name starting with ``subtree``."""
    if reverse:
        return lower, Bound(subtree, keep_subtree_root)
    after = successor(subtree)
    if after is None:
        return Bound(subtree, False), Bound(subtree, False)  # nothing can follow: empty range
    return Bound(after, True), upper
