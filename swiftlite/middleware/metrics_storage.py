"""The storage servers' gauges for ``/metrics``, read at scrape time.

The counts come from the recon middleware's own readers (async pendings, quarantined
files, disk usage per device) and the daemons' recon cache (when each replicator last
finished a pass), so ``/metrics`` and ``/recon`` never disagree.
"""

from __future__ import annotations

import time
from typing import Any

from swiftlite.common import recon_cache
from swiftlite.middleware.metrics_text import Gauge
from swiftlite.middleware.recon import KINDS, ReconMiddleware, ReconOptions


def gauges(options: Any) -> list[Gauge]:
    """Gauges for a storage node whose devices and recon cache ``options`` name."""
    recon = ReconMiddleware(
        None,
        ReconOptions(
            devices=options.devices,
            mount_check=options.mount_check,
            recon_cache_path=options.recon_cache_path,
        ),
    )
    out = [
        Gauge(
            "swiftlite_async_pendings",
            "Container updates waiting in async_pending files on this node.",
            (({}, float(recon.async_pending()["async_pending"])),),
        ),
        Gauge(
            "swiftlite_quarantined",
            "Files moved to quarantine on this node, by kind.",
            tuple(
                ({"kind": k}, float(v))
                for k, v in sorted(recon.quarantined().items())
                if k != "policies"  # the per-policy breakdown; "objects" is their sum
            ),
        ),
    ]
    usage = recon.disk_usage()
    out.append(
        Gauge(
            "swiftlite_device_mounted",
            "1 when the device is mounted (or mount_check is off).",
            tuple(({"device": row["device"]}, float(row["mounted"])) for row in usage),
        )
    )
    for key in ("size", "used", "avail"):
        out.append(
            Gauge(
                f"swiftlite_device_{key}_bytes",
                f"Device {key} in bytes (mounted devices only).",
                tuple(({"device": r["device"]}, float(r[key])) for r in usage if key in r),
            )
        )
    out.append(
        Gauge(
            "swiftlite_replication_last_pass_age_seconds",
            "Seconds since each replicator on this node last finished a pass.",
            tuple(_replication_ages(options.recon_cache_path)),
        )
    )
    return out


def _replication_ages(recon_dir: str) -> list[tuple[dict[str, str], float]]:
    now = time.time()
    ages = []
    for kind in KINDS:
        cache = recon_cache.read(recon_cache.cache_path(recon_dir, kind))
        summary = cache.get(f"{kind}-replicator")
        if isinstance(summary, dict) and isinstance(summary.get("finished"), int | float):
            ages.append(({"daemon": f"{kind}-replicator"}, max(0.0, now - summary["finished"])))
    return ages
