"""account_quotas: an account's byte and object-count limits, set only by a reseller admin.

As Swift's account_quotas:

* **Setting.** On an account PUT or POST, ``X-Account-Quota-Bytes``, ``X-Account-Quota-Count``
  and the per-policy ``X-Account-Quota-Bytes-Policy-<name>`` / ``-Count-Policy-<name>`` (each
  with its ``X-Remove-`` form, which wins) are stored as sysmeta:
  ``X-Account-Sysmeta-Quota-Bytes`` and ``X-Account-Sysmeta-Quota-Bytes-Policy-<index>`` and so
  on. Only a reseller admin may send them (``swiftlite.reseller_request``, set by tempauth):
  from anyone else they are 403; from a reseller admin a value that is not ASCII digits (or is
  over 2**63-1) is 400. The older ``X-Account-Meta-Quota-Bytes`` (and its remove form) counts
  as ``X-Account-Quota-Bytes`` when that is not also sent, under the same rule, and is kept as
  the user metadata it always was.
* **Showing.** Account GET/HEAD answers carry the stored quotas under the client names
  (``X-Account-Quota-Bytes``, ``X-Account-Quota-Count-Policy-<name>``...), for any caller
  allowed to read the account.
* **Enforcing.** An object PUT by anyone but a reseller admin is 413 ``Upload exceeds quota.``
  when ``bytes used + Content-Length`` would pass the byte quota (the sysmeta one, else the
  legacy metadata one) or ``object count + 1`` the count quota, and ``Upload exceeds policy
  quota.`` for the container's policy's quotas, measured against the account's
  ``X-Account-Storage-Policy-<Name>-Bytes-Used`` / ``-Object-Count``. A total equal to a quota is
  allowed. The 413 comes after authorization (``quotas.refuse_after_auth``). COPY arrives here
  as a PUT subrequest with the source's size (the copy filter sits above this one).

Usage comes from the proxy's cached account info (``subrequest.get_account_info``), which the
container updater keeps current, so as in Swift a burst of uploads can pass a quota briefly.
Policies are (index, name) pairs from ``policies`` (one ``Policy-0`` until the cluster has more).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from webob import Request, Response

from swiftlite.common import config
from swiftlite.common import policies as policies_mod
from swiftlite.common.registry import register_info
from swiftlite.middleware import pathinfo, quotas, subrequest
from swiftlite.proxy import responses
from swiftlite.proxy.quorum import is_success

SOURCE = "AQ"
KINDS = ("Quota-Bytes", "Quota-Count")
LEGACY = (
    ("X-Account-Meta-Quota-Bytes", "X-Account-Quota-Bytes"),
    ("X-Remove-Account-Meta-Quota-Bytes", "X-Remove-Account-Quota-Bytes"),
)

Policies = Callable[[], Iterable[tuple[int, str]]]


def cluster_policies() -> list[tuple[int, str]]:
    """The cluster's policies as (index, name), from ``swiftlite.conf`` (``common/policies``)."""
    return [(policy.idx, policy.name) for policy in policies_mod.load()]


@dataclass(frozen=True)
class AccountQuotasOptions:
    pass


class QuotaHeaderError(Exception):
    """A quota header a caller may not send (403) or whose value is not a number (400)."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def requested_quotas(
    headers: Any, kind: str, policies: Iterable[tuple[int, str]]
) -> dict[int | None, str | None]:
    """What an account write asks for ``kind``: {None or policy index: value, "" to remove}.

    Per-policy client headers are taken out of ``headers`` (they are not metadata).
    """
    asked: dict[int | None, str | None] = {None: headers.get(f"X-Account-{kind}")}
    if headers.get(f"X-Remove-Account-{kind}"):
        asked[None] = ""
    for index, name in policies:
        tail = f"Account-{kind}-Policy-{name}"
        value = headers.pop(f"X-{tail}", None)
        asked[index] = "" if headers.get(f"X-Remove-{tail}") else value
    return asked


def sysmeta_name(kind: str, index: int | None) -> str:
    if index is None:
        return f"X-Account-Sysmeta-{kind}"
    return f"X-Account-Sysmeta-{kind}-Policy-{index}"


def translate(headers: Any, reseller: bool, policies: list[tuple[int, str]]) -> None:
    """Turn an account write's quota headers into sysmeta (see the module doc)."""
    for legacy, current in LEGACY:
        if legacy in headers and not headers.get(current):
            headers[current] = headers[legacy]
    for kind in KINDS:
        asked = requested_quotas(headers, kind, policies)
        given = {index: value for index, value in asked.items() if value is not None}
        if not given:
            continue
        if not reseller:
            raise QuotaHeaderError(403)
        for index, value in given.items():
            try:
                quotas.parse_quota(value)
            except ValueError:
                raise QuotaHeaderError(400) from None
            headers[sysmeta_name(kind, index)] = value


def shown_headers(
    headers: list[tuple[str, str]], policies: list[tuple[int, str]]
) -> list[tuple[str, str]]:
    """The account answer's headers plus the stored quotas under their client names."""
    stored = {k.lower(): v for k, v in headers}
    out = list(headers)
    for kind in KINDS:
        value = stored.get(sysmeta_name(kind, None).lower())
        if value:
            out.append((f"X-Account-{kind}", value))
        for index, name in policies:
            value = stored.get(sysmeta_name(kind, index).lower())
            if value:
                out.append((f"X-Account-{kind}-Policy-{name}", value))
    return out


class AccountQuotasMiddleware:
    def __init__(
        self,
        app: Callable[..., Any],
        options: AccountQuotasOptions,
        policies: Policies = cluster_policies,
    ) -> None:
        self.app = app
        self.options = options
        self.policies = policies

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = pathinfo.api_path(environ)
        if path is None:
            return self.app(environ, start_response)
        if path.container is None:
            return self.handle_account(environ, start_response)
        if path.obj is None or environ.get("REQUEST_METHOD") != "PUT":
            return self.app(environ, start_response)
        if environ.get(quotas.RESELLER) is True:
            return self.app(environ, start_response)  # resellers are not held to quotas
        refusal = self.check_upload(Request(environ), path.account, path.container)
        if refusal is not None:
            return refusal(environ, start_response)
        return self.app(environ, start_response)

    def handle_account(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        policies = list(self.policies())
        if environ.get("REQUEST_METHOD") in ("PUT", "POST"):
            req = Request(environ)
            try:
                translate(req.headers, environ.get(quotas.RESELLER) is True, policies)
            except QuotaHeaderError as exc:
                return responses.response(exc.status)(environ, start_response)

        def showing(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            return start_response(status, shown_headers(headers, policies), exc_info)

        return self.app(environ, showing)

    def check_upload(self, req: Request, account: str, container: str) -> Response | None:
        length = quotas.upload_length(req.environ)
        if length is None:
            return None  # the proxy answers a bad Content-Length
        info = subrequest.get_account_info(req.environ, self.app, account, SOURCE)
        if not is_success(info.get("status", 0)):
            return None
        message = self._account_excess(info, length)
        if message is None:
            message = self._policy_excess(req, info, account, container, length)
        if message is None:
            return None
        return quotas.refuse_after_auth(req, message)

    @staticmethod
    def _account_excess(info: dict[str, Any], length: int) -> str | None:
        sysmeta, meta = info.get("sysmeta", {}), info.get("meta", {})
        raw = quotas.lookup(sysmeta, "Quota-Bytes")
        if raw is None:
            raw = quotas.lookup(meta, "Quota-Bytes")
        byte_quota = quotas.stored_quota(raw)
        count_quota = quotas.stored_quota(quotas.lookup(sysmeta, "Quota-Count"))
        if quotas.over(
            info.get("bytes"), info.get("object_count"), length, byte_quota, count_quota
        ):
            return quotas.OVER_QUOTA
        return None

    def _policy_excess(
        self, req: Request, info: dict[str, Any], account: str, container: str, length: int
    ) -> str | None:
        sysmeta = info.get("sysmeta", {})
        if not any(
            str(k).lower().startswith("quota-") and "-policy-" in str(k).lower() for k in sysmeta
        ):
            return None  # no per-policy quota: skip the container lookup
        cinfo = subrequest.get_container_info(req.environ, self.app, account, container, SOURCE)
        if not is_success(cinfo.get("status", 0)):
            return None
        index = str(cinfo.get("storage_policy", "0"))
        name = next((n for i, n in self.policies() if str(i) == index), None)
        stats = info.get("storage_policies", {}).get((name or "").lower(), {})
        byte_quota = quotas.stored_quota(quotas.lookup(sysmeta, f"Quota-Bytes-Policy-{index}"))
        count_quota = quotas.stored_quota(quotas.lookup(sysmeta, f"Quota-Count-Policy-{index}"))
        if quotas.over(
            stats.get("bytes"), stats.get("object_count"), length, byte_quota, count_quota
        ):
            return quotas.OVER_POLICY_QUOTA
        return None


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#account_quotas``."""
    options = config.parse_options(
        AccountQuotasOptions, local_conf, global_conf, where="[filter:account_quotas]"
    )
    register_info("account_quotas")

    def make(app: Any) -> AccountQuotasMiddleware:
        return AccountQuotasMiddleware(app, options)

    return make
