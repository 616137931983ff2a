"""Bucket CORS rules: parse and validate as S3, store, map to Swift's metadata, match."""

from __future__ import annotations

import pytest

from swiftlite.middleware.s3api import cors_rules
from swiftlite.middleware.s3api.cors_rules import Rule
from swiftlite.middleware.s3api.errors import S3Error

NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def _doc(*rules: str) -> bytes:
    body = "".join(f"<CORSRule>{r}</CORSRule>" for r in rules)
    return f"<CORSConfiguration {NS}>{body}</CORSConfiguration>".encode()


def _code(body: bytes) -> tuple[str, str]:
    with pytest.raises(S3Error) as exc:
        cors_rules.parse(body)
    return exc.value.code, exc.value.message


def test_parse_full_rule() -> None:
    rules = cors_rules.parse(
        _doc(
            "<ID>web</ID><AllowedOrigin>https://a.example</AllowedOrigin>"
            "<AllowedOrigin>http://*.b.example</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
            "<AllowedMethod>PUT</AllowedMethod><AllowedHeader>*</AllowedHeader>"
            "<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>600</MaxAgeSeconds>",
            "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod>",
        )
    )
    assert rules == [
        Rule(
            origins=["https://a.example", "http://*.b.example"],
            methods=["GET", "PUT"],
            headers=["*"],
            expose=["ETag"],
            max_age=600,
            rule_id="web",
        ),
        Rule(origins=["*"], methods=["HEAD"]),
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"<CORSConfiguration",
        b"<Other/>",
        _doc(),
        _doc("<AllowedMethod>GET</AllowedMethod>"),
        _doc("<AllowedOrigin>*</AllowedOrigin>"),
        _doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><Bogus/>"),
        _doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>").replace(
            b"<CORSRule>", b"<Junk/><CORSRule>", 1
        ),
        _doc(
            "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
            "<MaxAgeSeconds>-1</MaxAgeSeconds>"
        ),
        _doc(*["<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"] * 101),
    ],
)
def test_parse_malformed(body: bytes) -> None:
    assert _code(body)[0] == "MalformedXML"


def test_parse_limits_and_bad_values() -> None:
    ok = "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
    assert len(cors_rules.parse(_doc(*[ok] * 100))) == 100
    code, message = _code(
        _doc("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>")
    )
    assert code == "InvalidRequest"
    assert message.endswith("Unsupported method is PATCH")
    code, message = _code(_doc(ok + "<AllowedHeader>x-*-*</AllowedHeader>"))
    assert code == "InvalidRequest"
    assert "more than one wildcard" in message
    code, message = _code(_doc(ok + "<ExposeHeader>x-*</ExposeHeader>"))
    assert code == "InvalidRequest"
    assert "wildcard for ExposeHeader" in message
    code, _ = _code(_doc("<AllowedOrigin>a b</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"))
    assert code == "InvalidRequest"
    assert _code(b"")[0] == "MissingRequestBodyError"


def test_xml_and_storage_round_trip() -> None:
    rules = [
        Rule(["https://a.example"], ["GET"], ["x-amz-*"], ["ETag"], 30, "one"),
        Rule(["*"], ["PUT", "POST"]),
    ]
    body = cors_rules.to_xml(rules)
    from swiftlite.middleware.s3api import xmlio

    assert cors_rules.parse(xmlio.dumps(body)) == rules
    headers = cors_rules.encode(rules)
    assert all(len(v) <= cors_rules.CHUNK for v in headers.values())
    sysmeta = {k[len("X-Container-Sysmeta-") :]: v for k, v in headers.items() if v}
    assert cors_rules.decode(sysmeta) == rules
    assert cors_rules.decode({}) == []
    assert cors_rules.decode({"S3api-Cors-0": "{not json"}) == []


def test_big_document_is_split_over_headers() -> None:
    rules = [
        Rule([f"https://host{n}.example.com"], ["GET", "PUT"], ["*"], [f"x-amz-meta-h{n}"], n)
        for n in range(100)
    ]
    headers = cors_rules.encode(rules)
    used = {k: v for k, v in headers.items() if v}
    assert len(used) > 1
    assert all(len(v) <= cors_rules.CHUNK for v in used.values())
    sysmeta = {k[len("X-Container-Sysmeta-") :].lower(): v for k, v in used.items()}
    assert cors_rules.decode(sysmeta) == rules
    assert set(cors_rules.cleared()) >= set(headers)


def test_swift_meta_mapping() -> None:
    meta = cors_rules.swift_meta(
        [
            Rule(
                ["https://a.example", "https://*.b.example"], ["GET"], expose=["ETag"], max_age=600
            ),
            Rule(
                ["https://c.example", "https://a.example"],
                ["PUT"],
                expose=["x-amz-request-id"],
                max_age=60,
            ),
        ]
    )
    assert meta == {
        "X-Container-Meta-Access-Control-Allow-Origin": "https://a.example https://c.example",
        "X-Container-Meta-Access-Control-Expose-Headers": "ETag x-amz-request-id",
        "X-Container-Meta-Access-Control-Max-Age": "60",
    }
    star = cors_rules.swift_meta([Rule(["https://a.example"], ["GET"]), Rule(["*"], ["GET"])])
    assert star["X-Container-Meta-Access-Control-Allow-Origin"] == "*"
    assert star["X-Container-Meta-Access-Control-Max-Age"] == ""
    many = cors_rules.swift_meta([Rule([f"https://host{n}.example" for n in range(50)], ["GET"])])
    value = many["X-Container-Meta-Access-Control-Allow-Origin"]
    assert 0 < len(value) <= cors_rules.SWIFT_META_VALUE
    assert value.split() == [f"https://host{n}.example" for n in range(len(value.split()))]


def test_from_swift() -> None:
    assert cors_rules.from_swift({}) == []
    (rule,) = cors_rules.from_swift(
        {
            "Access-Control-Allow-Origin": "https://a.example https://b.example",
            "Access-Control-Expose-Headers": "etag",
            "Access-Control-Max-Age": "5",
        }
    )
    assert rule.origins == ["https://a.example", "https://b.example"]
    assert rule.methods == list(cors_rules.METHODS)
    assert (rule.headers, rule.expose, rule.max_age) == (["*"], ["etag"], 5)


@pytest.mark.parametrize("age", ["\u00b2", "9" * 5000, "-1", "5s"])
def test_from_swift_ignores_a_max_age_that_is_not_a_number(age) -> None:
    meta = {"Access-Control-Allow-Origin": "*", "Access-Control-Max-Age": age}
    (rule,) = cors_rules.from_swift(meta)
    assert rule.max_age is None


def test_parse_refuses_a_max_age_of_5000_digits() -> None:
    with pytest.raises(S3Error) as exc:
        cors_rules.parse(
            _doc(
                "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
                f"<MaxAgeSeconds>{'9' * 5000}</MaxAgeSeconds>"
            )
        )
    assert exc.value.code == "MalformedXML"


def test_match() -> None:
    first = Rule(["https://*.a.example"], ["GET", "PUT"], ["x-amz-*", "Content-Type"])
    second = Rule(["*"], ["GET"])
    rules = [first, second]
    assert cors_rules.match(rules, "https://w.a.example", "PUT", ["content-type"]) is first
    assert cors_rules.match(rules, "https://w.a.example", "PUT", ["X-Amz-Date"]) is first
    assert cors_rules.match(rules, "https://w.a.example", "PUT", ["authorization"]) is None
    assert cors_rules.match(rules, "https://w.a.example", "GET", ["authorization"]) is None
    assert cors_rules.match(rules, "https://w.a.example", "GET", []) is first
    assert cors_rules.match(rules, "https://other", "GET", []) is second
    assert cors_rules.match(rules, "https://other", "DELETE", []) is None
    assert cors_rules.match(rules, "HTTPS://W.A.EXAMPLE", "PUT", []) is None  # origins: exact case
    literal = [Rule(["https://[x]?.example"], ["GET"])]
    assert cors_rules.match(literal, "https://[x]?.example", "GET", []) is literal[0]
    assert cors_rules.match(literal, "https://xy.example", "GET", []) is None


def test_match_refuses_what_cannot_be_echoed() -> None:
    rules = [Rule(["https://*.example"], ["GET"], ["*"])]
    assert cors_rules.match(rules, "https://a.example", "GET", ["x-ok"]) is rules[0]
    assert cors_rules.match(rules, "https://a\tb.example", "GET", []) is None
    assert cors_rules.match(rules, "https://\xe9.example", "GET", []) is None
    assert cors_rules.match(rules, "https://a.example", "GET", ["x-\xe9"]) is None
