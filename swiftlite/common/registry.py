"""The /info registry: what each filter publishes about itself, per process.

A filter calls ``register_info("slo", max_manifest_segments=1000)`` from its
``filter_factory``; the proxy's ``InfoController`` merges every section into the ``/info``
body (the ``swift`` section into Swift's own). The registry lives here, below both the
middleware and the proxy, so neither imports the other for it.

It also holds the query parameters and request headers a filter declares secret
(``register_sensitive_param``, ``register_sensitive_header``, as Swift's registry):
``proxy_logging`` shows only the first characters of their values. The auth headers are
secret from the start.
"""

from __future__ import annotations

from typing import Any

_REGISTRY: dict[str, dict[str, Any]] = {}
_SENSITIVE_PARAMS: set[str] = set()
_SENSITIVE_HEADERS: set[str] = {
    "x-auth-token",
    "x-storage-token",
    "x-service-token",
    "x-auth-key",
    "authorization",
}


def register_info(section: str, **data: Any) -> None:
    """Publish ``data`` under ``section`` in /info (later calls update the section)."""
    _REGISTRY.setdefault(section, {}).update(data)


def registered() -> dict[str, dict[str, Any]]:
    """A copy of every section registered so far."""
    return {name: dict(data) for name, data in _REGISTRY.items()}


def register_sensitive_param(name: str) -> None:
    """Declare query parameter ``name`` (ASCII, case-sensitive) secret, e.g. ``temp_url_sig``."""
    name.encode("ascii")
    _SENSITIVE_PARAMS.add(name)


def sensitive_params() -> frozenset[str]:
    """Every query parameter name declared secret so far."""
    return frozenset(_SENSITIVE_PARAMS)


def register_sensitive_header(name: str) -> None:
    """Declare request header ``name`` (ASCII, any case) secret, e.g. ``x-auth-token``."""
    name.encode("ascii")
    _SENSITIVE_HEADERS.add(name.lower())


def sensitive_headers() -> frozenset[str]:
    """Every request header name (lower case) declared secret so far."""
    return frozenset(_SENSITIVE_HEADERS)
