"""Header names and metadata prefixes shared by the proxy and the storage servers.

Header *values* inside swiftlite stay WSGI strings (each code point one wire byte), so UTF-8
metadata passes through untouched; only names that must be real text are decoded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import webob.headers

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
    """Canonical Title-Case header name, as Swift's: ``x-object-meta-color`` ->
    ``X-Object-Meta-Color``.

    The name's *bytes* are title-cased (``bytes.title()``), so only ASCII letters change case:
    a UTF-8 name such as ``x-object-meta-\u5605`` keeps its bytes (``str.title()`` would turn
    the WSGI string's ``\xe5`` into ``\xc5`` and store another name).
    """
    try:
        return key.encode("latin-1").title().decode("latin-1")
    except UnicodeEncodeError:  # real text: title-case its UTF-8 bytes the same way
        return key.encode("utf-8").title().decode("utf-8")


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


def _ascii_upper(name: str) -> str:
    try:
        return name.encode("latin-1").upper().decode("latin-1")
    except UnicodeEncodeError:
        return name.upper()


def _environ_key(key: object) -> str | None:
    """webob's environ key -> header name, title-casing ASCII letters only."""
    if not isinstance(key, str):
        return None
    if key in webob.headers.key2header:
        return webob.headers.key2header[key]
    if key.startswith("HTTP_"):
        return title(key[5:].replace("_", "-"))
    return None


def _header_key(name: str) -> str:
    """webob's header name -> environ key, upper-casing ASCII letters only."""
    upper = _ascii_upper(name)
    if upper in webob.headers.header2key:
        return webob.headers.header2key[upper]
    return "HTTP_" + upper.replace("-", "_")


# webob maps environ keys and header names with str.title() and str.upper(), which change
# the UTF-8 bytes of a name such as ``X-Object-Meta-\u5605`` (the WSGI string's \xe5 becomes
# \xc5): the name is mangled, and iterating ``req.headers`` then raises KeyError because the
# two mappings disagree. The HTTP server upper-cases ASCII only; these keep webob's mapping
# the same way for every request object (both are looked up by name at call time).
webob.headers._trans_key = _environ_key  # type: ignore[attr-defined]
webob.headers._trans_name = _header_key  # type: ignore[attr-defined]


# Headers only an account owner may set (ACLs, sync keys, temp URL keys): a non-owner with
# write access has them dropped silently, by the proxy and by the auth filters alike.
OWNER_HEADERS = frozenset(
    {
        "x-container-read",
        "x-container-write",
        "x-container-sync-key",
        "x-container-sync-to",
        "x-account-meta-temp-url-key",
        "x-account-meta-temp-url-key-2",
        "x-container-meta-temp-url-key",
        "x-container-meta-temp-url-key-2",
        "x-account-access-control",
    }
)
