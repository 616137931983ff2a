"""``CONF once`` tells operators and scripts whether the pass failed: exit 1 when the pass
summary reports failures (or the pass raised), 0 for a clean pass."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from swiftlite.common.daemon import Daemon, main, pass_failures


@dataclass(frozen=True)
class PassOptions:
    recon_cache_path: str = ""
    interval: float = 30.0
    log_level: str = "CRITICAL"
    log_file: str | None = None


class Scripted(Daemon):
    """A daemon whose pass returns (or raises) whatever the test put in ``outcome``."""

    name = "object-scripted"
    recon_kind = "object"
    outcome: ClassVar[Any] = None

    def __init__(self, options: Any) -> None:
        quiet = logging.getLogger("test.scripted")
        quiet.setLevel(logging.CRITICAL)
        super().__init__(options, quiet)

    def run_once(self) -> dict[str, Any]:
        if isinstance(Scripted.outcome, Exception):
            raise Scripted.outcome
        return dict(Scripted.outcome)


def run_once_with(tmp_path, outcome: Any) -> int:
    Scripted.outcome = outcome
    conf = tmp_path / "d.conf"
    conf.write_text(f"[DEFAULT]\nrecon_cache_path = {tmp_path}\n[object-scripted]\n")
    return main("x", "object-scripted", PassOptions, Scripted, [str(conf), "once"], patch=False)


@pytest.mark.parametrize(
    "summary",
    [
        {"successes": 3, "failures": 2},  # updaters, expirer, object replicator, reaper
        {"files_checked": 9, "errors": 1},  # object auditor
        {"attempted": 4, "failure": 1},  # db replicators
        {"attempted": 0, "error": "ring: no such file"},  # a pass that could not start
    ],
)
def test_once_pass_reporting_failures_exits_1(tmp_path, summary) -> None:
    assert run_once_with(tmp_path, summary) == 1


def test_once_pass_that_raises_exits_1_without_a_traceback_escaping(tmp_path) -> None:
    assert run_once_with(tmp_path, RuntimeError("disk on fire")) == 1


def test_once_clean_pass_exits_0(tmp_path) -> None:
    clean = {"successes": 3, "failures": 0, "failure": 0, "errors": 0, "quarantined": 2}
    assert run_once_with(tmp_path, clean) == 0


def test_pass_failures_ignores_non_counts() -> None:
    assert pass_failures({"failures": True, "errors": "3", "failure": -1, "error": ""}) == 0
    assert pass_failures({"failures": 2, "errors": 1, "error": "no ring"}) == 4
