"""Running back-office database work off the event loop.

Every unit of work is a plain function of an ORM ``Session`` run in a worker thread, so a
slow disk or a busy PostgreSQL never stalls the server's event loop. Writes take SQLite's
write lock up front (``WRITE_TRANSACTION``) so read-then-write work cannot fail with
SQLITE_BUSY halfway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy import CursorResult, Engine, Result
from sqlalchemy.orm import Session

from exchange_server.api.errors import ApiError
from exchange_server.backoffice.tokens import invalid_token
from exchange_server.protocol import UserOut
from exchange_server.storage.database import WRITE_TRANSACTION
from exchange_server.storage.models import UserRow

T = TypeVar("T")


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def read(self, work: Callable[[Session], T]) -> T:
        return await asyncio.to_thread(self.read_now, work)

    async def write(self, work: Callable[[Session], T | ApiError]) -> T:
        """Run ``work`` in a write transaction and commit. When it returns an ``ApiError``
        instead of a result, what it did is still committed (a failed login is recorded,
        a reused token's family revoked) and the error is raised afterwards."""
        result = await asyncio.to_thread(self.write_now, work)
        if isinstance(result, ApiError):
            raise result
        return result

    def read_now(self, work: Callable[[Session], T]) -> T:
        with Session(self.engine, expire_on_commit=False) as session:
            return work(session)

    def write_now(self, work: Callable[[Session], T]) -> T:
        with self.engine.connect() as connection:
            connection = connection.execution_options(**WRITE_TRANSACTION)
            with Session(bind=connection, expire_on_commit=False) as session, session.begin():
                return work(session)


def user_out(row: UserRow, now: datetime | None = None) -> UserOut:
    now = now or datetime.now(UTC)
    locked_until = row.locked_until if row.locked_until and row.locked_until > now else None
    return UserOut(
        user_id=row.user_id,
        email=row.email,
        display_name=row.display_name,
        role=row.role,  # type: ignore[arg-type]  # a Role: only roles are ever stored
        account_id=row.account_id,
        email_verified=row.email_verified,
        totp_enabled=row.totp_enabled,
        is_paper=row.is_paper,
        is_active=row.is_active,
        locked_until=locked_until,
        created_at=row.created_at,
    )


def normalise_email(email: str) -> str:
    return email.strip().lower()


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE matched (``Session.execute`` types its result generally)."""
    return cast(CursorResult[Any], result).rowcount


async def existing_user(store: Store, user_id: int) -> UserRow:
    """The signed-in caller's row; gone means their token names a deleted user."""
    user = await store.read(lambda s: s.get(UserRow, user_id))
    if user is None:
        raise invalid_token("this user no longer exists")
    return user
