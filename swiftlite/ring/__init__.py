"""The ring: where every account, container and object lives.

``RingBuilder`` (builder.py) is the operator's side: devices, weights and rebalancing, saved as a
builder file. ``Ring`` (ring.py) is the servers' side: a read-only, auto-reloading view of a ring
file answering ``get_nodes``. ``RingError`` is raised for unusable ring or builder files.
"""

from swiftlite.ring.builder import RingBuilder
from swiftlite.ring.errors import RingBuilderError, RingError
from swiftlite.ring.ring import Ring

__all__ = ["Ring", "RingBuilder", "RingBuilderError", "RingError"]
