"""Helpers shared by the object tests: build a server on a temp device, send requests."""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.parse

from webob import Request

from swiftlite.common.timestamp import Timestamp
from swiftlite.obj import metadata
from swiftlite.obj.server import ObjectServer, ObjectServerOptions

DEVICE = "sda"
PART = 7


def make_server(devices: str, **overrides: object) -> ObjectServer:
    settings: dict[str, object] = {
        "mount_check": False,
        "log_requests": False,
        "fsync_in_threads": False,
        **overrides,
    }
    options = ObjectServerOptions(devices=devices, **settings)  # type: ignore[arg-type]
    return ObjectServer(options, logging.getLogger("test.obj"))


def path(obj: str = "o", container: str = "c", account: str = "a") -> str:
    quoted = "/".join(urllib.parse.quote(p) for p in (account, container, obj))
    return f"/{DEVICE}/{PART}/{quoted}"


def ts(offset: float = 0.0) -> Timestamp:
    """A recent timestamp (tombstones older than reclaim_age would be reclaimed at once)."""
    return Timestamp(round(Timestamp.now().seconds + offset, 5))


def request(app, method, obj="o", body=None, headers=None, **kw):
    req = Request.blank(path(obj), method=method, headers=headers or {}, body=body, **kw)
    return req.get_response(app)


def put(app, obj="o", body=b"hello world", timestamp=None, headers=None):
    hdrs = {
        "X-Timestamp": (timestamp or ts()).internal,
        "Content-Type": "application/octet-stream",
    }
    hdrs.update(headers or {})
    return request(app, "PUT", obj, body=body, headers=hdrs)


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def limit_user_meta(count: int = 90, total: int = 4096, high_bytes: bool = True) -> dict[str, str]:
    """``count`` X-Object-Meta-* headers whose names and values add up to ``total`` bytes.

    Values are WSGI strings; with ``high_bytes`` they hold bytes >= 0x80 (UTF-8 text on the
    wire), the worst case for the JSON record's size.
    """
    names = [f"k{i:03d}" for i in range(count)]  # 4 bytes each
    budget = total - 4 * count
    sizes = [budget // count + (1 if i < budget % count else 0) for i in range(count)]
    assert max(sizes) <= 256
    filler = "\u00e9" if high_bytes else "v"
    return {f"X-Object-Meta-{n}": filler * s for n, s in zip(names, sizes, strict=True)}


def limit_object_name() -> str:
    """A 1024-byte object name of two-byte UTF-8 characters."""
    return "\u00e9" * 512


CONTENT = b"0123456789" * 100


def limit_record() -> dict[str, str]:
    """Everything the server stores for an object at the API's limits, plus system metadata."""
    meta = {
        "name": "/AUTH_" + "a" * 250 + "/" + "c" * 256 + "/" + limit_object_name(),
        "X-Timestamp": "1700000000.12345_00000000000000ff",
        "Content-Type": "application/x-" + "t" * 200,
        "Content-Length": str(len(CONTENT)),
        "ETag": md5(CONTENT),
        "X-Delete-At": "9999999999",
        "Content-Disposition": "attachment; filename=\u00e9" * 8,
        **limit_user_meta(),
    }
    for i in range(10):
        meta[f"X-Object-Sysmeta-Slo-{i}"] = "\u00ff" * 256
    return meta


def write_file(path: str, meta: dict[str, str], content: bytes = CONTENT):
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, content)
        return metadata.write(fd, meta, len(content))
    finally:
        os.close(fd)
