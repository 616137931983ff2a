"""The rings of one ``swift_dir``, each loaded once, on first use, by name.

Daemons and filters that need several rings (``account``, ``container``, ``object``,
``object-1``...) share this instead of each keeping a dict of ``Ring`` objects: a ``Ring``
reloads itself when its file changes, so one load per process is enough. A missing or unusable
ring file raises ``RingError`` on the first ``get`` (and again on the next, so a ring installed
later is picked up).
"""

from __future__ import annotations

import os

from swiftlite.common.policies import ring_name
from swiftlite.ring.ring import Ring


class RingSet:
    def __init__(self, swift_dir: str) -> None:
        self.swift_dir = swift_dir
        self._rings: dict[str, Ring] = {}

    def path(self, name: str) -> str:
        """Where ring ``name`` lives: ``<swift_dir>/<name>.ring.gz``."""
        return os.path.join(self.swift_dir, f"{name}.ring.gz")

    def get(self, name: str) -> Ring:
        ring = self._rings.get(name)
        if ring is None:
            ring = self._rings[name] = Ring(self.path(name))
        return ring

    def object_ring(self, policy: int) -> Ring:
        """A storage policy's object ring (``object`` for policy 0, ``object-N`` otherwise)."""
        return self.get(ring_name(policy))
