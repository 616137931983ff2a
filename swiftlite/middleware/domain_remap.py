"""domain_remap: host names that name an account or a container (Swift's domain_remap).

With ``storage_domain = example.com``, a request whose Host is
``<container>.<account>.example.com`` is served as ``/v1/<account>/<container><path>``, and
``<account>.example.com`` as ``/v1/<account><path>``. The account part must start with one
of ``reseller_prefixes`` (``AUTH``; any case, and ``auth-x`` reads as ``AUTH_x``, since DNS
names hold no ``_``); with ``default_reseller_prefix`` set, an account without a known
prefix gets that one, otherwise the request is left alone. ``path_root`` is the API version
put in front (``v1``); with ``mangle_client_paths`` a client path that already starts with it
is not doubled. More than two labels before the domain is a 400 (``Bad domain in host
header``).

The client's own path is kept in ``swiftlite.original_path`` (staticweb redirects to it),
and a ``Location`` that points into the remapped path is rewritten back to the client's
form, so a site served on its own host name redirects within that host. This filter sits
before the auth and staticweb filters; it is off in the default pipeline, as in Swift.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webob import Response

from swiftlite.common import config
from swiftlite.common.registry import register_info

ORIGINAL_PATH = "swiftlite.original_path"


@dataclass(frozen=True)
class DomainRemapOptions:
    """``[filter:domain_remap]``; lists are comma-separated, names and defaults are Swift's."""

    storage_domain: tuple[str, ...] = ("example.com",)
    path_root: str = "v1"
    reseller_prefixes: tuple[str, ...] = ("AUTH",)
    default_reseller_prefix: str | None = None
    mangle_client_paths: bool = False

    @property
    def domains(self) -> tuple[str, ...]:
        """Each domain with its leading dot, lower-cased, longest first."""
        found = {"." + d.strip().strip(".").lower() for d in self.storage_domain if d.strip()}
        return tuple(sorted(found, key=len, reverse=True))

    @property
    def root(self) -> str:
        return self.path_root.strip("/")


def split_host(host: str, domains: tuple[str, ...]) -> list[str] | None:
    """The labels before a storage domain (``["c", "AUTH_a"]``), or None for other hosts."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    low = name.lower().rstrip(".")
    for domain in domains:
        if low.endswith(domain) and len(low) > len(domain):
            return name.rstrip(".")[: -len(domain)].strip(".").split(".")
    return None


class DomainRemapMiddleware:
    """The domain_remap filter (see the module docstring)."""

    def __init__(self, app: Callable[..., Any], options: DomainRemapOptions) -> None:
        self.app = app
        self.options = options
        self.domains = options.domains
        self.prefixes = tuple(p.strip() for p in options.reseller_prefixes if p.strip())

    def account_name(self, label: str) -> str | None:
        """The account a host label names, with its reseller prefix; None to leave alone."""
        if not self.prefixes:
            return label
        if "_" not in label and "-" in label:
            label = label.replace("-", "_", 1)
        head = label.split("_", 1)[0].lower()
        for prefix in self.prefixes:
            real = prefix.rstrip("_")
            if head == real.lower():
                return real + label[len(real) :]
        if self.options.default_reseller_prefix:
            return f"{self.options.default_reseller_prefix.rstrip('_')}_{label}"
        return None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or ""
        labels = split_host(host, self.domains)
        if labels is None:
            return self.app(environ, start_response)
        if len(labels) == 2:
            container, account_label = labels
        elif len(labels) == 1 and labels[0]:
            container, account_label = None, labels[0]
        else:
            resp = Response(
                status=400, body=b"Bad domain in host header", content_type="text/plain"
            )
            return resp(environ, start_response)
        account = self.account_name(account_label)
        if account is None:
            return self.app(environ, start_response)
        requested = environ.get("PATH_INFO", "") or "/"
        rest = requested[1:]
        root = self.options.root
        if self.options.mangle_client_paths and (rest + "/").startswith(root + "/"):
            rest = rest[len(root) + 1 :]
        base = "/".join(["", root, account, *([container] if container else [])])
        environ[ORIGINAL_PATH] = requested
        environ["PATH_INFO"] = base + "/" + rest if rest or requested.endswith("/") else base
        return self.app(environ, _location_fixer(start_response, base))


def _location_fixer(start_response: Callable[..., Any], base: str) -> Callable[..., Any]:
    """Rewrite a ``Location`` into the remapped path back to the client's path."""

    def fixed(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        out = []
        for key, value in headers:
            if key.lower() == "location":
                parts = urllib.parse.urlsplit(value)
                if parts.path.startswith(base + "/"):
                    value = urllib.parse.urlunsplit(parts._replace(path=parts.path[len(base) :]))
            out.append((key, value))
        return start_response(status, out, exc_info)

    return fixed


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#domain_remap``."""
    options = config.parse_options(
        DomainRemapOptions, local_conf, global_conf, where="[filter:domain_remap]"
    )
    register_info("domain_remap", default_reseller_prefix=options.default_reseller_prefix)

    def make(app: Any) -> DomainRemapMiddleware:
        return DomainRemapMiddleware(app, options)

    return make
