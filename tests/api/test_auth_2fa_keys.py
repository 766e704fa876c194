"""Two-factor sign-in and API keys through the real server."""

from __future__ import annotations

import time

from exchange_server.backoffice import totp
from tests.api.conftest import PASSWORD, LiveServer
from tests.api.test_auth import AUTH, error_of

KEYS = f"{AUTH}/api-keys"


def next_code(secret: str) -> str:
    """The next step's code (accepted for clock drift), unblocked by a code used this step."""
    return totp.current_code(secret, time.time() + 30)


def wrong_code(secret: str) -> str:
    return "000000" if next_code(secret) != "000000" else "111111"


async def test_two_factor_enrolment_and_sign_in(live_server: LiveServer) -> None:
    ann = await live_server.user(cash=None)
    enrolment = await ann.client.post(f"{AUTH}/2fa/enrol")
    assert enrolment.status_code == 200
    secret = enrolment.json()["secret"]
    assert enrolment.json()["provisioning_uri"].startswith("otpauth://totp/Trading%20Workstation")
    bad = await ann.client.post(f"{AUTH}/2fa/confirm", json={"code": wrong_code(secret)})
    assert error_of(bad) == (403, "invalid_otp", "code")
    malformed = await ann.client.post(f"{AUTH}/2fa/confirm", json={"code": "12345"})
    assert error_of(malformed) == (422, "invalid_field", "code")
    confirmed = await ann.client.post(
        f"{AUTH}/2fa/confirm", json={"code": totp.current_code(secret)}
    )
    recovery = confirmed.json()["codes"]
    assert len(recovery) == 10
    assert (await ann.client.get(f"{AUTH}/me")).json()["totp_enabled"] is True
    assert (await ann.client.post(f"{AUTH}/2fa/enrol")).status_code == 409

    client = live_server.client()
    credentials = {"email": ann.user.email, "password": PASSWORD}
    missing = await client.post(f"{AUTH}/login", json=credentials)
    assert error_of(missing) == (401, "mfa_required", "otp")
    wrong = await client.post(f"{AUTH}/login", json={**credentials, "otp": wrong_code(secret)})
    assert error_of(wrong) == (401, "invalid_otp", "otp")
    code = next_code(secret)
    assert (
        await client.post(f"{AUTH}/login", json={**credentials, "otp": code})
    ).status_code == 200
    replay = await client.post(f"{AUTH}/login", json={**credentials, "otp": code})
    assert error_of(replay) == (401, "invalid_otp", "otp")
    with_recovery = {**credentials, "recovery_code": recovery[0]}
    assert (await client.post(f"{AUTH}/login", json=with_recovery)).status_code == 200
    used = await client.post(f"{AUTH}/login", json=with_recovery)
    assert error_of(used) == (401, "invalid_recovery_code", "recovery_code")


async def test_recovery_codes_renewal(live_server: LiveServer) -> None:
    ann = await live_server.user(cash=None)
    secret = (await ann.client.post(f"{AUTH}/2fa/enrol")).json()["secret"]
    old = (
        await ann.client.post(f"{AUTH}/2fa/confirm", json={"code": totp.current_code(secret)})
    ).json()["codes"]
    code = next_code(secret)
    renewed = await ann.client.post(f"{AUTH}/2fa/recovery-codes", json={"code": code})
    assert renewed.status_code == 200 and set(renewed.json()["codes"]).isdisjoint(old)
    client = live_server.client()
    stale = await client.post(
        f"{AUTH}/login",
        json={"email": ann.user.email, "password": PASSWORD, "recovery_code": old[0]},
    )
    assert error_of(stale) == (401, "invalid_recovery_code", "recovery_code")
    # A code from a step before one already accepted is refused too (codes only move on).
    earlier = totp.current_code(secret, time.time() - 30)
    replayed = await ann.client.post(
        f"{AUTH}/2fa/disable", json={"password": PASSWORD, "code": earlier}
    )
    assert error_of(replayed) == (403, "invalid_otp", "code")


async def test_disabling_two_factor(live_server: LiveServer) -> None:
    ann = await live_server.user(cash=None)
    secret = (await ann.client.post(f"{AUTH}/2fa/enrol")).json()["secret"]
    await ann.client.post(f"{AUTH}/2fa/confirm", json={"code": totp.current_code(secret)})
    code = next_code(secret)
    wrong = await ann.client.post(f"{AUTH}/2fa/disable", json={"password": "not it", "code": code})
    assert error_of(wrong) == (403, "wrong_password", "password")
    done = await ann.client.post(f"{AUTH}/2fa/disable", json={"password": PASSWORD, "code": code})
    assert done.status_code == 204
    plain = await live_server.client().post(
        f"{AUTH}/login", json={"email": ann.user.email, "password": PASSWORD}
    )
    assert plain.status_code == 200
    again = await ann.client.post(f"{AUTH}/2fa/disable", json={"password": PASSWORD, "code": code})
    assert error_of(again) == (409, "totp_not_enabled", None)


# -- API keys --------------------------------------------------------------------------------
async def test_api_key_lifecycle(live_server: LiveServer) -> None:
    ann = await live_server.user()
    created = await ann.client.post(KEYS, json={"name": "my bot", "scopes": ["trade"]})
    assert created.status_code == 201
    key = created.json()
    assert key["scopes"] == ["read", "trade"] and key["api_key"].startswith(key["key_id"] + ".")
    listed = (await ann.client.get(KEYS)).json()
    assert [k["key_id"] for k in listed] == [key["key_id"]]
    assert "api_key" not in listed[0]

    bot = live_server.client(**{"x-api-key": key["api_key"]})
    profile = await bot.get(f"{AUTH}/me")
    assert profile.status_code == 200 and profile.json()["user_id"] == ann.user.user_id
    assert (await bot.post("/api/v1/orders/cancel-all", json={})).status_code == 200
    assert (await bot.get(KEYS)).status_code == 200

    revoked = await ann.client.delete(f"{KEYS}/{key['key_id']}")
    assert revoked.status_code == 204
    assert error_of(await bot.get(f"{AUTH}/me")) == (401, "invalid_api_key", None)
    assert (await ann.client.get(KEYS)).json()[0]["revoked_at"] is not None


async def test_a_read_key_cannot_trade(live_server: LiveServer) -> None:
    ann = await live_server.user()
    key = (await ann.client.post(KEYS, json={"name": "viewer", "scopes": ["read"]})).json()
    viewer = live_server.client(**{"x-api-key": key["api_key"]})
    assert (await viewer.get("/api/v1/balances")).status_code == 200
    refused = await viewer.post("/api/v1/orders/cancel-all", json={})
    assert error_of(refused) == (403, "insufficient_scope", None)


async def test_keys_cannot_manage_credentials(live_server: LiveServer) -> None:
    ann = await live_server.user(cash=None)
    key = (await ann.client.post(KEYS, json={"name": "bot", "scopes": ["trade"]})).json()
    bot = live_server.client(**{"x-api-key": key["api_key"]})
    attempts = [
        bot.post(KEYS, json={"name": "another", "scopes": ["trade"]}),
        bot.delete(f"{KEYS}/{key['key_id']}"),
        bot.post(f"{AUTH}/2fa/enrol"),
        bot.post(f"{AUTH}/logout-all"),
        bot.post(
            f"{AUTH}/password/change",
            json={"current_password": PASSWORD, "new_password": "a brand new secret"},
        ),
    ]
    for attempt in attempts:
        assert error_of(await attempt) == (403, "session_required", None)
    forged = live_server.client(**{"x-api-key": key["key_id"] + ".forged"})
    assert error_of(await forged.post(KEYS, json={"name": "x", "scopes": ["read"]})) == (
        401,
        "invalid_api_key",
        None,
    )


async def test_api_key_input_and_ownership(live_server: LiveServer) -> None:
    ann = await live_server.user(cash=None)
    bob = await live_server.user(cash=None)
    key = (await ann.client.post(KEYS, json={"name": "bot", "scopes": ["read"]})).json()
    assert error_of(await bob.client.delete(f"{KEYS}/{key['key_id']}")) == (
        404,
        "api_key_not_found",
        None,
    )
    cases = [
        ({"name": "x", "scopes": []}, (422, "invalid_field", "scopes")),
        ({"name": "x", "scopes": ["admin"]}, (422, "invalid_field", "scopes.0")),
        ({"name": "", "scopes": ["read"]}, (422, "invalid_field", "name")),
        ({"scopes": ["read"]}, (422, "missing_field", "name")),
    ]
    for body, expected in cases:
        assert error_of(await ann.client.post(KEYS, json=body)) == expected, body
    assert error_of(await ann.client.delete(f"{KEYS}/bad%20id")) == (
        422,
        "invalid_field",
        "key_id",
    )
