"""Sign-up, sign-in, sessions and passwords through the real server on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import time
from pathlib import Path

import httpx
import jwt

from tests.api.conftest import PASSWORD, LiveServer, serve, server_settings

AUTH = "/api/v1/auth"
NEW_PASSWORD = "a brand new secret"


def mailed_code(live: LiveServer, recipient: str) -> str:
    """The code (the indented line) in the newest .eml file sent to ``recipient``."""
    for path in sorted(live.settings.outbox_dir.glob("*.eml"), reverse=True):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == recipient:
            body = message.get_body()
            assert body is not None
            text = body.get_content()
            return next(line.strip() for line in text.splitlines() if line.startswith("    "))
    raise AssertionError(f"no mail to {recipient}")


def error_of(response: httpx.Response) -> tuple[int, str, str | None]:
    error = response.json()["error"]
    return response.status_code, error["code"], error["field"]


async def register_verified(live: LiveServer, address: str = "ann@example.com") -> None:
    client = live.client()
    response = await client.post(f"{AUTH}/register", json={"email": address, "password": PASSWORD})
    assert response.status_code == 201, response.text
    code = mailed_code(live, address)
    assert (await client.post(f"{AUTH}/verify-email", json={"token": code})).status_code == 200


async def login(live: LiveServer, address: str = "ann@example.com", **extra: str) -> httpx.Response:
    body = {"email": address, "password": PASSWORD, **extra}
    return await live.client().post(f"{AUTH}/login", json=body)


async def me(live: LiveServer, access_token: str) -> httpx.Response:
    return await live.client(authorization=f"Bearer {access_token}").get(f"{AUTH}/me")


# -- registration ----------------------------------------------------------------------------
async def test_register_verify_and_sign_in(live_server: LiveServer) -> None:
    client = live_server.client()
    response = await client.post(
        f"{AUTH}/register",
        json={"email": "Ann@Example.com", "password": PASSWORD, "display_name": " Ann "},
    )
    assert response.status_code == 201
    user = response.json()
    assert (user["email"], user["display_name"], user["email_verified"]) == (
        "ann@example.com",
        "Ann",
        False,
    )
    refused = await login(live_server)
    assert error_of(refused) == (403, "email_not_verified", None)
    code = mailed_code(live_server, "ann@example.com")
    verified = await client.post(f"{AUTH}/verify-email", json={"token": code})
    assert verified.json()["email_verified"] is True
    again = await client.post(f"{AUTH}/verify-email", json={"token": code})
    assert error_of(again) == (400, "invalid_verification_token", "token")
    signed_in = await login(live_server)
    assert signed_in.status_code == 200
    tokens = signed_in.json()
    assert tokens["token_type"] == "bearer" and tokens["user"]["user_id"] == user["user_id"]
    profile = await me(live_server, tokens["access_token"])
    assert profile.json()["account_id"] == 1_000_000 + user["user_id"]


async def test_the_new_users_engine_account_is_open(live_server: LiveServer) -> None:
    await register_verified(live_server)
    tokens = (await login(live_server)).json()
    client = live_server.client(authorization=f"Bearer {tokens['access_token']}")
    balances = await client.get("/api/v1/balances")
    assert balances.status_code == 200, balances.text


async def test_registration_refusals(live_server: LiveServer) -> None:
    client = live_server.client()
    await register_verified(live_server)
    cases = [
        ({"email": "ann@example.com", "password": PASSWORD}, (409, "email_taken", "email")),
        (
            {"email": "bob@example.com", "password": "1234567890"},
            (422, "weak_password", "password"),
        ),
        ({"email": "bob@example.com", "password": "short"}, (422, "invalid_field", "password")),
        ({"email": "not-an-address", "password": PASSWORD}, (422, "invalid_field", "email")),
        (  # a control character mail headers would take for a line break
            {"email": "ann@exa\u001dmple.com", "password": PASSWORD},
            (422, "invalid_field", "email"),
        ),
        ({"email": "bob@example.com"}, (422, "missing_field", "password")),
        (
            {"email": "bob@example.com", "password": PASSWORD, "role": "admin"},
            (422, "unknown_field", "role"),
        ),
    ]
    for body, expected in cases:
        assert error_of(await client.post(f"{AUTH}/register", json=body)) == expected, body
    malformed = await client.post(
        f"{AUTH}/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert error_of(malformed) == (400, "malformed_json", None)


async def test_resend_verification_answers_the_same_for_anyone(live_server: LiveServer) -> None:
    client = live_server.client()
    await client.post(f"{AUTH}/register", json={"email": "ann@example.com", "password": PASSWORD})
    first = mailed_code(live_server, "ann@example.com")
    for address in ("ann@example.com", "nobody@example.com"):
        response = await client.post(f"{AUTH}/resend-verification", json={"email": address})
        assert response.status_code == 202
    second = mailed_code(live_server, "ann@example.com")
    assert second != first
    assert (await client.post(f"{AUTH}/verify-email", json={"token": second})).status_code == 200


# -- signing in ------------------------------------------------------------------------------
async def test_wrong_credentials(live_server: LiveServer) -> None:
    await register_verified(live_server)
    client = live_server.client()
    wrong = await client.post(f"{AUTH}/login", json={"email": "ann@example.com", "password": "x"})
    unknown = await login(live_server, "bob@example.com")
    assert error_of(wrong) == error_of(unknown) == (401, "invalid_credentials", None)
    bad_otp = await login(live_server, otp="12ab56")
    assert error_of(bad_otp) == (422, "invalid_field", "otp")


async def test_lockout_with_retry_after(live_server: LiveServer) -> None:
    await register_verified(live_server)
    client = live_server.client()
    body = {"email": "ann@example.com", "password": "wrong password"}
    statuses = [(await client.post(f"{AUTH}/login", json=body)).status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 401, 423]
    locked = await login(live_server)
    assert error_of(locked) == (423, "account_locked", None)
    assert 0 < int(locked.headers["retry-after"]) <= live_server.settings.lockout_seconds


async def test_a_password_reset_unlocks(live_server: LiveServer) -> None:
    await register_verified(live_server)
    client = live_server.client()
    for _ in range(5):
        await client.post(f"{AUTH}/login", json={"email": "ann@example.com", "password": "nope"})
    assert (await login(live_server)).status_code == 423
    for address in ("ann@example.com", "nobody@example.com"):
        response = await client.post(f"{AUTH}/password/reset-request", json={"email": address})
        assert response.status_code == 202
    code = mailed_code(live_server, "ann@example.com")
    weak = await client.post(
        f"{AUTH}/password/reset", json={"token": code, "new_password": "1234567890"}
    )
    assert error_of(weak) == (422, "weak_password", "new_password")
    reset = await client.post(
        f"{AUTH}/password/reset", json={"token": code, "new_password": NEW_PASSWORD}
    )
    assert reset.status_code == 204
    assert (await login(live_server, password=NEW_PASSWORD)).status_code == 200
    assert error_of(await login(live_server)) == (401, "invalid_credentials", None)
    reused = await client.post(
        f"{AUTH}/password/reset", json={"token": code, "new_password": "yet another secret"}
    )
    assert error_of(reused) == (400, "invalid_reset_token", "token")


# -- sessions --------------------------------------------------------------------------------
async def test_refresh_rotates_and_reuse_ends_the_session(live_server: LiveServer) -> None:
    await register_verified(live_server)
    client = live_server.client()
    first = (await login(live_server)).json()
    second = await client.post(f"{AUTH}/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    rotated = second.json()
    assert (await me(live_server, rotated["access_token"])).status_code == 200
    replay = await client.post(f"{AUTH}/refresh", json={"refresh_token": first["refresh_token"]})
    assert error_of(replay) == (401, "refresh_token_reused", None)
    assert error_of(await me(live_server, rotated["access_token"])) == (401, "invalid_token", None)
    after = await client.post(f"{AUTH}/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert error_of(after) == (401, "invalid_refresh_token", None)
    unknown = await client.post(f"{AUTH}/refresh", json={"refresh_token": "made-up"})
    assert error_of(unknown) == (401, "invalid_refresh_token", None)


async def test_logout_and_logout_all(live_server: LiveServer) -> None:
    await register_verified(live_server)
    client = live_server.client()
    one, two, three = [(await login(live_server)).json() for _ in range(3)]
    response = await client.post(f"{AUTH}/logout", json={"refresh_token": one["refresh_token"]})
    assert response.status_code == 204
    assert error_of(await me(live_server, one["access_token"])) == (401, "invalid_token", None)
    assert (await me(live_server, two["access_token"])).status_code == 200
    signed_in = live_server.client(authorization=f"Bearer {two['access_token']}")
    assert (await signed_in.post(f"{AUTH}/logout-all")).status_code == 204
    for tokens in (two, three):
        assert (await me(live_server, tokens["access_token"])).status_code == 401
        refreshed = await client.post(
            f"{AUTH}/refresh", json={"refresh_token": tokens["refresh_token"]}
        )
        assert error_of(refreshed) == (401, "invalid_refresh_token", None)
    assert (await client.post(f"{AUTH}/logout-all")).status_code == 401


async def test_me_needs_a_valid_unexpired_token(live_server: LiveServer) -> None:
    await register_verified(live_server)
    user = (await login(live_server)).json()["user"]
    now = time.time()
    claims = {
        "iss": "exchange-server",
        "sub": str(user["user_id"]),
        "role": "trader",
        "account": user["account_id"],
        "sid": "s",
        "iat": now - 120,
        "exp": now - 60,
        "jti": "j",
    }
    expired = jwt.encode(claims, live_server.settings.secret_key, "HS256")
    assert error_of(await me(live_server, expired)) == (401, "token_expired", None)
    forged = jwt.encode({**claims, "exp": now + 600}, "not the server's key" * 3, "HS256")
    assert error_of(await me(live_server, forged)) == (401, "invalid_token", None)
    anonymous = await live_server.client().get(f"{AUTH}/me")
    assert error_of(anonymous) == (401, "unauthorized", None)
    assert anonymous.headers["www-authenticate"] == "Bearer"


async def test_password_change_ends_the_other_sessions(live_server: LiveServer) -> None:
    await register_verified(live_server)
    here, elsewhere = [(await login(live_server)).json() for _ in range(2)]
    client = live_server.client(authorization=f"Bearer {here['access_token']}")
    wrong = await client.post(
        f"{AUTH}/password/change",
        json={"current_password": "not it", "new_password": NEW_PASSWORD},
    )
    assert error_of(wrong) == (403, "wrong_password", "current_password")
    short = await client.post(
        f"{AUTH}/password/change", json={"current_password": PASSWORD, "new_password": "short"}
    )
    assert error_of(short) == (422, "invalid_field", "new_password")
    changed = await client.post(
        f"{AUTH}/password/change",
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 204
    assert (await me(live_server, here["access_token"])).status_code == 200
    assert (await me(live_server, elsewhere["access_token"])).status_code == 401
    assert (await login(live_server, password=NEW_PASSWORD)).status_code == 200


# -- embedded mode ---------------------------------------------------------------------------
async def test_embedded_login_is_absent_on_a_normal_server(live_server: LiveServer) -> None:
    response = await live_server.client().post(f"{AUTH}/embedded", json={"secret": "guess"})
    assert error_of(response) == (404, "not_found", None)


async def test_embedded_secret_signs_the_paper_trader_in_once(tmp_path: Path) -> None:
    settings = server_settings(tmp_path, embedded_secret="one-time-secret-from-the-parent")
    async with serve(settings, instruments=False) as live:
        client = live.client()
        wrong = await client.post(f"{AUTH}/embedded", json={"secret": "guess"})
        assert error_of(wrong) == (401, "invalid_secret", None)
        response = await client.post(
            f"{AUTH}/embedded", json={"secret": "one-time-secret-from-the-parent"}
        )
        assert response.status_code == 200
        tokens = response.json()
        assert tokens["user"]["is_paper"] is True
        trader = live.client(authorization=f"Bearer {tokens['access_token']}")
        profile = (await trader.get(f"{AUTH}/me")).json()
        assert (profile["is_paper"], profile["email_verified"]) == (True, True)
        again = await client.post(
            f"{AUTH}/embedded", json={"secret": "one-time-secret-from-the-parent"}
        )
        assert error_of(again) == (401, "invalid_secret", None)
