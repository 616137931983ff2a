"""The batched form of the object REPLICATE verb: many partitions' suffix hashes at once.

Swift's replicator asks a peer for one partition's hashes per request
(``REPLICATE /<dev>/<part>``). On an idle cluster that request and its answer are most of
what the object servers and replicators do: a 4-node all-in-one with 1,024 partitions sends
about 6,000 of them a pass. swiftlite's replicator asks for up to ``MAX_PARTITIONS`` in one
request instead (docs/formats/object.md, section 7):

- request: ``REPLICATE /<dev>`` with the body ``{"partitions": [N, ...]}``;
- answer: 200 with ``{"N": {"<suffix>": "<hash>", ...}, ...}``, one entry per partition asked
  for (a partition the device does not hold answers ``{}``, as the per-partition form does).

The per-partition form stays, for the rehash after a push and for any peer that refuses the
batched one (the replicator then falls back to it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from swiftlite.common import errors
from swiftlite.common.storage_app import json_body
from swiftlite.obj import layout

MAX_PARTITIONS = 1024
# a partition number is at most 10 digits here; leave room for the JSON around them
MAX_BODY = 32 + MAX_PARTITIONS * 12


def encode_request(partitions: Sequence[int]) -> bytes:
    return json.dumps({"partitions": list(partitions)}).encode("ascii")


def parse_request(body: bytes) -> list[int]:
    """The partitions a batched REPLICATE asks for; BadInput or TooLarge when malformed."""
    args = json_body(body, "REPLICATE", MAX_BODY)
    parts = args.get("partitions") if isinstance(args, dict) else None
    if not isinstance(parts, list) or len(parts) > MAX_PARTITIONS:
        raise errors.BadInput(
            f'REPLICATE /<device> needs {{"partitions": [...]}} of at most {MAX_PARTITIONS}'
        )
    # bool is an int in Python, and JSON's true must not read as partition 1
    if not all(type(p) is int and 0 <= p < 2**32 for p in parts):
        raise errors.BadInput("REPLICATE partitions must be non-negative integers")
    return parts


def parse_answer(body: bytes, partitions: Sequence[int]) -> dict[int, dict[str, Any]] | None:
    """The peer's hashes by partition, or None when the answer is not what was asked for
    (the caller then asks partition by partition)."""
    try:
        answer = json.loads(body)
    except ValueError:
        return None
    if not isinstance(answer, dict):
        return None
    result = {}
    for part in partitions:
        found = answer.get(str(part))
        if not isinstance(found, dict):
            return None
        if not all(layout.is_suffix(s) and isinstance(h, str) for s, h in found.items()):
            return None
        result[part] = found
    return result
