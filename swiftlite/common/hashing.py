"""Path hashing with the cluster's secret prefix and suffix.

Every ring lookup and every on-disk object or database location starts here: the MD5 of
``prefix + "/account[/container[/object]]" + suffix``. The prefix and suffix come from
``[swift-hash]`` in the cluster config (``$SWIFTLITE_CONF``), read once per process; a cluster
that sets neither is refused, because its placement would be guessable and could never be
changed later.
"""

from __future__ import annotations

import hashlib
import os

from swiftlite.common import config
from swiftlite.common.errors import ConfigError

# Read once per process and config path: the secrets place every name, so they must never
# change under a running server (Swift reads them once at start-up too).
_SECRETS: dict[str, tuple[bytes, bytes]] = {}


def _read_secrets(path: str) -> tuple[bytes, bytes]:
    if not os.path.exists(path):
        raise ConfigError(f"cannot read config {path}: No such file or directory")
    section = config.cluster_section("swift-hash")
    prefix = section.get("swift_hash_path_prefix", "")
    suffix = section.get("swift_hash_path_suffix", "")
    if not prefix and not suffix:
        raise ConfigError(
            f"{path}: [swift-hash] must set swift_hash_path_prefix or swift_hash_path_suffix"
        )
    return prefix.encode("utf-8"), suffix.encode("utf-8")


def secrets() -> tuple[bytes, bytes]:
    """(prefix, suffix) as bytes; raises ConfigError when the config is missing or sets neither."""
    path = config.swiftlite_conf_path()
    found = _SECRETS.get(path)
    if found is None:
        found = _SECRETS[path] = _read_secrets(path)
    return found


def path_bytes(account: str, container: str | None = None, obj: str | None = None) -> bytes:
    """``/account[/container[/object]]`` as UTF-8 bytes; an object needs a container."""
    if obj is not None:
        if container is None:
            raise ValueError("an object name needs a container name")
        return f"/{account}/{container}/{obj}".encode()
    if container is not None:
        return f"/{account}/{container}".encode()
    return f"/{account}".encode()


def hash_path_digest(account: str, container: str | None = None, obj: str | None = None) -> bytes:
    """The raw 16-byte MD5 digest that places this name."""
    prefix, suffix = secrets()
    return hashlib.md5(prefix + path_bytes(account, container, obj) + suffix).digest()


def hash_path(account: str, container: str | None = None, obj: str | None = None) -> str:
    """The 32-hex-digit name hash used for directories and database files."""
    return hash_path_digest(account, container, obj).hex()


def suffix_of(name_hash: str) -> str:
    """The suffix directory of a name hash: its last three hex digits."""
    return name_hash[-3:]
