"""API keys for programs: ``<key_id>.<secret>``, scoped, revocable, with a short in-memory
cache of verified keys so a busy program does not cost a database read per request."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from exchange_server.api.deps import Principal
from exchange_server.api.errors import ApiError
from exchange_server.backoffice.refusals import account_disabled, invalid_api_key
from exchange_server.backoffice.store import Store
from exchange_server.backoffice.tokens import sha256_hex
from exchange_server.protocol import ApiKeyCreated, ApiKeyOut
from exchange_server.storage.models import ApiKeyRow, UserRow, utc_now

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


class ApiKeys:
    """Creating, listing, revoking and checking a user's keys."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.cache = ApiKeyCache()

    async def principal(self, api_key: str) -> Principal:
        parts = split_api_key(api_key)
        if parts is None:
            raise invalid_api_key()
        key_id, secret = parts
        principal = self.cache.get(key_id, secret)
        if principal is None:
            principal = await self._verify(key_id, secret)
        if self.cache.should_record_use(key_id):
            await self._store.write(_record_use(key_id))
        return principal

    async def _verify(self, key_id: str, secret: str) -> Principal:
        def work(session: Session) -> tuple[ApiKeyRow, UserRow] | None:
            key = session.get(ApiKeyRow, key_id)
            user = session.get(UserRow, key.user_id) if key is not None else None
            return (key, user) if key is not None and user is not None else None

        found = await self._store.read(work)
        if found is None:
            raise invalid_api_key()
        key, user = found
        if key.revoked_at is not None or not hmac.compare_digest(
            key.secret_hash, sha256_hex(secret)
        ):
            raise invalid_api_key()
        if not user.is_active:
            raise account_disabled()
        principal = Principal(
            user.user_id,
            user.account_id,
            user.role,
            frozenset(scopes_from_text(key.scopes)),
            key.key_id,
        )
        self.cache.put(key_id, key.secret_hash, principal)
        return principal

    async def of_user(self, user_id: int) -> list[ApiKeyOut]:
        def work(session: Session) -> list[ApiKeyRow]:
            query = (
                select(ApiKeyRow)
                .where(ApiKeyRow.user_id == user_id)
                .order_by(ApiKeyRow.created_at, ApiKeyRow.key_id)
            )
            return list(session.scalars(query))

        return [api_key_out(row) for row in await self._store.read(work)]

    async def create(self, user_id: int, name: str, scopes: Iterable[str]) -> ApiKeyCreated:
        key_id, api_key = new_api_key()
        secret = api_key.partition(".")[2]

        def work(session: Session) -> ApiKeyRow | ApiError:
            active = session.scalar(
                select(func.count())
                .select_from(ApiKeyRow)
                .where(ApiKeyRow.user_id == user_id, ApiKeyRow.revoked_at.is_(None))
            )
            if (active or 0) >= MAX_KEYS_PER_USER:
                return ApiError(
                    409,
                    "too_many_api_keys",
                    f"at most {MAX_KEYS_PER_USER} active API keys: revoke one first",
                )
            row = ApiKeyRow(
                key_id=key_id,
                user_id=user_id,
                name=name.strip(),
                secret_hash=sha256_hex(secret),
                scopes=scopes_to_text(scopes),
                created_at=utc_now(),
            )
            session.add(row)
            return row

        row = await self._store.write(work)
        return ApiKeyCreated(**api_key_out(row).model_dump(), api_key=api_key)

    async def revoke(self, user_id: int, key_id: str) -> None:
        def work(session: Session) -> ApiError | None:
            row = session.get(ApiKeyRow, key_id)
            if row is None or row.user_id != user_id:
                # Someone else's key is reported exactly like a missing one.
                return ApiError(404, "api_key_not_found", "you have no API key with this id")
            if row.revoked_at is None:
                row.revoked_at = utc_now()
            return None

        await self._store.write(work)
        self.cache.forget(key_id)


def _record_use(key_id: str) -> Callable[[Session], None]:
    def work(session: Session) -> None:
        session.execute(
            update(ApiKeyRow).where(ApiKeyRow.key_id == key_id).values(last_used_at=utc_now())
        )

    return work


def api_key_out(row: ApiKeyRow) -> ApiKeyOut:
    return ApiKeyOut(
        key_id=row.key_id,
        name=row.name,
        scopes=scopes_from_text(row.scopes),  # type: ignore[arg-type]  # only scopes stored
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )
