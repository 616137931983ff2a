"""Controller.authorize: the hook is asked under the override; non-owners lose owner headers."""

from __future__ import annotations

from webob import Request, Response

from swiftlite.proxy.controllers.base import AUTHORIZE, OVERRIDE, OWNER, Controller


def test_override_alone_allows_and_counts_as_owner():
    req = Request.blank("/v1/a/c", environ={OVERRIDE: True})
    assert Controller.authorize(req, None) is None
    assert Controller.is_owner(req)


def test_hook_is_asked_even_with_the_override_and_its_denial_stands():
    denial = Response(status=401)
    req = Request.blank("/v1/a/c/o", environ={OVERRIDE: True, AUTHORIZE: lambda r: denial})
    assert Controller.authorize(req, None) is denial
    assert not Controller.is_owner(req)


def test_allowed_non_owner_loses_owner_only_headers():
    headers = {"X-Container-Meta-Temp-Url-Key": "k", "X-Container-Meta-Other": "1"}
    req = Request.blank(
        "/v1/a/c", method="POST", headers=headers, environ={AUTHORIZE: lambda r: None}
    )
    assert Controller.authorize(req, None) is None
    assert "X-Container-Meta-Temp-Url-Key" not in req.headers
    assert req.headers["X-Container-Meta-Other"] == "1"


def test_owner_keeps_owner_only_headers():
    def hook(r: Request) -> None:
        r.environ[OWNER] = True

    req = Request.blank(
        "/v1/a/c", method="POST", headers={"X-Container-Read": ".r:*"}, environ={AUTHORIZE: hook}
    )
    assert Controller.authorize(req, None) is None
    assert req.headers["X-Container-Read"] == ".r:*"


def test_a_temp_url_grant_carries_into_subrequests_but_bypass_ones_are_the_filters_own():
    from swiftlite.middleware.subrequest import BYPASS, CARRY, make_subrequest

    grant_denies = Response(status=401)
    parent = {OVERRIDE: True, AUTHORIZE: lambda r: grant_denies}
    carried = make_subrequest(parent, "GET", "/v1/a/c/seg", source="SLO", auth=CARRY)
    assert Controller.authorize(carried, None) is grant_denies  # the grant still decides
    assert not Controller.is_owner(carried)
    bypassed = make_subrequest(parent, "HEAD", "/v1/a/c", source="TU", auth=BYPASS)
    assert AUTHORIZE not in bypassed.environ
    assert Controller.authorize(bypassed, None) is None
    assert Controller.is_owner(bypassed)  # a filter's bookkeeping sees what the proxy stores
