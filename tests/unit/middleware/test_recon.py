from __future__ import annotations

import json

from webob import Request, Response

from swiftlite.common import recon_cache
from swiftlite.middleware.recon import ReconMiddleware, ReconOptions, filter_factory


def _app(tmp_path):
    (tmp_path / "srv" / "d1" / "async_pending" / "abc").mkdir(parents=True)
    (tmp_path / "srv" / "d1" / "async_pending" / "abc" / "h-1").write_text("{}")
    (tmp_path / "srv" / "d2" / "quarantined" / "objects" / "h1").mkdir(parents=True)
    (tmp_path / "srv" / "d2" / "quarantined" / "objects-1" / "h2").mkdir(parents=True)
    (tmp_path / "srv" / "d2" / "quarantined" / "objects-1" / "h3").mkdir(parents=True)
    (tmp_path / "srv" / "d2" / "async_pending-1" / "def").mkdir(parents=True)
    (tmp_path / "srv" / "d2" / "async_pending-1" / "def" / "h-2").write_text("{}")
    (tmp_path / "srv" / "d1" / "async_pending-1" / "def").mkdir(parents=True)
    (tmp_path / "srv" / "d1" / "async_pending-1" / "def" / "h-3").write_text("{}")
    opts = ReconOptions(
        devices=str(tmp_path / "srv"),
        mount_check=False,
        swift_dir=str(tmp_path),
        recon_cache_path=str(tmp_path / "cache"),
    )
    return ReconMiddleware(lambda env, sr: Response(body=b"app")(env, sr), opts)


def _get(app, path):
    resp = Request.blank(path).get_response(app)
    return resp.status_int, (
        json.loads(resp.body) if resp.status_int == 200 and path.startswith("/recon") else resp.body
    )


def test_async_counts_pending_files_of_every_policy(tmp_path) -> None:
    assert _get(_app(tmp_path), "/recon/async") == (
        200,
        {"async_pending": 3, "policies": {"0": 1, "1": 2}},
    )


def test_quarantined_counts_per_kind_and_objects_per_policy(tmp_path) -> None:
    status, data = _get(_app(tmp_path), "/recon/quarantined")
    assert status == 200
    assert data == {
        "objects": 3,
        "containers": 0,
        "accounts": 0,
        "policies": {"0": {"objects": 1}, "1": {"objects": 2}},
    }


def test_replication_reads_daemon_summary_from_cache(tmp_path) -> None:
    app = _app(tmp_path)
    recon_cache.update(
        recon_cache.cache_path(str(tmp_path / "cache"), "object"),
        {"object-replicator": {"duration": 1.5, "failures": 0}},
    )
    assert _get(app, "/recon/replication/object") == (200, {"duration": 1.5, "failures": 0})


def test_unknown_endpoint_is_404_and_other_paths_pass_through(tmp_path) -> None:
    app = _app(tmp_path)
    assert _get(app, "/recon/nope")[0] == 404
    assert _get(app, "/sda/1/a") == (200, b"app")


def test_diskusage_lists_devices(tmp_path) -> None:
    status, data = _get(_app(tmp_path), "/recon/diskusage")
    assert status == 200
    assert [row["device"] for row in data] == ["d1", "d2"]
    assert all(row["size"] > 0 for row in data)


def test_filter_factory_reads_default_section(tmp_path) -> None:
    make = filter_factory({"devices": str(tmp_path), "mount_check": "false"})
    mw = make(lambda env, sr: [])
    assert mw.options.devices == str(tmp_path)
    assert mw.options.mount_check is False
