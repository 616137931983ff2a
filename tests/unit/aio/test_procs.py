from __future__ import annotations

import os
import subprocess
import sys

from swiftlite.aio import procs
from swiftlite.aio.procs import ProcSpec
from tests.support.wait import wait_until

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


def test_a_zombie_whose_name_holds_spaces_is_not_alive(tmp_path) -> None:
    # /proc/<pid>/stat is "pid (name) state ...": splitting on spaces read "b)" as the state of
    # a process named "a b" (aio's copy of the rule), so such a zombie counted as alive
    true = tmp_path / "a b"
    true.symlink_to("/bin/true")
    child = subprocess.Popen([str(true)])  # not waited for until the end: a zombie once it exits
    try:
        wait_until(lambda: _state(child.pid) == "Z", what="the child a zombie")
        assert not procs.pid_alive(child.pid)
    finally:
        child.wait()


def _state(pid: int) -> str:
    with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
        return fh.read().rsplit(")", 1)[1].split()[0]
