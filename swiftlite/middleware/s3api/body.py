"""The body of an S3 write, decoded and verified while the proxy streams it.

``BodyReader`` sits in ``wsgi.input`` of the PUT subrequest. It undoes ``aws-chunked``
framing (signed chunks of ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]``, unsigned chunks of
``STREAMING-UNSIGNED-PAYLOAD-TRAILER``, with their trailers), and checks what the client
promised: each chunk signature before its bytes go on, and the SHA256 payload hash,
``Content-MD5`` and any ``x-amz-checksum-*`` (header or trailer) before the last byte goes
on. A failure raises ``BodyError`` (a ValueError, which the proxy treats as a broken client
body: it aborts the PUT, so nothing is stored) and is kept in ``error`` for s3api to answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from swiftlite.middleware.s3api import checksums, sigv4
from swiftlite.middleware.s3api.auth import Signed
from swiftlite.middleware.s3api.errors import S3Error

MAX_CHUNK = 64 * 1024 * 1024
MAX_LINE = 8192
MAX_TRAILER = 16 * 1024


class BodyError(ValueError):
    """The client's body broke a promise; ``error`` is the S3 error to answer."""

    def __init__(self, error: S3Error) -> None:
        super().__init__(error.code)
        self.error = error


class _Raw:
    """Buffered reads over the client's input, never past its framing length."""

    def __init__(self, stream: Any, length: int | None) -> None:
        self.stream = stream
        self.remaining = length
        self.buf = b""

    def _fill(self, want: int) -> bool:
        if self.remaining is not None and self.remaining <= 0:
            return False
        size = max(want, 65536)
        if self.remaining is not None:
            size = min(size, self.remaining)
        try:
            data = self.stream.read(size)
        except ValueError:  # the HTTP layer's ChunkError: the transfer framing is broken
            raise BodyError(S3Error("IncompleteBody", "The chunked framing is broken.")) from None
        if not data:
            return False
        if self.remaining is not None:
            self.remaining -= len(data)
        self.buf += data
        return True

    def line(self) -> bytes:
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_LINE or not self._fill(1):
                raise BodyError(S3Error("IncompleteBody", "The chunk framing is broken."))
        line, _, self.buf = self.buf.partition(b"\n")
        return line.rstrip(b"\r")

    def exact(self, size: int) -> bytes:
        while len(self.buf) < size:
            if not self._fill(size - len(self.buf)):
                raise BodyError(S3Error("IncompleteBody"))
        data, self.buf = self.buf[:size], self.buf[size:]
        return data

    def some(self, size: int) -> bytes:
        if not self.buf:
            self._fill(size)
        data, self.buf = self.buf[:size], self.buf[size:]
        return data


class BodyReader:
    """``read(n)`` of the decoded, verified body (see the module doc)."""

    def __init__(
        self,
        stream: Any,
        raw_length: int | None,
        length: int | None,
        signed: Signed | None,
        headers: dict[str, str],
    ) -> None:
        self.raw = _Raw(stream, raw_length)
        self.length = length  # decoded length, when known
        self.signed = signed
        self.mode = signed.payload if signed is not None else sigv4.UNSIGNED
        self.chunked = self.mode in sigv4.STREAMING_MODES or "aws-chunked" in headers.get(
            "content-encoding", ""
        )
        self.chunk_signed = self.mode in (sigv4.STREAMING, sigv4.STREAMING_TRAILER)
        self.previous = signed.signature if signed is not None else ""
        self.pending = b""
        self.done = False
        self.finished = False
        self.seen = 0
        self.error: S3Error | None = None
        self.md5 = hashlib.md5()
        self.sha256 = hashlib.sha256() if sigv4.is_sha256(self.mode) else None
        self.want_md5 = headers.get("content-md5")
        self.trailer_names = [
            n.strip().lower() for n in headers.get("x-amz-trailer", "").split(",") if n.strip()
        ]
        self.header_sums: dict[str, str] = {}
        for alg in checksums.ALGORITHMS:
            value = headers.get("x-amz-checksum-" + alg.lower())
            if value:
                self.header_sums[alg] = value
        self.running = {alg: checksums.new(alg) for alg in self.header_sums}
        for name in self.trailer_names:
            alg = name.removeprefix("x-amz-checksum-").upper()
            if alg in checksums.ALGORITHMS and alg not in self.running:
                self.running[alg] = checksums.new(alg)
        self.checksums: dict[str, str] = {}  # verified (or computed) algorithm -> base64 value
        self.computed: set[str] = set()
        self.trailers: dict[str, str] = {}

    def compute(self, alg: str) -> None:
        """Also compute ``alg`` over the body (into ``checksums``) when the client sent none."""
        if alg not in self.running:
            self.running[alg] = checksums.new(alg)
            self.computed.add(alg)

    @property
    def etag(self) -> str:
        return self.md5.hexdigest()

    def read(self, size: int = -1) -> bytes:
        try:
            return self._read(size)
        except BodyError as exc:
            self.error = exc.error
            raise

    def _read(self, size: int) -> bytes:
        if size < 0:
            size = 1 << 30
        if self.chunked:
            while not self.pending and not self.done:
                self._next_chunk()
            data, self.pending = self.pending[:size], self.pending[size:]
        else:
            want = size if self.length is None else min(size, self.length - self.seen)
            data = self.raw.some(want) if want > 0 else b""
        self.seen += len(data)
        if self.length is not None and self.seen > self.length:
            raise BodyError(S3Error("IncompleteBody", "The body is longer than declared."))
        self._update(data)
        at_end = (self.length is not None and self.seen == self.length) or not data
        if at_end and not self.finished:
            if self.chunked:
                while not self.done:
                    self._next_chunk()
                    if self.pending:
                        raise BodyError(
                            S3Error("IncompleteBody", "The body is longer than declared.")
                        )
            self._finish()
        return data

    def _update(self, data: bytes) -> None:
        if not data:
            return
        self.md5.update(data)
        if self.sha256 is not None:
            self.sha256.update(data)
        for running in self.running.values():
            running.update(data)

    def _next_chunk(self) -> None:
        head = self.raw.line()
        size_text, _, ext = head.partition(b";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError:
            raise BodyError(S3Error("IncompleteBody", "A chunk size is not hexadecimal.")) from None
        if size < 0 or size > MAX_CHUNK:
            raise BodyError(S3Error("InvalidArgument", "A chunk is too large."))
        data = self.raw.exact(size)
        if size:
            self.raw.exact(2)
        if self.chunk_signed:
            self._check_chunk(ext, data)
        if size:
            self.pending = data
            return
        self.done = True
        self._read_trailer()

    def _check_chunk(self, ext: bytes, data: bytes) -> None:
        key, _, value = ext.decode("latin-1").partition("=")
        signed = self.signed
        if key.strip() != "chunk-signature" or signed is None or signed.signing_key is None:
            raise BodyError(S3Error("SignatureDoesNotMatch", "A chunk signature is missing."))
        text = sigv4.chunk_string_to_sign(
            signed.amz_date, signed.scope, self.previous, hashlib.sha256(data).hexdigest()
        )
        expected = sigv4.sign(signed.signing_key, text)
        if not hmac.compare_digest(expected, value.strip()):
            raise BodyError(S3Error("SignatureDoesNotMatch", "A chunk signature does not match."))
        self.previous = expected

    def _read_trailer(self) -> None:
        lines: list[bytes] = []
        total = 0
        while True:
            try:
                line = self.raw.line()
            except BodyError:
                if self.trailer_names:
                    raise
                return  # no trailer promised: the final CRLF may be absent
            total += len(line)
            if total > MAX_TRAILER:
                raise BodyError(S3Error("InvalidArgument", "The trailer is too large."))
            if not line:
                break
            lines.append(line)
        for line in lines:
            name, _, value = line.decode("latin-1").partition(":")
            self.trailers[name.strip().lower()] = value.strip()
        sig = self.trailers.pop("x-amz-trailer-signature", None)
        if self.mode == sigv4.STREAMING_TRAILER:
            self._check_trailer_signature(sig)

    def _check_trailer_signature(self, sig: str | None) -> None:
        signed = self.signed
        if sig is None or signed is None or signed.signing_key is None:
            raise BodyError(S3Error("SignatureDoesNotMatch", "The trailer signature is missing."))
        canon = "".join(f"{k}:{v}\n" for k, v in self.trailers.items()).encode("latin-1")
        text = sigv4.trailer_string_to_sign(signed.amz_date, signed.scope, self.previous, canon)
        if not hmac.compare_digest(sigv4.sign(signed.signing_key, text), sig):
            raise BodyError(
                S3Error("SignatureDoesNotMatch", "The trailer signature does not match.")
            )

    def _finish(self) -> None:
        self.finished = True
        if self.length is not None and self.seen < self.length:
            raise BodyError(S3Error("IncompleteBody"))
        if self.sha256 is not None and self.sha256.hexdigest() != self.mode:
            raise BodyError(S3Error("XAmzContentSHA256Mismatch"))
        if self.want_md5 is not None:
            try:
                want = base64.b64decode(self.want_md5, validate=True)
            except ValueError:
                raise BodyError(S3Error("InvalidDigest")) from None
            if want != self.md5.digest():
                raise BodyError(
                    S3Error(
                        "BadDigest", "The Content-MD5 you specified did not match what we received."
                    )
                )
        expected = dict(self.header_sums)
        for name in self.trailer_names:
            alg = name.removeprefix("x-amz-checksum-").upper()
            if alg in checksums.ALGORITHMS:
                value = self.trailers.get(name)
                if value is None:
                    raise BodyError(S3Error("InvalidRequest", f"The trailer {name} is missing."))
                expected[alg] = value
        for alg, value in expected.items():
            got = self.running[alg].b64()
            if got != value:
                raise BodyError(
                    S3Error(
                        "BadDigest",
                        f"The {alg} you specified did not match the calculated checksum.",
                    )
                )
            self.checksums[alg] = got
        for alg in self.computed - expected.keys():
            self.checksums[alg] = self.running[alg].b64()


def header_error(headers: dict[str, str]) -> S3Error | None:
    """What a body's headers get wrong before any byte is read: a checksum of the wrong form,
    or one of an algorithm swiftlite cannot check (``checksums.UNSUPPORTED``), named in a
    value header, in ``x-amz-trailer`` or in ``x-amz-sdk-checksum-algorithm``."""
    for alg in checksums.ALGORITHMS:
        value = headers.get("x-amz-checksum-" + alg.lower())
        if value is None:
            continue
        try:
            raw = base64.b64decode(value, validate=True)
        except ValueError:
            raw = b""
        if len(raw) != checksums.SIZES[alg]:
            return S3Error(
                "InvalidRequest", f"Value for x-amz-checksum-{alg.lower()} header is invalid."
            )
    sdk = headers.get("x-amz-sdk-checksum-algorithm")
    if sdk is not None and sdk.upper() not in checksums.ALGORITHMS:
        return S3Error(
            "InvalidRequest", "Value for x-amz-sdk-checksum-algorithm header is invalid."
        )
    trailer = headers.get("x-amz-trailer", "").lower()
    for alg in checksums.UNSUPPORTED:
        name = "x-amz-checksum-" + alg.lower()
        if name in (n.strip() for n in trailer.split(",")):
            return S3Error(
                "InvalidRequest", "The value specified in the x-amz-trailer header is not supported"
            )
        if name in headers:
            return checksums.unsupported()
    return None
