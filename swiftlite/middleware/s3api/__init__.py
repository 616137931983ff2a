"""s3api: the S3 API over Swift's accounts, containers and objects (Swift's ``s3api``).

The filter sits before the auth filter (``... formpost s3api tempauth ...``). A request with
S3 credentials (an ``AWS``/``AWS4-HMAC-SHA256`` Authorization header, or a presigned query) is
answered here: ``auth`` reads the signature, ``router`` picks a controller (one module per S3
resource under ``controllers/``), which asks the pipeline below through subrequests as the
S3 user (``handoff.py``: the auth filter checks the signature with the user's key). Anything
else passes through untouched. Every failure is S3's XML error document (``errors.py``).
"""

from swiftlite.middleware.s3api.middleware import S3ApiMiddleware, filter_factory

__all__ = ["S3ApiMiddleware", "filter_factory"]
