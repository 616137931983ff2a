"""Container and account ACLs: parse, clean, format and evaluate (pure; no I/O, no HTTP).

Container ACLs (``X-Container-Read`` / ``X-Container-Write``) are Swift's "V1" syntax: a comma
list of elements. ``.r:<host>`` (also spelled ``.ref:``, ``.referer:``, ``.referrer:``) grants
by the Referer's host: ``*`` any, ``.example.com`` a domain suffix, ``-host`` a denial; the
last matching element wins. ``.rlistings`` lets referrer-granted requests list the container
too. Anything else names a group: ``<account>:<user>`` or ``<account>`` for tempauth.
Referrer elements are refused in write ACLs.

Account ACLs (``X-Account-Access-Control``) are Swift's "V2" syntax: a JSON object whose keys
are ``admin``, ``read-write`` and ``read-only``, each a list of group names.

tempauth uses this module; it must stay free of webob and of any knowledge of requests.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

REFERRER_DESIGNATORS = frozenset({".r", ".ref", ".referer", ".referrer"})
RLISTINGS = ".rlistings"
ACCOUNT_ACL_ROLES = ("admin", "read-write", "read-only")

# Only SP and HT are whitespace in a header value. str.strip() would also eat \x85 and \xa0,
# which are UTF-8 continuation bytes in the WSGI form of a value (U+5605 ends in 0x85).
OWS = " \t"


class AclError(ValueError):
    """An ACL value that breaks the syntax rules; the message says why (it goes in a 400)."""


def clean_acl(header_name: str, value: str) -> str:
    """Normalise a container ACL header value, or raise AclError.

    Spaces around elements and around the ``:`` are removed, empty elements dropped, referrer
    spellings become ``.r:``, and ``*.example.com`` becomes ``.example.com``.
    """
    is_write = "write" in header_name.lower()
    cleaned: list[str] = []
    for raw in value.split(","):
        element = raw.strip(OWS)
        if not element:
            continue
        if ":" not in element:
            cleaned.append(element)
            continue
        first, second = (part.strip(OWS) for part in element.split(":", 1))
        if not first.startswith("."):
            cleaned.append(element)
            continue
        if first not in REFERRER_DESIGNATORS:
            raise AclError(f"Unknown designator {first!r} in ACL: {element!r}")
        if is_write:
            raise AclError(f"Referrers not allowed in write ACL: {element!r}")
        negate = second.startswith("-")
        if negate:
            second = second[1:].strip(OWS)
        if second != "*" and second.startswith("*"):
            second = second[1:].strip(OWS)
        if not second or second == "." or second.startswith("-"):
            # ".r:*-" would clean to ".r:-", which reads back as a negation of nothing
            raise AclError(f"No host/domain value after referrer designation in ACL: {element!r}")
        cleaned.append(".r:" + ("-" if negate else "") + second)
    return ",".join(cleaned)


@dataclass(frozen=True)
class ContainerAcl:
    """A parsed V1 ACL: referrer designations (without ``.r:``) and group names."""

    referrers: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()

    @property
    def listings(self) -> bool:
        return RLISTINGS in self.groups


def parse_acl(value: str | None) -> ContainerAcl:
    """Split a cleaned V1 ACL into referrers and groups; None or "" is the empty ACL."""
    if not value:
        return ContainerAcl()
    referrers: list[str] = []
    groups: list[str] = []
    for element in value.split(","):
        element = element.strip(OWS)
        if not element:
            continue
        if element.startswith(".r:"):
            referrers.append(element[3:])
        else:
            groups.append(element)
    return ContainerAcl(tuple(referrers), tuple(groups))


def format_acl(groups: Iterable[str] = (), referrers: Iterable[str] = ()) -> str:
    """The V1 string for these groups and referrer designations."""
    return ",".join([*(f".r:{r}" for r in referrers), *groups])


def _host_matches(pattern: str, host: str) -> bool:
    return pattern == "*" or pattern == host or (pattern.startswith(".") and host.endswith(pattern))


def referrer_allowed(referer: str | None, referrers: Sequence[str]) -> bool:
    """Whether the Referer header's host passes the referrer designations (last match wins)."""
    if not referrers:
        return False
    try:
        host = urllib.parse.urlparse(referer or "").hostname or "unknown"
    except ValueError:
        host = "unknown"
    allowed = False
    for pattern in referrers:
        if pattern.startswith("-"):
            if pattern[1:] != "*" and _host_matches(pattern[1:], host):
                allowed = False
        elif _host_matches(pattern, host):
            allowed = True
    return allowed


def container_acl_allows(
    acl: ContainerAcl, user_groups: Iterable[str], referer: str | None, is_object: bool
) -> bool:
    """V1 evaluation: a referrer grant (objects, or listings with ``.rlistings``) or a group."""
    if referrer_allowed(referer, acl.referrers) and (is_object or acl.listings):
        return True
    return any(group in acl.groups for group in user_groups)


# -- account ACLs (V2) -------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountAcl:
    """A tempauth account ACL: the groups holding each role."""

    admin: tuple[str, ...] = ()
    read_write: tuple[str, ...] = ()
    read_only: tuple[str, ...] = ()

    def is_empty(self) -> bool:
        return not (self.admin or self.read_write or self.read_only)

    def as_dict(self) -> dict[str, list[str]]:
        """Only the roles that hold someone, as the JSON object clients send."""
        full = {
            "admin": list(self.admin),
            "read-write": list(self.read_write),
            "read-only": list(self.read_only),
        }
        return {role: members for role, members in full.items() if members}


def account_acl_from_dict(data: Mapping[str, object]) -> AccountAcl:
    """Validate the JSON object's keys and values; raise AclError naming the first problem."""
    for key in data:
        if key not in ACCOUNT_ACL_ROLES:
            raise AclError(f"Key {json.dumps(key)} not recognized")
    members: dict[str, tuple[str, ...]] = {}
    for role in ACCOUNT_ACL_ROLES:
        value = data.get(role, [])
        if not isinstance(value, list):
            raise AclError(f"Value for key {json.dumps(role)} must be a list")
        if not all(isinstance(item, str) for item in value):
            raise AclError(f"Elements of {json.dumps(role)} list must be strings")
        members[role] = tuple(value)  # type: ignore[arg-type]
    return AccountAcl(members["admin"], members["read-write"], members["read-only"])


def parse_account_acl(text: str | None) -> AccountAcl | None:
    """Parse an ``X-Account-Access-Control`` value; None for an absent or empty one.

    Raises AclError on invalid JSON, a non-object, unknown keys or badly typed members.
    """
    if text is None or text.strip(OWS) in ("", "{}"):
        return None
    try:
        data = json.loads(text)
    except ValueError:
        raise AclError(f"Syntax error in input ({text!r})") from None
    if not isinstance(data, dict):
        raise AclError(f"Syntax error in input ({text!r})")
    acl = account_acl_from_dict(data)
    return None if acl.is_empty() else acl


def format_account_acl(acl: AccountAcl | None) -> str:
    """Canonical compact JSON (ASCII, sorted keys); "" for no ACL, which clears it."""
    if acl is None or acl.is_empty():
        return ""
    return json.dumps(acl.as_dict(), ensure_ascii=True, separators=(",", ":"), sort_keys=True)


def account_acl_allows(
    acl: AccountAcl | None, user_groups: Iterable[str], method: str, has_container: bool
) -> tuple[bool, bool]:
    """(allowed, owner) for a user under an account ACL.

    ``admin`` may do anything and is an owner; ``read-write`` may do anything to containers
    and objects but only read the account; ``read-only`` may only GET and HEAD.
    """
    if acl is None:
        return False, False
    groups = set(user_groups)
    if groups.intersection(acl.admin):
        return True, True
    reading = method in ("GET", "HEAD")
    if groups.intersection(acl.read_write) and (has_container or reading):
        return True, False
    if groups.intersection(acl.read_only) and reading:
        return True, False
    return False, False
