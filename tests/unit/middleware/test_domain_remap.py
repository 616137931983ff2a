"""domain_remap: host names to account/container paths, with Swift's prefix rules."""

from __future__ import annotations

from typing import Any

import pytest
from webob import Request, Response

from swiftlite.middleware.domain_remap import DomainRemapMiddleware, DomainRemapOptions


def remap(host: str, path: str = "/", **options: Any) -> tuple[int, str | None, dict[str, Any]]:
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        seen.update(environ)
        resp = Response(status=301, headers={"Location": environ["PATH_INFO"] + "x/"})
        return resp(environ, start_response)

    mw = DomainRemapMiddleware(app, DomainRemapOptions(**options))
    resp = Request.blank(path, headers={"Host": host}).get_response(mw)
    return (
        resp.status_int,
        seen.get("PATH_INFO"),
        {**seen, "location": resp.headers.get("Location")},
    )


@pytest.mark.parametrize(
    ("host", "path", "expected"),
    [
        ("c.AUTH_a.example.com", "/o", "/v1/AUTH_a/c/o"),
        ("c.auth-a.example.com:8080", "/", "/v1/AUTH_a/c/"),
        ("AUTH_a.example.com", "/c/o", "/v1/AUTH_a/c/o"),
        ("auth_a.EXAMPLE.com", "", "/v1/AUTH_a/"),
        ("example.com", "/v1/AUTH_a", "/v1/AUTH_a"),
        ("other.host", "/v1/AUTH_a/c", "/v1/AUTH_a/c"),
        ("c.bob.example.com", "/o", "/o"),
    ],
)
def test_host_names_map_to_paths(host, path, expected):
    assert remap(host, path)[1] == expected


def test_default_reseller_prefix_is_added_to_unknown_accounts():
    assert remap("c.bob.example.com", "/o", default_reseller_prefix="AUTH")[1] == "/v1/AUTH_bob/c/o"


def test_mangle_client_paths_does_not_double_the_root():
    _status, path, _ = remap("AUTH_a.example.com", "/v1/c/o", mangle_client_paths=True)
    assert path == "/v1/AUTH_a/c/o"
    assert remap("AUTH_a.example.com", "/v1/c/o")[1] == "/v1/AUTH_a/v1/c/o"


def test_three_labels_is_400():
    assert remap("x.c.AUTH_a.example.com")[0] == 400


def test_location_into_the_remapped_path_is_rewritten_and_original_path_kept():
    _status, _path, seen = remap("c.AUTH_a.example.com", "/dir")
    assert seen["swiftlite.original_path"] == "/dir"
    assert seen["location"] == "http://c.AUTH_a.example.com/dirx/"


def test_several_storage_domains_and_path_root():
    options = {"storage_domain": ("a.test", "b.test"), "path_root": "v1.0"}
    assert remap("c.AUTH_x.b.test", "/o", **options)[1] == "/v1.0/AUTH_x/c/o"


def test_each_configured_reseller_prefix_is_recognised_and_others_are_not():
    options = {"reseller_prefixes": ("AUTH", "SERVICE")}
    assert remap("c.service-x.example.com", "/o", **options)[1] == "/v1/SERVICE_x/c/o"
    assert remap("c.AUTH_a.example.com", "/o", **options)[1] == "/v1/AUTH_a/c/o"
    assert remap("c.SERVICE_x.example.com", "/o")[1] == "/o"  # not a prefix by default
