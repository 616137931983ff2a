from __future__ import annotations

from dataclasses import dataclass

from swiftlite.common import recon_cache
from swiftlite.common.daemon import Daemon, main


@dataclass(frozen=True)
class CountOptions:
    recon_cache_path: str = ""
    interval: float = 30.0
    log_level: str = "INFO"
    log_file: str | None = None


class Counter(Daemon):
    name = "object-counter"
    recon_kind = "object"
    passes = 0

    def run_once(self):
        Counter.passes += 1
        return {"checked": 3}


def test_run_pass_records_summary_in_recon_cache(tmp_path) -> None:
    daemon = Counter(CountOptions(recon_cache_path=str(tmp_path)))
    summary = daemon.run_pass()
    assert summary["checked"] == 3
    assert "duration" in summary
    stored = recon_cache.read(recon_cache.cache_path(str(tmp_path), "object"))
    assert stored["object-counter"]["checked"] == 3


def test_recon_cache_update_keeps_other_keys(tmp_path) -> None:
    path = recon_cache.cache_path(str(tmp_path), "object")
    recon_cache.update(path, {"a": 1})
    recon_cache.update(path, {"b": 2})
    assert recon_cache.read(path) == {"a": 1, "b": 2}


def test_recon_cache_unknown_version_reads_empty(tmp_path) -> None:
    path = tmp_path / "object.recon"
    path.write_text('{"version": 99, "a": 1}')
    assert recon_cache.read(str(path)) == {}


def test_main_once_runs_one_pass(tmp_path) -> None:
    conf = tmp_path / "d.conf"
    conf.write_text(f"[DEFAULT]\nrecon_cache_path = {tmp_path}\n[object-counter]\ninterval = 5\n")
    before = Counter.passes
    assert main("x", "object-counter", CountOptions, Counter, [str(conf), "once"], patch=False) == 0
    assert Counter.passes == before + 1


def test_main_bad_config_exits_2(tmp_path) -> None:
    conf = tmp_path / "d.conf"
    conf.write_text("[object-counter]\ninterval = soon\n")
    assert main("x", "object-counter", CountOptions, Counter, [str(conf), "once"], patch=False) == 2


def test_run_forever_waits_out_the_interval_in_one_sleep(monkeypatch) -> None:
    # Waking every 0.5 s to look for SIGTERM cost each idle daemon about 0.4 ms of CPU a
    # second (1.6% of a core for an all-in-one's 40 daemons): the wait must be one sleep.
    from swiftlite.common import daemon as daemon_module

    waits: list[float] = []
    counter = Counter(CountOptions(interval=3600.0))

    class FakeSelect:
        @staticmethod
        def select(readable, writable, errors, timeout):
            assert readable == [counter._wake_r]
            waits.append(timeout)
            if len(waits) == 3:
                counter.stopping = True
            return [], [], []

    monkeypatch.setattr(daemon_module, "select", FakeSelect)
    monkeypatch.setattr(daemon_module.signal, "signal", lambda *args: None)
    before = Counter.passes
    counter.run_forever()
    assert Counter.passes - before == 2
    assert waits[0] <= 5.0  # the start-up spread
    assert all(3599.0 < w <= 3600.0 for w in waits[1:])


SLEEPER = """
import sys
from dataclasses import dataclass
from swiftlite.common import green
green.monkey_patch()
from swiftlite.common.daemon import Daemon

@dataclass(frozen=True)
class Options:
    interval: float = 3600.0
    log_file: str | None = None
    log_level: str = "ERROR"

class Sleeper(Daemon):
    name = "sleeper"
    def run_once(self):
        return {}
    def _pause(self, seconds):
        if seconds > 60:
            print("waiting", flush=True)  # a SIGTERM from here on must not be lost
        super()._pause(seconds)

Sleeper(Options()).run_forever()
print("stopped", flush=True)
"""


def test_sigterm_ends_a_daemon_sleeping_a_long_interval() -> None:
    import signal
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-c", SLEEPER], stdout=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "waiting"  # the hour-long wait, or about to
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0
    assert out.strip() == "stopped"
