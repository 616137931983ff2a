"""Reading an S3 request's signature (V2 and V4, header and presigned query) into ``Signed``.

``parse_auth`` finds the credentials, checks what needs no secret (the form of the header,
the dates, clock skew, presigned expiry, the credential scope) and builds the string to sign.
``Signed.check(secret)`` is what the auth filter calls (see ``handoff.py``); on success a V4
request keeps its signing key, which the streaming body decoder (``chunked.py``) needs for
the chunk signatures. Errors are ``S3Error`` with the code AWS gives.
"""

from __future__ import annotations

import base64
import calendar
import email.utils
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from swiftlite.middleware.s3api import sigv4
from swiftlite.middleware.s3api.errors import S3Error

MAX_SKEW = 15 * 60
MAX_EXPIRES = 7 * 24 * 3600
# query keys that are part of a V2 string to sign
V2_SUBRESOURCES = frozenset(
    [
        "acl",
        "cors",
        "delete",
        "lifecycle",
        "location",
        "logging",
        "notification",
        "partNumber",
        "policy",
        "requestPayment",
        "restore",
        "tagging",
        "torrent",
        "uploadId",
        "uploads",
        "versionId",
        "versioning",
        "versions",
        "website",
        "response-cache-control",
        "response-content-disposition",
        "response-content-encoding",
        "response-content-language",
        "response-content-type",
        "response-expires",
    ]
)


@dataclass
class Signed:
    """A request's credentials and what its signature must cover."""

    access_key: str
    version: int
    signature: str
    string_to_sign: str
    payload: str = sigv4.UNSIGNED  # V4: x-amz-content-sha256 (or UNSIGNED-PAYLOAD)
    amz_date: str = ""
    scope: str = ""
    key_parts: tuple[str, str, str] = ("", "", "")  # date, region, service
    signing_key: bytes | None = field(default=None, repr=False)
    # other strings a client may have signed: V2 ``/bucket/`` for ``/bucket`` (botocore),
    # V4 the path exactly as sent when the client encoded it other than AWS's way
    alternatives: tuple[str, ...] = ()

    def check(self, secret: str) -> bool:
        """Whether ``secret`` produces the request's signature (keeps the V4 key if so)."""
        if self.version == 2:
            ok = False
            for text in (self.string_to_sign, *self.alternatives):
                mac = hmac.new(secret.encode("utf-8"), text.encode("latin-1", "replace"), "sha1")
                expected = base64.b64encode(mac.digest()).decode()
                ok = hmac.compare_digest(expected, self.signature) or ok
            return ok
        key = sigv4.signing_key(secret, *self.key_parts)
        ok = False
        for text in (self.string_to_sign, *self.alternatives):
            ok = hmac.compare_digest(sigv4.sign(key, text), self.signature) or ok
        if ok:
            self.signing_key = key
        return ok


@dataclass(frozen=True)
class AuthInput:
    """The parts of a request a signature covers (strings as WSGI latin-1)."""

    method: str
    path: bytes  # the decoded path, as bytes
    raw_path: str  # the path as the client sent it (V2 signs it so)
    query: list[tuple[str, str]]  # decoded pairs, in order
    headers: Mapping[str, str]  # lower-case names
    vhost_bucket: str | None = None


def parse_auth(
    req: AuthInput, now: float | None = None, region: str = "us-east-1"
) -> Signed | None:
    """The request's ``Signed``, None for an anonymous request; S3Error when malformed."""
    now = time.time() if now is None else now
    query = dict(req.query)
    header = req.headers.get("authorization", "")
    if header.startswith(sigv4.ALGORITHM + " "):
        return _v4_header(req, header, now, region)
    if header.startswith("AWS "):
        return _v2_header(req, header, now)
    if query.get("X-Amz-Algorithm") or "X-Amz-Credential" in query:
        return _v4_query(req, query, now, region)
    if "AWSAccessKeyId" in query and "Signature" in query:
        return _v2_query(req, query, now)
    if header:
        raise S3Error("InvalidArgument", "Unsupported Authorization Type")
    return None


# -- V4 -------------------------------------------------------------------------------------
def _v4_fields(text: str) -> dict[str, str]:
    out = {}
    for item in text.split(","):
        key, sep, value = item.strip().partition("=")
        if sep:
            out[key] = value
    return out


def _scope(credential: str, amz_date: str, region: str, where: str) -> tuple[str, str, str]:
    """(access key, scope, date) from ``AK/date/region/s3/aws4_request``."""
    parts = credential.rsplit("/", 4)
    if len(parts) != 5 or parts[4] != "aws4_request":
        raise S3Error(where, "The credential is malformed.")
    access_key, date, cred_region, service, _ = parts
    if not access_key:
        raise S3Error(where, "The credential is malformed.")
    if service != "s3":
        raise S3Error(where, f"The service {service!r} is wrong; expecting 's3'.")
    if cred_region != region:
        raise S3Error(
            where, f"The region {cred_region!r} is wrong; expecting {region!r}.", Region=region
        )
    if date != amz_date[:8]:
        raise S3Error(where, "The credential date does not match the request date.")
    return access_key, "/".join(parts[1:]), date


def _amz_time(value: str) -> float | None:
    try:
        return calendar.timegm(time.strptime(value, "%Y%m%dT%H%M%SZ"))
    except (ValueError, OverflowError):
        return None


def _http_time(value: str) -> float | None:
    try:
        parsed = email.utils.parsedate_tz(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    try:
        return float(email.utils.mktime_tz(parsed))
    except (OverflowError, ValueError):
        return None


def _check_skew(when: float | None, now: float) -> None:
    if when is None:
        raise S3Error(
            "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header"
        )
    if abs(now - when) > MAX_SKEW:
        raise S3Error("RequestTimeTooSkewed")


def _v4_header(req: AuthInput, header: str, now: float, region: str) -> Signed:
    where = "AuthorizationHeaderMalformed"
    fields = _v4_fields(header[len(sigv4.ALGORITHM) + 1 :])
    credential, signed_text, signature = (
        fields.get("Credential"),
        fields.get("SignedHeaders"),
        fields.get("Signature"),
    )
    if not credential or not signed_text or not signature:
        raise S3Error(where, "The authorization header is malformed.")
    amz_date = req.headers.get("x-amz-date", "")
    when = _amz_time(amz_date) if amz_date else None
    if not amz_date:
        http_when = _http_time(req.headers.get("date", ""))
        if http_when is not None:
            amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(http_when))
            when = http_when
    _check_skew(when, now)
    access_key, scope, date = _scope(credential, amz_date, region, where)
    signed = signed_text.lower().split(";")
    if "host" not in signed:
        raise S3Error(where, "The host header must be signed.")
    payload = req.headers.get("x-amz-content-sha256")
    if payload is None:
        raise S3Error(
            "InvalidRequest", "Missing required header for this request: x-amz-content-sha256"
        )
    if (
        payload not in sigv4.STREAMING_MODES
        and payload != sigv4.UNSIGNED
        and not sigv4.is_sha256(payload)
    ):
        raise S3Error(
            "InvalidArgument",
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a streaming mode, or a SHA256 value.",
        )
    text, alternatives = _v4_strings(req, signed, payload, amz_date, scope, None)
    return Signed(
        access_key=access_key,
        version=4,
        signature=signature,
        string_to_sign=text,
        alternatives=alternatives,
        payload=payload,
        amz_date=amz_date,
        scope=scope,
        key_parts=(date, scope.split("/")[1], "s3"),
    )


def _v4_query(req: AuthInput, query: Mapping[str, str], now: float, region: str) -> Signed:
    where = "AuthorizationQueryParametersError"
    if query.get("X-Amz-Algorithm") != sigv4.ALGORITHM:
        raise S3Error(where, 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"')
    needed = (
        "X-Amz-Credential",
        "X-Amz-Date",
        "X-Amz-SignedHeaders",
        "X-Amz-Signature",
        "X-Amz-Expires",
    )
    if any(not query.get(k) for k in needed):
        raise S3Error(
            where,
            "Query-string authentication version 4 requires the X-Amz-Algorithm, "
            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
            "X-Amz-Expires parameters.",
        )
    amz_date = query["X-Amz-Date"]
    when = _amz_time(amz_date)
    if when is None:
        raise S3Error(
            where, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\""
        )
    try:
        expires = int(query["X-Amz-Expires"])
    except ValueError:
        raise S3Error(where, "X-Amz-Expires should be a number") from None
    if expires < 0:
        raise S3Error(where, "X-Amz-Expires must be non-negative")
    if expires > MAX_EXPIRES:
        raise S3Error(where, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
    if when - MAX_SKEW > now:
        raise S3Error("AccessDenied", "Request is not valid yet")
    if now > when + expires:
        raise S3Error("AccessDenied", "Request has expired")
    access_key, scope, date = _scope(query["X-Amz-Credential"], amz_date, region, where)
    signed = query["X-Amz-SignedHeaders"].lower().split(";")
    payload = (
        query.get("X-Amz-Content-Sha256")
        or req.headers.get("x-amz-content-sha256")
        or sigv4.UNSIGNED
    )
    text, alternatives = _v4_strings(req, signed, payload, amz_date, scope, "X-Amz-Signature")
    return Signed(
        access_key=access_key,
        version=4,
        signature=query["X-Amz-Signature"],
        string_to_sign=text,
        alternatives=alternatives,
        payload=payload if payload != sigv4.UNSIGNED else sigv4.UNSIGNED,
        amz_date=amz_date,
        scope=scope,
        key_parts=(date, scope.split("/")[1], "s3"),
    )


def _v4_strings(
    req: AuthInput, signed: list[str], payload: str, amz_date: str, scope: str, skip: str | None
) -> tuple[str, tuple[str, ...]]:
    """The string to sign with the path encoded AWS's way, and with the path as sent when
    that differs (a client that left a character unencoded signed it so)."""
    args = (req.method, req.path, req.query, req.headers, signed, payload)
    main = sigv4.string_to_sign(amz_date, scope, sigv4.canonical_request(*args, skip_query=skip))
    if sigv4.uri_encode(req.path) == req.raw_path:
        return main, ()
    raw = sigv4.canonical_request(*args, skip_query=skip, encoded_path=req.raw_path)
    return main, (sigv4.string_to_sign(amz_date, scope, raw),)


# -- V2 -------------------------------------------------------------------------------------
def _v2_header(req: AuthInput, header: str, now: float) -> Signed:
    access_key, sep, signature = header[4:].strip().rpartition(":")
    if not sep or not access_key or not signature:
        raise S3Error(
            "InvalidArgument",
            "AWS authorization header is invalid.  Expected AwsAccessKeyId:signature",
        )
    if "x-amz-date" in req.headers:
        when = _http_time(req.headers["x-amz-date"])
        date_line = ""
    else:
        when = _http_time(req.headers.get("date", ""))
        date_line = req.headers.get("date", "")
    _check_skew(when, now)
    return _v2(req, access_key, signature, date_line)


def _v2_query(req: AuthInput, query: Mapping[str, str], now: float) -> Signed:
    try:
        expires = int(query.get("Expires", ""))
    except ValueError:
        raise S3Error(
            "AccessDenied", "Expires must be a number of seconds since the epoch"
        ) from None
    if now > expires:
        raise S3Error("AccessDenied", "Request has expired")
    return _v2(req, query["AWSAccessKeyId"], query["Signature"], str(expires))


def _v2(req: AuthInput, access_key: str, signature: str, date_line: str) -> Signed:
    text = v2_string_to_sign(req, date_line)
    alternatives: tuple[str, ...] = ()
    if req.vhost_bucket is None and req.raw_path.count("/") == 1 and len(req.raw_path) > 1:
        alternatives = (v2_string_to_sign(req, date_line, req.raw_path + "/"),)
    return Signed(access_key, 2, signature, text, alternatives=alternatives)


def v2_string_to_sign(req: AuthInput, date_line: str, path: str | None = None) -> str:
    """V2's string: method, Content-MD5, Content-Type, date, x-amz-* headers, resource."""
    amz: dict[str, list[str]] = {}
    for name, value in req.headers.items():
        if name.startswith("x-amz-"):
            amz.setdefault(name, []).append(" ".join(value.split()))
    lines = [
        req.method,
        req.headers.get("content-md5", ""),
        req.headers.get("content-type", ""),
        date_line,
    ]
    lines.extend(f"{k}:{','.join(amz[k])}" for k in sorted(amz))
    resource = req.raw_path if path is None else path
    if req.vhost_bucket:
        resource = "/" + req.vhost_bucket + resource
    subs = sorted((k, v) for k, v in req.query if k in V2_SUBRESOURCES)
    if subs:
        resource += "?" + "&".join(f"{k}={v}" if v else k for k, v in subs)
    lines.append(resource)
    return "\n".join(lines)
