"""bulk_extract: ``PUT /v1/<acct>[/<container>[/<prefix>]]?extract-archive=tar|tar.gz|tar.bz2``.

The body is read as a tar stream (never buffered whole); each regular file becomes an object
at ``<upload path>/<name in the archive>`` through a PUT subrequest with the caller's token
(so the auth filter below decides each one); directories, links and devices are skipped, and
so is a file that would land outside any container (a top-level file with no upload path).
A container is HEADed once and created when missing (``max_containers_per_extraction``).

Names are checked here before anything is sent: an absolute name (``/etc/passwd``) or one
with a ``.`` or ``..`` segment (``../x``, ``a/../../b``) is refused as a ``400 Bad Request``
item, so nothing can land outside the upload path; a name that is not UTF-8 is a ``412``
item, a file over ``max_file_size`` a ``413`` item. A leading ``./`` (``tar -C dir .``) is
dropped. The pax records ``SCHILY.xattr.user.meta.<k>`` (and libarchive's
``LIBARCHIVE.xattr.user.meta.<k>``) become ``X-Object-Meta-<k>``, and
``...xattr.user.mime_type`` the Content-Type, as in Swift; a record that could not be a
header is a 400 item. The request's ``X-Object-Meta-*``, ``X-Delete-At`` and
``X-Delete-After`` go to every object.

The answer is the bulk body (``bulk_response.py``) with ``Number Files Created``; a 401 on
any item stops the job, ``max_failed_extractions`` failed items stop it, and an archive that
cannot be read (garbage, truncated, a bad gzip/bzip2 stream, a pax or long-name header over
1 MiB) is ``400 Bad Request`` with ``Invalid Tar File: ...``, the items before it kept.
"""

from __future__ import annotations

import re
import tarfile
import urllib.parse
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, cast

from swiftlite.common.names import str_to_wsgi
from swiftlite.middleware.bulk_delete import BulkAbort, Job, body_reader, status_line
from swiftlite.middleware.bulk_response import Heartbeat, response_body

SOURCE = "EA"
COMPRESSION = {"tar": "", "tar.gz": "gz", "tar.bz2": "bz2"}
ARCHIVE_ERRORS = (tarfile.TarError, zlib.error, EOFError, OSError, ValueError)
XATTR_PREFIXES = ("SCHILY.xattr.user.", "LIBARCHIVE.xattr.user.")
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # an HTTP header name's characters
COPIED = ("x-delete-at", "x-delete-after")


def archive_kind(value: str) -> str | None:
    """The tarfile compression for an ``extract-archive`` value, None if unsupported."""
    return COMPRESSION.get(value.lower().strip("."))


@dataclass(frozen=True)
class Member:
    """Where one archive file goes: its ``container/object`` path, or why it cannot go."""

    path: str  # real str; "" when the file is skipped
    shown: str  # quoted, for the Errors list
    error: int | None = None


def place(name: str, base: str, max_path: int) -> Member:
    """Map an archive name under the upload path ``base`` (real strs; pure).

    Skipped (``path`` empty, no error): a top-level file with no base. Refused: absolute
    names and ``.``/``..`` segments (400), names that are not UTF-8 or hold NUL (412).
    """
    while name.startswith("./"):
        name = name[2:]
    joined = f"{base}/{name}" if base else name
    shown = urllib.parse.quote(joined[:max_path].encode("utf-8", "surrogateescape"))
    if name.startswith("/") or any(seg in (".", "..") for seg in joined.split("/")):
        return Member("", shown, 400)
    try:
        joined.encode("utf-8")
    except UnicodeEncodeError:
        return Member("", shown, 412)
    if "\x00" in joined:
        return Member("", shown, 412)
    if "/" not in joined:
        return Member("", shown)
    container, _, obj = joined.partition("/")
    if not container or not obj:
        return Member("", shown, 400)
    return Member(joined, shown)


def pax_headers(records: Mapping[str, str]) -> dict[str, str] | None:
    """Headers (WSGI strings) from a member's pax records as Swift maps them; None when a
    record cannot be a header (a name or value with control characters, say)."""
    out: dict[str, str] = {}
    for key, value in records.items():
        for prefix in XATTR_PREFIXES:
            if not key.startswith(prefix):
                continue
            attr = key[len(prefix) :]
            if attr == "mime_type":
                header = "Content-Type"
            elif attr.startswith("meta.") and len(attr) > len("meta."):
                header = "X-Object-Meta-" + attr[len("meta.") :]
            else:
                break
            raw = value.encode("utf-8", "surrogateescape")
            if not TOKEN.fullmatch(header) or any(_control(b) for b in raw):
                return None
            out[header] = raw.decode("latin-1")
    return out


def _control(byte: int) -> bool:
    """A byte no header value may hold (CR, LF, NUL, DEL...; a tab is allowed)."""
    return (byte < 0x20 and byte != 0x09) or byte == 0x7F


MAX_HEADER_DATA = 1 << 20  # bytes of one pax or GNU long-name header (tarfile buffers them)


class BoundedTarInfo(tarfile.TarInfo):
    """TarInfo that refuses a pax or GNU long-name header over ``MAX_HEADER_DATA`` before
    tarfile reads it into memory (a header may claim any size)."""

    _BUFFERED = (
        tarfile.XHDTYPE,
        tarfile.XGLTYPE,
        tarfile.SOLARIS_XHDTYPE,
        tarfile.GNUTYPE_LONGNAME,
        tarfile.GNUTYPE_LONGLINK,
    )

    def _proc_member(self, tarfile_: tarfile.TarFile) -> tarfile.TarInfo:
        if self.type in self._BUFFERED and self.size > MAX_HEADER_DATA:
            raise tarfile.HeaderError("archive header too large")
        return super()._proc_member(tarfile_)  # type: ignore[misc]


class MemberReader:
    """A member's bytes for a PUT subrequest; an archive error is kept and shown to the proxy
    as a ValueError (its short-body 499), so the job can answer ``Invalid Tar File``."""

    def __init__(self, fileobj: Any) -> None:
        self.fileobj = fileobj
        self.error: Exception | None = None

    def read(self, size: int = -1) -> bytes:
        try:
            data: bytes = self.fileobj.read(size)
        except ARCHIVE_ERRORS as exc:
            self.error = exc
            raise ValueError("archive unreadable") from None
        return data


class Extract(Job):
    """One extract-archive request: ``run()`` is the body of its 200 answer."""

    source = SOURCE
    agent = "BulkExpand"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.created = 0
        self.failed: list[list[str]] = []
        self.failed_code = 400
        self.containers_seen: set[str] = set()
        self.containers_created = 0

    def run(self, fmt: str | None, kind: str, max_path: int, max_file_size: int) -> Iterator[bytes]:
        beat = Heartbeat(fmt, self.options.yield_frequency, self.clock)
        status, body = status_line(201), ""
        try:
            yield from self._extract(fmt, kind, max_path, max_file_size, beat)
            if self.failed:
                status = status_line(self.failed_code)
            elif not self.created:
                status, body = status_line(400), "Invalid Tar File: No Valid Files"
        except BulkAbort as abort:
            status, body = abort.status, abort.body
        except ARCHIVE_ERRORS as exc:
            status, body = status_line(400), f"Invalid Tar File: {_reason(exc)}"
        except Exception:  # reported in the body, as Swift does
            self.logger.exception("Error in extract archive.")
            status = status_line(500)
        data = {
            "Response Status": status,
            "Response Body": body,
            "Number Files Created": self.created,
        }
        yield beat.final(response_body(fmt, data, self.failed, "extract"))

    def _base(self) -> tuple[str, str]:
        """``/v1/<account>`` (WSGI) and the upload path (real str, no trailing slash)."""
        segs = self.req.environ["PATH_INFO"].split("/", 3)
        if len(segs) < 3 or not segs[2]:
            raise BulkAbort(404)
        rest = segs[3] if len(segs) > 3 else ""
        base = rest.encode("latin-1").decode("utf-8", "surrogateescape").rstrip("/")
        return "/".join(segs[:3]), base

    def _extract(
        self, fmt: str | None, kind: str, max_path: int, max_file_size: int, beat: Heartbeat
    ) -> Iterator[bytes]:
        if fmt is None:
            raise BulkAbort(406)
        read = body_reader(self.req.environ)
        prefix, base = self._base()
        stream = _Stream(read)
        with tarfile.open(
            mode=cast(Any, "r|" + kind),
            fileobj=cast(Any, stream),
            encoding="utf-8",
            tarinfo=BoundedTarInfo,
        ) as tar:
            while len(self.failed) < self.options.max_failed_extractions:
                chunk = beat.beat()
                if chunk is not None:
                    yield chunk
                info = tar.next()
                if info is None:
                    break
                if info.isfile():
                    self._one(tar, info, prefix, base, max_path, max_file_size)

    def _one(
        self,
        tar: tarfile.TarFile,
        info: tarfile.TarInfo,
        prefix: str,
        base: str,
        max_path: int,
        max_file_size: int,
    ) -> None:
        member = place(info.name, base, max_path)
        if member.error is None and not member.path:
            return  # a top-level file with nowhere to go, as Swift skips it
        if member.error is None and info.size > max_file_size:
            member = Member("", member.shown, 413)
        headers = pax_headers(info.pax_headers) if member.error is None else {}
        if headers is None:
            member = Member("", member.shown, 400)
        if member.error is not None:
            self.failed.append([member.shown, status_line(member.error)])
            return
        container = member.path.split("/", 1)[0]
        container_failure = self._ensure_container(prefix, container, max_path)
        reader = MemberReader(tar.extractfile(info))
        try:
            status, line = self._put(prefix, member.path, info.size, headers or {}, reader)
        except ValueError:
            if reader.error is None:
                raise
        if reader.error is not None:  # the archive broke inside this file: the job ends
            raise reader.error
        if 200 <= status < 300:
            self.created += 1
            return
        if container_failure:
            self.failed.append(container_failure)
        if status == 401:
            self.failed.append([member.shown, status_line(401)])
            raise BulkAbort(401)
        if status >= 500:
            self.failed_code = 502
        self.failed.append([member.shown, line])

    def _ensure_container(self, prefix: str, container: str, max_path: int) -> list[str] | None:
        """HEAD (and PUT when missing) a container once; the failure to report, if any."""
        if container in self.containers_seen:
            return None
        self.containers_seen.add(container)
        path = f"{prefix}/{str_to_wsgi(container)}"
        resp = self.send("HEAD", path)
        if 200 <= resp.status_int < 300:
            return None
        if resp.status_int == 404:
            resp = self.send("PUT", path)
            if 200 <= resp.status_int < 300:
                self.containers_created += 1
                if self.containers_created > self.options.max_containers_per_extraction:
                    limit = self.options.max_containers_per_extraction
                    raise BulkAbort(400, f"More than {limit} containers to create from tar.")
                return None
        if resp.status_int == 401:
            raise BulkAbort(401)
        shown = urllib.parse.quote(f"/{container}"[:max_path])
        return [shown, resp.status]

    def _put(
        self, prefix: str, path: str, size: int, pax: dict[str, str], reader: MemberReader
    ) -> tuple[int, str]:
        headers = {
            k: v
            for k, v in self.req.headers.items()
            if k.lower() in COPIED or k.lower().startswith("x-object-meta-")
        }
        headers.update(pax)
        resp = self.send(
            "PUT",
            f"{prefix}/{str_to_wsgi(path)}",
            headers=headers,
            body=reader,
            content_length=size,
        )
        return resp.status_int, str(resp.status)


class _Stream:
    """The request body as the file object tarfile reads (``read`` only)."""

    def __init__(self, read: Callable[[int], bytes]) -> None:
        self._read = read

    def read(self, size: int = -1) -> bytes:
        return self._read(size if size is not None and size >= 0 else 1 << 20)


def _reason(exc: Exception) -> str:
    """Why the archive could not be read: the library's short message, on one ASCII line."""
    text = " ".join(str(exc).split())[:200] or type(exc).__name__
    return text.encode("ascii", "backslashreplace").decode("ascii")
