"""Storage policy configs for tests: parse a ``[storage-policy:N]`` text into a collection."""

from __future__ import annotations

import configparser

from swiftlite.common import policies


def parse_policies(text: str) -> policies.StoragePolicies:
    """The collection ``text`` (swiftlite.conf policy sections) configures."""
    parser = configparser.ConfigParser(interpolation=None, default_section="\x00none")
    parser.read_string(text)
    return policies.parse(parser, "test.conf")


def numbered(count: int) -> str:
    """``count`` replicated policies: 0 the default ``Policy-0``, then ``p1``, ``p2``..."""
    text = "[storage-policy:0]\nname = Policy-0\ndefault = yes\n"
    for idx in range(1, count):
        text += f"[storage-policy:{idx}]\nname = p{idx}\n"
    return text
