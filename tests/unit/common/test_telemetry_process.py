"""A server started as operators start it sends its log lines to the syslog target in [DEFAULT]."""

from __future__ import annotations

import os
import pathlib
import signal
import socket
import subprocess
import sys

REPO = pathlib.Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_server_with_log_udp_host_logs_to_that_syslog(tmp_path) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(20)
    conf = tmp_path / "demo.conf"
    conf.write_text(
        f"[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = {_free_port()}\nworkers = 1\n"
        f"log_udp_host = 127.0.0.1\nlog_udp_port = {listener.getsockname()[1]}\n"
        "log_facility = LOG_LOCAL2\n"
        "[app:main]\nuse = call:tests.support.demo_app:app_factory\n"
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from swiftlite.cli.servers import object_server;"
            f" sys.exit(object_server([{str(conf)!r}]))",
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        start_new_session=True,
    )
    try:
        data = listener.recv(4096)
    finally:
        listener.close()
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    # local2 (18) * 8 + info (6) = 150; the ident is the server's name
    assert data.startswith(b"<150>swiftlite-object-server: swiftlite-object-server starting on")


def test_bad_log_facility_fails_the_start_naming_the_key(tmp_path) -> None:
    conf = tmp_path / "demo.conf"
    conf.write_text(
        f"[DEFAULT]\nbind_port = {_free_port()}\nlog_facility = LOG_BOGUS\n"
        "[app:main]\nuse = call:tests.support.demo_app:app_factory\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "swiftlite.cli.servers", str(conf)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "log_facility" in done.stderr


def test_two_workers_add_up_in_metrics(tmp_path) -> None:
    import http.client

    from prometheus_client.parser import text_string_to_metric_families

    from tests.support.wait import wait_until

    port = _free_port()
    conf = tmp_path / "demo.conf"
    conf.write_text(
        f"[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = {port}\nworkers = 2\n"
        "[pipeline:main]\npipeline = metrics demo\n"
        "[filter:metrics]\nuse = egg:swiftlite#metrics\nenabled = true\n"
        f"metrics_dir = {tmp_path / 'metrics'}\nflush_interval = 0\nserver_name = demo\n"
        "[app:demo]\nuse = call:tests.support.demo_app:app_factory\n"
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from swiftlite.cli.servers import object_server;"
            f" sys.exit(object_server([{str(conf)!r}]))",
        ],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        start_new_session=True,
    )

    def get(path: str) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.read().decode()
        finally:
            conn.close()

    served: list[str] = []  # the pid that answered each GET

    def answering() -> bool:
        try:
            status, body = get("/")
        except OSError:
            return False
        served.append(body)
        return status == 200

    def both_workers_served() -> bool:
        served.append(get("/")[1])  # a fresh connection each time
        return len(set(served)) == 2

    try:
        wait_until(answering, timeout=30, what="server answering")
        wait_until(both_workers_served, timeout=30, what="both workers serving")
        scrapes = []
        for _ in range(6):
            status, text = get("/metrics")
            assert status == 200
            (requests,) = [
                f for f in text_string_to_metric_families(text) if f.name == "swiftlite_requests"
            ]
            scrapes.append(sum(s.value for s in requests.samples))
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    # Each worker served fewer than all the GETs, yet every scrape counts all of them, and
    # the scrapes before it: whichever worker answers, it adds up both.
    assert max(served.count(pid) for pid in set(served)) < len(served)
    assert scrapes[0] >= len(served)
    assert scrapes == sorted(scrapes)  # a counter never goes down between scrapes


def test_daemon_once_logs_its_pass_to_syslog(tmp_path) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(30)
    (tmp_path / "node").mkdir()
    conf = tmp_path / "object-server.conf"
    conf.write_text(
        f"[DEFAULT]\ndevices = {tmp_path / 'node'}\nmount_check = false\n"
        f"log_udp_host = 127.0.0.1\nlog_udp_port = {listener.getsockname()[1]}\n"
        "[object-auditor]\n"
    )
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from swiftlite.cli.servers import object_auditor;"
                f" sys.exit(object_auditor([{str(conf)!r}, 'once']))",
            ],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            timeout=60,
            check=False,
        )
        data = listener.recv(4096)
    finally:
        listener.close()
    assert done.returncode == 0, done.stderr
    assert data.startswith(b"<134>object-auditor: object-auditor pass: ")
