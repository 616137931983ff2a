"""The object server's side of listing updates: what to tell, and telling it.

When a write has landed the object server builds its one ``ListingUpdate``
(``common/listing_update.py``): ``put_update`` for a PUT, ``post_update`` for a POST that
changed the Content-Type, ``delete_update`` for a DELETE. ``ContainerNotifier.tell`` sends it
to the container replicas the proxy named (``updates.plan_from_headers``), batched with other
writers' updates (``update_batch.py``) or one request per replica (``updates.send``), and keeps
what did not get a 2xx as an async_pending record for the object-updater.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping

from swiftlite.common.http.client import Requester
from swiftlite.common.listing_update import DELETE, PUT, ListingUpdate
from swiftlite.common.timestamp import Timestamp
from swiftlite.obj import updates
from swiftlite.obj.diskfile import DiskFile
from swiftlite.obj.update_batch import UpdateBatcher

# Sent by a middleware that lists something other than the body (SLO's total size and ETag,
# a symlink's target): the row shows these instead of what was stored.
OVERRIDE = "X-Backend-Container-Update-Override-"
# The same overrides as the object keeps them, for the row a later POST sends.
SYSMETA_OVERRIDE = "X-Object-Sysmeta-Container-Update-Override-"


def put_update(
    df: DiskFile, ts: Timestamp, headers: Mapping[str, str], meta: Mapping[str, str]
) -> ListingUpdate:
    """The row of the version just written: its size, type and ETag from ``meta`` (what was
    stored) unless the request's ``headers`` override them."""
    return ListingUpdate(
        PUT,
        df.account,
        df.container,
        df.obj,
        ts,
        size=int(headers.get(OVERRIDE + "Size") or meta["Content-Length"]),
        content_type=headers.get(OVERRIDE + "Content-Type") or meta["Content-Type"],
        etag=headers.get(OVERRIDE + "Etag") or meta["ETag"],
        policy=df.policy,
        trans_id=headers.get("X-Trans-Id"),
    )


def post_update(
    df: DiskFile,
    ts: Timestamp,
    headers: Mapping[str, str],
    stored: Mapping[str, str],
    content_type: str,
) -> ListingUpdate:
    """The row after a POST changed the type: the stored size and ETag (or the overrides a
    middleware stored as sysmeta on PUT), the new type, last modified at the POST."""
    meta = {
        "Content-Length": stored.get(SYSMETA_OVERRIDE + "Size")
        or stored.get("Content-Length", "0"),
        "ETag": stored.get(SYSMETA_OVERRIDE + "Etag") or stored.get("ETag", ""),
        "Content-Type": content_type,
    }
    return put_update(df, ts, headers, meta)


def delete_update(df: DiskFile, ts: Timestamp, headers: Mapping[str, str]) -> ListingUpdate:
    """The tombstone row of an object deleted at ``ts``."""
    return ListingUpdate(
        DELETE,
        df.account,
        df.container,
        df.obj,
        ts,
        policy=df.policy,
        trans_id=headers.get("X-Trans-Id"),
    )


class ContainerNotifier:
    """Sends an object server's listing updates (one per process; see the module docstring)."""

    def __init__(
        self,
        request: Requester,
        conn_timeout: float,
        node_timeout: float,
        batch: bool,
        logger: logging.Logger | None = None,
    ) -> None:
        self.batcher = UpdateBatcher(request, conn_timeout, node_timeout, logger) if batch else None
        self._send: Callable[[ListingUpdate, updates.UpdatePlan], list[updates.Target]] = (
            self.batcher.send
            if self.batcher is not None
            else functools.partial(
                updates.send,
                conn_timeout=conn_timeout,
                node_timeout=node_timeout,
                request=request,
                logger=logger,
            )
        )

    def tell(self, update: ListingUpdate, plan: updates.UpdatePlan, df: DiskFile) -> bool:
        """Send ``update`` to the replicas of ``plan``; True when some did not take it and an
        async_pending record (on ``df``'s device) now holds it for them."""
        failed = self._send(update, plan)
        if not failed:
            return False
        pending = updates.AsyncPending.of(update, plan.partition, failed)
        updates.write_async_pending(df.dev_path, df.name_hash, update.timestamp, pending, df.policy)
        return True
