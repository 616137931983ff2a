"""metrics: /metrics parses with the Prometheus text parser and counts what it should."""

from __future__ import annotations

import json
import os
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from webob import Request, Response

from swiftlite.common import recon_cache
from swiftlite.middleware.metrics import MetricsMiddleware, MetricsOptions, filter_factory
from swiftlite.obj.server import ObjectServer, ObjectServerOptions
from swiftlite.proxy.nodes import ErrorLimiter
from swiftlite.ring.node import Node


def answer(status: int) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> Any:
        return Response(status=status, body=b"x")(environ, start_response)

    return app


def scrape(app: Any) -> dict[str, list[Any]]:
    resp = Request.blank("/metrics").get_response(app)
    assert resp.status_int == 200
    assert resp.content_type == "text/plain"
    families = text_string_to_metric_families(resp.text)
    return {family.name: family.samples for family in families}


def test_disabled_by_default_hands_back_the_app_itself() -> None:
    app = answer(200)
    assert filter_factory({})(app) is app
    assert Request.blank("/metrics").get_response(filter_factory({})(app)).body == b"x"


def test_counts_and_latency_per_verb_and_status_parse() -> None:
    mw = filter_factory({"log_name": "proxy-server"}, enabled="true")(answer(201))
    for _ in range(3):
        Request.blank("/v1/a/c/o", method="PUT").get_response(mw)
    Request.blank("/v1/a", method="BREW\n").get_response(mw)
    families = scrape(mw)
    counts = {
        (s.labels["method"], s.labels["status"]): s.value
        for s in families["swiftlite_requests"]
        if s.name == "swiftlite_requests_total"
    }
    assert counts == {("PUT", "201"): 3, ("other", "201"): 1}
    hist = families["swiftlite_request_duration_seconds"]
    count = [s for s in hist if s.name.endswith("_count") and s.labels["method"] == "PUT"]
    assert [s.value for s in count] == [3]
    inf = [s for s in hist if s.labels.get("le") == "+Inf" and s.labels["method"] == "PUT"]
    assert [s.value for s in inf] == [3]
    assert all(s.labels["server"] == "proxy-server" for s in hist)


def test_exception_below_counts_500() -> None:
    def boom(environ: dict[str, Any], start_response: Any) -> Any:
        raise RuntimeError("x")

    mw = MetricsMiddleware(boom, MetricsOptions(enabled=True))
    with pytest.raises(RuntimeError):
        Request.blank("/x").get_response(mw)
    samples = scrape(mw)["swiftlite_requests"]
    assert [(s.labels["status"], s.value) for s in samples] == [("500", 1)]


def test_post_to_metrics_is_405() -> None:
    mw = MetricsMiddleware(answer(200), MetricsOptions(enabled=True))
    assert Request.blank("/metrics", method="POST").get_response(mw).status_int == 405


def test_proxy_shows_error_limited_nodes() -> None:
    class Proxy:
        def __init__(self) -> None:
            self.limiter = ErrorLimiter(suppression_limit=1)

        def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
            return answer(200)(environ, start_response)

    proxy = Proxy()
    node = Node.from_dev({"id": 0, "ip": "127.0.0.2", "port": 6200, "device": "d1"})
    proxy.limiter.limit(node)
    samples = scrape(MetricsMiddleware(proxy, MetricsOptions(enabled=True)))
    assert [s.value for s in samples["swiftlite_error_limited_nodes"]] == [1]


def test_storage_server_shows_async_pendings_disk_usage_and_replication_age(tmp_path) -> None:
    devices = tmp_path / "node"
    (devices / "sda" / "async_pending" / "abc").mkdir(parents=True)
    (devices / "sda" / "async_pending" / "abc" / "hash-1").write_bytes(b"{}")
    (devices / "sda" / "async_pending" / "abc" / "hash-2").write_bytes(b"{}")
    cache = tmp_path / "cache"
    recon_cache.update(
        recon_cache.cache_path(str(cache), "object"),
        {"object-replicator": {"finished": 1.0}},
    )
    mw = filter_factory(
        {"devices": str(devices), "mount_check": "false"},
        enabled="true",
        recon_cache_path=str(cache),
        log_name="object-server",
    )(ObjectServer(ObjectServerOptions(devices=str(devices), mount_check=False)))
    families = scrape(mw)
    assert [s.value for s in families["swiftlite_async_pendings"]] == [2]
    assert [s.labels["device"] for s in families["swiftlite_device_size_bytes"]] == ["sda"]
    assert families["swiftlite_device_size_bytes"][0].value > 0
    (age,) = families["swiftlite_replication_last_pass_age_seconds"]
    assert age.labels["daemon"] == "object-replicator"
    assert age.value > 1e9  # finished at the epoch's first second


def test_workers_add_up_through_metrics_dir(tmp_path) -> None:
    folder = tmp_path / "metrics"
    options = MetricsOptions(enabled=True, metrics_dir=str(folder), log_name="object-server")
    mine = MetricsMiddleware(answer(200), options)
    Request.blank("/o", method="GET").get_response(mine)
    # another worker's snapshot: 4 GETs, all in the first bucket
    row = [4.0, 0.004, 4.0] + [0.0] * len(mine.stats.buckets)
    other = {"buckets": list(mine.stats.buckets), "rows": {"GET 200": row}}
    folder.mkdir()
    (folder / "object-server-99999999.json").write_text(json.dumps(other))
    samples = scrape(mine)["swiftlite_requests"]
    assert [(s.labels["method"], s.value) for s in samples] == [("GET", 5)]
    assert (folder / f"object-server-{os.getpid()}.json").exists()


def test_server_label_defaults_to_the_kind_of_app_below(tmp_path) -> None:
    (tmp_path / "sda").mkdir()
    storage = ObjectServer(ObjectServerOptions(devices=str(tmp_path), mount_check=False))
    mw = MetricsMiddleware(storage, MetricsOptions(enabled=True))
    Request.blank("/sda/1/a/c/o").get_response(mw)
    assert {s.labels["server"] for s in scrape(mw)["swiftlite_requests"]} == {"object-server"}
