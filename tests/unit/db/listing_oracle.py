"""The slow, obvious listing oracle shared by the listing tests (pure and SQLite-backed)."""

from __future__ import annotations

from swiftlite.db.listing import ListingParams, Subdir


def oracle(names, p: ListingParams):
    """Swift's listing semantics written the obvious way over a byte-sorted list."""
    prefix, delim = p.prefix, p.delimiter
    if p.path is not None:
        prefix = p.path.rstrip("/") + "/" if p.path else ""
        delim = "/"

    def key(s):
        return s.encode("utf-8")

    ordered = sorted(set(names), key=key, reverse=p.reverse)
    low, high = (p.end_marker, p.marker) if p.reverse else (p.marker, p.end_marker)
    hidden_subdir = p.end_marker if p.reverse else p.marker
    out = []
    for n in ordered:
        if len(out) >= p.limit:
            break
        if (low and key(n) <= key(low)) or (high and key(n) >= key(high)):
            continue
        if not n.startswith(prefix):
            continue
        cut = n.find(delim, len(prefix)) if delim else -1
        if p.path is not None:
            if n == prefix or (cut >= 0 and len(n) > cut + 1):
                continue
            out.append(n)
        elif cut >= 0:
            sub = Subdir(n[: cut + len(delim)])
            if sub.name != hidden_subdir and (not out or out[-1] != sub):
                out.append(sub)
        else:
            out.append(n)
    return out
