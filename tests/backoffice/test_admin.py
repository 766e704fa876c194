"""User administration: finding users, roles, disabling, unlocking."""

from __future__ import annotations

from exchange_server.backoffice.auth import AuthService
from exchange_server.protocol import UserUpdate
from tests.backoffice.conftest import PASSWORD, refused, verified_user


async def test_users_are_listed_in_pages_and_searchable(auth: AuthService) -> None:
    admin = await verified_user(auth, "root@example.com", role="admin")
    for name in ("ann", "bob", "cat", "dan_x"):
        await verified_user(auth, f"{name}@example.com")
    first = await auth.admin.list_users(limit=2)
    assert [u.email for u in first.items] == ["root@example.com", "ann@example.com"]
    second = await auth.admin.list_users(cursor=first.next_cursor, limit=2)
    third = await auth.admin.list_users(cursor=second.next_cursor, limit=2)
    assert [u.email for u in second.items + third.items] == [
        "bob@example.com",
        "cat@example.com",
        "dan_x@example.com",
    ]
    assert third.next_cursor is None
    assert [u.email for u in (await auth.admin.list_users(search="BOB")).items] == [
        "bob@example.com"
    ]
    # "_" is a literal here, not a LIKE wildcard.
    assert [u.email for u in (await auth.admin.list_users(search="n_x")).items] == [
        "dan_x@example.com"
    ]
    assert [u.user_id for u in (await auth.admin.list_users(role="admin")).items] == [admin.user_id]
    error = await refused(auth.admin.list_users(cursor="abc"), 422, "invalid_field")
    assert error.field == "cursor"


async def test_get_user(auth: AuthService) -> None:
    user = await verified_user(auth)
    assert await auth.admin.get_user(user.user_id) == user
    await refused(auth.admin.get_user(999), 404, "user_not_found")


async def test_role_change_ends_sessions_and_shows_in_new_tokens(auth: AuthService) -> None:
    admin = await verified_user(auth, "root@example.com", role="admin")
    user = await verified_user(auth)
    old = await auth.login("ann@example.com", PASSWORD)
    changed = await auth.admin.update_user(admin.user_id, user.user_id, UserUpdate(role="broker"))
    assert changed.role == "broker"
    await refused(auth.refresh(old.refresh_token), 401, "invalid_refresh_token")
    new = await auth.login("ann@example.com", PASSWORD)
    assert auth.principal_from_access_token(new.access_token).role == "broker"


async def test_disable_and_enable(auth: AuthService) -> None:
    admin = await verified_user(auth, "root@example.com", role="admin")
    user = await verified_user(auth)
    pair = await auth.login("ann@example.com", PASSWORD)
    disabled = await auth.admin.update_user(
        admin.user_id, user.user_id, UserUpdate(is_active=False)
    )
    assert not disabled.is_active
    await refused(auth.refresh(pair.refresh_token), 401, "invalid_refresh_token")
    await refused(auth.login("ann@example.com", PASSWORD), 403, "account_disabled")
    await auth.admin.update_user(admin.user_id, user.user_id, UserUpdate(is_active=True))
    again = await auth.login("ann@example.com", PASSWORD)
    auth.principal_from_access_token(again.access_token)


async def test_admins_cannot_disable_or_demote_themselves(auth: AuthService) -> None:
    admin = await verified_user(auth, "root@example.com", role="admin")
    await refused(
        auth.admin.update_user(admin.user_id, admin.user_id, UserUpdate(is_active=False)),
        409,
        "own_account",
    )
    await refused(
        auth.admin.update_user(admin.user_id, admin.user_id, UserUpdate(role="trader")),
        409,
        "own_account",
    )
    await refused(
        auth.admin.update_user(admin.user_id, 999, UserUpdate(unlock=True)), 404, "user_not_found"
    )
