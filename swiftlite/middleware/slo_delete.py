"""slo_delete: ``DELETE ?multipart-manifest=delete``, an SLO and every segment it lists.

Owned here for ``slo.py``: the segments of the manifest (and of nested manifests, each deleted
after its own segments, the top manifest last) are deleted one by one through DELETE
subrequests with the caller's auth, and the answer is the one Swift's bulk delete gives: 200
whose body (text/plain, JSON or XML by ``Accept``) says ``Number Deleted``, ``Number Not
Found``, ``Response Status`` (400, or 401, when anything failed) and the ``Errors`` list.

With ``&async=yes`` (and ``allow_async_delete``) the manifest is deleted at once and its
segments afterwards in the background, as Swift's expirer-queued delete ends up; Swift's
preconditions hold (one segment container, no nested SLOs). Failures of that background work
are logged, not answered: the client has its 204 already.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from webob import Request, Response

from swiftlite.common import config, green
from swiftlite.middleware import slo_manifest as manifest
from swiftlite.middleware import subrequest
from swiftlite.middleware.bulk_response import response_body, response_format
from swiftlite.middleware.subrequest import CARRY, api_path

if TYPE_CHECKING:
    from swiftlite.middleware.slo import SloMiddleware

SOURCE = "SLO"


class ManifestUnavailable(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Deleter:
    def __init__(self, slo: SloMiddleware, req: Request, account: str) -> None:
        self.slo = slo
        self.req = req
        self.account = account
        path = req.path_info.split("/", 3)[3]  # "<container>/<object>" as a WSGI string
        self.top = "/" + path.encode("latin-1").decode("utf-8")

    def respond(self) -> Any:
        opts = self.slo.options
        if opts.allow_async_delete and config.config_true(self.req.GET.get("async", "false")):
            return self.async_delete()
        fmt = response_format(self.req) or "text/plain"
        resp = Response(status=200, content_type=fmt, charset=None, app_iter=self.body(fmt))
        return resp

    # -- the work ----------------------------------------------------------------------------
    def _path(self, name: str) -> str:
        container, _, obj = name.lstrip("/").partition("/")
        return api_path(self.account, container, obj)

    def segments_of(self, name: str) -> list[dict[str, Any]]:
        sub = subrequest.make_subrequest(
            self.req.environ,
            "GET",
            self._path(name),
            source=SOURCE,
            auth=CARRY,
            query="multipart-manifest=get",
        )
        resp = subrequest.send(sub, self.slo.app)
        status = resp.status_int
        if 200 <= status < 300:
            body = subrequest.drain(resp)
            if not config.config_true(resp.headers.get("X-Static-Large-Object", "false")):
                raise ManifestUnavailable(400, "Not an SLO manifest")
            try:
                return manifest.load_stored(body)
            except ValueError:
                raise ManifestUnavailable(500, "Unable to load SLO manifest") from None
        subrequest.close(resp)
        if status == 404:
            raise ManifestUnavailable(404, "SLO manifest not found")
        if status == 401:
            raise ManifestUnavailable(401, "401 Unauthorized")
        if status == 403:
            raise ManifestUnavailable(403, "403 Forbidden")
        raise ManifestUnavailable(500, "Unable to load SLO manifest or segment.")

    def targets(self) -> Iterator[dict[str, Any]]:
        """Every object to delete, segments before the manifest that lists them."""
        queue: list[dict[str, Any]] = [{"name": self.top, "sub_slo": True}]
        limit = self.slo.options.max_manifest_segments * 10
        while queue:
            if len(queue) > limit:
                yield {"name": self.top, "error": "Too many buffered slo segments to delete."}
                return
            item = queue.pop(0)
            if "data" in item:
                continue
            if item.get("sub_slo"):
                try:
                    queue.extend(self.segments_of(item["name"]))
                except ManifestUnavailable as exc:
                    item["error"] = exc.message
                    item["code"] = exc.status
                queue.append({**item, "sub_slo": False})
                continue
            yield item

    def delete_one(self, name: str) -> Response:
        sub = subrequest.make_subrequest(
            self.req.environ, "DELETE", self._path(name), source=SOURCE, auth=CARRY
        )
        resp = subrequest.send(sub, self.slo.app)
        subrequest.drain(resp)
        return resp

    def body(self, fmt: str) -> Iterator[bytes]:
        deleted = not_found = 0
        failed: list[list[str]] = []
        status = "400 Bad Request"
        for item in self.targets():
            name = urllib.parse.quote(item["name"])
            if "error" in item:
                failed.append([name, item["error"]])
                continue
            resp = self.delete_one(item["name"])
            if 200 <= resp.status_int < 300:
                deleted += 1
            elif resp.status_int == 404:
                not_found += 1
            else:
                if resp.status_int == 401:
                    status = "401 Unauthorized"
                failed.append([name, resp.status])
        data = {
            "Number Deleted": deleted,
            "Number Not Found": not_found,
            "Response Body": "",
            "Response Status": status if failed else "200 OK",
        }
        yield response_body(fmt, data, failed, "delete")

    # -- async -------------------------------------------------------------------------------
    def async_delete(self) -> Any:
        try:
            records = [r for r in self.segments_of(self.top) if "data" not in r]
        except ManifestUnavailable as exc:
            return Response(status=exc.status, body=exc.message.encode(), content_type="text/plain")
        containers = {str(r["name"]).lstrip("/").partition("/")[0] for r in records}
        if len(containers) > 1:
            found = ", ".join(f'"{urllib.parse.quote(c)}"' for c in sorted(containers))
            return _text(400, f"All segments must be in one container. Found segments in {found}")
        if any(r.get("sub_slo") for r in records):
            return _text(400, "No segments may be large objects.")
        env = dict(self.req.environ)
        env["QUERY_STRING"] = ""
        resp = subrequest.send(Request(env), self.slo.app)
        if 200 <= resp.status_int < 300 and records:
            names = [str(r["name"]) for r in records]
            green.spawn_n(self._delete_later, names)
        return resp

    def _delete_later(self, names: list[str]) -> None:
        for name in names:
            resp = self.delete_one(name)
            if resp.status_int >= 300 and resp.status_int != 404:
                self.slo.logger.error(
                    "async SLO delete of %s: segment %s answered %d",
                    urllib.parse.quote(self.top),
                    urllib.parse.quote(name),
                    resp.status_int,
                )


def _text(status: int, body: str) -> Response:
    return Response(status=status, body=body.encode("utf-8"), content_type="text/plain")
