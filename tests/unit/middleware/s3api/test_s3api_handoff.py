"""The s3api -> tempauth handoff: the signature is checked with the user's key, once, and the
subrequest then runs as that user in that user's account."""

from __future__ import annotations

from typing import Any

from webob import Request

from swiftlite.middleware.s3api.handoff import PLACEHOLDER, S3_AUTH, S3Auth
from swiftlite.middleware.tempauth import TempAuthMiddleware, TempAuthOptions, parse_users
from tests.unit.middleware.stub_proxy import StubProxy

USERS = {"user_test_tester": "testing .admin", "user_test2_tester2": "testing2 .admin"}


def _auth() -> tuple[TempAuthMiddleware, StubProxy]:
    stub = StubProxy()
    opts = TempAuthOptions()
    return TempAuthMiddleware(stub, opts, parse_users(USERS, opts.prefix)), stub


def _send(app: Any, s3: S3Auth, path: str = f"/v1/{PLACEHOLDER}", method: str = "HEAD") -> int:
    req = Request.blank(path, environ={"REQUEST_METHOD": method, S3_AUTH: s3})
    return req.get_response(app).status_int


def test_good_signature_becomes_the_user_in_its_account() -> None:
    app, stub = _auth()
    seen: list[str] = []
    s3 = S3Auth("test:tester", lambda secret: seen.append(secret) or secret == "testing")  # noqa: S105
    assert _send(app, s3, f"/v1/{PLACEHOLDER}/c", "PUT") in (201, 202)
    assert s3.account == "AUTH_test"
    assert s3.user == "test:tester"
    assert stub.calls[-1][:2] == ("PUT", "/v1/AUTH_test/c")
    _send(app, s3, "/v1/AUTH_test/c")
    assert seen == ["testing"]  # checked once per S3 request


def test_wrong_secret_and_unknown_key_are_refused_with_their_codes() -> None:
    app, stub = _auth()
    wrong = S3Auth("test:tester", lambda secret: False)
    assert _send(app, wrong) == 401
    assert wrong.error == "SignatureDoesNotMatch"
    nobody = S3Auth("no:one", lambda secret: True)
    assert _send(app, nobody) == 401
    assert nobody.error == "InvalidAccessKeyId"
    assert stub.calls == []


def test_an_s3_user_is_authorized_like_its_swift_self() -> None:
    app, _ = _auth()
    other = S3Auth("test2:tester2", lambda secret: secret == "testing2")  # noqa: S105
    assert _send(app, other) in (200, 204)
    assert _send(app, other, "/v1/AUTH_test/c", "PUT") == 403  # not test2's account
