"""User administration through the real server: who may do what, and what it does."""

from __future__ import annotations

from tests.api.conftest import PASSWORD, LiveServer
from tests.api.test_auth import AUTH, error_of

ADMIN = "/api/v1/admin"


async def test_only_brokers_and_admins_see_users(live_server: LiveServer) -> None:
    trader = await live_server.user(cash=None)
    broker = await live_server.user("broker", cash=None)
    admin = await live_server.user("admin", cash=None)
    assert error_of(await trader.client.get(f"{ADMIN}/users")) == (403, "forbidden", None)
    for viewer in (broker, admin):
        page = (await viewer.client.get(f"{ADMIN}/users", params={"limit": 2})).json()
        assert [u["user_id"] for u in page["items"]] == [trader.user.user_id, broker.user.user_id]
        rest = await viewer.client.get(f"{ADMIN}/users", params={"cursor": page["next_cursor"]})
        assert [u["user_id"] for u in rest.json()["items"]] == [admin.user.user_id]
        one = await viewer.client.get(f"{ADMIN}/users/{trader.user.user_id}")
        assert one.json()["email"] == trader.user.email
    found = await broker.client.get(f"{ADMIN}/users", params={"search": "USER2", "role": "broker"})
    assert [u["user_id"] for u in found.json()["items"]] == [broker.user.user_id]
    change = await broker.client.patch(
        f"{ADMIN}/users/{trader.user.user_id}", json={"unlock": True}
    )
    assert error_of(change) == (403, "forbidden", None)
    attempts = await broker.client.get(f"{ADMIN}/login-attempts")
    assert error_of(attempts) == (403, "forbidden", None)


async def test_admin_queries_are_validated(live_server: LiveServer) -> None:
    admin = await live_server.user("admin", cash=None)
    cases = [
        (f"{ADMIN}/users?limit=0", (422, "invalid_field", "limit")),
        (f"{ADMIN}/users?limit=many", (422, "invalid_field", "limit")),
        (f"{ADMIN}/users?role=god", (422, "invalid_field", "role")),
        (f"{ADMIN}/users?cursor=abc", (422, "invalid_field", "cursor")),
        (f"{ADMIN}/users/abc", (422, "invalid_field", "user_id")),
        (f"{ADMIN}/users/0", (422, "invalid_field", "user_id")),
        (f"{ADMIN}/users/999", (404, "user_not_found", None)),
        (f"{ADMIN}/login-attempts?limit=100000", (422, "invalid_field", "limit")),
    ]
    for url, expected in cases:
        assert error_of(await admin.client.get(url)) == expected, url
    bad_patch = await admin.client.patch(f"{ADMIN}/users/1", json={"role": "god"})
    assert error_of(bad_patch) == (422, "invalid_field", "role")
    unknown = await admin.client.patch(f"{ADMIN}/users/1", json={"email": "x@example.com"})
    assert error_of(unknown) == (422, "unknown_field", "email")


async def test_role_change_and_deactivation_end_sessions(live_server: LiveServer) -> None:
    admin = await live_server.user("admin", cash=None)
    ann = await live_server.user(cash=None)
    url = f"{ADMIN}/users/{ann.user.user_id}"
    promoted = await admin.client.patch(url, json={"role": "broker"})
    assert promoted.json()["role"] == "broker"
    assert error_of(await ann.client.get(f"{AUTH}/me")) == (401, "invalid_token", None)
    relogin = await live_server.client().post(
        f"{AUTH}/login", json={"email": ann.user.email, "password": PASSWORD}
    )
    broker = live_server.client(authorization=f"Bearer {relogin.json()['access_token']}")
    assert (await broker.get(f"{ADMIN}/users")).status_code == 200

    disabled = await admin.client.patch(url, json={"is_active": False})
    assert disabled.json()["is_active"] is False
    assert (await broker.get(f"{AUTH}/me")).status_code == 401
    refused = await live_server.client().post(
        f"{AUTH}/login", json={"email": ann.user.email, "password": PASSWORD}
    )
    assert error_of(refused) == (403, "account_disabled", None)
    await admin.client.patch(url, json={"is_active": True})
    again = await live_server.client().post(
        f"{AUTH}/login", json={"email": ann.user.email, "password": PASSWORD}
    )
    assert again.status_code == 200


async def test_admin_cannot_lock_themselves_out(live_server: LiveServer) -> None:
    admin = await live_server.user("admin", cash=None)
    url = f"{ADMIN}/users/{admin.user.user_id}"
    for change in ({"is_active": False}, {"role": "trader"}):
        assert error_of(await admin.client.patch(url, json=change)) == (409, "own_account", None)


async def test_unlock_and_the_login_audit_trail(live_server: LiveServer) -> None:
    admin = await live_server.user("admin", cash=None)
    ann = await live_server.user(cash=None)
    client = live_server.client()
    for _ in range(live_server.settings.lockout_threshold):
        await client.post(f"{AUTH}/login", json={"email": ann.user.email, "password": "nope"})
    locked = await admin.client.get(f"{ADMIN}/users/{ann.user.user_id}")
    assert locked.json()["locked_until"] is not None
    unlocked = await admin.client.patch(f"{ADMIN}/users/{ann.user.user_id}", json={"unlock": True})
    assert unlocked.json()["locked_until"] is None
    signed_in = await client.post(
        f"{AUTH}/login", json={"email": ann.user.email, "password": PASSWORD}
    )
    assert signed_in.status_code == 200
    trail = await admin.client.get(
        f"{ADMIN}/login-attempts", params={"email": ann.user.email, "limit": 3}
    )
    assert [(a["success"], a["reason"], a["ip"]) for a in trail.json()] == [
        (True, "", "127.0.0.1"),
        (False, "bad_password", "127.0.0.1"),
        (False, "bad_password", "127.0.0.1"),
    ]
