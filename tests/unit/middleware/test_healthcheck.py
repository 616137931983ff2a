"""healthcheck: /healthcheck answers by itself, and a disable file turns it to 503."""

from __future__ import annotations

import pathlib
from typing import Any

from webob import Request, Response

from swiftlite.middleware.healthcheck import filter_factory


def app(environ: dict[str, Any], start_response: Any) -> Any:
    return Response(status=418, body=b"below")(environ, start_response)


def test_healthcheck_get_is_200_ok_without_calling_app() -> None:
    resp = Request.blank("/healthcheck").get_response(filter_factory({})(app))
    assert resp.status_int == 200
    assert resp.body == b"OK"


def test_healthcheck_with_disable_file_present_is_503(tmp_path: pathlib.Path) -> None:
    flag = tmp_path / "disabled"
    mw = filter_factory({}, disable_path=str(flag))(app)
    assert Request.blank("/healthcheck").get_response(mw).status_int == 200
    flag.touch()
    resp = Request.blank("/healthcheck").get_response(mw)
    assert resp.status_int == 503
    assert resp.body == b"DISABLED BY FILE"


def test_other_paths_pass_through() -> None:
    mw = filter_factory({})(app)
    assert Request.blank("/healthcheck/x").get_response(mw).status_int == 418
    assert Request.blank("/v1/a").get_response(mw).body == b"below"
