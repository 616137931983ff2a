"""The contract between s3api and the auth filter below it (tempauth), as Swift's s3api.

s3api cannot check a signature itself: the secret is the auth filter's. It puts an
``S3Auth`` in each subrequest's environ under ``S3_AUTH``, with the access key and a
``check(secret)`` that recomputes the signature. The auth filter, on the first subrequest,
looks the access key up, calls ``check`` with that user's key, and either records the
identity on the object (``account``, ``user``, ``groups``) or the S3 error code to answer
(``InvalidAccessKeyId``, ``SignatureDoesNotMatch``). Later subrequests of the same S3 request
carry the same object, so the signature is checked once. A subrequest's path names the
account as ``PLACEHOLDER`` until the identity is known; the auth filter puts the real account
there. Only in-process code can put objects in an environ, so a client cannot forge one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

S3_AUTH = "swiftlite.s3api.auth"
# the account segment of a subrequest path before the auth filter has named the account
PLACEHOLDER = ".s3-account"


@dataclass
class S3Auth:
    """One S3 request's credentials and, once checked, who it is."""

    access_key: str
    check: Callable[[str], bool]
    account: str | None = None
    user: str | None = None
    groups: tuple[str, ...] = field(default_factory=tuple)
    error: str | None = None

    @property
    def resolved(self) -> bool:
        """The auth filter has accepted the signature."""
        return self.account is not None
