"""Server start-up checks and master signals, on real processes killed by pid.

Each test starts ``swiftlite-object-server``'s code path on a demo app and drives it the way an
operator does: a port already taken, a broken pipeline, ``workers = auto``, ``user``, an IPv6
``bind_ip``, dying workers, ``SIGTERM``, ``SIGHUP`` and ``SIGUSR1``.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import pathlib
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator

import pytest

from tests.support.wait import wait_until

REPO = pathlib.Path(__file__).resolve().parents[3]
ECHO = "[app:main]\nuse = call:tests.support.demo_app:echo_factory\n"


def _free_port(family: int = socket.AF_INET, ip: str = "127.0.0.1") -> int:
    with socket.socket(family) as s:
        s.bind((ip, 0))
        return int(s.getsockname()[1])


def _conf(
    path: pathlib.Path, port: int, *, extra: str = "", app: str = ECHO, ip: str = "127.0.0.1"
) -> str:
    path.write_text(
        f"[DEFAULT]\nbind_ip = {ip}\nbind_port = {port}\nworkers = 2\nbind_timeout = 0.2\n"
        f"{extra}\n{app}"
    )
    return str(path)


class Server:
    """One server process started as the console script would start it."""

    def __init__(self, conf: str, port: int, ip: str = "127.0.0.1") -> None:
        self.conf, self.port, self.ip = conf, port, ip
        code = (
            "import sys; from swiftlite.cli.servers import object_server;"
            f" sys.exit(object_server([{conf!r}]))"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def get(self, path: str = "/", timeout: float = 5) -> str | None:
        conn = http.client.HTTPConnection(self.ip, self.port, timeout=timeout)
        try:
            conn.request("GET", path)
            return conn.getresponse().read().decode()
        except OSError:
            return None
        finally:
            conn.close()

    def ready(self) -> str:
        return wait_until(lambda: self.get(), timeout=20, what="server answering")

    def all_serving(self) -> set[int]:
        """Wait until every worker has answered (each has loaded its app); their pids."""
        seen: set[int] = set()

        def check() -> bool:
            seen.update(int((self.get() or "0 ").split()[0]) for _ in range(4))
            pids = self.worker_pids()
            return len(pids) == 2 and seen >= pids  # the tests' configs run two workers

        wait_until(check, timeout=20, what="every worker answering")
        return self.worker_pids()

    def worker_pids(self) -> set[int]:
        with open(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children", encoding="ascii") as fh:
            return {int(p) for p in fh.read().split()}

    def kill(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.kill()


def _start(servers: list[Server], conf: str, port: int, ip: str = "127.0.0.1") -> Server:
    server = Server(conf, port, ip)
    servers.append(server)
    return server


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        return fh.read().split()[2] != "Z"


# -- start-up checks ---------------------------------------------------------------------------
def test_second_server_on_a_busy_port_fails_naming_the_port(tmp_path, servers) -> None:
    port = _free_port()
    first = _start(servers, _conf(tmp_path / "a.conf", port), port)
    first.ready()
    second = _start(servers, _conf(tmp_path / "b.conf", port), port)
    assert second.proc.wait(timeout=30) == 2
    err = second.proc.stderr.read()  # type: ignore[union-attr]
    assert f"port {port}" in err
    assert "in use" in err
    assert first.proc.poll() is None  # the first server is untouched and still answers alone
    assert {int((first.get() or "0 ").split()[0]) for _ in range(10)} <= first.worker_pids()


def test_broken_pipeline_fails_the_start_naming_the_section(tmp_path, servers) -> None:
    port = _free_port()
    app = "[pipeline:main]\npipeline = nosuchfilter echo\n" + ECHO.replace("main", "echo")
    server = _start(servers, _conf(tmp_path / "s.conf", port, app=app), port)
    assert server.proc.wait(timeout=30) == 2
    assert "nosuchfilter" in server.proc.stderr.read()  # type: ignore[union-attr]


def test_bad_app_option_fails_the_start_naming_the_option(tmp_path, servers) -> None:
    port = _free_port()
    app = "[app:main]\nuse = egg:swiftlite#object\ndevices = /nonexistent\nmount_check = maybe\n"
    server = _start(servers, _conf(tmp_path / "s.conf", port, app=app), port)
    assert server.proc.wait(timeout=30) == 2
    assert "mount_check" in server.proc.stderr.read()  # type: ignore[union-attr]


def test_workers_auto_starts_one_per_cpu(tmp_path, servers) -> None:
    port = _free_port()
    conf = _conf(tmp_path / "s.conf", port, extra="workers = auto")
    conf_text = pathlib.Path(conf).read_text().replace("workers = 2\n", "")
    pathlib.Path(conf).write_text(conf_text)
    server = _start(servers, conf, port)
    server.ready()
    want = os.cpu_count() or 1
    assert wait_until(lambda: len(server.worker_pids()) == want, what=f"{want} workers")


def test_ipv6_bind_ip_serves(tmp_path, servers) -> None:
    port = _free_port(socket.AF_INET6, "::1")
    server = _start(servers, _conf(tmp_path / "s.conf", port, ip="::1"), port, ip="::1")
    body = server.ready()
    assert int(body.split()[0]) in server.worker_pids()


@pytest.mark.skipif(os.geteuid() != 0, reason="switching user needs root")
def test_user_drops_privileges_after_binding_a_low_port(servers) -> None:
    shared = tempfile.mkdtemp(prefix="swiftlite-user-")
    try:
        os.chmod(shared, 0o755)  # noqa: S103 - nobody must read the config
        port = _free_port()
        conf = _conf(pathlib.Path(shared) / "s.conf", port, extra="user = nobody")
        os.chmod(conf, 0o644)
        server = _start(servers, conf, port)
        server.ready()
        nobody = pwd.getpwnam("nobody").pw_uid
        for pid in [server.proc.pid, *server.worker_pids()]:
            with open(f"/proc/{pid}/status", encoding="ascii") as fh:
                uids = next(line for line in fh if line.startswith("Uid:")).split()[1:]
            assert {int(u) for u in uids} == {nobody}
    finally:
        shutil.rmtree(shared, ignore_errors=True)


def test_unknown_user_fails_the_start(tmp_path, servers) -> None:
    port = _free_port()
    conf = _conf(tmp_path / "s.conf", port, extra="user = no-such-user-here")
    server = _start(servers, conf, port)
    assert server.proc.wait(timeout=30) == 2
    assert "no-such-user-here" in server.proc.stderr.read()  # type: ignore[union-attr]


# -- workers and signals -----------------------------------------------------------------------
def test_workers_that_cannot_start_are_respawned_with_a_growing_backoff(tmp_path, servers) -> None:
    port = _free_port()
    marker = tmp_path / "broken"
    log = tmp_path / "s.log"
    app = ECHO + f"fail_if = {marker}\n"
    conf = _conf(tmp_path / "s.conf", port, app=app, extra=f"log_file = {log}\nworkers = 1")
    pathlib.Path(conf).write_text(pathlib.Path(conf).read_text().replace("workers = 2\n", ""))
    server = _start(servers, conf, port)
    server.ready()
    marker.write_text("")
    (victim,) = server.worker_pids()
    os.kill(victim, signal.SIGKILL)

    def backoffs() -> list[float]:
        lines = [ln for ln in log.read_text().splitlines() if "starting another in" in ln]
        return [float(ln.rsplit(" in ", 1)[1].rstrip("s")) for ln in lines]

    wait_until(lambda: len(backoffs()) >= 4, timeout=30, what="four respawns")
    seen = backoffs()[:4]
    assert seen == sorted(seen)
    assert seen[3] > seen[1]
    marker.unlink()
    assert wait_until(lambda: server.get(timeout=1), timeout=30, what="a worker serving again")


def test_sigterm_lets_a_request_in_flight_finish_then_exits(tmp_path, servers) -> None:
    port = _free_port()
    server = _start(servers, _conf(tmp_path / "s.conf", port), port)
    server.ready()
    workers = server.worker_pids()
    result: list[str | None] = []
    slow = _slow(server, 1.5, tmp_path / "in-app", result)
    server.proc.send_signal(signal.SIGTERM)
    wait_until(lambda: server.get(timeout=1) is None, what="new connections refused")
    slow.join()
    assert result[0] is not None
    assert int(result[0].split()[0]) in workers
    assert server.proc.wait(timeout=15) == 0
    assert not any(_alive(pid) for pid in workers)


def test_sigterm_kills_requests_that_outlast_the_timeout(tmp_path, servers) -> None:
    port = _free_port()
    conf = _conf(tmp_path / "s.conf", port, extra="graceful_shutdown_timeout = 0.5")
    server = _start(servers, conf, port)
    server.ready()
    result: list[str | None] = []
    slow = _slow(server, 60, tmp_path / "in-app", result)
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=15) == 0
    slow.join()
    assert result == [None]  # cut off, not answered


def _slow(server: Server, seconds: float, mark: pathlib.Path, into: list[str | None]):
    """Start a slow request in a thread; returns once the app is running it."""
    thread = threading.Thread(
        target=lambda: into.append(server.get(f"/slow/{seconds}?{mark}", timeout=seconds + 30))
    )
    thread.start()
    wait_until(mark.exists, what="the slow request in the app")
    return thread


def _words(server: Server) -> set[str]:
    return {(server.get() or " ?").split()[1] for _ in range(8)}


def test_sighup_reloads_config_into_new_workers_while_old_finish(tmp_path, servers) -> None:
    port = _free_port()
    path = tmp_path / "s.conf"
    conf = _conf(path, port, app=ECHO + "word = old\n")
    server = _start(servers, conf, port)
    old = server.all_serving()
    result: list[str | None] = []
    slow = _slow(server, 1.5, tmp_path / "in-app", result)
    path.write_text(path.read_text().replace("word = old", "word = new"))
    server.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: _words(server) == {"new"}, what="new workers with the new config")
    slow.join()
    assert result[0] is not None
    assert result[0].endswith(" old")
    wait_until(lambda: not (server.worker_pids() & old), what="old workers gone")
    assert server.proc.poll() is None


def test_new_workers_keep_accepting_after_a_busy_old_worker_stops_listening(
    tmp_path, servers
) -> None:
    """The failure: workers shared the master's epoll instance (made when it bound), so an old
    worker that closed the listening socket only after the new workers had started accepting
    took the socket out of their poll too; every later connection waited in the backlog and
    the proxy timed the node out (seen as 10 s GETs in the rolling-reload test)."""
    port = _free_port()
    server = _start(servers, _conf(tmp_path / "s.conf", port), port)
    old = server.all_serving()
    mark = tmp_path / "in-app"
    held: list[str | None] = []
    blocked = threading.Thread(
        target=lambda: held.append(server.get(f"/block/3?{mark}", timeout=30))
    )
    blocked.start()
    wait_until(mark.exists, what="an old worker held in the app")
    busy = int(mark.read_text())
    server.proc.send_signal(signal.SIGHUP)

    def new_worker_answers() -> bool:
        body = server.get(timeout=2)
        return body is not None and int(body.split()[0]) not in old

    wait_until(new_worker_answers, what="a new worker accepting while the old one is held")
    blocked.join()
    assert held[0] is not None
    assert held[0].startswith(f"{busy} ")
    wait_until(lambda: not _alive(busy), what="the held worker closed its socket and exited")
    answers = [server.get(timeout=3) for _ in range(8)]
    assert None not in answers, answers
    assert not {int(body.split()[0]) for body in answers if body} & old


def test_sighup_with_a_broken_config_keeps_the_running_server(tmp_path, servers) -> None:
    port = _free_port()
    path = tmp_path / "s.conf"
    log = tmp_path / "s.log"
    server = _start(servers, _conf(path, port, extra=f"log_file = {log}"), port)
    workers = server.all_serving()
    path.write_text(path.read_text().replace("echo_factory", "no_such_factory"))
    server.proc.send_signal(signal.SIGHUP)
    wait_until(lambda: "reload refused" in log.read_text(), what="the refusal logged")
    assert server.worker_pids() == workers, log.read_text()
    assert server.get() is not None


def test_sigusr1_reexecs_with_the_socket_open_and_no_refused_connection(tmp_path, servers) -> None:
    port = _free_port()
    path = tmp_path / "s.conf"
    server = _start(servers, _conf(path, port, app=ECHO + "word = old\n"), port)
    server.ready()
    old = server.worker_pids()
    failures: list[str] = []
    answers: list[str] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            body = server.get(timeout=10)
            if body is None:
                failures.append("no answer")
            else:
                answers.append(body)

    client = threading.Thread(target=hammer)
    client.start()
    try:
        wait_until(lambda: len(answers) > 5, what="load running")
        path.write_text(path.read_text().replace("word = old", "word = new"))
        server.proc.send_signal(signal.SIGUSR1)
        wait_until(lambda: answers and answers[-1].endswith(" new"), timeout=30, what="new")
        wait_until(lambda: not (server.worker_pids() & old), what="old workers retired")
        count = len(answers)
        wait_until(lambda: len(answers) > count + 5, what="still serving")
    finally:
        stop.set()
        client.join()
    assert failures == []
    assert server.proc.poll() is None  # same master pid, re-executed
