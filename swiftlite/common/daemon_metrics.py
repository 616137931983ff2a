"""StatsD counters a daemon sends after each pass, under Swift's names.

Each daemon's pass summary counts what the pass did; this table maps the summary keys that
have a Swift counterpart to Swift's metric name (``object-updater.successes``,
``container-replicator.no_changes``, ``object-expirer.objects``...). Keys without one are
not sent. A count of zero is not sent either, as Swift sends a counter only when it counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from swiftlite.common import statsd

_DB_REPLICATOR = {
    "attempted": "attempts",
    "success": "successes",
    "failure": "failures",
    "no_change": "no_changes",
    "hashmatch": "hashmatches",
    "diff": "diffs",
    "diff_capped": "diff_caps",
    "rsync": "rsyncs",
    "remote_merge": "remote_merges",
}
_DB_AUDITOR = {"passes": "passes", "failures": "failures"}

COUNTERS: dict[str, dict[str, str]] = {
    "object-updater": {
        "successes": "successes",
        "failures": "failures",
        "unlinked": "unlinks",
        "quarantined": "quarantines",
    },
    "object-auditor": {"quarantined": "quarantines", "errors": "errors"},
    "object-expirer": {"expired": "objects", "failures": "errors"},
    "container-updater": {
        "successes": "successes",
        "failures": "failures",
        "unchanged": "no_changes",
    },
    "account-replicator": _DB_REPLICATOR,
    "container-replicator": _DB_REPLICATOR,
    "account-auditor": _DB_AUDITOR,
    "container-auditor": _DB_AUDITOR,
    "account-reaper": {
        "containers_deleted": "containers_deleted",
        "containers_remaining": "containers_remaining",
        "objects_deleted": "objects_deleted",
        "objects_remaining": "objects_remaining",
    },
}


def send(client: statsd.StatsdClient, daemon: str, summary: Mapping[str, Any]) -> None:
    """The counters of one pass ``summary`` of ``daemon`` (its client's tail is its name)."""
    if not client.enabled:
        return
    for key, metric in COUNTERS.get(daemon, {}).items():
        value = summary.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            client.update_stats(metric, value)
