"""json_listing: ask below for JSON, render back in the client's format."""

from __future__ import annotations

from webob import Request, Response

from swiftlite.middleware import json_listing


def test_request_asks_for_json_whatever_the_client_asked() -> None:
    req = Request.blank("/v1/a/c?format=xml&prefix=p", headers={"Accept": "text/plain"})
    assert json_listing.wanted_type(req) == "application/xml"
    json_listing.as_json_request(req)
    assert req.GET["format"] == "json"
    assert req.GET["prefix"] == "p"
    assert req.headers["Accept"] == "application/json"


def test_respond_renders_rows_and_empty_plain_is_204() -> None:
    rows = [
        {
            "name": "o",
            "hash": "h",
            "bytes": 1,
            "content_type": "t",
            "last_modified": "x",
            "symlink_path": "/v1/a/c/t",
        }
    ]
    xml = json_listing.respond(Response(), "container", "c", rows, "application/xml")
    assert b"<symlink_path>/v1/a/c/t</symlink_path>" in xml.body
    plain = json_listing.respond(Response(), "container", "c", [], "text/plain")
    assert (plain.status_int, plain.body) == (204, b"")


def test_fetch_returns_no_rows_for_an_error() -> None:
    def app(environ, start_response):
        return Response(status=404, body=b"Not Found")(environ, start_response)

    resp, rows = json_listing.fetch(Request.blank("/v1/a/c"), app)
    assert (resp.status_int, rows) == (404, None)


def test_fetch_with_a_marker_leaves_a_page_without_it_unparsed() -> None:
    # symlink decoded and re-encoded every 10,000-row JSON page to find no link in it
    page = b'[{"name": "o", "hash": "h", "bytes": 1}]'
    linked = b'[{"name": "l", "hash": "d41d; symlink_target=c/o", "bytes": 0}]'

    def app_for(body: bytes):
        def app(environ, start_response):
            return Response(body=body, content_type="application/json")(environ, start_response)

        return app

    resp, rows = json_listing.fetch(Request.blank("/v1/a/c"), app_for(page), (b"symlink_target",))
    assert rows is None
    assert resp.body == page
    _, rows = json_listing.fetch(Request.blank("/v1/a/c"), app_for(linked), (b"symlink_target",))
    assert rows == [{"name": "l", "hash": "d41d; symlink_target=c/o", "bytes": 0}]
    _, rows = json_listing.fetch(Request.blank("/v1/a/c"), app_for(page))
    assert rows == [{"name": "o", "hash": "h", "bytes": 1}]
