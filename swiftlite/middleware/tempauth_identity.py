"""Who a tempauth user is: users and groups from the config, and self-validating tokens.

``parse_users`` reads ``user_<account>_<user> = <key> [storage_url] [groups...]`` keys into
``User`` records; ``User.groups`` is the group list Swift's tempauth gives a user (``.admin``
becomes the user's account id under every reseller prefix). ``TokenSigner`` issues and checks
tokens: ``<prefix>tk`` plus hex of (version, expiry, ``account:user``, HMAC-SHA256 over the
user's groups and a hash of its key), so any worker checks a token without shared state.
``parse_require_groups`` reads ``<PREFIX>_require_group`` (a group a user needs, beside
owning an account, to own accounts of that prefix: ``SERVICE_require_group = service``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from swiftlite.common.errors import ConfigError

TOKEN_VERSION = 1
_MAC_LEN = 32
_EXPIRY_LEN = 8
_VERIFIED_MAX = 4096  # tokens a worker remembers as checked (cleared when full)


@dataclass(frozen=True)
class User:
    account: str
    name: str
    key: str
    url: str  # "$HOST/v1/AUTH_test" unless the config gave a full storage URL
    extra_groups: tuple[str, ...]

    @property
    def ident(self) -> str:
        return f"{self.account}:{self.name}"

    @property
    def account_id(self) -> str:
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    def groups(self, prefixes: str | tuple[str, ...]) -> tuple[str, ...]:
        """``account, account:user, extra groups...``; ``.admin`` becomes the account id
        under every reseller prefix (``AUTH_test``, ``SERVICE_test``), as Swift's tempauth."""
        if isinstance(prefixes, str):
            prefixes = (prefixes,)
        groups = [self.account, self.ident]
        groups.extend(g for g in self.extra_groups if g != ".admin")
        if ".admin" in self.extra_groups:
            ids = [f"{prefix}{self.account}" for prefix in prefixes] + [self.account_id]
            for account_id in ids:
                if account_id not in groups:
                    groups.append(account_id)
        return tuple(groups)


def _b64_name(text: str) -> str:
    return base64.b64decode(text + "=" * (-len(text) % 4)).decode("utf-8")


def parse_users(conf: Mapping[str, str], prefix: str) -> dict[str, User]:
    """Users from ``user_<account>_<user> = <key> [storage_url] [groups...]`` keys.

    ``user64_<b64 account>_<b64 user>`` allows underscores in names. Raises ConfigError for a
    key that does not split into account and user or has no password.
    """
    users: dict[str, User] = {}
    for conf_key, value in conf.items():
        if not conf_key.startswith(("user_", "user64_")):
            continue
        names = conf_key.split("_", 1)[1].split("_")
        if len(names) != 2 or not all(names):
            raise ConfigError(f"tempauth: {conf_key} must be user_<account>_<user>")
        account, name = names
        if conf_key.startswith("user64_"):
            try:
                account, name = _b64_name(account), _b64_name(name)
            except (binascii.Error, UnicodeDecodeError):
                raise ConfigError(f"tempauth: {conf_key} is not base64 names") from None
        values = str(value).split()
        if not values:
            raise ConfigError(f"tempauth: {conf_key} has no key set")
        key = values.pop(0)
        url = f"$HOST/v1/{prefix}{account}"
        for item in list(values):
            if "://" in item or item.startswith("$HOST"):
                url = item
                values.remove(item)
        user = User(account, name, key, url, tuple(values))
        users[user.ident] = user
    return users


class TokenSigner:
    """Issue and verify self-validating tokens (see the module docstring)."""

    def __init__(self, secret: bytes, prefix: str) -> None:
        self.secret = secret
        self.marker = f"{prefix}tk"
        # (token, prefix) -> what verify found: the HMAC is checked once per token and worker.
        # A hit still checks the expiry and that the config's user is the one it was made for.
        self._verified: dict[tuple[str, object], tuple[User, tuple[str, ...], int]] = {}

    def _mac(self, user: User, groups: Iterable[str], head: bytes) -> bytes:
        message = b"\x00".join(
            [
                head,
                user.ident.encode("utf-8"),
                ",".join(groups).encode("utf-8"),
                hashlib.sha256(user.key.encode("utf-8")).digest(),
            ]
        )
        return hmac.new(self.secret, message, hashlib.sha256).digest()

    def issue(self, user: User, groups: Iterable[str], expires: int) -> str:
        head = bytes([TOKEN_VERSION]) + expires.to_bytes(_EXPIRY_LEN, "big")
        payload = head + user.ident.encode("utf-8") + self._mac(user, groups, head)
        return self.marker + payload.hex()

    def verify(
        self, token: str, users: Mapping[str, User], prefix: str | tuple[str, ...], now: float
    ) -> tuple[User, tuple[str, ...], int] | None:
        """(user, groups, expires) for a good unexpired token, else None."""
        known = self._verified.get((token, prefix))
        if known is not None:
            known_user, _, known_expires = known
            if known_expires > now and users.get(known_user.ident) is known_user:
                return known
            del self._verified[(token, prefix)]
        if not token.startswith(self.marker):
            return None
        try:
            raw = bytes.fromhex(token[len(self.marker) :])
        except ValueError:
            return None
        if len(raw) <= 1 + _EXPIRY_LEN + _MAC_LEN or raw[0] != TOKEN_VERSION:
            return None
        head, ident_raw, mac = (
            raw[: 1 + _EXPIRY_LEN],
            raw[1 + _EXPIRY_LEN : -_MAC_LEN],
            raw[-_MAC_LEN:],
        )
        expires = int.from_bytes(head[1:], "big")
        try:
            user = users.get(ident_raw.decode("utf-8"))
        except UnicodeDecodeError:
            return None
        if user is None or expires <= now:
            return None
        groups = user.groups(prefix)
        if not hmac.compare_digest(mac, self._mac(user, groups, head)):
            return None
        if len(self._verified) >= _VERIFIED_MAX:
            self._verified.clear()
        self._verified[(token, prefix)] = (user, groups, expires)
        return user, groups, expires


def parse_require_groups(conf: Mapping[str, str], prefixes: tuple[str, ...]) -> dict[str, str]:
    """``require_group`` (every prefix) and ``<PREFIX>_require_group`` (one prefix, e.g.
    ``SERVICE_require_group = service``) as {prefix: group}; ConfigError for an unknown
    prefix."""
    default = str(conf.get("require_group", "")).strip()
    out = {prefix: default for prefix in prefixes if default}
    for key, value in conf.items():
        if key == "require_group":
            continue
        prefix = key[: -len("require_group")]
        if prefix not in prefixes:
            raise ConfigError(f"tempauth: {key} names no reseller prefix in {list(prefixes)}")
        if str(value).strip():
            out[prefix] = str(value).strip()
        else:
            out.pop(prefix, None)
    return out
