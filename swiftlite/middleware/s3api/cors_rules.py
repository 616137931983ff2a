"""Bucket CORS rules: S3's ``CORSConfiguration`` read and checked, stored, mapped, matched.

Everything here is pure (no requests). ``parse`` reads a PutBucketCors body as S3 checks it;
``to_xml`` writes GetBucketCors's answer; ``encode``/``decode`` keep the rules in container
sysmeta (compact JSON split over ``X-Container-Sysmeta-S3api-Cors-<n>`` headers, each under the
proxy's header size limit); ``swift_meta`` derives the container's Swift CORS metadata and
``from_swift`` reads that metadata back as one rule when no S3 document is stored;
``match`` picks the first rule that allows an origin, method and request headers.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

from swiftlite.common import intparse
from swiftlite.middleware.s3api import xmlio
from swiftlite.middleware.s3api.errors import S3Error
from swiftlite.middleware.s3api.responses import parse_xml

SYSMETA = "X-Container-Sysmeta-S3api-Cors-"
META = "X-Container-Meta-Access-Control-"
META_NAMES = ("Allow-Origin", "Expose-Headers", "Max-Age")
METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
MAX_RULES = 100
MAX_DOCUMENT = 65536  # S3: a CORS configuration is at most 64 KB
CHUNK = 4000  # bytes of stored JSON per sysmeta header
MAX_CHUNKS = MAX_DOCUMENT // CHUNK * 2 + 2  # compact JSON of a 64 KB document fits (escapes too)
SWIFT_META_VALUE = 256  # Swift's max_meta_value_length
# XML element -> Rule attribute, for the repeated elements of a CORSRule
LISTS = {
    "AllowedOrigin": "origins",
    "AllowedMethod": "methods",
    "AllowedHeader": "headers",
    "ExposeHeader": "expose",
}
ELEMENTS = frozenset(LISTS) | {"ID", "MaxAgeSeconds"}


@dataclass
class Rule:
    """One CORSRule."""

    origins: list[str]
    methods: list[str]
    headers: list[str] = field(default_factory=list)
    expose: list[str] = field(default_factory=list)
    max_age: int | None = None
    rule_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"o": self.origins, "m": self.methods}
        if self.headers:
            out["h"] = self.headers
        if self.expose:
            out["e"] = self.expose
        if self.max_age is not None:
            out["a"] = self.max_age
        if self.rule_id is not None:
            out["i"] = self.rule_id
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Rule:
        return cls(
            origins=[str(v) for v in data.get("o", [])],
            methods=[str(v) for v in data.get("m", [])],
            headers=[str(v) for v in data.get("h", [])],
            expose=[str(v) for v in data.get("e", [])],
            max_age=int(data["a"]) if data.get("a") is not None else None,
            rule_id=str(data["i"]) if data.get("i") is not None else None,
        )


def _printable(value: str) -> bool:
    return bool(value) and all(" " < ch <= "~" for ch in value)


def _invalid(message: str) -> S3Error:
    return S3Error("InvalidRequest", message)


def _check_values(values: dict[str, list[str]]) -> None:
    """InvalidRequest for a method S3 does not allow or an origin/header value it refuses."""
    for method in values["methods"]:
        if method not in METHODS:
            raise _invalid(
                "Found unsupported HTTP method in CORS config. Unsupported method is "
                + (method if _printable(method) else "(unprintable)")
            )
    for tag in ("AllowedOrigin", "AllowedHeader", "ExposeHeader"):
        for value in values[LISTS[tag]]:
            if not _printable(value):
                raise _invalid(f"Found unsupported {tag} in CORS config.")
            if value.count("*") > 1:
                raise _invalid(f'{tag} "{value}" can not have more than one wildcard.')
            if tag == "ExposeHeader" and "*" in value:
                raise _invalid(
                    f'ExposeHeader "{value}" contains wildcard. We currently do not support '
                    "wildcard for ExposeHeader."
                )


def _rule(elem: ET.Element) -> Rule:
    values: dict[str, list[str]] = {name: [] for name in LISTS.values()}
    for child in elem:
        tag = xmlio.local(child.tag)
        if tag not in ELEMENTS:
            raise S3Error("MalformedXML")
        if tag in LISTS:
            values[LISTS[tag]].append((child.text or "").strip())
    if not values["origins"] or not values["methods"]:
        raise S3Error("MalformedXML")
    _check_values(values)
    max_age = xmlio.text(elem, "MaxAgeSeconds")
    if max_age is not None and not intparse.is_digits(max_age):  # int() cannot read 5000
        raise S3Error("MalformedXML")
    rule_id = xmlio.text(elem, "ID")
    if rule_id is not None and len(rule_id) > 255:
        raise _invalid("The ID of a CORSRule is longer than 255 characters.")
    return Rule(
        origins=values["origins"],
        methods=values["methods"],
        headers=values["headers"],
        expose=values["expose"],
        max_age=int(max_age) if max_age is not None else None,
        rule_id=rule_id,
    )


def parse(body: bytes) -> list[Rule]:
    """The rules of a PutBucketCors body; MalformedXML / InvalidRequest as S3 answers."""
    if len(body) > MAX_DOCUMENT:
        raise S3Error("MalformedXML")
    root = parse_xml(body, "CORSConfiguration")
    if any(xmlio.local(child.tag) != "CORSRule" for child in root):
        raise S3Error("MalformedXML")
    rules = [_rule(elem) for elem in root]
    if not rules or len(rules) > MAX_RULES:
        raise S3Error("MalformedXML")
    return rules


def to_xml(rules: list[Rule]) -> ET.Element:
    """GetBucketCors's document."""
    root = xmlio.Element("CORSConfiguration")
    for rule in rules:
        elem = xmlio.sub(root, "CORSRule")
        if rule.rule_id is not None:
            xmlio.sub(elem, "ID", rule.rule_id)
        for tag, name in LISTS.items():
            for value in getattr(rule, name):
                xmlio.sub(elem, tag, value)
        if rule.max_age is not None:
            xmlio.sub(elem, "MaxAgeSeconds", rule.max_age)
    return root


def encode(rules: list[Rule]) -> dict[str, str]:
    """Sysmeta headers holding ``rules`` (ASCII JSON in chunks; unused chunks emptied)."""
    text = json.dumps([r.as_json() for r in rules], separators=(",", ":"), ensure_ascii=True)
    pieces = [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)]
    if len(pieces) > MAX_CHUNKS:
        raise S3Error("MalformedXML")
    return {f"{SYSMETA}{n}": pieces[n] if n < len(pieces) else "" for n in range(MAX_CHUNKS)}


def cleared() -> dict[str, str]:
    """Headers that remove every stored rule and the Swift CORS metadata."""
    headers = {f"{SYSMETA}{n}": "" for n in range(MAX_CHUNKS)}
    headers.update({META + name: "" for name in META_NAMES})
    return headers


def decode(sysmeta: dict[str, str]) -> list[Rule]:
    """Rules back from a container's sysmeta dict (names without ``X-Container-Sysmeta-``,
    any case); none when nothing (or nothing readable) is stored."""
    lowered = {k.lower(): v for k, v in sysmeta.items()}
    parts = []
    for n in range(MAX_CHUNKS):
        piece = lowered.get(f"s3api-cors-{n}")
        if not piece:
            break
        parts.append(piece)
    if not parts:
        return []
    try:
        data = json.loads("".join(parts))
        return [Rule.from_json(item) for item in data]
    except (ValueError, TypeError, AttributeError):
        return []


def _fit(values: list[str]) -> str:
    """Space-joined unique values, as many as fit Swift's metadata value limit."""
    out: list[str] = []
    size = -1
    for value in dict.fromkeys(values):
        if size + 1 + len(value) > SWIFT_META_VALUE:
            break
        out.append(value)
        size += 1 + len(value)
    return " ".join(out)


def swift_meta(rules: list[Rule]) -> dict[str, str]:
    """The Swift CORS metadata closest to ``rules`` (see docs/s3api.md for what is lost).

    Swift allows an origin exactly or ``*``: origins with a partial wildcard are left out.
    Its one ``Max-Age`` is the smallest ``MaxAgeSeconds`` of the rules; exposed headers are
    the union."""
    origins = [o for r in rules for o in r.origins if o == "*" or "*" not in o]
    if "*" in origins:
        origins = ["*"]
    ages = [r.max_age for r in rules if r.max_age is not None]
    return {
        META + "Allow-Origin": _fit(origins),
        META + "Expose-Headers": _fit([h for r in rules for h in r.expose]),
        META + "Max-Age": str(min(ages)) if ages else "",
    }


def from_swift(meta: dict[str, str]) -> list[Rule]:
    """The one rule a container's Swift CORS metadata means (none without allowed origins).

    ``meta`` is the info dict's user metadata (names without ``X-Container-Meta-``)."""
    lowered = {k.lower(): v for k, v in meta.items()}
    origins = (lowered.get("access-control-allow-origin") or "").split()
    if not origins:
        return []
    age = (lowered.get("access-control-max-age") or "").strip()
    return [
        Rule(
            origins=origins,
            methods=list(METHODS),
            headers=["*"],
            expose=(lowered.get("access-control-expose-headers") or "").split(),
            max_age=int(age) if intparse.is_digits(age) else None,
        )
    ]


def _wild_match(pattern: str, value: str, fold: bool) -> bool:
    if fold:
        pattern, value = pattern.lower(), value.lower()
    if "*" not in pattern:
        return pattern == value
    return fnmatchcase(value, pattern.replace("[", "[[]").replace("?", "[?]"))


def match(rules: list[Rule], origin: str, method: str, headers: list[str]) -> Rule | None:
    """The first rule allowing ``origin`` (case-sensitive, one ``*`` wildcard), ``method``
    and every one of ``headers`` (case-insensitive); None when no rule does, or when the
    origin or a header is not printable ASCII (what matches is echoed in headers)."""
    if not _printable(origin) or not all(_printable(h) for h in headers):
        return None
    for rule in rules:
        if method not in rule.methods:
            continue
        if not any(_wild_match(o, origin, fold=False) for o in rule.origins):
            continue
        if all(any(_wild_match(a, h, fold=True) for a in rule.headers) for h in headers):
            return rule
    return None
