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
