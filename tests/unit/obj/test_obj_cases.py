"""Run the protocol table in cases/*.toml: each row a request and the status/headers it gets."""

from __future__ import annotations

import hashlib
import pathlib
import re
import tomllib

import pytest
from objtest_helpers import make_server, path
from webob import Request

from swiftlite.common.timestamp import Timestamp

CASES_DIR = pathlib.Path(__file__).parent / "cases"


def load_cases():
    cases = []
    for file in sorted(CASES_DIR.glob("*.toml")):
        with open(file, "rb") as fh:
            for case in tomllib.load(fh)["case"]:
                cases.append(pytest.param(case, id=f"{file.stem}:{case['name']}"))
    return cases


def expand(value: str, now: float) -> str:
    def ts(match: re.Match) -> str:
        return Timestamp(round(now + float(match.group(1) or 0), 5)).internal

    value = re.sub(r"@ts([+-][0-9.]+)?", ts, value)
    return re.sub(r"@md5:([^\"]*)", lambda m: hashlib.md5(m.group(1).encode()).hexdigest(), value)


def send(app, spec: dict, now: float):
    headers = {k: expand(str(v), now) for k, v in spec.get("headers", {}).items()}
    body = spec.get("body")
    req = Request.blank(path(), method=spec["method"], headers=headers)
    if body is not None:
        req.body = body.encode()
        if "Content-Length" in headers:
            req.environ["CONTENT_LENGTH"] = headers["Content-Length"]
    return req.get_response(app)


@pytest.mark.parametrize("case", load_cases())
def test_protocol_case(devices, case) -> None:
    app = make_server(devices)
    now = Timestamp.now().seconds
    for step in case.get("setup", []):
        resp = send(app, step, now)
        assert 200 <= resp.status_int < 300, (step, resp.status)
    resp = send(app, case["request"], now)
    assert resp.status_int == case["status"], resp.body
    for name, want in case.get("headers", {}).items():
        if want == "!absent":
            assert name not in resp.headers
        else:
            assert resp.headers.get(name) == expand(want, now), name
    if "body" in case:
        assert resp.body == case["body"].encode()
