"""The copy filter's own error answers, shaped as Swift's copy filter shapes them (swob)."""

from __future__ import annotations

from typing import Any

from webob import Request

from swiftlite.middleware import copy

HTML = "text/html; charset=UTF-8"


def _chunked_source(environ: dict[str, Any], start_response: Any) -> Any:
    """A GET answers 200 with no Content-Length (a large object's chunked body)."""
    start_response("200 OK", [("Content-Type", "text/plain")])
    return iter([b"abc"])


def test_source_without_a_length_is_413_swob_page_not_text_plain() -> None:
    app = copy.filter_factory({})(_chunked_source)
    req = Request.blank("/v1/a/c/dst", method="PUT", headers={"X-Copy-From": "c/src"})
    resp = req.get_response(app)
    assert resp.status_int == 413
    assert resp.headers["Content-Type"] == HTML
    assert resp.body.startswith(b"<html><h1>Request Entity Too Large</h1>")
