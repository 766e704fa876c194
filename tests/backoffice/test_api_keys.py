"""API keys: shown once, scoped, revocable at once, and cheap to check."""

from __future__ import annotations

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from exchange_server.api.settings import ServerSettings
from exchange_server.backoffice.auth import AuthService
from exchange_server.protocol import UserUpdate
from exchange_server.storage.models import ApiKeyRow
from tests.backoffice.conftest import OpenedAccounts, refused, verified_user


async def test_a_key_is_shown_once_and_identifies_its_owner(
    auth: AuthService, engine: Engine
) -> None:
    user = await verified_user(auth)
    created = await auth.keys.create(user.user_id, "my bot", ["read"])
    key_id, _, secret = created.api_key.partition(".")
    assert key_id == created.key_id and secret
    [listed] = await auth.keys.of_user(user.user_id)
    assert listed.key_id == created.key_id and not hasattr(listed, "api_key")
    with Session(engine) as session:
        stored = session.get(ApiKeyRow, key_id)
        assert stored is not None and secret not in stored.secret_hash
    principal = await auth.principal_from_api_key(created.api_key)
    assert (principal.user_id, principal.account_id, principal.api_key_id) == (
        user.user_id,
        user.account_id,
        key_id,
    )
    assert principal.scopes == {"read"}


async def test_trade_scope_implies_read(auth: AuthService) -> None:
    user = await verified_user(auth)
    created = await auth.keys.create(user.user_id, "trader bot", ["trade"])
    assert created.scopes == ["read", "trade"]
    assert (await auth.principal_from_api_key(created.api_key)).scopes == {"read", "trade"}


async def test_wrong_and_malformed_keys_are_refused(auth: AuthService) -> None:
    user = await verified_user(auth)
    created = await auth.keys.create(user.user_id, "bot", ["read"])
    await auth.principal_from_api_key(created.api_key)  # now cached
    for bad in (created.key_id + ".wrong", created.key_id, "", "nodot", "ak_unknown.secret"):
        await refused(auth.principal_from_api_key(bad), 401, "invalid_api_key")


async def test_revocation_takes_effect_at_once_despite_the_cache(auth: AuthService) -> None:
    user = await verified_user(auth)
    created = await auth.keys.create(user.user_id, "bot", ["read", "trade"])
    await auth.principal_from_api_key(created.api_key)
    await auth.keys.revoke(user.user_id, created.key_id)
    await refused(auth.principal_from_api_key(created.api_key), 401, "invalid_api_key")
    [listed] = await auth.keys.of_user(user.user_id)
    assert listed.revoked_at is not None


async def test_someone_elses_key_cannot_be_revoked(auth: AuthService) -> None:
    ann = await verified_user(auth)
    bob = await verified_user(auth, "bob@example.com")
    created = await auth.keys.create(ann.user_id, "bot", ["read"])
    await refused(auth.keys.revoke(bob.user_id, created.key_id), 404, "api_key_not_found")
    await refused(auth.keys.revoke(bob.user_id, "ak_0000"), 404, "api_key_not_found")
    await auth.principal_from_api_key(created.api_key)


async def test_a_disabled_users_keys_stop_at_once(auth: AuthService) -> None:
    admin = await verified_user(auth, "root@example.com", role="admin")
    user = await verified_user(auth)
    created = await auth.keys.create(user.user_id, "bot", ["read"])
    await auth.principal_from_api_key(created.api_key)
    await auth.admin.update_user(admin.user_id, user.user_id, UserUpdate(is_active=False))
    await refused(auth.principal_from_api_key(created.api_key), 403, "account_disabled")


async def test_use_is_recorded_at_most_once_a_minute(
    auth: AuthService, engine: Engine, settings: ServerSettings
) -> None:
    user = await verified_user(auth)
    created = await auth.keys.create(user.user_id, "bot", ["read"])
    await auth.principal_from_api_key(created.api_key)
    [first] = await auth.keys.of_user(user.user_id)
    assert first.last_used_at is not None
    with Session(engine) as session, session.begin():
        session.execute(update(ApiKeyRow).values(last_used_at=None))
    await auth.principal_from_api_key(created.api_key)
    [second] = await auth.keys.of_user(user.user_id)
    assert second.last_used_at is None  # within the minute: no write
    # A verified key is not read from the database again while cached: deleting the row
    # is not noticed (revocation goes through revoke_api_key, which clears the cache).
    with Session(engine) as session, session.begin():
        session.execute(ApiKeyRow.__table__.delete())
    await auth.principal_from_api_key(created.api_key)
    fresh = AuthService(engine, settings, OpenedAccounts())
    await refused(fresh.principal_from_api_key(created.api_key), 401, "invalid_api_key")


async def test_key_count_is_limited(auth: AuthService) -> None:
    user = await verified_user(auth)
    for number in range(25):
        await auth.keys.create(user.user_id, f"bot {number}", ["read"])
    await refused(
        auth.keys.create(user.user_id, "one too many", ["read"]), 409, "too_many_api_keys"
    )
    first = (await auth.keys.of_user(user.user_id))[0]
    await auth.keys.revoke(user.user_id, first.key_id)
    await auth.keys.create(user.user_id, "replacement", ["read"])
