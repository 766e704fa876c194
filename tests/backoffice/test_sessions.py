"""Sessions: refresh rotation and reuse detection, signing out, password change and reset,
and access tokens that stop working the moment their session ends."""

from __future__ import annotations

import time
from dataclasses import replace

import jwt
import pytest
from sqlalchemy import Engine

from exchange_server.api.errors import ApiError
from exchange_server.api.settings import ServerSettings
from exchange_server.backoffice.auth import AuthService
from exchange_server.protocol import TokenPair, UserUpdate
from tests.backoffice.conftest import (
    PASSWORD,
    OpenedAccounts,
    mailed_code,
    outbox,
    refused,
    verified_user,
)


def token_refused(auth: AuthService, pair: TokenPair, code: str = "invalid_token") -> None:
    with pytest.raises(ApiError) as caught:
        auth.principal_from_access_token(pair.access_token)
    assert (caught.value.status, caught.value.code) == (401, code)


async def test_refresh_rotates_the_token(auth: AuthService) -> None:
    await verified_user(auth)
    first = await auth.login("ann@example.com", PASSWORD)
    second = await auth.refresh(first.refresh_token)
    assert second.refresh_token != first.refresh_token
    assert auth.principal_from_access_token(second.access_token).user_id == first.user.user_id
    third = await auth.refresh(second.refresh_token)
    assert third.user == first.user


async def test_reusing_a_refresh_token_ends_the_whole_session(auth: AuthService) -> None:
    await verified_user(auth)
    stolen = await auth.login("ann@example.com", PASSWORD)
    other_session = await auth.login("ann@example.com", PASSWORD)
    rotated = await auth.refresh(stolen.refresh_token)
    await refused(auth.refresh(stolen.refresh_token), 401, "refresh_token_reused")
    # The legitimate holder's newer token and its access token are dead too...
    await refused(auth.refresh(rotated.refresh_token), 401, "invalid_refresh_token")
    token_refused(auth, rotated)
    # ...but the user's other session is untouched.
    auth.principal_from_access_token(other_session.access_token)
    await auth.refresh(other_session.refresh_token)


async def test_unknown_and_expired_refresh_tokens_are_invalid(
    auth: AuthService, engine: Engine, settings: ServerSettings
) -> None:
    await verified_user(auth)
    await refused(auth.refresh("made-up"), 401, "invalid_refresh_token")
    short = AuthService(engine, replace(settings, refresh_token_seconds=-1), OpenedAccounts())
    pair = await short.login("ann@example.com", PASSWORD)
    await refused(auth.refresh(pair.refresh_token), 401, "invalid_refresh_token")


async def test_expired_access_token_is_reported_as_expired(
    auth: AuthService, settings: ServerSettings
) -> None:
    user = await verified_user(auth)
    now = time.time()
    expired = jwt.encode(
        {
            "iss": "exchange-server",
            "sub": str(user.user_id),
            "role": "trader",
            "account": user.account_id,
            "sid": "x",
            "iat": now - 120,
            "exp": now - 60,
            "jti": "j",
        },
        settings.secret_key,
        "HS256",
    )
    with pytest.raises(ApiError) as caught:
        auth.principal_from_access_token(expired)
    assert (caught.value.status, caught.value.code) == (401, "token_expired")


async def test_logout_ends_one_session_immediately(auth: AuthService) -> None:
    await verified_user(auth)
    leaving = await auth.login("ann@example.com", PASSWORD)
    staying = await auth.login("ann@example.com", PASSWORD)
    await auth.logout(leaving.refresh_token)
    await auth.logout(leaving.refresh_token)  # twice is fine
    await auth.logout("never-issued")
    token_refused(auth, leaving)
    await refused(auth.refresh(leaving.refresh_token), 401, "invalid_refresh_token")
    auth.principal_from_access_token(staying.access_token)


async def test_logout_all_ends_every_session(auth: AuthService) -> None:
    user = await verified_user(auth)
    pairs = [await auth.login("ann@example.com", PASSWORD) for _ in range(2)]
    await auth.logout_all(user.user_id)
    for pair in pairs:
        token_refused(auth, pair)
        await refused(auth.refresh(pair.refresh_token), 401, "invalid_refresh_token")
    fresh = await auth.login("ann@example.com", PASSWORD)  # signing in again works at once
    auth.principal_from_access_token(fresh.access_token)


async def test_password_change_keeps_this_session_and_ends_the_others(
    auth: AuthService, engine: Engine
) -> None:
    user = await verified_user(auth)
    here = await auth.login("ann@example.com", PASSWORD)
    elsewhere = await auth.login("ann@example.com", PASSWORD)
    session = auth.verify_access_token(here.access_token).session
    await auth.change_password(user.user_id, PASSWORD, "a brand new secret", session)
    auth.principal_from_access_token(here.access_token)
    await auth.refresh(here.refresh_token)
    token_refused(auth, elsewhere)
    await refused(auth.refresh(elsewhere.refresh_token), 401, "invalid_refresh_token")
    await refused(auth.login("ann@example.com", PASSWORD), 401, "invalid_credentials")
    await auth.login("ann@example.com", "a brand new secret")
    assert outbox(engine, "ann@example.com")[-1].subject == "Your password was changed"


async def test_password_change_refusals(auth: AuthService) -> None:
    user = await verified_user(auth)
    wrong = await refused(
        auth.change_password(user.user_id, "not my password", "a brand new secret"),
        403,
        "wrong_password",
    )
    assert wrong.field == "current_password"
    weak = await refused(
        auth.change_password(user.user_id, PASSWORD, "1234567890"), 422, "weak_password"
    )
    assert weak.field == "new_password"
    await refused(auth.change_password(user.user_id, PASSWORD, PASSWORD), 422, "password_unchanged")


async def test_password_reset_by_mailed_code(auth: AuthService, engine: Engine) -> None:
    user = await verified_user(auth)
    before = await auth.login("ann@example.com", PASSWORD)
    await auth.request_password_reset("Ann@Example.com")
    await auth.request_password_reset("nobody@example.com")  # silently nothing
    assert outbox(engine, "nobody@example.com") == []
    code = mailed_code(engine, "ann@example.com")
    weak = await refused(auth.reset_password(code, "1234567890"), 422, "weak_password")
    assert weak.field == "new_password"
    await auth.reset_password(code, "a brand new secret")
    token_refused(auth, before)
    await refused(auth.refresh(before.refresh_token), 401, "invalid_refresh_token")
    await auth.login("ann@example.com", "a brand new secret")
    error = await refused(
        auth.reset_password(code, "another new secret"), 400, "invalid_reset_token"
    )
    assert error.field == "token"
    assert (await auth.me(user.user_id)).email_verified


async def test_revocations_survive_a_restart(
    auth: AuthService, engine: Engine, settings: ServerSettings
) -> None:
    admin = await verified_user(auth, "root@example.com", role="admin")
    user = await verified_user(auth)
    bob = await verified_user(auth, "bob@example.com")
    ann_pair = await auth.login("ann@example.com", PASSWORD)
    bob_pair = await auth.login("bob@example.com", PASSWORD)
    await auth.admin.update_user(admin.user_id, user.user_id, UserUpdate(is_active=False))
    await auth.change_password(bob.user_id, PASSWORD, "a brand new secret")
    restarted = AuthService(engine, settings, OpenedAccounts())  # same secret key
    token_refused(restarted, ann_pair)
    token_refused(restarted, bob_pair)
