"""``swiftlite-init`` on one node directory: names, groups, pidfiles and each verb, for real.

Servers are demo apps behind the real server runner; daemons are real daemon commands with a
config section pointing at an empty device directory. Everything is stopped by pidfile.
"""

from __future__ import annotations

import http.client
import os
import pathlib
import signal
import socket
import subprocess
import sys
import threading
import types

import pytest

from swiftlite.aio.procs import pid_alive as alive
from swiftlite.init import names
from tests.support.wait import wait_until

INIT = str(pathlib.Path(sys.executable).with_name("swiftlite-init"))
REPO = pathlib.Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def node(tmp_path):
    """A node with an object server (demo app) and its updater, and a proxy (demo app)."""
    etc, run, log, srv = (tmp_path / d for d in ("etc", "run", "log", "srv"))
    for d in (etc, srv):
        d.mkdir()
    ports = {}
    for kind in ("object", "proxy"):
        ports[kind] = _free_port()
        section = (
            f"[object-updater]\ndevices = {srv}\nmount_check = false\ninterval = 60\n"
            if kind == "object"
            else ""
        )
        (etc / f"{kind}-server.conf").write_text(
            f"[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = {ports[kind]}\nworkers = 1\n"
            f"swift_dir = {etc}\n"
            "[app:main]\nuse = call:tests.support.demo_app:echo_factory\n" + section
        )
    dirs = ["--conf-dir", str(etc), "--run-dir", str(run), "--log-dir", str(log)]
    yield types.SimpleNamespace(etc=etc, run=run, ports=ports, dirs=dirs)
    subprocess.run([INIT, "stop", "all", "--kill-after-timeout", *dirs], check=False)


def _init(dirs: list[str], *words: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [INIT, *words, *dirs], capture_output=True, text=True, timeout=120, env=env, check=False
    )


def _pid(run: pathlib.Path, name: str) -> int:
    return int((run / f"{name}.pid").read_text())


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def test_groups_and_globs_expand_in_order() -> None:
    assert names.expand(["main"]) == list(names.MAIN)
    assert names.expand(["rest"]) == list(names.REST)
    assert names.expand(["object-*"]) == [
        "object-server",
        "object-replicator",
        "object-auditor",
        "object-updater",
        "object-expirer",
    ]
    assert names.expand(["swiftlite-proxy-server", "proxy-server"]) == ["proxy-server"]
    with pytest.raises(names.UnknownName):
        names.expand(["object-sever"])


def test_select_keeps_what_this_node_is_configured_for(node) -> None:
    targets, missing = names.select(["all"], str(node.etc))
    assert [t.name for t in targets] == ["proxy-server", "object-server", "object-updater"]
    assert missing == []
    _, missing = names.select(["account-server", "object-auditor"], str(node.etc))
    assert missing == ["account-server", "object-auditor"]  # asked by name, not configured


def test_start_status_stop_all_by_pidfile(node) -> None:
    done = _init(node.dirs, "start", "all")
    assert done.returncode == 0, done.stderr
    pids = {n: _pid(node.run, n) for n in ("proxy-server", "object-server", "object-updater")}
    assert all(alive(p) for p in pids.values())
    assert _init(node.dirs, "start", "all").returncode == 0  # already running: nothing new
    assert {n: _pid(node.run, n) for n in pids} == pids
    status = _init(node.dirs, "status", "main")
    assert status.returncode == 0
    assert f"object-server running ({pids['object-server']}" in status.stdout
    assert "object-updater" not in status.stdout
    assert _init(node.dirs, "stop", "all").returncode == 0
    assert not any(alive(p) for p in pids.values())
    assert list(node.run.glob("*.pid")) == []
    status = _init(node.dirs, "status", "all")
    assert status.returncode == 1
    assert "No object-server running" in status.stdout


def test_start_refuses_a_server_whose_port_is_taken(node) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", node.ports["object"]))
        squatter.listen()
        done = _init(node.dirs, "start", "object-server")
    assert done.returncode == 1
    assert f"port {node.ports['object']}) is already in use" in done.stderr
    assert not (node.run / "object-server.pid").exists()


def test_start_reports_a_server_that_exits_with_its_reason(node) -> None:
    conf = node.etc / "object-server.conf"
    conf.write_text(conf.read_text().replace("echo_factory", "no_such_factory"))
    done = _init(node.dirs, "start", "object-server")
    assert done.returncode == 1
    assert "object-server: exited with status 2" in done.stderr
    assert "no_such_factory" in done.stderr
    assert not (node.run / "object-server.pid").exists()


def test_named_server_without_config_fails(node) -> None:
    done = _init(node.dirs, "start", "account-server")
    assert done.returncode == 1
    assert "account-server: no config" in done.stderr


def test_reload_keeps_server_masters_and_restarts_daemons(node) -> None:
    assert _init(node.dirs, "start", "object-*").returncode == 0
    master, updater = _pid(node.run, "object-server"), _pid(node.run, "object-updater")
    children = f"/proc/{master}/task/{master}/children"
    wait_until(lambda: pathlib.Path(children).read_text().split(), what="a worker")
    (old_worker,) = map(int, pathlib.Path(children).read_text().split())
    done = _init(node.dirs, "reload", "object-*")
    assert done.returncode == 0, done.stderr
    assert _pid(node.run, "object-server") == master
    assert _pid(node.run, "object-updater") != updater
    assert not alive(updater)
    wait_until(lambda: not alive(old_worker), what="the old worker gone")
    assert alive(master)


def test_restart_gives_new_pids(node) -> None:
    assert _init(node.dirs, "start", "proxy-server").returncode == 0
    first = _pid(node.run, "proxy-server")
    assert _init(node.dirs, "restart", "proxy-server").returncode == 0
    assert _pid(node.run, "proxy-server") != first
    assert not alive(first)


def test_once_runs_each_daemon_one_pass_in_the_foreground(node) -> None:
    done = _init(node.dirs, "once", "rest")
    assert done.returncode == 0, done.stderr
    assert "Running object-updater once" in done.stdout
    assert list(node.run.glob("*.pid")) == []


def test_no_daemon_runs_in_the_foreground_until_terminated(node) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([INIT, "no-daemon", "object-server", *node.dirs], env=env)
    try:
        wait_until(lambda: (node.run / "object-server.pid").exists(), what="pidfile")
        server = _pid(node.run, "object-server")
        wait_until(lambda: _accepts(node.ports["object"]), what="the server up")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not alive(server)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_unknown_name_is_a_usage_error(node) -> None:
    done = _init(node.dirs, "start", "object-sever")
    assert done.returncode == 2
    assert "object-sever" in done.stderr


def _slow_request(
    port: int, mark: pathlib.Path, seconds: float
) -> tuple[list[object], threading.Thread]:
    """A GET the demo app holds ``seconds``; the list gets its status, or the error it met."""
    outcome: list[object] = []

    def run() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            conn.request("GET", f"/slow/{seconds}?{mark}")
            resp = conn.getresponse()
            resp.read()
            outcome.append(resp.status)
        except (OSError, http.client.HTTPException) as exc:
            outcome.append(exc)
        finally:
            conn.close()

    thread = threading.Thread(target=run)
    thread.start()
    wait_until(mark.exists, what="the request in the app")
    return outcome, thread


def test_shutdown_lets_requests_in_flight_finish(node, tmp_path) -> None:
    assert _init(node.dirs, "start", "object-server").returncode == 0
    master = _pid(node.run, "object-server")
    outcome, thread = _slow_request(node.ports["object"], tmp_path / "in-app", 2.0)
    done = _init(node.dirs, "shutdown", "object-server")
    thread.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"signal: {int(signal.SIGTERM)}" in done.stdout
    assert outcome == [200]  # a stop that cut the request would leave an error here
    assert not alive(master)


def test_stop_does_not_wait_for_requests_in_flight(node, tmp_path) -> None:
    assert _init(node.dirs, "start", "object-server").returncode == 0
    master = _pid(node.run, "object-server")
    outcome, thread = _slow_request(node.ports["object"], tmp_path / "in-app", 30.0)
    done = _init(node.dirs, "stop", "object-server")
    thread.join(timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"signal: {int(signal.SIGINT)}" in done.stdout
    assert len(outcome) == 1, outcome
    assert isinstance(outcome[0], Exception), outcome  # cut, not served
    assert not alive(master)
