"""cname_lookup: serve a customer's own host name through its CNAME (Swift's cname_lookup).

A request whose Host is neither an IP address nor under ``storage_domain`` has its CNAME
looked up (with dnspython, which eventlet already depends on), following the chain up to
``lookup_depth`` names. When a name under ``storage_domain`` is reached, the Host header is
rewritten to it (port kept), and ``domain_remap`` below turns it into a path, so
``www.example.org CNAME site.AUTH_a.storage.example.com`` serves that container as a site.
When the chain ends elsewhere the answer is Swift's 400 (``CNAME lookup failed to resolve to
a valid domain`` / ``CNAME lookup failed after <n> tries``). Answers are kept in
``swiftlite.cache`` for their DNS TTL. ``nameservers`` (``ip[:port]``, comma-separated)
replaces the system resolvers. Off by default, as in Swift; it goes before domain_remap.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from webob import Response

from swiftlite.common import config
from swiftlite.common.errors import ConfigError
from swiftlite.common.registry import register_info

try:  # dnspython comes with eventlet; the filter says so plainly if it is missing
    import dns.exception
    import dns.resolver
except ImportError:  # pragma: no cover - depends on the installation
    dns = None  # type: ignore[assignment]

CACHE = "swiftlite.cache"
NO_DOMAIN = b"CNAME lookup failed to resolve to a valid domain"


@dataclass(frozen=True)
class CnameLookupOptions:
    """``[filter:cname_lookup]``."""

    storage_domain: tuple[str, ...] = ("example.com",)
    lookup_depth: int = 1
    nameservers: tuple[str, ...] = ()
    lookup_timeout: float = 5.0

    def __post_init__(self) -> None:
        if self.lookup_depth < 1:
            raise ValueError("lookup_depth must be at least 1")


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name.strip("[]"))
    except ValueError:
        return False
    return True


def _split_port(host: str) -> tuple[str, str]:
    if host.startswith("["):
        name, _, rest = host.partition("]")
        return name + "]", rest[1:] if rest.startswith(":") else ""
    name, sep, port = host.rpartition(":")
    return (name, port) if sep and port.isdigit() else (host, "")


class CnameLookupMiddleware:
    """The cname_lookup filter (see the module docstring)."""

    def __init__(self, app: Callable[..., Any], options: CnameLookupOptions) -> None:
        self.app = app
        self.options = options
        self.domains = tuple(
            "." + d.strip().strip(".").lower() for d in options.storage_domain if d.strip()
        )
        self.resolver = dns.resolver.Resolver(configure=not options.nameservers)
        if options.nameservers:
            self.resolver.nameservers = []
            for entry in options.nameservers:
                ip, port = _split_port(entry.strip())
                ip = ip.strip("[]")
                self.resolver.nameservers.append(ip)
                if port:
                    self.resolver.nameserver_ports[ip] = int(port)
        self.resolver.lifetime = options.lookup_timeout

    def _under_storage(self, name: str) -> bool:
        low = "." + name.lower().rstrip(".")
        return any(low.endswith(d) for d in self.domains)

    def lookup(self, environ: dict[str, Any], name: str) -> str | None:
        """The CNAME target of ``name`` (no trailing dot), or None; cached for the DNS TTL."""
        cache = environ.get(CACHE)
        key = f"cname/{name.lower()}"
        if cache is not None:
            cached = cache.get(key)
            if isinstance(cached, str):
                return cached or None
        try:
            answer = self.resolver.resolve(name, "CNAME")
        except (dns.exception.DNSException, OSError, ValueError):
            return None
        target = str(answer[0].target).rstrip(".") if len(answer) else ""
        if cache is not None:
            ttl = answer.rrset.ttl if answer.rrset is not None else 60
            cache.set(key, target, time=max(1, int(ttl)))
        return target or None

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        host = environ.get("HTTP_HOST") or environ.get("SERVER_NAME") or ""
        name, port = _split_port(host)
        if not name or _is_ip(name) or self._under_storage(name):
            return self.app(environ, start_response)
        current = name.rstrip(".")
        for _ in range(self.options.lookup_depth):
            found = self.lookup(environ, current)
            if found is None or found.lower() == current.lower():
                break
            if self._under_storage(found):
                environ["HTTP_HOST"] = f"{found}:{port}" if port else found
                return self.app(environ, start_response)
            current = found
        else:
            body = f"CNAME lookup failed after {self.options.lookup_depth} tries".encode()
            return Response(status=400, body=body, content_type="text/plain")(
                environ, start_response
            )
        return Response(status=400, body=NO_DOMAIN, content_type="text/plain")(
            environ, start_response
        )


def filter_factory(global_conf: dict[str, Any], **local_conf: Any) -> Callable[[Any], Any]:
    """paste.deploy entry: ``use = egg:swiftlite#cname_lookup``."""
    if dns is None:
        raise ConfigError("[filter:cname_lookup] needs dnspython (pip install dnspython)")
    options = config.parse_options(
        CnameLookupOptions, local_conf, global_conf, where="[filter:cname_lookup]"
    )
    register_info("cname_lookup", lookup_depth=options.lookup_depth)

    def make(app: Any) -> CnameLookupMiddleware:
        return CnameLookupMiddleware(app, options)

    return make
