"""list_endpoints: backend URLs from real ring files, v1 and v2 shapes, bad paths 400."""

from __future__ import annotations

import json

import pytest
from webob import Request

from swiftlite.middleware.list_endpoints import (
    ListEndpointsMiddleware,
    ListEndpointsOptions,
    parse_path,
)
from swiftlite.ring import Ring
from swiftlite.ring.builder import RingBuilder
from tests.unit.middleware.guard_backend import InfoProxy


@pytest.fixture
def swift_dir(tmp_path):
    for kind, port in (("account", 6202), ("container", 6201), ("object", 6200)):
        builder = RingBuilder(4, 3, 0)
        for zone in range(1, 4):
            builder.add_dev(
                {
                    "region": 1,
                    "zone": zone,
                    "ip": f"10.0.0.{zone}",
                    "port": port,
                    "device": "sdb",
                    "weight": 100,
                }
            )
        builder.rebalance(seed=1)
        builder.write_ring(str(tmp_path / f"{kind}.ring.gz"))
    return tmp_path


def _app(swift_dir):
    backend = InfoProxy(status=200)
    backend.containers[("AUTH_a", "c")] = {"X-Backend-Storage-Policy-Index": "0"}
    return ListEndpointsMiddleware(backend, ListEndpointsOptions(swift_dir=str(swift_dir))), backend


def test_v2_object_endpoints_and_policy_header(swift_dir):
    app, _ = _app(swift_dir)
    resp = Request.blank("/endpoints/v2/AUTH_a/c/o%20x").get_response(app)
    assert resp.status_int == 200
    assert resp.content_type == "application/json"
    body = json.loads(resp.body)
    part, nodes = Ring(str(swift_dir / "object.ring.gz")).get_nodes("AUTH_a", "c", "o x")
    assert body["endpoints"] == [f"http://{n.ip}:6200/sdb/{part}/AUTH_a/c/o%20x" for n in nodes]
    assert body["headers"] == {"X-Backend-Storage-Policy-Index": "0"}


@pytest.mark.parametrize(
    ("path", "kind", "names"),
    [
        ("/endpoints/v1/AUTH_a/c", "container", ("AUTH_a", "c")),
        ("/endpoints/AUTH_a", "account", ("AUTH_a",)),
    ],
)
def test_v1_is_a_bare_list(swift_dir, path, kind, names):
    app, _ = _app(swift_dir)
    body = json.loads(Request.blank(path).get_response(app).body)
    part, nodes = Ring(str(swift_dir / f"{kind}.ring.gz")).get_nodes(*names)
    assert body == [f"http://{n.ip}:{n.port}/sdb/{part}/{'/'.join(names)}" for n in nodes]


@pytest.mark.parametrize(
    "path", ["/endpoints/", "/endpoints/v2/", "/endpoints/v3/AUTH_a", "/endpoints/v2/AUTH_a//o"]
)
def test_bad_paths_are_400(swift_dir, path):
    app, _ = _app(swift_dir)
    assert Request.blank(path).get_response(app).status_int == 400


def test_other_methods_are_405_and_other_paths_pass(swift_dir):
    app, backend = _app(swift_dir)
    resp = Request.blank("/endpoints/v2/AUTH_a", method="PUT").get_response(app)
    assert resp.status_int == 405
    assert resp.headers["Allow"] == "GET"
    assert Request.blank("/v1/AUTH_a").get_response(app).status_int == 200
    assert backend.seen[-1][1] == "/v1/AUTH_a"


def test_path_not_utf8_is_400(swift_dir):
    app, _ = _app(swift_dir)
    req = Request.blank("/")
    req.environ["PATH_INFO"] = "/endpoints/v2/\xff"
    assert req.get_response(app).status_int == 400


def test_parse_path():
    assert parse_path("v2/a/c/o/p") == (2, "a", "c", "o/p")
    assert parse_path("a/c") == (1, "a", "c", None)
    assert parse_path("v_x/c") == (1, "v_x", "c", None)
