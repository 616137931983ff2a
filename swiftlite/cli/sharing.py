"""swiftlite-tempurl and swiftlite-form-signature: sign temp URLs and form POSTs for operators.

``swiftlite-tempurl [--digest D] [--absolute] [--prefix-based] [--iso8601] [--ip-range R]
<method> <seconds> <path> <key>`` prints the path and query of a temp URL (as ``swift
tempurl``). ``swiftlite-form-signature [--digest D] <path> <redirect> <max_file_size>
<max_file_count> <seconds> <key>`` prints the expiry, the signature and a sample HTML form
(as Swift's ``swift-form-signature``). Exit codes: 0 success, 1 bad arguments.
"""

from __future__ import annotations

import argparse
import html
import sys
import time
import urllib.parse
from collections.abc import Sequence

from swiftlite.middleware import signature


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # type: ignore[override]
        raise ValueError(message)


def _digest_arg(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--digest", default=default, choices=signature.SUPPORTED_DIGESTS)


def tempurl_url(
    method: str,
    expires: int,
    path: str,
    key: str,
    *,
    digest: str = "sha256",
    prefix: bool = False,
    ip_range: str | None = None,
    iso8601: bool = False,
) -> str:
    """The ``<path>?temp_url_sig=...`` text for ``path`` (``/v1/a/c/o``, or ``/v1/a/c/<p>``)."""
    parts = path.split("/", 4)
    if len(parts) != 5 or parts[0] or parts[1] != "v1" or not all(parts[2:4]):
        raise ValueError("path must be /v1/<account>/<container>/<object or prefix>")
    if not prefix and not parts[4]:
        raise ValueError("path must name an object: /v1/<account>/<container>/<object>")
    signed = ("prefix:" if prefix else "") + path
    message = signature.tempurl_message(method.upper(), expires, signed, ip_range)
    sig = signature.encode_signature(signature.hmac_hex(key, message, digest), digest)
    shown = time.strftime(signature.ISO8601, time.gmtime(expires)) if iso8601 else str(expires)
    query = [("temp_url_sig", sig), ("temp_url_expires", shown)]
    if ip_range:
        query.append(("temp_url_ip_range", ip_range))
    if prefix:
        query.append(("temp_url_prefix", parts[4]))
    return f"{urllib.parse.quote(path)}?{urllib.parse.urlencode(query)}"


def tempurl_main(argv: Sequence[str] | None = None) -> int:
    p = _Parser(prog="swiftlite-tempurl", description="Print a temporary URL for an object.")
    _digest_arg(p, "sha256")
    p.add_argument("--absolute", action="store_true", help="<seconds> is a Unix time")
    p.add_argument("--prefix-based", action="store_true", help="sign every object under path")
    p.add_argument("--iso8601", action="store_true", help="show the expiry in ISO 8601")
    p.add_argument("--ip-range", default=None, help="allow only this client address or network")
    p.add_argument("method")
    p.add_argument("seconds", type=int)
    p.add_argument("path", help="/v1/<account>/<container>/<object>")
    p.add_argument("key", help="the account's or container's Temp-URL-Key")
    try:
        args = p.parse_args(argv)
        expires = args.seconds if args.absolute else int(time.time()) + args.seconds
        url = tempurl_url(
            args.method,
            expires,
            args.path,
            args.key,
            digest=args.digest,
            prefix=args.prefix_based,
            ip_range=args.ip_range,
            iso8601=args.iso8601,
        )
    except ValueError as exc:
        print(f"swiftlite-tempurl: {exc}", file=sys.stderr)
        return 1
    print(url)
    return 0


def form_signature(
    path: str,
    redirect: str,
    max_file_size: int,
    max_file_count: int,
    expires: int,
    key: str,
    digest: str = "sha256",
) -> str:
    """The ``signature`` field of a form POST (hex, or ``sha512:<base64>``)."""
    message = signature.formpost_message(path, redirect, max_file_size, max_file_count, expires)
    return signature.encode_signature(signature.hmac_hex(key, message, digest), digest)


def sample_form(
    path: str, redirect: str, max_file_size: int, max_file_count: int, expires: int, sig: str
) -> str:
    """An HTML form that posts up to ``max_file_count`` files with this signature."""
    esc = html.escape
    lines = [f'<form action="{esc(path)}" method="POST" enctype="multipart/form-data">']
    hidden = [
        ("redirect", redirect),
        ("max_file_size", str(max_file_size)),
        ("max_file_count", str(max_file_count)),
        ("expires", str(expires)),
        ("signature", sig),
    ]
    for name, value in hidden:
        if name != "redirect" or value:
            lines.append(f'  <input type="hidden" name="{name}" value="{esc(value)}" />')
    lines.append(f"  <!-- at most {max_file_count} files; fewer is fine -->")
    lines.extend(f'  <input type="file" name="file{i}" /><br />' for i in range(max_file_count))
    lines.append('  <input type="submit" />')
    lines.append("</form>")
    return "\n".join(lines)


def form_signature_main(argv: Sequence[str] | None = None) -> int:
    p = _Parser(prog="swiftlite-form-signature", description="Sign a form POST upload (formpost).")
    _digest_arg(p, "sha256")
    p.add_argument("path", help="/v1/<account>/<container>[/<object_prefix>]")
    p.add_argument("redirect", help="where the browser goes after the upload ('' for none)")
    p.add_argument("max_file_size", type=int)
    p.add_argument("max_file_count", type=int)
    p.add_argument("seconds", type=int, help="how long the form stays valid")
    p.add_argument("key", help="the account's or container's Temp-URL-Key")
    try:
        args = p.parse_args(argv)
        parts = args.path.split("/", 4)
        if len(parts) < 4 or parts[0] or parts[1] != "v1" or not parts[2] or not parts[3]:
            raise ValueError("<path> must name a container: /v1/<account>/<container>[/prefix]")
        if args.max_file_size < 0:
            raise ValueError("<max_file_size> must be 0 or more")
        if args.max_file_count < 1:
            raise ValueError("<max_file_count> must be positive")
        if args.seconds < 1:
            raise ValueError("<seconds> must be positive")
    except ValueError as exc:
        print(f"swiftlite-form-signature: {exc}", file=sys.stderr)
        return 1
    expires = int(time.time()) + args.seconds
    sig = form_signature(
        args.path,
        args.redirect,
        args.max_file_size,
        args.max_file_count,
        expires,
        args.key,
        args.digest,
    )
    print(f"  Expires: {expires}")
    print(f"Signature: {sig}")
    print()
    print("Sample form (add the cluster's scheme and host to the action):")
    print()
    print(
        sample_form(args.path, args.redirect, args.max_file_size, args.max_file_count, expires, sig)
    )
    return 0
