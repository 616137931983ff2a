"""S3 errors: one exception carrying an S3 error code, and the XML body AWS answers with.

Handlers raise ``S3Error("NoSuchKey")``; the middleware turns it into S3's error document
(``Code``, ``Message``, ``Resource``, ``RequestId``) with the status ``CODES`` gives. Client
text reaches the XML only through ElementTree, which escapes it.
"""

from __future__ import annotations

from typing import Any

from webob import Response

from swiftlite.middleware.s3api import xmlio

BAD_XML = (
    "The XML you provided was not well-formed or did not validate against our published schema."
)
# code -> (status, default message), as AWS documents them
CODES: dict[str, tuple[int, str]] = {
    "AccessDenied": (403, "Access Denied."),
    "AccessForbidden": (403, "CORSResponse: This CORS request is not allowed."),
    "AuthorizationHeaderMalformed": (400, "The authorization header is malformed."),
    "AuthorizationQueryParametersError": (400, "The authorization query is malformed."),
    "BadDigest": (400, "The Content-MD5 or checksum you specified did not match what we received."),
    "BucketAlreadyExists": (409, "The requested bucket name is not available."),
    "BucketAlreadyOwnedByYou": (
        409,
        "Your previous request to create the named bucket succeeded and you already own it.",
    ),
    "BucketNotEmpty": (409, "The bucket you tried to delete is not empty."),
    "EntityTooLarge": (400, "Your proposed upload exceeds the maximum allowed object size."),
    "EntityTooSmall": (
        400,
        "Your proposed upload is smaller than the minimum allowed object size.",
    ),
    "IncompleteBody": (
        400,
        "You did not provide the number of bytes specified by the Content-Length HTTP header.",
    ),
    "InternalError": (500, "We encountered an internal error. Please try again."),
    "InvalidAccessKeyId": (
        403,
        "The AWS Access Key Id you provided does not exist in our records.",
    ),
    "InvalidArgument": (400, "Invalid Argument."),
    "InvalidBucketName": (400, "The specified bucket is not valid."),
    "InvalidChunkSizeError": (
        403,
        "Only the last chunk is allowed to have a size less than 8192 bytes.",
    ),
    "InvalidDigest": (400, "The Content-MD5 you specified was invalid."),
    "InvalidLocationConstraint": (400, "The specified location constraint is not valid."),
    "InvalidPart": (400, "One or more of the specified parts could not be found."),
    "InvalidPartOrder": (400, "The list of parts was not in ascending order."),
    "InvalidRange": (416, "The requested range is not satisfiable."),
    "InvalidRequest": (400, "Invalid Request."),
    "InvalidStorageClass": (400, "The storage class you specified is not valid."),
    "InvalidTag": (400, "The tag provided was not a valid tag."),
    "InvalidURI": (400, "Could not parse the specified URI."),
    "KeyTooLongError": (400, "Your key is too long."),
    "MalformedACLError": (
        400,
        BAD_XML,
    ),
    "MalformedXML": (
        400,
        BAD_XML,
    ),
    "MaxMessageLengthExceeded": (400, "Your request was too big."),
    "MethodNotAllowed": (405, "The specified method is not allowed against this resource."),
    "MissingContentLength": (411, "You must provide the Content-Length HTTP header."),
    "MissingRequestBodyError": (400, "Request Body is empty."),
    "MissingSecurityHeader": (400, "Your request was missing a required header."),
    "NoSuchBucket": (404, "The specified bucket does not exist."),
    "NoSuchCORSConfiguration": (404, "The CORS configuration does not exist."),
    "NoSuchKey": (404, "The specified key does not exist."),
    "NoSuchUpload": (404, "The specified multipart upload does not exist."),
    "NoSuchVersion": (404, "The specified version does not exist."),
    "NoSuchTagSet": (404, "The TagSet does not exist."),
    "NotImplemented": (501, "A header you provided implies functionality that is not implemented."),
    "PreconditionFailed": (412, "At least one of the preconditions you specified did not hold."),
    "RequestTimeTooSkewed": (
        403,
        "The difference between the request time and the current time is too large.",
    ),
    "RequestTimeout": (
        400,
        "Your socket connection to the server was not read from or written to within the "
        "timeout period.",
    ),
    "ServiceUnavailable": (503, "Please reduce your request rate."),
    "SignatureDoesNotMatch": (
        403,
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method.",
    ),
    "XAmzContentSHA256Mismatch": (
        400,
        "The provided 'x-amz-content-sha256' header does not match what was computed.",
    ),
}


class S3Error(Exception):
    """An S3 error by code; ``extra`` adds elements (``BucketName``, ``Key``, ...)."""

    def __init__(self, code: str, message: str | None = None, **extra: Any) -> None:
        status, default = CODES.get(code, (400, code))
        super().__init__(message or default)
        self.code = code
        self.status = status
        self.message = message or default
        self.extra = {k: str(v) for k, v in extra.items()}
        self.headers: dict[str, str] = {}


def error_response(err: S3Error, resource: str, request_id: str, method: str) -> Response:
    """S3's error document for ``err`` (no body for HEAD, as S3)."""
    root = xmlio.Element("Error", ns=False)
    xmlio.sub(root, "Code", err.code)
    xmlio.sub(root, "Message", err.message)
    for key, value in err.extra.items():
        xmlio.sub(root, key, value)
    xmlio.sub(root, "Resource", resource)
    xmlio.sub(root, "RequestId", request_id)
    body = b"" if method == "HEAD" else xmlio.dumps(root)
    resp = Response(status=err.status, body=body, content_type="application/xml")
    if method == "HEAD":
        resp.content_length = 0
    for key, value in err.headers.items():
        resp.headers[key] = value
    return resp
