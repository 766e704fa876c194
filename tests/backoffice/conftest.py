"""An ``AuthService`` on a real, migrated database (SQLite and PostgreSQL), with the engine
account opening recorded instead of run: these tests are about the back office alone
(the API tests run the whole server)."""

from __future__ import annotations

import email
import email.policy
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from exchange_server.api.errors import ApiError
from exchange_server.api.settings import ServerSettings
from exchange_server.backoffice.auth import AuthService
from exchange_server.protocol import UserOut
from exchange_server.storage.models import OutboxEmailRow

PASSWORD = "correct horse battery"


@dataclass
class OpenedAccounts:
    calls: list[tuple[int, bool]] = field(default_factory=list)

    async def __call__(self, account_id: int, paper_cash: bool) -> None:
        self.calls.append((account_id, paper_cash))


def make_settings(tmp_path: Path, **overrides: object) -> ServerSettings:
    settings = ServerSettings(
        database_url="unused",
        data_dir=tmp_path,
        password_hashing="fast",
        secret_key="test-secret-key-that-is-long-enough-for-hs256",
    )
    for name, value in overrides.items():
        setattr(settings, name, value)
    return settings


@pytest.fixture
def settings(tmp_path: Path) -> ServerSettings:
    return make_settings(tmp_path)


@pytest.fixture
def opened() -> OpenedAccounts:
    return OpenedAccounts()


@pytest.fixture
async def auth(
    engine: Engine, settings: ServerSettings, opened: OpenedAccounts
) -> AsyncIterator[AuthService]:
    yield AuthService(engine, settings, opened)


def outbox(engine: Engine, recipient: str) -> list[OutboxEmailRow]:
    with Session(engine) as session:
        return list(
            session.scalars(
                select(OutboxEmailRow)
                .where(OutboxEmailRow.recipient == recipient)
                .order_by(OutboxEmailRow.email_id)
            )
        )


def mailed_code(engine: Engine, recipient: str) -> str:
    """The code in the newest message to ``recipient`` (the indented line)."""
    body = outbox(engine, recipient)[-1].body
    return next(line.strip() for line in body.splitlines() if line.startswith("    "))


def eml_files(settings: ServerSettings) -> list[EmailMessage]:
    messages = []
    for path in sorted(settings.outbox_dir.glob("*.eml")):
        parsed = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        messages.append(parsed)
    return messages


async def verified_user(
    auth: AuthService, address: str = "ann@example.com", role: str = "trader"
) -> UserOut:
    return await auth.create_user(address, PASSWORD, role=role, verified=True)


async def refused(awaitable: Awaitable[object], status: int, code: str) -> ApiError:
    """Await ``awaitable``, which must fail with this status and code."""
    with pytest.raises(ApiError) as caught:
        await awaitable
    assert (caught.value.status, caught.value.code) == (status, code), caught.value.message
    return caught.value
