"""Presigned S3 URLs (AWS Signature V4, query form) for the S3 workloads of the benchmark.

The load generator sends fixed request bytes, so each S3 request carries its credentials in
its URL: ``presign(method, path)`` gives ``path?X-Amz-...&X-Amz-Signature=...``, signed with
the tempauth user as access key (both systems map S3 keys to tempauth users the same way).
"""

from __future__ import annotations

import hashlib
import hmac
import time
import urllib.parse

REGION = "us-east-1"


def _quote(text: str, safe: str = "") -> str:
    return urllib.parse.quote(text, safe=safe + "-_.~")


class Presigner:
    """Signs paths for one access key, at one host, valid ``expires`` seconds from now."""

    def __init__(
        self,
        host: str,
        access_key: str = "test:tester",
        secret: str = "testing",  # noqa: S107  (the aio's well-known test user)
        expires: int = 3600,
    ) -> None:
        self.host = host
        self.access_key = access_key
        self.expires = expires
        self.stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        key = hmac.new(("AWS4" + secret).encode(), self.stamp[:8].encode(), "sha256").digest()
        for part in (REGION, "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), "sha256").digest()
        self.key = key

    def presign(self, method: str, path: str) -> str:
        """``path`` (unencoded ASCII) with the V4 query signature for ``method``."""
        scope = f"{self.stamp[:8]}/{REGION}/s3/aws4_request"
        params = {
            "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
            "X-Amz-Credential": f"{self.access_key}/{scope}",
            "X-Amz-Date": self.stamp,
            "X-Amz-Expires": str(self.expires),
            "X-Amz-SignedHeaders": "host",
        }
        query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in sorted(params.items()))
        path = _quote(path, "/")
        canonical = f"{method}\n{path}\n{query}\nhost:{self.host}\n\nhost\nUNSIGNED-PAYLOAD"
        digest = hashlib.sha256(canonical.encode()).hexdigest()
        text = f"AWS4-HMAC-SHA256\n{self.stamp}\n{scope}\n{digest}"
        sig = hmac.new(self.key, text.encode(), "sha256").hexdigest()
        return f"{path}?{query}&X-Amz-Signature={sig}"
