"""subrequest: what a filter's subrequest inherits, and how auth is carried or bypassed."""

from __future__ import annotations

import io
from typing import Any

import pytest
from webob import Request, Response

from swiftlite.middleware import subrequest
from swiftlite.proxy.info import INFOCACHE, container_key


def _parent(**extra: Any) -> dict[str, Any]:
    env = Request.blank(
        "/v1/AUTH_test/c/o?multipart-manifest=get",
        method="PUT",
        headers={
            "X-Auth-Token": "AUTH_tk1",
            "X-Object-Meta-Color": "red",
            "Referer": "http://example.com/",
            "X-Trans-Id": "tx1",
            "Content-Type": "text/plain",
        },
        body=b"parent body",
    ).environ
    env.update(
        {
            "swiftlite.trans_id": "tx1",
            "swiftlite.cache": object(),
            "swiftlite.authorize": lambda req: None,
            "swiftlite.remote_user": "test:tester",
            "swiftlite.tempauth.groups": ("test", "test:tester"),
            "swiftlite.acl": "parent-acl",
            "swiftlite.owner": True,
        }
    )
    env.update(extra)
    return env


def test_subrequest_does_not_inherit_client_headers_body_or_query() -> None:
    parent = _parent()
    sub = subrequest.make_subrequest(parent, "GET", "/v1/AUTH_test/c/seg", source="SLO")
    env = sub.environ
    assert "HTTP_X_AUTH_TOKEN" not in env
    assert "HTTP_X_OBJECT_META_COLOR" not in env
    assert env["QUERY_STRING"] == ""
    assert env["CONTENT_LENGTH"] == "0"
    assert env["wsgi.input"].read() == b""
    assert "CONTENT_TYPE" not in env
    # what the proxy decided for the parent is not the subrequest's
    assert "swiftlite.acl" not in env
    assert "swiftlite.owner" not in env


def test_subrequest_inherits_trans_id_referer_cache_and_names_its_source() -> None:
    parent = _parent()
    env = subrequest.make_subrequest(parent, "HEAD", "/v1/AUTH_test/c", source="DLO").environ
    assert env["swiftlite.trans_id"] == "tx1"
    assert env["HTTP_X_TRANS_ID"] == "tx1"
    assert env["HTTP_REFERER"] == "http://example.com/"
    assert env["swiftlite.cache"] is parent["swiftlite.cache"]
    assert env["swiftlite.source"] == "DLO"
    assert env["REQUEST_METHOD"] == "HEAD"
    assert env["PATH_INFO"] == "/v1/AUTH_test/c"


def test_carry_copies_identity_and_does_not_override() -> None:
    parent = _parent()
    env = subrequest.make_subrequest(parent, "GET", "/v1/AUTH_test/c/o", source="x").environ
    assert env["swiftlite.authorize"] is parent["swiftlite.authorize"]
    assert env["swiftlite.remote_user"] == "test:tester"
    assert env["swiftlite.tempauth.groups"] == ("test", "test:tester")
    assert "swiftlite.authorize_override" not in env


def test_bypass_overrides_and_drops_identity() -> None:
    parent = _parent()
    env = subrequest.make_subrequest(
        parent, "GET", "/v1/AUTH_test/c/o", source="x", auth=subrequest.BYPASS
    ).environ
    assert env["swiftlite.authorize_override"] is True
    assert "swiftlite.authorize" not in env
    assert "swiftlite.remote_user" not in env


def test_unknown_auth_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="auth must be"):
        subrequest.make_environ(_parent(), "GET", "/v1/a", source="x", auth="maybe")


def test_bytes_body_sets_length_and_reader_without_length_is_chunked() -> None:
    parent = _parent()
    sub = subrequest.make_subrequest(parent, "PUT", "/v1/a/c/o", source="x", body=b"abc")
    assert sub.environ["CONTENT_LENGTH"] == "3"
    assert sub.environ["wsgi.input"].read() == b"abc"
    reader = io.BytesIO(b"streamed")
    sub = subrequest.make_subrequest(parent, "PUT", "/v1/a/c/o", source="x", body=reader)
    assert "CONTENT_LENGTH" not in sub.environ
    assert sub.environ["HTTP_TRANSFER_ENCODING"] == "chunked"
    assert sub.environ["wsgi.input"] is reader


def test_headers_are_set_on_the_subrequest() -> None:
    sub = subrequest.make_subrequest(
        _parent(), "PUT", "/v1/a/c/o", source="x", headers={"X-Object-Meta-A": "1"}
    )
    assert sub.headers["X-Object-Meta-A"] == "1"


def test_api_path_encodes_utf8_names_as_wsgi_strings() -> None:
    path = subrequest.api_path("AUTH_test", "c\u00e9", "o/\u5605")
    assert path == "/v1/AUTH_test/c\u00c3\u00a9/o/" + "\u5605".encode().decode("latin-1")


def test_iter_reader_reads_across_chunks_and_closes_source() -> None:
    closed = []

    class Body(list):  # type: ignore[type-arg]
        def close(self) -> None:
            closed.append(True)

    reader = subrequest.IterReader(Body([b"ab", b"cde", b"f"]))
    assert reader.read(4) == b"abcd"
    assert reader.read(-1) == b"ef"
    assert reader.read(1) == b""
    reader.close()
    assert closed == [True]


def test_container_info_comes_from_the_memo_the_proxy_fills() -> None:
    calls = []

    def proxy(environ: dict[str, Any], start_response: Any) -> Any:
        calls.append((environ["REQUEST_METHOD"], environ["PATH_INFO"]))
        assert environ["swiftlite.authorize_override"] is True
        environ[INFOCACHE][container_key("AUTH_test", "c")] = {"status": 204, "meta": {}}
        return Response(status=204)(environ, start_response)

    parent = _parent()
    parent.pop("swiftlite.cache")
    first = subrequest.get_container_info(parent, proxy, "AUTH_test", "c", "QUOTA")
    second = subrequest.get_container_info(parent, proxy, "AUTH_test", "c", "QUOTA")
    assert first == second == {"status": 204, "meta": {}}
    assert calls == [("HEAD", "/v1/AUTH_test/c")]  # the second came from the memo


def test_container_info_refused_above_the_proxy_keeps_its_status() -> None:
    def refuse(environ: dict[str, Any], start_response: Any) -> Any:
        return Response(status=403)(environ, start_response)

    parent = _parent()
    parent.pop("swiftlite.cache")
    found = subrequest.get_container_info(parent, refuse, "AUTH_test", "c", "QUOTA")
    assert found["status"] == 403


class CountingCache:
    """A LocalCache that counts the round trips a memcached would have cost."""

    def __init__(self) -> None:
        from swiftlite.common.memcache import LocalCache

        self.inner = LocalCache()
        self.trips: list[str] = []

    def get(self, key: str) -> Any:
        self.trips.append("get")
        return self.inner.get(key)

    def get_multi(self, keys: list[str]) -> list[Any]:
        self.trips.append("get_multi")
        return self.inner.get_multi(keys)


def _no_proxy(environ: dict[str, Any], start_response: Any) -> Any:
    raise AssertionError("the info should have come from the cache")


def test_prefetch_reads_account_and_container_info_in_one_cache_trip() -> None:
    # A GET looked up the account (ratelimit) and then the container (the proxy, ACLs,
    # object_versioning): two memcached round trips where one does.
    from swiftlite.proxy.info import account_key

    cache = CountingCache()
    cache.inner.set(account_key("AUTH_test"), {"status": 204, "sysmeta": {}}, time=60)
    cache.inner.set(container_key("AUTH_test", "c"), {"status": 204, "meta": {}}, time=60)
    parent = _parent(**{"swiftlite.cache": cache})
    subrequest.prefetch_info(parent, "AUTH_test", "c")
    account = subrequest.get_account_info(parent, _no_proxy, "AUTH_test", "RL")
    container = subrequest.get_container_info(parent, _no_proxy, "AUTH_test", "c", "RL")
    assert (account["status"], container["status"]) == (204, 204)
    assert cache.trips == ["get_multi"]


def test_prefetch_leaves_a_miss_to_the_lookup_and_skips_a_lone_key() -> None:
    from swiftlite.proxy.info import account_key

    cache = CountingCache()
    cache.inner.set(account_key("AUTH_test"), {"status": 204, "sysmeta": {}}, time=60)
    parent = _parent(**{"swiftlite.cache": cache})
    subrequest.prefetch_info(parent, "AUTH_test", "c")
    assert container_key("AUTH_test", "c") not in parent[INFOCACHE]  # a miss stays a miss
    subrequest.prefetch_info(parent, "AUTH_test", None)  # an account request: nothing to pair
    assert cache.trips == ["get_multi"]
