"""API keys for programs: ``<key_id>.<secret>``, scoped, with a short in-memory cache of
verified keys so a busy program does not cost a database read per request."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass

from exchange_server.api.deps import Principal
from exchange_server.backoffice.tokens import sha256_hex

KEY_ID_PREFIX = "ak_"
SECRET_BYTES = 32
CACHE_SECONDS = 30.0
LAST_USED_RESOLUTION_SECONDS = 60.0
MAX_KEYS_PER_USER = 25
SCOPE_ORDER = ("read", "trade")


def new_api_key() -> tuple[str, str]:
    """A new ``(key_id, full key)``; only the secret's SHA-256 is ever stored."""
    key_id = KEY_ID_PREFIX + secrets.token_hex(8)
    return key_id, f"{key_id}.{secrets.token_urlsafe(SECRET_BYTES)}"


def split_api_key(api_key: str) -> tuple[str, str] | None:
    key_id, dot, secret = api_key.strip().partition(".")
    if not dot or not key_id.startswith(KEY_ID_PREFIX) or len(key_id) > 32 or not secret:
        return None
    return key_id, secret


def normalise_scopes(scopes: Iterable[str]) -> list[str]:
    """Known scopes in a fixed order; ``trade`` implies ``read``: a program that trades must
    be able to see its own orders and fills."""
    wanted = set(scopes)
    if "trade" in wanted:
        wanted.add("read")
    return [scope for scope in SCOPE_ORDER if scope in wanted]


def scopes_to_text(scopes: Iterable[str]) -> str:
    return ",".join(normalise_scopes(scopes))


def scopes_from_text(text: str) -> list[str]:
    return [scope for scope in SCOPE_ORDER if scope in text.split(",")]


@dataclass(slots=True)
class CachedKey:
    secret_hash: str
    principal: Principal
    verified_at: float


class ApiKeyCache:
    """Verified keys for ``CACHE_SECONDS``. Revocation, deactivation and role changes call
    ``forget`` so they take effect at once rather than when the entry expires."""

    def __init__(self, seconds: float = CACHE_SECONDS) -> None:
        self._seconds = seconds
        self._keys: dict[str, CachedKey] = {}
        self._last_used_written: dict[str, float] = {}

    def get(self, key_id: str, secret: str) -> Principal | None:
        entry = self._keys.get(key_id)
        if entry is None:
            return None
        if time.monotonic() - entry.verified_at > self._seconds:
            del self._keys[key_id]
            return None
        if not hmac.compare_digest(entry.secret_hash, sha256_hex(secret)):
            return None
        return entry.principal

    def put(self, key_id: str, secret_hash: str, principal: Principal) -> None:
        self._keys[key_id] = CachedKey(secret_hash, principal, time.monotonic())

    def forget(self, key_id: str) -> None:
        self._keys.pop(key_id, None)

    def forget_user(self, user_id: int) -> None:
        for key_id in [k for k, e in self._keys.items() if e.principal.user_id == user_id]:
            del self._keys[key_id]

    def should_record_use(self, key_id: str) -> bool:
        """True at most once a minute per key: ``last_used_at`` is for people ("is this key
        still in use?"), not worth a write per request."""
        now = time.monotonic()
        last = self._last_used_written.get(key_id)
        if last is not None and now - last < LAST_USED_RESOLUTION_SECONDS:
            return False
        self._last_used_written[key_id] = now
        return True
