"""swiftlite-recon --async: the total and one line per storage policy the servers report."""

from __future__ import annotations

from swiftlite.cli import recon


def test_async_lines_per_policy(monkeypatch):
    answers = {
        "127.0.0.1:6200": {"async_pending": 3, "policies": {"0": 1, "1": 2}},
        "127.0.0.2:6200": {"async_pending": 1, "policies": {"1": 1}},
        "127.0.0.3:6200": None,  # no answer
    }
    monkeypatch.setattr(recon, "servers", lambda swift_dir, kind: list(answers))
    monkeypatch.setattr(recon, "fetch", lambda hosts, what, timeout: answers)
    lines = recon.check_async("/nowhere", 1.0)
    assert lines[0].startswith("[async_pending] ")
    assert "total: 4" in lines[0]
    assert lines[1].startswith("[async_pending policy 0] ")
    assert "total: 1," in lines[1]
    assert lines[2].startswith("[async_pending policy 1] ")
    assert "total: 3," in lines[2]
    assert all("no_result: 1" in line for line in lines)
