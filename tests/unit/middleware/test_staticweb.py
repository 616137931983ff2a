"""staticweb: listing HTML (escaped), sizes, CSS links, and the anonymous/web-mode switch."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from webob import Request, Response

from swiftlite.common.names import split_api_path
from swiftlite.middleware import staticweb
from swiftlite.proxy.info import INFOCACHE, container_key


def site(css: str = "", label: str = "") -> staticweb.Site:
    web = staticweb.WebConfig("", "", True, css, label, staticweb.DEFAULT_DIR_TYPE)
    mw = staticweb.StaticWebMiddleware(lambda e, s: [], staticweb.StaticWebOptions())
    path = split_api_path("/v1/AUTH_t/c/")
    return staticweb.Site(mw, Request.blank("/v1/AUTH_t/c/"), path, web)


def test_sizes_are_swifts_human_readable():
    assert [staticweb.human_readable(n) for n in (0, 1023, 1024, 1536, 5 * 2**20)] == [
        "0",
        "1023",
        "1Ki",
        "2Ki",
        "5Mi",
    ]


@given(st.text(min_size=1, max_size=40))
def test_no_object_name_can_open_a_tag_in_a_listing(name):
    html = site().render("", [{"name": name, "bytes": 1, "content_type": "a/b<i>"}])
    body = html.split("<body>")[1]
    # every tag in the body is one the renderer writes itself
    tags = {t.split(">")[0].split()[0] for t in body.split("<")[1:]}
    assert tags <= {
        "h1",
        "/h1",
        "table",
        "/table",
        "tr",
        "/tr",
        "th",
        "/th",
        "td",
        "/td",
        "a",
        "/a",
        "/body",
        "/html",
    }


def test_css_link_climbs_out_of_the_prefix_and_absolute_css_is_kept():
    assert site(css="s.css").css_href("a/b/") == "../../s.css"
    assert site(css="/other/s.css").css_href("a/") == "/other/s.css"
    assert site(css="https://cdn.example/s.css").css_href("") == "https://cdn.example/s.css"


def test_label_replaces_the_account_in_the_title():
    assert "<title>Listing of Shop/c/</title>" in site(label="Shop").render("", [])


def _app(meta: dict[str, str], calls: list[str]):
    def downstream(environ: dict[str, Any], start_response: Any) -> Any:
        calls.append(environ["PATH_INFO"])
        if environ["PATH_INFO"].endswith("/index.html"):
            return Response(body=b"index")(environ, start_response)
        return Response(status=404)(environ, start_response)

    mw = staticweb.StaticWebMiddleware(downstream, staticweb.StaticWebOptions())
    infocache = {container_key("AUTH_t", "c"): {"status": 204, "meta": meta, "sysmeta": {}}}
    return mw, infocache


def test_authenticated_requests_pass_through_unless_web_mode():
    calls: list[str] = []
    mw, infocache = _app({"Web-Index": "index.html"}, calls)
    env = {INFOCACHE: infocache, "swiftlite.remote_user": "test:tester"}
    assert Request.blank("/v1/AUTH_t/c/", environ=dict(env)).get_response(mw).status_int == 404
    assert calls == ["/v1/AUTH_t/c/"]
    web = Request.blank("/v1/AUTH_t/c/", environ=dict(env), headers={"X-Web-Mode": "true"})
    assert web.get_response(mw).body == b"index"


def test_directory_marker_object_is_shown_as_its_directory_index():
    def downstream(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] == "/v1/AUTH_t/c/dir/":
            resp = Response(body=b"", content_type="application/directory")
        elif environ["PATH_INFO"] == "/v1/AUTH_t/c/dir/index.html":
            resp = Response(body=b"dir index")
        else:
            resp = Response(status=404)
        return resp(environ, start_response)

    mw = staticweb.StaticWebMiddleware(downstream, staticweb.StaticWebOptions())
    meta = {"Web-Index": "index.html"}
    infocache = {container_key("AUTH_t", "c"): {"status": 204, "meta": meta, "sysmeta": {}}}
    req = Request.blank("/v1/AUTH_t/c/dir/", environ={INFOCACHE: infocache})
    assert req.get_response(mw).body == b"dir index"


def test_web_directory_type_names_the_marker_content_type():
    def downstream(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"] in ("/v1/AUTH_t/c/dir/", "/v1/AUTH_t/c/plain/"):
            ctype = "text/directory" if "dir" in environ["PATH_INFO"] else "application/directory"
            resp = Response(body=b"", content_type=ctype)
        elif environ["PATH_INFO"].endswith("/index.html"):
            resp = Response(body=b"index of " + environ["PATH_INFO"].encode())
        else:
            resp = Response(status=404)
        return resp(environ, start_response)

    mw = staticweb.StaticWebMiddleware(downstream, staticweb.StaticWebOptions())
    meta = {"Web-Index": "index.html", "Web-Directory-Type": "text/directory"}
    infocache = {container_key("AUTH_t", "c"): {"status": 204, "meta": meta, "sysmeta": {}}}
    marker = Request.blank("/v1/AUTH_t/c/dir/", environ={INFOCACHE: dict(infocache)})
    assert marker.get_response(mw).body == b"index of /v1/AUTH_t/c/dir/index.html"
    # with a directory type set, application/directory is an ordinary (empty) object
    other = Request.blank("/v1/AUTH_t/c/plain/", environ={INFOCACHE: dict(infocache)})
    resp = other.get_response(mw)
    assert (resp.status_int, resp.body) == (200, b"")
