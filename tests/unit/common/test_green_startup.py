"""What importing the green module costs every server and daemon at start-up."""

from __future__ import annotations

import os
import subprocess
import sys


def _fresh_python(code: str, **env: str) -> str:
    clean = {k: v for k, v in os.environ.items() if k != "EVENTLET_NO_GREENDNS"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


def test_green_import_leaves_dnspython_out() -> None:
    """eventlet's green resolver imports dnspython, 0.18 s of CPU in every process start."""
    out = _fresh_python(
        "import sys, swiftlite.common.green; "
        "print(any(m.split('.')[0] == 'dns' for m in sys.modules))"
    )
    assert out == "False"


def test_names_still_resolve_through_the_green_socket_module() -> None:
    out = _fresh_python(
        "from swiftlite.common import green; "
        "print(green.green_socket.getaddrinfo('localhost', 80)[0][4][1])"
    )
    assert out == "80"


def test_an_operator_can_bring_the_green_resolver_back() -> None:
    out = _fresh_python(
        "import sys, swiftlite.common.green; print('eventlet.support.greendns' in sys.modules)",
        EVENTLET_NO_GREENDNS="no",
    )
    assert out == "True"
