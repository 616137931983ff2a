"""Storage policies: the ``[storage-policy:N]`` sections of swiftlite.conf, parsed and checked.

A policy is an index (its number, stored in container databases and sent to the backends as
``X-Backend-Storage-Policy-Index``), a name and aliases (what clients pass in
``X-Storage-Policy``, matched case-insensitively), a ``default`` flag (the policy of a container
created without ``X-Storage-Policy``), a ``deprecated`` flag (existing containers keep working,
new ones cannot choose it) and a ``policy_type``. Only ``replication`` exists today; code that
behaves differently per type switches on ``policy_type`` so erasure coding can join later.

Where a policy's data lives is named here too: ring ``object.ring.gz`` for 0 and
``object-N.ring.gz`` for N, and on a device ``objects``/``async_pending``/``tmp`` for 0 and
``objects-N``/``async_pending-N``/``tmp-N`` for N (Swift's layout).

The checks are Swift's: indexes are non-negative integers; policy 0 always exists (an
implicit ``Policy-0`` when no section is configured, a required section when others are); names
and aliases are unique (case-insensitively) and use letters, digits and ``-``; ``Policy-0``
belongs to index 0 only; exactly one policy is the default (a lone policy is the default without
saying so) and it is not deprecated. Every error is a ``ConfigError`` naming the section.
"""

from __future__ import annotations

import configparser
import dataclasses
import functools
import os
import string
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from swiftlite.common import config, errors, intparse
from swiftlite.common.errors import ConfigError
from swiftlite.common.names import quote_text

REPLICATION = "replication"
EC = "erasure_coding"
POLICY_TYPES = frozenset({REPLICATION})  # EC: parsed by name, refused until it is built
SECTION_PREFIX = "storage-policy:"
LEGACY_NAME = "Policy-0"
INDEX_HEADER = "X-Backend-Storage-Policy-Index"
DEFAULT_HEADER = "X-Backend-Storage-Policy-Default"
_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "-")
_KEYS = frozenset({"name", "aliases", "default", "deprecated", "policy_type"})


@dataclass(frozen=True)
class StoragePolicy:
    """One policy; ``aliases`` holds every name it answers to, its ``name`` first."""

    idx: int
    name: str
    aliases: tuple[str, ...]
    is_default: bool = False
    is_deprecated: bool = False
    policy_type: str = REPLICATION

    @property
    def ring_name(self) -> str:
        """``object`` for policy 0, ``object-N`` otherwise (the ring is ``<ring_name>.ring.gz``)."""
        return ring_name(self.idx)

    def ring_path(self, swift_dir: str) -> str:
        return os.path.join(swift_dir, f"{self.ring_name}.ring.gz")

    def info(self) -> dict[str, Any]:
        """This policy as ``/info`` shows it (Swift: ``default`` only on the default)."""
        out: dict[str, Any] = {
            "name": self.name,
            "aliases": ", ".join(self.aliases),
            "policy_type": self.policy_type,
        }
        if self.is_default:
            out["default"] = True
        return out


def ring_name(idx: int) -> str:
    """The object ring name of a policy index: ``object`` for 0, ``object-N`` for N."""
    return dir_name("object", idx)


def backend_policy(headers: Mapping[str, str]) -> int:
    """The policy index a backend request names (0 without one); ``Unavailable`` (503, as
    Swift answers: the proxy tries elsewhere) for an index no policy here has."""
    value = headers.get(INDEX_HEADER)
    if value is None or value == "0":  # every parsed config has a policy 0: no stat needed
        return 0
    policy = load().get_by_index(value) if value.isascii() and value.isdigit() else None
    if policy is None:
        raise errors.Unavailable(f"No policy with index {quote_text(value)}")
    return policy.idx


def dir_name(base: str, idx: int) -> str:
    """A per-policy directory name: ``objects`` for 0, ``objects-N`` for N (same for others)."""
    return base if idx == 0 else f"{base}-{idx}"


def parse_dir_name(base: str, name: str) -> int | None:
    """The policy index of ``objects`` / ``objects-N`` (for ``base`` objects); else None."""
    if name == base:
        return 0
    prefix = base + "-"
    if name.startswith(prefix) and name[len(prefix) :].isdigit():
        return int(name[len(prefix) :])
    return None


def policy_dirs(root: str, base: str) -> list[tuple[int, str]]:
    """(policy index, path) of each ``base`` / ``base-N`` directory in ``root``, by index."""
    try:
        names = os.listdir(root)
    except OSError:
        return []
    found = [
        (i, os.path.join(root, n)) for n in names if (i := parse_dir_name(base, n)) is not None
    ]
    return sorted(found)


class StoragePolicies:
    """The cluster's policies, by index and by any name (case-insensitive)."""

    def __init__(self, policies: list[StoragePolicy]) -> None:
        self._by_index = {p.idx: p for p in sorted(policies, key=lambda p: p.idx)}
        self._by_name = {alias.upper(): p for p in policies for alias in p.aliases}
        self.default = next(p for p in policies if p.is_default)

    def __iter__(self) -> Iterator[StoragePolicy]:
        return iter(self._by_index.values())

    def __len__(self) -> int:
        return len(self._by_index)

    def __contains__(self, idx: object) -> bool:
        return idx in self._by_index

    def get_by_index(self, idx: int | str | None) -> StoragePolicy | None:
        """The policy of an index (int or its decimal text); None or ``""`` is policy 0."""
        if idx is None or idx == "":
            return self._by_index.get(0)
        if isinstance(idx, str):
            try:  # ASCII digits only ("²".isdigit() is True), and not 5,000 of them
                idx = intparse.parse_uint(idx.strip())
            except ValueError:
                return None
        return self._by_index.get(idx)

    def get_by_name(self, name: str) -> StoragePolicy | None:
        return self._by_name.get(name.strip().upper())

    def info(self) -> list[dict[str, Any]]:
        """``/info``'s ``policies``: every policy that is not deprecated."""
        return [p.info() for p in self if not p.is_deprecated]


def _check_name(name: str, where: str, what: str = "name") -> None:
    if not name:
        raise ConfigError(f"{where}: {what} must not be empty")
    if not set(name) <= _NAME_CHARS:
        raise ConfigError(f"{where}: {what} {name!r} may hold only letters, digits and '-'")


def _flag(options: dict[str, str], key: str, where: str) -> bool:
    raw = options.get(key, "false").strip().lower()
    if raw in ("true", "1", "yes", "on", "t", "y"):
        return True
    if raw in ("false", "0", "no", "off", "f", "n", ""):
        return False
    raise ConfigError(f"{where}: {key} must be true or false, not {raw!r}")


def _one(idx: int, options: dict[str, str], where: str) -> StoragePolicy:
    unknown = sorted(set(options) - _KEYS)
    if unknown:
        raise ConfigError(f"{where}: unknown option {unknown[0]!r}")
    policy_type = options.get("policy_type", REPLICATION).strip()
    if policy_type not in POLICY_TYPES:
        raise ConfigError(f"{where}: unsupported policy_type {policy_type!r}")
    name = options.get("name", LEGACY_NAME if idx == 0 else "").strip()
    _check_name(name, where)
    aliases = [name]
    for alias in options.get("aliases", "").split(","):
        alias = alias.strip()
        if not alias:
            continue
        _check_name(alias, where, "alias")
        if alias.upper() in (a.upper() for a in aliases):
            if alias.upper() == name.upper():
                continue  # repeating the name among the aliases is harmless
            raise ConfigError(f"{where}: duplicate alias {alias!r}")
        aliases.append(alias)
    if idx != 0 and any(a.upper() == LEGACY_NAME.upper() for a in aliases):
        raise ConfigError(f"{where}: the name {LEGACY_NAME} is reserved for policy index 0")
    return StoragePolicy(
        idx,
        name,
        tuple(aliases),
        is_default=_flag(options, "default", where),
        is_deprecated=_flag(options, "deprecated", where),
        policy_type=policy_type,
    )


def parse(parser: configparser.ConfigParser, path: str = "swiftlite.conf") -> StoragePolicies:
    """The policies of a parsed swiftlite.conf; ConfigError naming the section when wrong."""
    found: list[tuple[StoragePolicy, str]] = []
    for section in parser.sections():
        if not section.startswith(SECTION_PREFIX):
            continue
        where = f"{path} [{section}]"
        raw = section[len(SECTION_PREFIX) :]
        if not raw.isdigit():
            raise ConfigError(f"{where}: the policy index must be a non-negative integer")
        found.append((_one(int(raw), dict(parser.items(section, raw=True)), where), where))
    if not found:
        found.append((StoragePolicy(0, LEGACY_NAME, (LEGACY_NAME,), True), path))
    elif not any(p.idx == 0 for p, _ in found):
        raise ConfigError(
            f"{found[0][1]}: define [{SECTION_PREFIX}0] too: policy 0 is needed with any other"
        )
    return _validate(found, path)


def _validate(found: list[tuple[StoragePolicy, str]], path: str) -> StoragePolicies:
    seen: dict[str, str] = {}
    indexes: set[int] = set()
    for policy, where in found:
        if policy.idx in indexes:
            raise ConfigError(f"{where}: duplicate policy index {policy.idx}")
        indexes.add(policy.idx)
        for alias in policy.aliases:
            if alias.upper() in seen:
                raise ConfigError(
                    f"{where}: the name {alias!r} is also used by {seen[alias.upper()]}"
                )
            seen[alias.upper()] = where
    policies = [p for p, _ in found]
    defaults = [(p, where) for p, where in found if p.is_default]
    if len(defaults) > 1:
        raise ConfigError(f"{defaults[1][1]}: duplicate default (also {defaults[0][1]})")
    if not defaults:
        if len(policies) != 1:
            raise ConfigError(f"{path}: no [{SECTION_PREFIX}N] section sets default = yes")
        only = policies[0]
        policies = [dataclasses.replace(only, is_default=True)]
        defaults = [(policies[0], found[0][1])]
    default, where = defaults[0]
    if default.is_deprecated:
        raise ConfigError(f"{where}: the default policy cannot be deprecated")
    return StoragePolicies(policies)


DEFAULT = parse(configparser.ConfigParser())


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> StoragePolicies:
    return parse(config.read_file(path, raw_sections=True), path)


def load() -> StoragePolicies:
    """The cluster's policies (cached by the config file's mtime); one Policy-0 with no file."""
    return config.load_by_mtime(_load, DEFAULT)
