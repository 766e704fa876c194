"""Signing in: credentials, verification, lockout, the audit trail and two-factor."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from exchange_server.api.settings import ServerSettings
from exchange_server.backoffice import totp
from exchange_server.backoffice.auth import AuthService
from exchange_server.protocol import UserOut, UserUpdate
from exchange_server.storage.models import LoginAttemptRow, UserRow, utc_now
from tests.backoffice.conftest import (
    PASSWORD,
    OpenedAccounts,
    mailed_code,
    refused,
    verified_user,
)


async def test_login_returns_tokens_that_identify_the_user(auth: AuthService) -> None:
    user = await verified_user(auth)
    pair = await auth.login("ANN@example.com", PASSWORD, ip="10.0.0.1", client="tests")
    assert pair.user == user
    assert (pair.expires_in, pair.token_type) == (auth.settings.access_token_seconds, "bearer")
    principal = auth.principal_from_access_token(pair.access_token)
    assert (principal.user_id, principal.account_id, principal.role) == (
        user.user_id,
        user.account_id,
        "trader",
    )
    assert principal.api_key_id == ""


async def test_wrong_password_and_unknown_email_look_the_same(auth: AuthService) -> None:
    await verified_user(auth)
    wrong = await refused(
        auth.login("ann@example.com", "wrong password"), 401, "invalid_credentials"
    )
    unknown = await refused(auth.login("bob@example.com", PASSWORD), 401, "invalid_credentials")
    assert wrong.message == unknown.message


async def test_every_attempt_is_recorded_with_ip_and_reason(auth: AuthService) -> None:
    user = await verified_user(auth)
    await refused(
        auth.login("ann@example.com", "wrong password", ip="10.0.0.9"), 401, "invalid_credentials"
    )
    await refused(
        auth.login("zed@example.com", PASSWORD, ip="10.0.0.8"), 401, "invalid_credentials"
    )
    await auth.login("ann@example.com", PASSWORD, ip="10.0.0.7")
    attempts = await auth.admin.login_attempts()
    assert [(a.email, a.user_id, a.ip, a.success, a.reason) for a in attempts] == [
        ("ann@example.com", user.user_id, "10.0.0.7", True, ""),
        ("zed@example.com", 0, "10.0.0.8", False, "unknown_email"),
        ("ann@example.com", user.user_id, "10.0.0.9", False, "bad_password"),
    ]
    assert [a.reason for a in await auth.admin.login_attempts("zed@example.com")] == [
        "unknown_email"
    ]


async def test_unverified_email_is_refused_only_when_required(
    auth: AuthService, engine: Engine, settings: ServerSettings
) -> None:
    await auth.register("ann@example.com", PASSWORD)
    await refused(auth.login("ann@example.com", PASSWORD), 403, "email_not_verified")
    relaxed = AuthService(
        engine, replace(settings, require_email_verification=False), OpenedAccounts()
    )
    await relaxed.login("ann@example.com", PASSWORD)
    await auth.verify_email(mailed_code(engine, "ann@example.com"))
    await auth.login("ann@example.com", PASSWORD)


async def test_disabled_account_is_told_only_to_the_right_password(auth: AuthService) -> None:
    admin = await verified_user(auth, "root@example.com", role="admin")
    user = await verified_user(auth)
    await auth.admin.update_user(admin.user_id, user.user_id, _change(is_active=False))
    await refused(auth.login("ann@example.com", "wrong password"), 401, "invalid_credentials")
    await refused(auth.login("ann@example.com", PASSWORD), 403, "account_disabled")


async def test_repeated_failures_lock_the_account(auth: AuthService) -> None:
    await verified_user(auth)
    threshold = auth.settings.lockout_threshold
    for _ in range(threshold - 1):
        await refused(auth.login("ann@example.com", "wrong password"), 401, "invalid_credentials")
    locking = await refused(auth.login("ann@example.com", "wrong password"), 423, "account_locked")
    assert locking.headers is not None
    retry_after = int(locking.headers["Retry-After"])
    assert 0 < retry_after <= auth.settings.lockout_seconds
    # While locked even the right password is refused, and the attempt is recorded.
    await refused(auth.login("ann@example.com", PASSWORD), 423, "account_locked")
    assert (await auth.admin.login_attempts())[0].reason == "locked"
    assert (await auth.admin.get_user(1)).locked_until is not None


async def test_lock_expires(auth: AuthService, engine: Engine) -> None:
    user = await verified_user(auth)
    await _lock(auth)
    _backdate_lock(engine, user.user_id)
    await auth.login("ann@example.com", PASSWORD)
    # A new lock needs a full new run of failures.
    await refused(auth.login("ann@example.com", "wrong password"), 401, "invalid_credentials")


async def test_failures_outside_the_window_do_not_count(auth: AuthService, engine: Engine) -> None:
    await verified_user(auth)
    threshold = auth.settings.lockout_threshold
    for _ in range(threshold - 1):
        await refused(auth.login("ann@example.com", "wrong password"), 401, "invalid_credentials")
    window = timedelta(seconds=auth.settings.lockout_window_seconds + 1)
    with Session(engine) as session, session.begin():
        for attempt in session.scalars(select(LoginAttemptRow)):
            attempt.at -= window
    await refused(auth.login("ann@example.com", "wrong password"), 401, "invalid_credentials")


async def test_a_success_resets_the_count(auth: AuthService) -> None:
    await verified_user(auth)
    for _ in range(auth.settings.lockout_threshold - 1):
        await refused(auth.login("ann@example.com", "wrong password"), 401, "invalid_credentials")
    await auth.login("ann@example.com", PASSWORD)
    await refused(auth.login("ann@example.com", "wrong password"), 401, "invalid_credentials")


async def test_admin_unlock_and_password_reset_lift_a_lock(
    auth: AuthService, engine: Engine
) -> None:
    admin = await verified_user(auth, "root@example.com", role="admin")
    user = await verified_user(auth)
    await _lock(auth)
    unlocked = await auth.admin.update_user(admin.user_id, user.user_id, _change(unlock=True))
    assert unlocked.locked_until is None
    await auth.login("ann@example.com", PASSWORD)
    await _lock(auth)
    await auth.request_password_reset("ann@example.com")
    await auth.reset_password(mailed_code(engine, "ann@example.com"), "a brand new secret")
    await auth.login("ann@example.com", "a brand new secret")


# -- two-factor ------------------------------------------------------------------------------
async def two_factor_user(auth: AuthService) -> tuple[UserOut, str, list[str]]:
    user = await verified_user(auth)
    enrolment = await auth.two_factor.begin(user.user_id)
    codes = await auth.two_factor.confirm(user.user_id, totp.current_code(enrolment.secret))
    return user, enrolment.secret, codes.codes


def next_code(secret: str) -> str:
    """The code of the next 30-second step (accepted: clocks drift), which a code already
    used in this step does not block."""
    return totp.current_code(secret, time.time() + 30)


async def test_enrolment_is_confirmed_by_a_code(auth: AuthService) -> None:
    user = await verified_user(auth)
    await refused(auth.two_factor.confirm(user.user_id, "123456"), 409, "totp_not_enrolled")
    enrolment = await auth.two_factor.begin(user.user_id)
    assert enrolment.provisioning_uri.startswith("otpauth://totp/")
    assert "issuer=Trading%20Workstation" in enrolment.provisioning_uri
    wrong = "000000" if totp.current_code(enrolment.secret) != "000000" else "111111"
    await refused(auth.two_factor.confirm(user.user_id, wrong), 403, "invalid_otp")
    assert not (await auth.me(user.user_id)).totp_enabled
    codes = await auth.two_factor.confirm(user.user_id, totp.current_code(enrolment.secret))
    assert len(codes.codes) == 10
    assert (await auth.me(user.user_id)).totp_enabled
    await refused(auth.two_factor.begin(user.user_id), 409, "totp_already_enabled")


async def test_two_factor_login_needs_a_fresh_code(auth: AuthService) -> None:
    _, secret, _ = await two_factor_user(auth)
    error = await refused(auth.login("ann@example.com", PASSWORD), 401, "mfa_required")
    assert error.field == "otp"
    wrong = "000000" if next_code(secret) != "000000" else "111111"
    await refused(auth.login("ann@example.com", PASSWORD, otp=wrong), 401, "invalid_otp")
    code = next_code(secret)
    await auth.login("ann@example.com", PASSWORD, otp=code)
    # An observed code cannot be replayed.
    await refused(auth.login("ann@example.com", PASSWORD, otp=code), 401, "invalid_otp")
    # The second factor is asked only after the password is right.
    await refused(auth.login("ann@example.com", "wrong password"), 401, "invalid_credentials")


async def test_recovery_codes_work_once_each(auth: AuthService) -> None:
    _, _, codes = await two_factor_user(auth)
    await auth.login("ann@example.com", PASSWORD, recovery_code=codes[0].upper())
    await refused(
        auth.login("ann@example.com", PASSWORD, recovery_code=codes[0]),
        401,
        "invalid_recovery_code",
    )
    await refused(
        auth.login("ann@example.com", PASSWORD, recovery_code="aaaaa-bbbbb"),
        401,
        "invalid_recovery_code",
    )
    await auth.login("ann@example.com", PASSWORD, recovery_code=codes[1])


async def test_guessing_codes_locks_the_account(auth: AuthService) -> None:
    _, secret, _ = await two_factor_user(auth)
    wrong = "000000" if next_code(secret) != "000000" else "111111"
    for _ in range(auth.settings.lockout_threshold - 1):
        await refused(auth.login("ann@example.com", PASSWORD, otp=wrong), 401, "invalid_otp")
    await refused(auth.login("ann@example.com", PASSWORD, otp=wrong), 423, "account_locked")


async def test_new_recovery_codes_replace_the_old(auth: AuthService) -> None:
    user, secret, old = await two_factor_user(auth)
    new = await auth.two_factor.regenerate_recovery_codes(user.user_id, next_code(secret))
    assert set(new.codes).isdisjoint(old)
    await refused(
        auth.login("ann@example.com", PASSWORD, recovery_code=old[2]), 401, "invalid_recovery_code"
    )
    await auth.login("ann@example.com", PASSWORD, recovery_code=new.codes[2])


async def test_disabling_two_factor_needs_password_and_code(auth: AuthService) -> None:
    user, secret, _ = await two_factor_user(auth)
    code = next_code(secret)
    await refused(
        auth.two_factor.disable(user.user_id, "wrong password", code), 403, "wrong_password"
    )
    await auth.two_factor.disable(user.user_id, PASSWORD, code)
    assert not (await auth.me(user.user_id)).totp_enabled
    await auth.login("ann@example.com", PASSWORD)  # no second factor any more
    await refused(auth.two_factor.disable(user.user_id, PASSWORD, code), 409, "totp_not_enabled")
    await refused(
        auth.two_factor.regenerate_recovery_codes(user.user_id, code), 409, "totp_not_enabled"
    )


# -- helpers -------------------------------------------------------------------------------
def _change(**values: object) -> UserUpdate:
    return UserUpdate.model_validate(values)


async def _lock(auth: AuthService) -> None:
    for _ in range(auth.settings.lockout_threshold - 1):
        await refused(auth.login("ann@example.com", "wrong password"), 401, "invalid_credentials")
    await refused(auth.login("ann@example.com", "wrong password"), 423, "account_locked")


def _backdate_lock(engine: Engine, user_id: int) -> None:
    with engine.begin() as connection:
        connection.execute(
            update(UserRow)
            .where(UserRow.user_id == user_id)
            .values(locked_until=utc_now() - timedelta(seconds=1))
        )
