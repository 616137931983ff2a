"""ListingUpdate: one object write as a container listing learns of it.

The object server builds one record where a write lands (PUT; POST that changes the
Content-Type; DELETE, see ``obj/updates.py``) and every form the update travels in is made
from it and read back into it, here and only here:

- ``to_headers`` / ``from_headers``: Swift's per-object update, ``PUT|DELETE
  /<cdev>/<cpart>/<a>/<c>/<o>`` with ``X-Timestamp``, ``X-Size``, ``X-Content-Type``,
  ``X-Etag`` (PUT only), ``X-Trans-Id`` and ``X-Backend-Storage-Policy-Index``; an
  async_pending record keeps these same headers on disk;
- ``to_row`` / ``from_row``: one row of a batched ``UPDATE /<cdev>/<cpart>/<a>/<c>`` body,
  ``[name, created_at, size, content_type, etag, deleted]`` (``obj/update_batch.py``);
- ``to_record``: the container broker's row, the above plus the policy index.

Header values are WSGI strings (UTF-8 bytes shown as latin-1 code points), rows carry text:
``content_type`` is held as the header carries it and decoded for rows (a value that is not
UTF-8 stays as it came, as Swift's container server stores it). The formats are written down
in docs/formats/listing-update.md.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from swiftlite.common import intparse
from swiftlite.common.errors import BadInput, BadName
from swiftlite.common.names import str_to_wsgi, wsgi_to_str
from swiftlite.common.policies import INDEX_HEADER
from swiftlite.common.timestamp import Timestamp, header_timestamp

PUT = "PUT"
DELETE = "DELETE"


@dataclass(frozen=True)
class ListingUpdate:
    """What the container must record about one object version (see the module docstring)."""

    op: str  # PUT: a row for a version; DELETE: a tombstone row
    account: str
    container: str
    obj: str
    timestamp: Timestamp
    size: int = 0
    content_type: str = ""  # a WSGI string, as X-Content-Type carries it
    etag: str = ""
    policy: int | None = None  # the object's storage policy; None: not named (policy 0)
    trans_id: str | None = None

    def __post_init__(self) -> None:
        if self.op not in (PUT, DELETE):
            raise ValueError(f"a listing update is a PUT or a DELETE, not {self.op!r}")

    @property
    def deleted(self) -> bool:
        return self.op == DELETE

    @property
    def path(self) -> str:
        """``/<a>/<c>/<o>``: what follows ``/<cdev>/<cpart>`` in a per-object update."""
        return f"/{self.account}/{self.container}/{self.obj}"

    # -- per-object update: headers ------------------------------------------------------

    def to_headers(self) -> dict[str, str]:
        """The headers of Swift's per-object container update (and of an async_pending)."""
        headers = {"X-Timestamp": self.timestamp.internal}
        if not self.deleted:
            headers["X-Size"] = str(self.size)
            headers["X-Content-Type"] = self.content_type
            headers["X-Etag"] = self.etag
        if self.trans_id:
            headers["X-Trans-Id"] = self.trans_id
        if self.policy is not None:
            headers[INDEX_HEADER] = str(self.policy)
        return headers

    @classmethod
    def from_headers(
        cls, op: str, account: str, container: str, obj: str, headers: Mapping[str, str]
    ) -> ListingUpdate:
        """The update a per-object request (or an async_pending's headers) describes.

        BadInput (400) for a missing or malformed timestamp, size or policy index, or a PUT
        without X-Size, X-Content-Type and X-Etag.
        """
        if op not in (PUT, DELETE):
            raise BadInput(f"a listing update is a PUT or a DELETE, not {op!r}")
        timestamp = header_timestamp(headers)
        policy = None
        if headers.get(INDEX_HEADER) is not None:
            try:
                policy = intparse.parse_uint(headers[INDEX_HEADER], 10)
            except ValueError:
                raise BadInput(f"Invalid {INDEX_HEADER}") from None
        trans_id = headers.get("X-Trans-Id") or None
        if op == DELETE:
            return cls(op, account, container, obj, timestamp, policy=policy, trans_id=trans_id)
        try:
            size = intparse.parse_uint(headers["X-Size"], maximum=intparse.INT64_MAX)
            content_type = headers["X-Content-Type"]
            etag = headers["X-Etag"]
        except (KeyError, ValueError):
            raise BadInput("Object updates need X-Size, X-Content-Type and X-Etag") from None
        return cls(
            op, account, container, obj, timestamp, size, content_type, etag, policy, trans_id
        )

    # -- batched update: rows ------------------------------------------------------------

    def _text_content_type(self) -> str:
        with contextlib.suppress(BadName):  # not UTF-8: kept as the header carried it
            return wsgi_to_str(self.content_type)
        return self.content_type

    def to_row(self) -> list[Any]:
        """``[name, created_at, size, content_type, etag, deleted]`` of an UPDATE body."""
        if self.deleted:
            return [self.obj, self.timestamp.internal, 0, "", "", 1]
        row = [self.obj, self.timestamp.internal, self.size, self._text_content_type()]
        return [*row, self.etag, 0]

    @classmethod
    def from_row(
        cls, account: str, container: str, row: Any, policy: int | None = None
    ) -> ListingUpdate:
        """The update one row of an UPDATE body (decoded JSON) describes; BadInput if malformed.

        The object name is the caller's to check against the name constraints.
        """
        if not isinstance(row, list) or len(row) != 6:
            raise BadInput("UPDATE rows are [name, created_at, size, type, etag, deleted]")
        name, created_at, size, content_type, etag, deleted = row
        if not isinstance(name, str) or not name:
            raise BadInput("UPDATE row without an object name")
        if (
            not isinstance(size, int)
            or isinstance(size, bool)
            or not 0 <= size <= intparse.INT64_MAX
            or deleted not in (0, 1)
            or isinstance(deleted, bool)
        ):
            raise BadInput(f"bad size or deleted flag for {name!r}")
        if not isinstance(content_type, str) or not isinstance(etag, str):
            raise BadInput(f"bad content type or etag for {name!r}")
        try:
            timestamp = Timestamp(created_at)
            wire_type = str_to_wsgi(content_type)
        except (TypeError, ValueError):  # UnicodeEncodeError is a ValueError
            raise BadInput(f"bad timestamp or content type for {name!r}") from None
        if deleted:
            return cls(DELETE, account, container, name, timestamp, policy=policy)
        return cls(PUT, account, container, name, timestamp, size, wire_type, etag, policy)

    # -- container database --------------------------------------------------------------

    def to_record(self) -> tuple[str, str, int, str, str, int, int]:
        """The broker's object row: name, created_at, size, type, etag, deleted, policy."""
        name, created_at, size, content_type, etag, deleted = self.to_row()
        return (name, created_at, size, content_type, etag, deleted, self.policy or 0)
