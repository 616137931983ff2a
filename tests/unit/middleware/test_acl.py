"""ACL syntax and evaluation (pure functions)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from swiftlite.middleware import acl


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("bob, sue", "bob,sue"),
        ("bob,,,sue", "bob,sue"),
        (".r:*", ".r:*"),
        (".r : * , .rlistings", ".r:*,.rlistings"),
        (".referrer:example.com", ".r:example.com"),
        (".ref:*.example.com", ".r:.example.com"),
        (".r:-bad.com", ".r:-bad.com"),
        (".r : - * .example.com", ".r:-.example.com"),
        ("test:tester3", "test:tester3"),
        ("", ""),
    ],
)
def test_clean_read_acl_valid_values_normalise(raw: str, cleaned: str) -> None:
    assert acl.clean_acl("X-Container-Read", raw) == cleaned


@pytest.mark.parametrize("raw", [".r:", ".r:-", ".r:*.", " .r : ", ".unknown:thing"])
def test_clean_read_acl_bad_values_raise(raw: str) -> None:
    with pytest.raises(acl.AclError):
        acl.clean_acl("X-Container-Read", raw)


def test_clean_write_acl_with_referrer_raises() -> None:
    with pytest.raises(acl.AclError, match="Referrers not allowed"):
        acl.clean_acl("X-Container-Write", "test:tester3,.r:*")


def test_clean_write_acl_rlistings_is_kept() -> None:
    assert acl.clean_acl("X-Container-Write", ".rlistings, a") == ".rlistings,a"


@settings(deadline=None, max_examples=60)
@given(st.text(alphabet="ab.:-*r ,", max_size=30))
def test_clean_acl_is_idempotent_when_valid(raw: str) -> None:
    try:
        once = acl.clean_acl("X-Container-Read", raw)
    except acl.AclError:
        return
    assert acl.clean_acl("X-Container-Read", once) == once


@settings(deadline=None, max_examples=60)
@given(
    groups=st.lists(st.from_regex(r"[a-z0-9]{1,6}(:[a-z0-9]{1,6})?", fullmatch=True), max_size=4),
    referrers=st.lists(st.from_regex(r"-?(\*|\.?[a-z]{1,5}\.com)", fullmatch=True), max_size=4),
)
def test_parse_acl_format_acl_roundtrip(groups: list[str], referrers: list[str]) -> None:
    parsed = acl.parse_acl(acl.format_acl(groups, referrers))
    assert parsed.groups == tuple(groups)
    assert parsed.referrers == tuple(referrers)


def test_parse_acl_splits_referrers_and_groups() -> None:
    parsed = acl.parse_acl(".r:*,test:tester3,.rlistings,.r:-x.com")
    assert parsed.referrers == ("*", "-x.com")
    assert parsed.groups == ("test:tester3", ".rlistings")
    assert parsed.listings


@pytest.mark.parametrize(
    ("referer", "referrers", "allowed"),
    [
        ("http://a.example.com/p", ["*"], True),
        ("http://a.example.com/p", [".example.com"], True),
        ("http://example.com/p", [".example.com"], False),
        ("http://a.example.com/p", ["a.example.com"], True),
        ("http://b.example.com/p", ["a.example.com"], False),
        (None, ["*"], True),
        (None, ["a.example.com"], False),
        ("http://bad.com/", ["*", "-bad.com"], False),
        ("http://bad.com/", ["-bad.com", "*"], True),
        ("http://good.com/", ["*", "-bad.com"], True),
        ("http://x.com/", ["*", "-*"], True),
        ("http://x.com/", [], False),
    ],
)
def test_referrer_allowed_last_match_wins(
    referer: str | None, referrers: list[str], allowed: bool
) -> None:
    assert acl.referrer_allowed(referer, referrers) is allowed


def test_container_acl_referrer_grants_objects_and_listing_needs_rlistings() -> None:
    public = acl.parse_acl(".r:*")
    assert acl.container_acl_allows(public, (), None, is_object=True)
    assert not acl.container_acl_allows(public, (), None, is_object=False)
    listed = acl.parse_acl(".r:*,.rlistings")
    assert acl.container_acl_allows(listed, (), None, is_object=False)


def test_container_acl_group_grants_matching_user_only() -> None:
    rule = acl.parse_acl("test:tester3")
    assert acl.container_acl_allows(rule, ("test", "test:tester3"), None, is_object=False)
    assert not acl.container_acl_allows(rule, ("test", "test:tester"), None, is_object=True)


# -- account ACLs ---------------------------------------------------------------------------------
def test_parse_account_acl_valid_and_format_is_canonical() -> None:
    parsed = acl.parse_account_acl('{"read-only": ["c"], "admin": ["a", "b"]}')
    assert parsed == acl.AccountAcl(admin=("a", "b"), read_only=("c",))
    assert acl.format_account_acl(parsed) == '{"admin":["a","b"],"read-only":["c"]}'


@pytest.mark.parametrize("text", [None, "", "{}", '{"admin": []}'])
def test_parse_account_acl_empty_is_none(text: str | None) -> None:
    assert acl.parse_account_acl(text) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "Syntax error"),
        ('["admin"]', "Syntax error"),
        ('{"writers": []}', "not recognized"),
        ('{"admin": "a"}', "must be a list"),
        ('{"read-only": [1]}', "must be strings"),
    ],
)
def test_parse_account_acl_invalid_raises_with_reason(text: str, message: str) -> None:
    with pytest.raises(acl.AclError, match=message):
        acl.parse_account_acl(text)


def test_format_account_acl_non_ascii_is_escaped() -> None:
    text = acl.format_account_acl(acl.AccountAcl(read_only=("t\u00e9st:u",)))
    assert text == '{"read-only":["t\\u00e9st:u"]}'
    assert acl.parse_account_acl(text) == acl.AccountAcl(read_only=("t\u00e9st:u",))


@pytest.mark.parametrize(
    ("role", "method", "has_container", "expected"),
    [
        ("admin", "PUT", False, (True, True)),
        ("admin", "DELETE", True, (True, True)),
        ("read-write", "PUT", True, (True, False)),
        ("read-write", "DELETE", True, (True, False)),
        ("read-write", "GET", False, (True, False)),
        ("read-write", "POST", False, (False, False)),
        ("read-only", "GET", True, (True, False)),
        ("read-only", "HEAD", False, (True, False)),
        ("read-only", "PUT", True, (False, False)),
        ("read-only", "POST", True, (False, False)),
    ],
)
def test_account_acl_allows_by_role(
    role: str, method: str, has_container: bool, expected: tuple[bool, bool]
) -> None:
    rule = acl.account_acl_from_dict({role: ["test:tester3"]})
    groups = ("test", "test:tester3")
    assert acl.account_acl_allows(rule, groups, method, has_container) == expected
    assert acl.account_acl_allows(rule, ("x", "x:y"), method, has_container) == (False, False)


def test_account_acl_allows_without_acl_denies() -> None:
    assert acl.account_acl_allows(None, ("test",), "GET", True) == (False, False)


def test_clean_acl_keeps_a_name_ending_in_u5605_whole():
    # the WSGI form of "test:t\u5605" ends in the byte 0x85, which str.strip() would eat
    name = "test:t\u5605".encode().decode("latin-1")
    assert acl.clean_acl("X-Container-Read", f" {name} ,.rlistings") == f"{name},.rlistings"
    assert acl.parse_acl(name).groups == (name,)


def test_clean_acl_star_dash_is_refused_not_cleaned_to_a_bare_negation():
    # found by test_clean_acl_is_idempotent_when_valid: ".r:*-" cleaned to ".r:-", which the
    # next clean refused
    with pytest.raises(acl.AclError, match="No host/domain value"):
        acl.clean_acl("X-Container-Read", ".r:*-")
