"""Registration, e-mail verification, operator-made users and the embedded paper trader."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import Engine

from exchange_server.api.settings import ServerSettings
from exchange_server.backoffice.auth import USER_ACCOUNT_BASE, AuthService
from tests.backoffice.conftest import (
    PASSWORD,
    OpenedAccounts,
    eml_files,
    mailed_code,
    outbox,
    refused,
)


async def test_register_creates_an_unverified_trader_with_an_engine_account(
    auth: AuthService, opened: OpenedAccounts
) -> None:
    user = await auth.register(" Ann@Example.COM ", PASSWORD, "Ann")
    assert user.email == "ann@example.com"
    assert (user.role, user.email_verified, user.is_paper, user.is_active) == (
        "trader",
        False,
        False,
        True,
    )
    assert user.account_id == USER_ACCOUNT_BASE + user.user_id
    assert opened.calls == [(user.account_id, False)]


async def test_register_mails_a_code_to_the_outbox_table_and_an_eml_file(
    auth: AuthService, engine: Engine, settings: ServerSettings
) -> None:
    await auth.register("ann@example.com", PASSWORD)
    [row] = outbox(engine, "ann@example.com")
    assert row.sent_at is not None
    [message] = eml_files(settings)
    assert message["To"] == "ann@example.com"
    assert message["Subject"] == "Confirm your e-mail address"
    assert message["Message-ID"] and message["Date"]
    assert mailed_code(engine, "ann@example.com") in message.get_content()


async def test_verification_code_verifies_once(auth: AuthService, engine: Engine) -> None:
    await auth.register("ann@example.com", PASSWORD)
    code = mailed_code(engine, "ann@example.com")
    assert (await auth.verify_email(code)).email_verified
    error = await refused(auth.verify_email(code), 400, "invalid_verification_token")
    assert error.field == "token"
    await refused(auth.verify_email("made-up"), 400, "invalid_verification_token")


async def test_resend_verification_mails_only_unverified_accounts(
    auth: AuthService, engine: Engine
) -> None:
    await auth.register("ann@example.com", PASSWORD)
    await auth.resend_verification("ANN@example.com")
    await auth.resend_verification("nobody@example.com")  # no error: no account probing
    assert len(outbox(engine, "ann@example.com")) == 2
    assert outbox(engine, "nobody@example.com") == []
    await auth.verify_email(mailed_code(engine, "ann@example.com"))
    await auth.resend_verification("ann@example.com")
    assert len(outbox(engine, "ann@example.com")) == 2


async def test_duplicate_email_is_refused_whatever_its_case(auth: AuthService) -> None:
    await auth.register("ann@example.com", PASSWORD)
    error = await refused(auth.register("ANN@example.com", PASSWORD), 409, "email_taken")
    assert error.field == "email"


async def test_weak_password_is_refused_with_the_field(
    auth: AuthService, opened: OpenedAccounts
) -> None:
    error = await refused(auth.register("ann@example.com", "1234567890"), 422, "weak_password")
    assert error.field == "password"
    assert opened.calls == []


async def test_a_user_whose_engine_account_fails_is_not_left_behind(
    engine: Engine, settings: ServerSettings
) -> None:
    async def engine_down(account_id: int, paper_cash: bool) -> None:
        raise RuntimeError("engine unavailable")

    failing = AuthService(engine, settings, engine_down)
    with pytest.raises(RuntimeError):
        await failing.register("ann@example.com", PASSWORD)
    working = AuthService(engine, settings, OpenedAccounts())
    assert (await working.register("ann@example.com", PASSWORD)).email == "ann@example.com"


async def test_create_user_makes_any_role_without_mail(
    auth: AuthService, engine: Engine, opened: OpenedAccounts
) -> None:
    admin = await auth.create_user("root@example.com", PASSWORD, role="admin", verified=True)
    assert (admin.role, admin.email_verified) == ("admin", True)
    assert opened.calls == [(admin.account_id, False)]
    assert outbox(engine, "root@example.com") == []
    await refused(auth.create_user("x@example.com", PASSWORD, role="god"), 422, "invalid_field")


async def test_paper_user_is_provisioned_once_with_paper_cash(
    auth: AuthService, opened: OpenedAccounts
) -> None:
    first = await auth.provision_paper_user()
    again = await auth.provision_paper_user()
    assert first == again
    assert (first.is_paper, first.email_verified, first.role) == (True, True, "trader")
    # Opening is idempotent in the engine; asking every start repairs a half-done start.
    assert opened.calls == [(first.account_id, True), (first.account_id, True)]
    # Nobody can sign in as the paper trader with a password.
    await refused(auth.login("paper@localhost", ""), 401, "invalid_credentials")


async def test_embedded_login_works_once_with_the_right_secret(
    engine: Engine, settings: ServerSettings
) -> None:
    embedded = AuthService(
        engine, replace(settings, embedded_secret="s3cret-handed-to-child"), OpenedAccounts()
    )
    await refused(embedded.embedded_login("wrong"), 401, "invalid_secret")
    pair = await embedded.embedded_login("s3cret-handed-to-child")
    assert pair.user.is_paper
    principal = embedded.principal_from_access_token(pair.access_token)
    assert principal.account_id == pair.user.account_id
    await refused(embedded.embedded_login("s3cret-handed-to-child"), 401, "invalid_secret")


async def test_embedded_login_does_not_exist_on_a_remote_server(auth: AuthService) -> None:
    await refused(auth.embedded_login("anything"), 404, "not_found")


async def test_a_failing_mailer_still_registers_and_the_mail_can_be_asked_again(
    auth: AuthService, engine: Engine
) -> None:
    working = auth.mailer

    class Down:
        async def send(self, recipient: str, subject: str, body: str) -> None:
            raise ConnectionError("the mail relay is down")

    auth.mailer = Down()
    user = await auth.register("ann@example.com", PASSWORD)
    assert not user.email_verified and outbox(engine, "ann@example.com") == []
    auth.mailer = working
    await auth.resend_verification("ann@example.com")
    assert (await auth.verify_email(mailed_code(engine, "ann@example.com"))).email_verified
