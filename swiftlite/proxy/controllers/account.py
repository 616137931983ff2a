"""AccountController: ``/v1/<account>``: HEAD, GET (container listing), POST, PUT, DELETE.

GET and HEAD read from one replica at a time. An account that does not exist answers 404,
but with ``account_autocreate`` on it answers an empty listing (204 plain, 200 ``[]`` json),
as Swift does, because the first container PUT will create it. A deleted account answers 410.
POST sets metadata on every replica (creating the account first when autocreate is on); PUT
and DELETE exist only with ``allow_account_management`` (405 otherwise). Account sysmeta is
returned as the backend gives it: tempauth reads ``X-Account-Sysmeta-Core-Access-Control``
from it and the gatekeeper removes sysmeta before a client sees it.
"""

from __future__ import annotations

from typing import Any

from webob import Request, Response

from swiftlite.common import constraints
from swiftlite.common.http import listing
from swiftlite.common.timestamp import Timestamp
from swiftlite.proxy import info, responses
from swiftlite.proxy.controllers.base import Controller
from swiftlite.proxy.putter import fan_out
from swiftlite.proxy.quorum import best_reply


class AccountController(Controller):
    server_type = "Account"

    def __init__(self, app: Any, account: str) -> None:
        super().__init__(app)
        self.account = account
        methods = {"GET", "HEAD", "POST", "OPTIONS"}
        if app.options.allow_account_management:
            methods |= {"PUT", "DELETE"}
        self.allowed_methods = frozenset(methods)

    @property
    def path(self) -> str:
        return f"/{self.account}"

    def _check_name(self) -> None:
        """BadInput (400) for an over-long account name."""
        constraints.check_account_name(self.account, self.app.limits)

    # -- reads -------------------------------------------------------------------------------
    def GETorHEAD(self, req: Request) -> Response:
        return self.db_read_headers(req, self._read(req))

    def _read(self, req: Request) -> Response:
        self._check_name()
        denied = self.authorize(req, None)
        if denied is not None:
            return denied
        params = self.listing_query(req, self.app.limits.account_listing_limit)
        ring = self.app.account_ring
        fetched = self.fetch_db(req, ring, ring.get_part(self.account), self.path, "Account")
        source = fetched.source
        if source is not None:
            found = info.account_info_from(source.status, source.header_items)
            info.remember(
                self.app,
                req.environ,
                info.account_key(self.account),
                found,
                self.app.options.recheck_account_existence,
            )
            body_iter = source.iter_body() if req.method == "GET" else None
            if body_iter is None:
                source.close()
            return self.client_response(
                req, source.status, source.reason, source.header_items, app_iter=body_iter
            )
        best = best_reply(fetched.replies)
        if best is None:
            return self.best_response(req, fetched.replies)
        if best.status == 404:
            if (best.header("X-Account-Status") or "").lower() == "deleted":
                return responses.error(410)
            if self.app.options.account_autocreate:
                return self._fake_listing(req, params)
        return self.client_response(req, best.status, best.reason, best.headers, best.body)

    def _fake_listing(self, req: Request, params: dict[str, str]) -> Response:
        """Swift's answer for an account that does not exist yet but will on first write."""
        content_type = listing.negotiate(params.get("format"), req.headers.get("Accept"))
        if content_type is None:
            return responses.error(406)
        now = Timestamp.now().normal
        headers = {
            "X-Account-Container-Count": "0",
            "X-Account-Object-Count": "0",
            "X-Account-Bytes-Used": "0",
            "X-Timestamp": now,
            "X-Put-Timestamp": now,
        }
        resp = listing.listing_response("account", self.account, [], content_type, headers)
        if req.method == "HEAD":
            resp.status = 204
            resp.body = b""
        return resp

    def OPTIONS(self, req: Request) -> Response:
        return Response(status=200, headers={"Allow": ", ".join(sorted(self.allowed_methods))})

    # -- writes ------------------------------------------------------------------------------
    def _write(self, req: Request, method: str) -> Response:
        ring = self.app.account_ring
        part, nodes = ring.get_nodes(self.account)
        headers = self.base_headers(req, Timestamp.now())
        if method != "DELETE":
            self.transfer_headers(req, "account", headers)
        info.clear_info(self.app, req.environ, self.account)
        replies = fan_out(
            self.app.backend,
            ring,
            part,
            method,
            self.path,
            [headers] * len(nodes),
            server_type="Account",
        )
        return self.best_response(req, replies)

    def _precheck_write(self, req: Request) -> Response | None:
        self._check_name()
        denied = self.authorize(req, None)
        if denied is not None:
            return denied
        constraints.check_metadata(req.headers, "account", self.app.limits)
        return None

    def POST(self, req: Request) -> Response:
        refused = self._precheck_write(req)
        if refused is not None:
            return refused
        resp = self._write(req, "POST")
        if resp.status_int == 404 and self.app.options.account_autocreate:
            info.autocreate_account(self.app, req.environ, self.account)
            resp = self._write(req, "POST")
        return resp

    def PUT(self, req: Request) -> Response:
        refused = self._precheck_write(req)
        if refused is not None:
            return refused
        return self._write(req, "PUT")

    def DELETE(self, req: Request) -> Response:
        if req.query_string:
            # an account DELETE with a query string was most likely meant for a middleware
            return responses.error(400)
        denied = self.authorize(req, None)
        if denied is not None:
            return denied
        return self._write(req, "DELETE")
