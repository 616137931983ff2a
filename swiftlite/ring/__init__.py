"""The ring: where every account, container and object lives.

``Ring`` (ring.py) is the servers' side: a read-only, auto-reloading view of a ring file answering
``get_nodes``. ``RingBuilder`` (builder.py, imported from there so that servers never load it) is
the operator's side: devices, weights and rebalancing, saved as a builder file. ``RingError`` is
raised for unusable ring or builder files.
"""

from swiftlite.ring.errors import RingBuilderError, RingError
from swiftlite.ring.ring import Ring

__all__ = ["Ring", "RingBuilderError", "RingError"]
