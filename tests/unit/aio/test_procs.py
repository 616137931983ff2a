from __future__ import annotations

import os
import sys

from swiftlite.aio import procs
from swiftlite.aio.procs import ProcSpec

SLEEPER = (sys.executable, "-c", "import signal, select; select.select([], [], [], 60)")
STUBBORN = (
    sys.executable,
    "-c",
    "import signal, select; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "select.select([], [], [], 60)",
)


def test_start_twice_keeps_one_process(tmp_path) -> None:
    spec = ProcSpec("sleeper", SLEEPER, None)
    run, log = str(tmp_path / "run"), str(tmp_path / "log")
    try:
        pid = procs.start(spec, run, log, dict(os.environ))
        assert procs.start(spec, run, log, dict(os.environ)) == pid
        assert procs.status(spec, run).alive
    finally:
        assert procs.stop("sleeper", run, grace=5)
    assert not procs.pid_alive(pid)
    assert procs.read_pid(run, "sleeper") is None


def test_stop_kills_process_that_ignores_term(tmp_path) -> None:
    spec = ProcSpec("stubborn", STUBBORN, None)
    run, log = str(tmp_path / "run"), str(tmp_path / "log")
    pid = procs.start(spec, run, log, dict(os.environ))
    assert procs.stop("stubborn", run, grace=0.5)
    assert not procs.pid_alive(pid)


def test_stop_of_nothing_recorded_is_false(tmp_path) -> None:
    assert procs.stop("nothing", str(tmp_path)) is False


def test_wait_healthy_reports_dead_process_quickly(tmp_path) -> None:
    spec = ProcSpec("dies", (sys.executable, "-c", "raise SystemExit(3)"), ("127.0.0.1", 1))
    run, log = str(tmp_path / "run"), str(tmp_path / "log")
    procs.start(spec, run, log, dict(os.environ))
    assert procs.wait_healthy([spec], run, timeout=30) == ["dies"]
    procs.stop("dies", run)
