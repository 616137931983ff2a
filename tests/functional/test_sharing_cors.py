"""CORS preflight and actual requests, for allowed and refused origins, on the real cluster."""

from __future__ import annotations

import json

import pytest

from tests.support.cluster import Cluster
from tests.support.sharing import login, unique

ALLOWED = "http://allowed.example"
REFUSED = "http://evil.example"


@pytest.fixture(scope="module")
def obj(cluster: Cluster) -> str:
    auth = login(cluster)
    path = f"{auth.path}/{unique('cors')}"
    headers = {
        "X-Auth-Token": auth.token,
        "X-Container-Read": ".r:*",
        "X-Container-Meta-Access-Control-Allow-Origin": f"http://other.example {ALLOWED}",
        "X-Container-Meta-Access-Control-Expose-Headers": "X-Custom",
        "X-Container-Meta-Access-Control-Max-Age": "600",
    }
    assert cluster.request("PUT", path, headers)[0] == 201
    obj_headers = {"X-Auth-Token": auth.token, "X-Object-Meta-Color": "blue"}
    assert cluster.request("PUT", f"{path}/o", obj_headers, b"cors data")[0] == 201
    return f"{path}/o"


def test_preflight_from_allowed_origin_is_200_with_the_cors_headers(cluster, obj):
    status, headers, _ = cluster.request(
        "OPTIONS",
        obj,
        {
            "Origin": ALLOWED,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "x-auth-token, content-type",
        },
    )
    assert status == 200
    assert headers["access-control-allow-origin"] == ALLOWED
    assert "Origin" in headers["vary"]
    assert "GET" in headers["access-control-allow-methods"].split(", ")
    assert headers["access-control-allow-headers"] == "content-type, x-auth-token"
    assert headers["access-control-max-age"] == "600"


@pytest.mark.parametrize(
    ("origin", "method"), [(REFUSED, "GET"), (ALLOWED, "PATCH"), ("null", "GET")]
)
def test_preflight_from_refused_origin_or_for_unknown_method_is_401(cluster, obj, origin, method):
    status, headers, _ = cluster.request(
        "OPTIONS", obj, {"Origin": origin, "Access-Control-Request-Method": method}
    )
    assert status == 401
    assert "access-control-allow-origin" not in headers


def test_options_without_origin_lists_the_methods(cluster, obj):
    status, headers, _ = cluster.request("OPTIONS", obj)
    assert status == 200
    assert "PUT" in headers["allow"]


def test_actual_get_from_allowed_origin_exposes_metadata_and_container_headers(cluster, obj):
    status, headers, body = cluster.request("GET", obj, {"Origin": ALLOWED})
    assert (status, body) == (200, b"cors data")
    assert headers["access-control-allow-origin"] == ALLOWED
    exposed = headers["access-control-expose-headers"].split(", ")
    simple = ("cache-control", "content-language", "content-type", "expires", "last-modified")
    swift_ids = ("etag", "x-timestamp", "x-trans-id", "x-openstack-request-id")
    for name in (*simple, "pragma", *swift_ids, "x-object-meta-color", "x-custom"):
        assert name in exposed


def test_actual_get_from_refused_origin_has_no_cors_headers(cluster, obj):
    status, headers, _ = cluster.request("GET", obj, {"Origin": REFUSED})
    assert status == 200  # the data is public; only the browser is told not to share it
    assert "access-control-allow-origin" not in headers
    assert "access-control-expose-headers" not in headers


def test_wildcard_container_answers_star(cluster):
    auth = login(cluster)
    path = f"{auth.path}/{unique('cors-star')}"
    headers = {
        "X-Auth-Token": auth.token,
        "X-Container-Meta-Access-Control-Allow-Origin": "*",
    }
    assert cluster.request("PUT", path, headers)[0] == 201
    status, got, _ = cluster.request(
        "OPTIONS", path, {"Origin": REFUSED, "Access-Control-Request-Method": "PUT"}
    )
    assert status == 200
    assert got["access-control-allow-origin"] == "*"
    status, got, _ = cluster.request(
        "HEAD", path, {"Origin": REFUSED, **{"X-Auth-Token": auth.token}}
    )
    assert got["access-control-allow-origin"] == "*"


def test_info_publishes_strict_cors_mode(cluster):
    info = json.loads(cluster.request("GET", "/info")[2])
    assert info["swift"]["strict_cors_mode"] is True


def test_missing_object_from_allowed_origin_is_a_404_the_browser_may_read(cluster, obj):
    status, headers, _ = cluster.request("GET", obj + "-missing", {"Origin": ALLOWED})
    assert status == 404
    assert headers["access-control-allow-origin"] == ALLOWED
