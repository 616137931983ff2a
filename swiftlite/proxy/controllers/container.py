"""ContainerController: ``/v1/<a>/<c>``: HEAD, GET (object listing), PUT, POST, DELETE.

Listings pass ``format``, ``limit``, ``marker``, ``end_marker``, ``prefix``, ``delimiter``,
``path``, ``reverse`` and the Accept header straight to a container server, which renders
them; the proxy only refuses ``limit`` above ``container_listing_limit`` (412). Reads are
authorized after the backend answered, with the ``X-Container-Read`` it returned (as Swift:
no extra lookup). PUT first makes sure the account exists (creating it when
``account_autocreate`` is on) and tells each container replica which account replica to
update. Every write clears this proxy's cached info for the container and its account.
"""

from __future__ import annotations

from typing import Any

from webob import Request, Response

from swiftlite.common import constraints, policies, update_targets
from swiftlite.common.names import quote_text
from swiftlite.common.timestamp import Timestamp
from swiftlite.proxy import info, responses
from swiftlite.proxy.controllers.base import Controller
from swiftlite.proxy.putter import fan_out
from swiftlite.proxy.quorum import best_reply, is_success


def _text(status: int, text: str | None = None) -> Response:
    return responses.error(status, text)


class ContainerController(Controller):
    server_type = "Container"
    allowed_methods = frozenset({"GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS"})

    def __init__(self, app: Any, account: str, container: str) -> None:
        super().__init__(app)
        self.account = account
        self.container = container

    @property
    def path(self) -> str:
        return f"/{self.account}/{self.container}"

    # -- reads -------------------------------------------------------------------------------
    def _remember(self, req: Request, found: dict[str, Any]) -> None:
        """Cache what this read learnt of the container, as the info lookups would."""
        key = info.container_key(self.account, self.container)
        info.remember(
            self.app, req.environ, key, found, self.app.options.recheck_container_existence
        )

    def GETorHEAD(self, req: Request) -> Response:
        return self.db_read_headers(req, self._read(req))

    def _read(self, req: Request) -> Response:
        self.listing_query(req, self.app.limits.container_listing_limit)
        ring = self.app.container_ring
        part = ring.get_part(self.account, self.container)
        fetched = self.fetch_db(req, ring, part, self.path, "Container")
        source = fetched.source
        if source is None:
            best = best_reply(fetched.replies)
            status = best.status if best is not None else 503
            if status in (404, 410):
                self._remember(req, info.container_info_from(404, []))
            denied = self.authorize(req, None)
            if denied is not None:
                return denied
            if best is None:
                return self.best_response(req, fetched.replies)
            return self.client_response(req, best.status, best.reason, best.headers, best.body)
        found = info.container_info_from(source.status, source.header_items)
        self._remember(req, found)
        denied = self.authorize(req, found["read_acl"])
        if denied is not None:
            source.close()
            return denied
        body_iter = source.iter_body() if req.method == "GET" else None
        if body_iter is None:
            source.close()
        resp = self.client_response(
            req, source.status, source.reason, source.header_items, app_iter=body_iter
        )
        index = found["storage_policy"]
        policy = self.app.policies.get_by_index(index)
        # a container of a policy since removed from the config still shows its index
        resp.headers["X-Storage-Policy"] = policy.name if policy is not None else str(index)
        return resp

    # -- writes ------------------------------------------------------------------------------
    def _backend_requests(
        self, req: Request, method: str, policy: policies.StoragePolicy | None = None
    ) -> list[dict[str, str]]:
        """One header dict per container replica, each naming its account replica.

        A PUT names the policy the client chose, or else the default one the servers give a
        new container (an existing container keeps its own).
        """
        ring = self.app.container_ring
        nodes = ring.get_part_nodes(ring.get_part(self.account, self.container))
        apart, accounts = self.app.account_ring.get_nodes(self.account)
        base = self.base_headers(req, Timestamp.now())
        if method != "DELETE":
            self.transfer_headers(req, "container", base)
        if method == "PUT" and policy is not None:
            base[policies.INDEX_HEADER] = str(policy.idx)
        elif method == "PUT":
            base[policies.DEFAULT_HEADER] = str(self.app.policies.default.idx)
        out = []
        for extra in update_targets.spread(len(nodes), accounts, apart, "Account"):
            out.append({**base, **extra})
        return out

    def _send(
        self, req: Request, method: str, policy: policies.StoragePolicy | None = None
    ) -> Response:
        ring = self.app.container_ring
        part = ring.get_part(self.account, self.container)
        headers_list = self._backend_requests(req, method, policy)
        info.clear_info(self.app, req.environ, self.account, self.container)
        replies = fan_out(
            self.app.backend, ring, part, method, self.path, headers_list, server_type="Container"
        )
        return self.best_response(req, replies)

    def _check_write(self, req: Request) -> Response | None:
        constraints.check_container_name(self.container, self.app.limits)
        constraints.check_metadata(req.headers, "container", self.app.limits)
        return self.authorize(req, None)

    def PUT(self, req: Request) -> Response:
        refused = self._check_write(req)
        if refused is not None:
            return refused
        policy = self._chosen_policy(req)
        if isinstance(policy, Response):
            return policy
        account = info.account_info(self.app, req.environ, self.account)
        if not is_success(account["status"]) and self.app.options.account_autocreate:
            if not info.autocreate_account(self.app, req.environ, self.account):
                return _text(503, "Could not create the account")
            account = info.account_info(self.app, req.environ, self.account)
        if not is_success(account["status"]):
            return _text(404)
        limit = self.app.options.max_containers_per_account
        if (
            limit > 0
            and account["container_count"] >= limit
            and self.account not in self.app.options.max_containers_whitelist
        ):
            existing = info.container_info(self.app, req.environ, self.account, self.container)
            if not is_success(existing["status"]):
                return _text(403, f"Reached container limit of {limit}")
        return self._send(req, "PUT", policy)

    def _chosen_policy(self, req: Request) -> policies.StoragePolicy | Response | None:
        """The policy ``X-Storage-Policy`` names (None without one or with an empty value: the
        default); 400 if unknown or deprecated, as Swift answers."""
        name = req.headers.get("X-Storage-Policy")
        if not name:
            return None
        policy = self.app.policies.get_by_name(name)
        if policy is None:
            return _text(400, f"Invalid X-Storage-Policy {quote_text(name)}")
        if policy.is_deprecated:
            return _text(400, f"Storage Policy {policy.name} is deprecated")
        return policy

    def POST(self, req: Request) -> Response:
        refused = self._check_write(req)
        if refused is not None:
            return refused
        return self._send(req, "POST")

    def DELETE(self, req: Request) -> Response:
        denied = self.authorize(req, None)
        if denied is not None:
            return denied
        resp = self._send(req, "DELETE")
        if resp.status_int == 202:
            # the container was already gone on a quorum of replicas (Swift's mapping)
            return _text(404)
        return resp
