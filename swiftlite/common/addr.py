"""Network addresses written the one way: IPv6 in brackets wherever a port or path follows.

``bracket("::1")`` is ``[::1]``; ``host_port("::1", 6200)`` is ``[::1]:6200``. URLs, the
``X-Container-Host`` header, rsync targets and log lines all use these.
"""

from __future__ import annotations


def bracket(ip: str) -> str:
    """``ip`` as it goes before ``:port`` or into a URL (IPv6 bracketed, once)."""
    return f"[{ip}]" if ":" in ip and not ip.startswith("[") else ip


def host_port(ip: str, port: int | str) -> str:
    return f"{bracket(ip)}:{port}"
