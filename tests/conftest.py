"""Suite-wide set-up: layer markers by directory and a cluster config for path hashing."""

from __future__ import annotations

import os
import pathlib
import tempfile

import pytest

_LAYER_MARKERS = {"inproc": "inproc", "functional": "functional", "probe": "probe"}

# Every process the suite starts hashes names with this config unless a test sets its own.
if not os.environ.get("SWIFTLITE_CONF"):
    _conf_dir = tempfile.mkdtemp(prefix="swiftlite-test-conf-")
    _conf = pathlib.Path(_conf_dir, "swiftlite.conf")
    _conf.write_text(
        "[swift-hash]\nswift_hash_path_prefix = test-prefix\nswift_hash_path_suffix = test-suffix\n"
    )
    os.environ["SWIFTLITE_CONF"] = str(_conf)


# With workers (bin/test), the long cluster layers go out first so the short unit files fill in
# at the end instead of one worker finishing a probe file alone.
_LAYER_ORDER = {"probe": 0, "functional": 1, "inproc": 2}


def _layer(item: pytest.Item) -> str | None:
    parts = pathlib.Path(str(item.fspath)).parts
    return next((d for d in _LAYER_MARKERS if d in parts), None)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        layer = _layer(item)
        if layer is not None:
            item.add_marker(getattr(pytest.mark, _LAYER_MARKERS[layer]))
    if getattr(config.option, "numprocesses", None):
        # a stable sort: each file keeps its tests together and in order
        items.sort(key=lambda item: _LAYER_ORDER.get(_layer(item) or "", 3))


@pytest.fixture(autouse=True, scope="session")
def _process_stays_unpatched():
    """Monkey-patching is process-wide: a test that patches the pytest process changes every
    later test's threads and sockets (and has hung the suite). Servers and daemons patch only
    in their own processes."""
    yield
    import socket

    from swiftlite.common import green

    patched = green.is_monkey_patched("socket") or "eventlet" in type(socket.socket).__module__
    assert not patched, "a test monkey-patched the pytest process; run it in a subprocess"
