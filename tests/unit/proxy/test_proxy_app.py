"""ProxyApp routing and the controllers' pure helpers, with webob requests and fake rings.

The fake rings point at a closed port, so anything that reaches a backend sees a refused
connection: these tests cover what the proxy decides on its own.
"""

from __future__ import annotations

import json
import socket

import pytest
from webob import Request

from swiftlite.common.registry import register_info
from swiftlite.proxy.controllers.base import client_content_type, client_headers
from swiftlite.proxy.controllers.obj import guess_content_type
from swiftlite.proxy.info import account_info_from, container_info_from
from swiftlite.proxy.server import ProxyApp, ProxyOptions
from swiftlite.ring.node import Node


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DeadRing:
    replica_count = 3

    def __init__(self, port: int) -> None:
        self.nodes = [
            Node.from_dev({"id": i, "ip": "127.0.0.1", "port": port, "device": f"d{i}"}, index=i)
            for i in range(3)
        ]

    def get_part(self, *names: str | None) -> int:
        return 0

    def get_nodes(self, *names: str | None) -> tuple[int, list[Node]]:
        return 0, self.nodes

    def get_part_nodes(self, part: int) -> list[Node]:
        return self.nodes

    def get_more_nodes(self, part: int):
        return iter(())


@pytest.fixture
def app() -> ProxyApp:
    ring = DeadRing(_closed_port())
    options = ProxyOptions(account_autocreate=True, post_quorum_timeout=0.01)
    return ProxyApp(options, rings={"account": ring, "container": ring, "object": ring})


def _call(app: ProxyApp, path: str, method: str = "GET", **kwargs):
    return Request.blank(path, environ={"REQUEST_METHOD": method}, **kwargs).get_response(app)


@pytest.mark.parametrize(
    ("path", "status"),
    [("/", 404), ("/v1", 412), ("/v1/", 412), ("/v2/AUTH_a", 400), ("/v1/AUTH_%FF", 412)],
)
def test_route_bad_paths_get_swift_statuses(app, path, status):
    assert _call(app, path).status_int == status


def test_route_account_put_without_management_is_405_with_allow(app):
    resp = _call(app, "/v1/AUTH_a", "PUT")
    assert resp.status_int == 405
    assert "PUT" not in resp.headers["Allow"]
    assert "GET" in resp.headers["Allow"]


def test_route_unknown_verb_on_object_is_405(app):
    assert _call(app, "/v1/AUTH_a/c/o", "PATCH").status_int == 405


def test_info_is_json_with_swift_section_and_registered_sections(app):
    register_info("unit_test_section", answer=42)
    resp = _call(app, "/info")
    assert resp.status_int == 200
    assert resp.content_type == "application/json"
    body = json.loads(resp.body)
    assert body["swift"]["max_meta_count"] == 90
    assert body["swift"]["policies"] == [
        {"name": "Policy-0", "aliases": "Policy-0", "default": True, "policy_type": "replication"}
    ]
    assert body["unit_test_section"] == {"answer": 42}


def test_info_hidden_when_expose_info_is_off():
    ring = DeadRing(_closed_port())
    app = ProxyApp(
        ProxyOptions(expose_info=False),
        rings=dict.fromkeys(("account", "container", "object"), ring),
    )
    assert _call(app, "/info").status_int == 403


def test_info_disallowed_section_is_hidden():
    ring = DeadRing(_closed_port())
    options = ProxyOptions(disallowed_sections=("unit_test_hidden",))
    app = ProxyApp(options, rings=dict.fromkeys(("account", "container", "object"), ring))
    register_info("unit_test_hidden", x=1)
    assert "unit_test_hidden" not in json.loads(_call(app, "/info").body)


def test_container_listing_limit_over_max_is_412_before_any_backend(app):
    resp = _call(app, "/v1/AUTH_a/c?limit=10001")
    assert resp.status_int == 412
    assert b"10000" in resp.body


def test_account_get_with_every_backend_down_is_503(app):
    assert _call(app, "/v1/AUTH_a").status_int == 503


def test_object_put_with_backends_down_is_503_or_404_never_2xx(app):
    resp = _call(app, "/v1/AUTH_a/c/o", "PUT", body=b"x")
    assert resp.status_int in (404, 503)


def test_node_errors_are_counted_by_the_limiter(app):
    _call(app, "/v1/AUTH_a")
    assert app.limiter.errors(app.account_ring.nodes[0]) >= 1


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.txt", "text/plain"),
        ("dir/page.html", "text/html"),
        ("photo.JPG", "image/jpeg"),
        ("noext", "application/octet-stream"),
        ("archive.tar.gz", "application/x-tar"),
    ],
)
def test_guess_content_type_from_name(name, expected):
    assert guess_content_type(name) == expected


def test_client_content_type_ignores_eventlets_default():
    req = Request.blank("/", headers={"Content-Type": "text/plain"})
    req.environ["headers_raw"] = (("Host", "x"),)
    assert client_content_type(req) is None
    req.environ["headers_raw"] = (("content-type", "text/plain"),)
    assert client_content_type(req) == "text/plain"


def test_client_headers_drop_backend_hop_by_hop_and_owner_only():
    items = [
        ("X-Backend-Timestamp", "1"),
        ("Transfer-Encoding", "chunked"),
        ("Connection", "keep-alive"),
        ("X-Container-Read", ".r:*"),
        ("X-Container-Meta-A", "b"),
        ("ETag", "e"),
    ]
    assert client_headers(items, owner=False) == [("X-Container-Meta-A", "b"), ("ETag", "e")]
    assert ("X-Container-Read", ".r:*") in client_headers(items, owner=True)


def test_container_info_from_backend_headers():
    info = container_info_from(
        204,
        [
            ("X-Container-Object-Count", "3"),
            ("X-Container-Bytes-Used", "10"),
            ("X-Container-Read", ".r:*"),
            ("X-Container-Meta-Access-Control-Allow-Origin", "*"),
            ("x-container-sysmeta-foo", "bar"),
        ],
    )
    assert info["object_count"] == 3
    assert info["bytes"] == 10
    assert info["read_acl"] == ".r:*"
    assert info["write_acl"] is None
    assert info["cors"]["allow_origin"] == "*"
    assert info["sysmeta"] == {"Foo": "bar"}
    json.dumps(info)  # must survive memcached


def test_account_info_from_deleted_account():
    info = account_info_from(404, [("X-Account-Status", "Deleted")])
    assert info["deleted"] is True
    assert info["container_count"] == 0


def test_object_put_with_gzip_transfer_encoding_is_501(app, monkeypatch):
    monkeypatch.setattr(
        "swiftlite.proxy.info.container_info",
        lambda *a: {"status": 204, "read_acl": None, "write_acl": None},
    )
    headers = {"Transfer-Encoding": "gzip"}
    assert _call(app, "/v1/AUTH_a/c/o", "PUT", headers=headers).status_int == 501


def test_object_put_if_none_match_not_star_is_400(app, monkeypatch):
    monkeypatch.setattr(
        "swiftlite.proxy.info.container_info",
        lambda *a: {"status": 204, "read_acl": None, "write_acl": None},
    )
    headers = {"If-None-Match": "abc", "Content-Length": "0"}
    resp = _call(app, "/v1/AUTH_a/c/o", "PUT", headers=headers)
    assert resp.status_int == 400
    assert b"If-None-Match only supports *" in resp.body


def test_object_write_denied_by_authorize_hook_never_reaches_backends(app, monkeypatch):
    monkeypatch.setattr(
        "swiftlite.proxy.info.container_info",
        lambda *a: {"status": 204, "read_acl": "r", "write_acl": "w-acl"},
    )
    seen = []

    def deny(req):
        seen.append(req.environ["swiftlite.acl"])
        return Request.blank("/").get_response(lambda e, s: s("403 Forbidden", []) or [b""])

    req = Request.blank("/v1/AUTH_a/c/o", method="DELETE")
    req.environ["swiftlite.authorize"] = deny
    assert req.get_response(app).status_int == 403
    assert seen == ["w-acl"]
    assert app.limiter.errors(app.object_ring.nodes[0]) == 0


def test_proxy_uses_each_policys_ring_and_lists_policies_in_info(monkeypatch):
    from swiftlite.common import policies
    from tests.support.policy_conf import parse_policies

    pols = parse_policies(
        "[storage-policy:0]\nname = gold\ndefault = yes\n"
        "[storage-policy:1]\nname = silver\naliases = argent\n"
        "[storage-policy:2]\nname = old\ndeprecated = yes\n"
    )
    monkeypatch.setattr(policies, "load", lambda: pols)
    ring, ring1 = DeadRing(_closed_port()), DeadRing(_closed_port())
    app = ProxyApp(
        ProxyOptions(),
        rings={"account": ring, "container": ring, "object": ring, "object-1": ring1},
    )
    assert app.get_object_ring(0) is ring
    assert app.get_object_ring("1") is ring1
    assert app.get_object_ring(2) is ring  # injected rings without object-2: policy 0's
    assert app.get_object_ring(3) is None
    body = json.loads(_call(app, "/info").body)
    assert [p["name"] for p in body["swift"]["policies"]] == ["gold", "silver"]
    assert body["swift"]["policies"][1] == {
        "name": "silver",
        "aliases": "silver, argent",
        "policy_type": "replication",
    }
