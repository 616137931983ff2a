"""Header names and metadata prefixes shared by the proxy and the storage servers.

Header *values* inside swiftlite stay WSGI strings (each code point one wire byte), so UTF-8
metadata passes through untouched; only names that must be real text are decoded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

BACKEND_PREFIX = "x-backend-"
X_TIMESTAMP = "X-Timestamp"
X_BACKEND_TIMESTAMP = "X-Backend-Timestamp"
X_TRANS_ID = "X-Trans-Id"


def user_meta_prefix(server_type: str) -> str:
    """``x-object-meta-`` etc.; server_type is object, container or account."""
    return f"x-{server_type}-meta-"


def sysmeta_prefix(server_type: str) -> str:
    return f"x-{server_type}-sysmeta-"


TRANSIENT_SYSMETA_PREFIX = "x-object-transient-sysmeta-"


def is_user_meta(server_type: str, key: str) -> bool:
    return key.lower().startswith(user_meta_prefix(server_type))


def is_sys_meta(server_type: str, key: str) -> bool:
    return key.lower().startswith(sysmeta_prefix(server_type))


def is_sys_or_user_meta(server_type: str, key: str) -> bool:
    return is_user_meta(server_type, key) or is_sys_meta(server_type, key)


def is_backend(key: str) -> bool:
    return key.lower().startswith(BACKEND_PREFIX)


def is_any_sysmeta(key: str) -> bool:
    low = key.lower()
    return any(low.startswith(sysmeta_prefix(t)) for t in ("object", "container", "account")) or (
        low.startswith(TRANSIENT_SYSMETA_PREFIX)
    )


def title(key: str) -> str:
    """Canonical Title-Case header name: ``x-object-meta-color`` -> ``X-Object-Meta-Color``."""
    return "-".join(part[:1].upper() + part[1:].lower() for part in key.split("-"))


def pick(headers: Mapping[str, str], predicate) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Title-cased copy of the headers whose name satisfies ``predicate``."""
    return {title(k): v for k, v in headers.items() if predicate(k)}


def merge_meta(stored: Mapping[str, str], updates: Iterable[tuple[str, str]]) -> dict[str, str]:
    """Apply POST-style metadata updates: an empty value removes the key."""
    out = dict(stored)
    for key, value in updates:
        if value == "":
            out.pop(title(key), None)
        else:
            out[title(key)] = value
    return out
