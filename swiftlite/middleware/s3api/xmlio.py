"""XML in and out for S3, with ElementTree.

Out: ``Element``/``sub`` build a tree in S3's namespace and ``dumps`` writes it with the XML
declaration. In: ``parse`` reads a client's body, refusing DTDs and entities (no entity
expansion or external fetches) and anything ill-formed as ``MalformedXML``; ``find``/``text``
look up children whatever namespace the client used.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

NS = "http://s3.amazonaws.com/doc/2006-03-01/"
MAX_BODY = 2 * 1024 * 1024


class XmlError(ValueError):
    """The client's XML is not acceptable (the caller answers MalformedXML)."""


def Element(tag: str, ns: bool = True) -> ET.Element:
    """A root element, in S3's namespace unless ``ns`` is false."""
    elem = ET.Element(tag)
    if ns:
        elem.set("xmlns", NS)
    return elem


def sub(parent: ET.Element, tag: str, text: str | int | None = None) -> ET.Element:
    """A child ``tag`` of ``parent`` holding ``text`` (ints as decimal)."""
    child = ET.SubElement(parent, tag)
    if text is not None:
        child.text = _clean(str(text))
    return child


def _clean(text: str) -> str:
    """XML 1.0 cannot carry most control characters; S3 names may: escape them visibly."""
    if all(c >= " " or c in "\t\n\r" for c in text):
        return text
    return "".join(c if c >= " " or c in "\t\n\r" else f"&#x{ord(c):x};" for c in text)


def dumps(root: ET.Element) -> bytes:
    """The document with its XML declaration, UTF-8."""
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="utf-8")


def parse(body: bytes) -> ET.Element:
    """The root of a client's XML body; XmlError when it is not plain, well-formed XML."""
    if len(body) > MAX_BODY:
        raise XmlError("too large")
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise XmlError("DTDs are not allowed")
    try:
        return ET.fromstring(body)  # noqa: S314
    except (ET.ParseError, ValueError) as exc:
        raise XmlError(str(exc)) from None


def local(tag: str) -> str:
    """A tag's name without its ``{namespace}``."""
    return tag.rsplit("}", 1)[-1]


def children(elem: ET.Element, name: str) -> Iterator[ET.Element]:
    """Direct children named ``name`` in any namespace."""
    for child in elem:
        if local(child.tag) == name:
            yield child


def find(elem: ET.Element, name: str) -> ET.Element | None:
    """The first direct child named ``name``, or None."""
    return next(children(elem, name), None)


def text(elem: ET.Element, name: str, default: str | None = None) -> str | None:
    """The text of the first child ``name`` (stripped), or ``default``."""
    child = find(elem, name)
    if child is None:
        return default
    return (child.text or "").strip()
