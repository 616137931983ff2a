"""staticweb: serve a container as a web site (Swift's StaticWeb).

It owns the website behaviour of GET and HEAD on a container with ``Web-*`` metadata
(``X-Container-Meta-Web-Index``, ``-Web-Error``, ``-Web-Listings``, ``-Web-Listings-CSS``,
``-Web-Listings-Label``, ``-Web-Directory-Type``), for anonymous requests, or for an
authenticated one that sends ``X-Web-Mode: true``:

* ``/c`` and ``/c/dir`` redirect (301) to ``/c/`` and ``/c/dir/`` when there is something
  to show there; ``/c/`` and ``/c/dir/`` serve ``<dir>/<index>`` when it exists, else an
  HTML listing when listings are on, else 404;
* 401 and 404 answers become ``<status><error suffix>`` pages (``404error.html``) when the
  container names one and it exists, with the original status;
* an object whose type is the directory type (``application/directory``) and size is at most
  1 byte is a directory marker, shown as its directory.

Listings are HTML with every name escaped (``html.escape`` for text, percent-quoting for
links), so an object name cannot inject markup. Every subrequest (``source="SW"``) carries the
client's own identity: staticweb shows what the client may read and nothing more (a listing
needs the container's ``.rlistings``); only the container's ``Web-*`` metadata is read past
auth (``get_container_info``). Writes and other methods pass through untouched.
"""

from __future__ import annotations

import html
import json
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webob import Request, Response

from swiftlite.common import config
from swiftlite.common.names import ApiPath, wsgi_to_str
from swiftlite.common.registry import register_info
from swiftlite.middleware import pathinfo
from swiftlite.middleware.subrequest import (
    api_path,
    close,
    drain,
    get_container_info,
    make_subrequest,
    send,
)

REMOTE_USER = "swiftlite.remote_user"
ORIGINAL_PATH = "swiftlite.original_path"  # set by domain_remap: the path the client used
SOURCE = "SW"
DEFAULT_DIR_TYPE = "application/directory"
LISTING_LIMIT = 10000
ERROR_PAGES = (401, 404)

DEFAULT_STYLE = """  <style type="text/css">
   h1 {font-size: 1em; font-weight: bold;}
   th {text-align: left; padding: 0px 1em 0px 1em;}
   td {padding: 0px 1em 0px 1em;}
   a {text-decoration: none;}
  </style>
"""


@dataclass(frozen=True)
class StaticWebOptions:
    """``[filter:staticweb]`` (Swift's ``url_scheme`` and logging keys are not needed)."""


@dataclass(frozen=True)
class WebConfig:
    """A container's ``Web-*`` metadata."""

    index: str
    error: str
    listings: bool
    css: str
    label: str
    dir_type: str

    @classmethod
    def from_meta(cls, meta: dict[str, str]) -> WebConfig:
        low = {k.lower(): (v or "").strip() for k, v in meta.items()}
        return cls(
            index=low.get("web-index", ""),
            error=low.get("web-error", ""),
            listings=config.config_true(low.get("web-listings", "")),
            css=low.get("web-listings-css", ""),
            label=low.get("web-listings-label", ""),
            dir_type=low.get("web-directory-type", "") or DEFAULT_DIR_TYPE,
        )


def human_readable(size: int) -> str:
    """Swift's listing sizes: ``512``, ``2Ki``, ``3Mi`` ... (1024-based, rounded)."""
    value = float(size)
    suffix = ""
    for unit in "KMGTPEZY":
        if value < 1024:
            break
        value = round(value / 1024)
        suffix = unit + "i"
    return f"{round(value)}{suffix}"


def _html_response(req: Request, status: int, body: str) -> Response:
    data = body.encode("utf-8")
    resp = Response(status=status, content_type="text/html", charset="utf-8")
    if req.method == "HEAD":
        resp.app_iter = []
        resp.content_length = len(data)
    else:
        resp.body = data
    return resp


class Site:
    """One website request: the container's config and the steps of Swift's algorithm."""

    def __init__(
        self, mw: StaticWebMiddleware, req: Request, path: ApiPath, web: WebConfig
    ) -> None:
        self.app = mw.app
        self.req = req
        self.path = path
        self.web = web
        self.container = path.container or ""

    # -- subrequests --------------------------------------------------------------------------
    def sub(self, method: str, obj: str | None, query: str = "") -> Response:
        path = api_path(self.path.account, self.container, obj)
        req = make_subrequest(self.req.environ, method, path, source=SOURCE, query=query)
        return send(req, self.app)

    def redirect_with_slash(self) -> Response:
        original = self.req.environ.get(ORIGINAL_PATH) or self.req.environ.get("PATH_INFO", "")
        location = urllib.parse.quote(wsgi_to_str(original) + "/")
        return Response(status=301, headers={"Location": location}, content_type="text/plain")

    def error(self, resp: Response) -> Response:
        """The container's error page for ``resp``'s status, when it has one."""
        status = resp.status_int
        if not self.web.error or status not in ERROR_PAGES:
            return resp
        page = self.sub(self.req.method, f"{status}{self.web.error}")
        if page.status_int // 100 != 2:
            drain(page)
            return resp
        close(resp)
        page.status = resp.status
        return page

    def not_found(self) -> Response:
        return self.error(Response(status=404, body=b"Not Found", content_type="text/plain"))

    # -- containers and pseudo-directories ------------------------------------------------------
    def handle_container(self) -> Response:
        if not self.req.environ.get("PATH_INFO", "").endswith("/"):
            return self.redirect_with_slash()
        return self.directory("")

    def directory(self, prefix: str) -> Response:
        """``<prefix><index>`` if it exists, else the listing of ``prefix``, else 404."""
        if self.web.index:
            page = self.sub(self.req.method, prefix + self.web.index)
            if page.status_int // 100 in (2, 3):
                return page
            drain(page)  # a short error body; reading it keeps the access log honest
            if page.status_int != 404:
                return self.error(Response(status=page.status_int))
        if self.web.listings:
            return self.listing(prefix)
        return self.not_found()

    def handle_object(self) -> Response:
        obj = self.path.obj or ""
        resp = self.req.get_response(self.app)
        status = resp.status_int
        if status // 100 in (2, 3) and not self._is_dir_marker(resp):
            return resp
        if status // 100 not in (2, 3) and status != 404:
            return resp
        drain(resp)  # a 404 or a directory marker: a few bytes at most
        if not self.web.index and not self.web.listings:
            return self.not_found()
        if obj.endswith("/"):
            return self.directory(obj)
        # /c/dir without the slash: redirect when dir/ has an index or any object
        if self.web.index:
            page = self.sub("HEAD", f"{obj}/{self.web.index}")
            drain(page)
            if page.status_int // 100 in (2, 3):
                return self.redirect_with_slash()
        query = urllib.parse.urlencode({"limit": "1", "delimiter": "/", "prefix": obj + "/"})
        found = self.sub("GET", None, query + "&format=json")
        body = drain(found)
        if found.status_int // 100 == 2 and body and json.loads(body):
            return self.redirect_with_slash()
        return self.not_found()

    def _is_dir_marker(self, resp: Response) -> bool:
        ctype = (resp.headers.get("Content-Type") or "").split(";")[0].strip()
        return ctype == self.web.dir_type and (resp.content_length or 0) <= 1

    # -- listings -------------------------------------------------------------------------------
    def listing(self, prefix: str) -> Response:
        query = {"delimiter": "/", "format": "json", "limit": str(LISTING_LIMIT)}
        if prefix:
            query["prefix"] = prefix
        found = self.sub("GET", None, urllib.parse.urlencode(query))
        body = drain(found)
        if found.status_int // 100 != 2:
            return self.error(Response(status=found.status_int))
        try:
            items = json.loads(body or b"[]")
        except ValueError:
            items = []
        if not items and prefix:
            return self.not_found()
        return _html_response(self.req, 200, self.render(prefix, items))

    def render(self, prefix: str, items: list[dict[str, Any]]) -> str:
        esc = html.escape
        label = self.web.label or f"/v1/{self.path.account}"
        title = esc(f"{label}/{self.container}/{prefix}")
        out = [
            '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN" '
            '"http://www.w3.org/TR/html4/loose.dtd">',
            "<html>",
            " <head>",
            f"  <title>Listing of {title}</title>",
        ]
        if self.web.css:
            out.append(
                f'  <link rel="stylesheet" type="text/css" href="{esc(self.css_href(prefix))}" />'
            )
        else:
            out.append(DEFAULT_STYLE.rstrip("\n"))
        out += [
            " </head>",
            " <body>",
            f'  <h1 id="title">Listing of {title}</h1>',
            '  <table id="listing">',
            '   <tr id="heading">',
            '    <th class="colname">Name</th>',
            '    <th class="colsize">Size</th>',
            '    <th class="coldate">Date</th>',
            "   </tr>",
        ]
        if prefix:
            out.append(_row("parent", "../", "../", "&nbsp;", "&nbsp;", row_id="parent"))
        for item in items:
            if "subdir" in item:
                name = str(item["subdir"])[len(prefix) :]
                out.append(_row("item subdir", name, name, "&nbsp;", "&nbsp;"))
        for item in items:
            if "name" in item:
                name = str(item["name"])[len(prefix) :]
                types = " ".join(
                    "type-" + t.lower() for t in str(item.get("content_type", "")).split("/")
                )
                stamp = str(item.get("last_modified", "")).split(".")[0].replace("T", " ")
                size = human_readable(int(item.get("bytes", 0)))
                out.append(_row(f"item {types}", name, name, esc(size), esc(stamp)))
        out += ["  </table>", " </body>", "</html>", ""]
        return "\n".join(out)

    def css_href(self, prefix: str) -> str:
        css = self.web.css
        if css.startswith(("/", "http://", "https://")):
            return urllib.parse.quote(css, safe=":/")
        return "../" * prefix.count("/") + urllib.parse.quote(css)


def _row(
    classes: str, href: str, text: str, size: str, date: str, row_id: str | None = None
) -> str:
    """One listing row; ``href`` and ``text`` are escaped here, ``size``/``date`` already."""
    rid = f' id="{row_id}"' if row_id else ""
    link = html.escape(urllib.parse.quote(href) if href != "../" else href)
    return (
        f'   <tr{rid} class="{html.escape(classes)}">\n'
        f'    <td class="colname"><a href="{link}">{html.escape(text)}</a></td>\n'
        f'    <td class="colsize">{size}</td>\n'
        f'    <td class="coldate">{date}</td>\n'
        "   </tr>"
    )


class StaticWebMiddleware:
    """The staticweb filter (see the module docstring)."""

    def __init__(self, app: Callable[..., Any], options: StaticWebOptions) -> None:
        self.app = app
        self.options = options

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return self.app(environ, start_response)
        web_mode = config.config_true(environ.get("HTTP_X_WEB_MODE", "f"))
        if environ.get(REMOTE_USER) and not web_mode:
            return self.app(environ, start_response)
        path = pathinfo.api_path(environ)
        if path is None or path.container is None:
            return self.app(environ, start_response)
        info = get_container_info(environ, self.app, path.account, path.container, SOURCE)
        if info.get("status", 0) // 100 != 2:
            return self.app(environ, start_response)
        web = WebConfig.from_meta(info.get("meta") or {})
        site = Site(self, Request(environ), path, web)
        if path.obj is not None and (web.index or web.listings or web.error):
            return site.handle_object()(environ, start_response)
        if path.obj is None and (web.index or web.listings):
            return site.handle_container()(environ, start_response)
        if path.obj is None and web_mode:
            return site.not_found()(environ, start_response)
        return self.app(environ, start_response)


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#staticweb``."""
    options = config.parse_options(
        StaticWebOptions, local_conf, global_conf, where="[filter:staticweb]"
    )
    register_info("staticweb")

    def make(app: Any) -> StaticWebMiddleware:
        return StaticWebMiddleware(app, options)

    return make
