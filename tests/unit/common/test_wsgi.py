"""The pre-fork runner, started as a real process the way operators start servers."""

from __future__ import annotations

import http.client
import os
import pathlib
import signal
import socket
import subprocess
import sys

import pytest

from swiftlite.common.wsgi import read_server_options
from tests.support.wait import wait_until

REPO = pathlib.Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int) -> str | None:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/")
        return conn.getresponse().read().decode()
    except OSError:
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def server(tmp_path):
    port = _free_port()
    conf = tmp_path / "demo.conf"
    conf.write_text(
        f"[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = {port}\nworkers = 2\n"
        "[app:main]\nuse = call:tests.support.demo_app:app_factory\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from swiftlite.cli.servers import object_server;"
            f" sys.exit(object_server([{str(conf)!r}]))",
        ],
        env=env,
        start_new_session=True,
    )
    yield proc, port
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def test_workers_serve_and_term_stops_every_worker(server) -> None:
    proc, port = server
    pids = set()
    wait_until(lambda: _get(port), timeout=20, what="server answering")
    for _ in range(40):
        body = _get(port)
        assert body is not None
        pids.add(int(body))
    assert proc.pid not in pids  # the master only supervises
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=15) == 0
    assert all(not _alive(pid) for pid in pids)
    assert _get(port) is None


def test_killed_worker_is_replaced(server) -> None:
    proc, port = server
    wait_until(lambda: _get(port), timeout=20, what="server answering")
    victim = int(_get(port) or 0)
    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: _get(port) and int(_get(port) or 0) != victim, timeout=10)
    assert proc.poll() is None


def test_read_server_options_takes_default_section(tmp_path) -> None:
    conf = tmp_path / "s.conf"
    conf.write_text(
        "[DEFAULT]\nbind_port = 6200\nworkers = 3\ndevices = /srv\n[app:x]\nuse = egg:y\n"
    )
    opts = read_server_options(str(conf))
    assert (opts.bind_port, opts.workers) == (6200, 3)
