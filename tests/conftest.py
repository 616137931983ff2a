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


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        parts = pathlib.Path(str(item.fspath)).parts
        for directory, marker in _LAYER_MARKERS.items():
            if directory in parts:
                item.add_marker(getattr(pytest.mark, marker))


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
