"""The /info registry: what each filter publishes about itself, per process.

A filter calls ``register_info("slo", max_manifest_segments=1000)`` from its
``filter_factory``; the proxy's ``InfoController`` merges every section into the ``/info``
body (the ``swift`` section into Swift's own). The registry lives here, below both the
middleware and the proxy, so neither imports the other for it.
"""

from __future__ import annotations

from typing import Any

_REGISTRY: dict[str, dict[str, Any]] = {}


def register_info(section: str, **data: Any) -> None:
    """Publish ``data`` under ``section`` in /info (later calls update the section)."""
    _REGISTRY.setdefault(section, {}).update(data)


def registered() -> dict[str, dict[str, Any]]:
    """A copy of every section registered so far."""
    return {name: dict(data) for name, data in _REGISTRY.items()}
