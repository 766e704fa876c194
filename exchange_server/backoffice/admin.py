"""User administration for admins and brokers: find users, change roles, disable, unlock,
and read the login audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from exchange_server.api.errors import ApiError
from exchange_server.backoffice.store import normalise_email, user_out
from exchange_server.protocol import LoginAttemptOut, Page, UserOut, UserUpdate
from exchange_server.storage.models import LoginAttemptRow, UserRow

if TYPE_CHECKING:
    from exchange_server.backoffice.auth import AuthService

MAX_PAGE = 200


def _user_not_found() -> ApiError:
    return ApiError(404, "user_not_found", "there is no user with this id")


def parse_cursor(cursor: str | None) -> int:
    """Cursors are the last user id of the previous page (opaque to clients)."""
    if cursor is None or cursor == "":
        return 0
    if not cursor.isdigit() or len(cursor) > 18:
        raise ApiError(422, "invalid_field", "not a cursor this server handed out", "cursor")
    return int(cursor)


class UserAdministration:
    def __init__(self, auth: AuthService) -> None:
        self._auth = auth
        self._store = auth.store

    async def list_users(
        self,
        search: str = "",
        role: str | None = None,
        cursor: str | None = None,
        limit: int = 50,
    ) -> Page[UserOut]:
        after = parse_cursor(cursor)
        limit = max(1, min(limit, MAX_PAGE))
        needle = search.strip().lower()

        def work(session: Session) -> list[UserRow]:
            query = select(UserRow).where(UserRow.user_id > after)
            if needle:
                query = query.where(
                    or_(
                        func.lower(UserRow.email).contains(needle, autoescape=True),
                        func.lower(UserRow.display_name).contains(needle, autoescape=True),
                    )
                )
            if role:
                query = query.where(UserRow.role == role)
            # One row more than asked tells whether another page follows.
            return list(session.scalars(query.order_by(UserRow.user_id).limit(limit + 1)))

        rows = await self._store.read(work)
        more = len(rows) > limit
        rows = rows[:limit]
        return Page[UserOut](
            items=[user_out(row) for row in rows],
            next_cursor=str(rows[-1].user_id) if more else None,
        )

    async def get_user(self, user_id: int) -> UserOut:
        row = await self._store.read(lambda s: s.get(UserRow, user_id))
        if row is None:
            raise _user_not_found()
        return user_out(row)

    async def update_user(self, actor_id: int, user_id: int, change: UserUpdate) -> UserOut:
        """Apply an admin's change. Disabling a user or changing their role ends every
        session and API key cache entry at once (their tokens name the old role)."""
        if user_id == actor_id and (
            change.is_active is False or change.role not in (None, "admin")
        ):
            # The last admin could otherwise lock everyone out of administration.
            raise ApiError(409, "own_account", "you cannot disable or demote your own account")

        def work(session: Session) -> tuple[UserRow, bool] | ApiError:
            row = session.get(UserRow, user_id, with_for_update=True)
            if row is None:
                return _user_not_found()
            ends_sessions = False
            if change.role is not None and change.role != row.role:
                row.role = change.role
                ends_sessions = True
            if change.is_active is not None and change.is_active != row.is_active:
                row.is_active = change.is_active
                ends_sessions = ends_sessions or not change.is_active
            if change.unlock:
                row.locked_until = None
                row.failed_logins = 0
            return row, ends_sessions

        row, ends_sessions = await self._store.write(work)
        if ends_sessions:
            await self._auth.end_sessions(user_id)
        elif change.is_active:
            # A user disabled when the server started is refused for ever in memory; from
            # now on only tokens issued before this moment are.
            self._auth.revocations.revoke_user(user_id)
        return user_out(row)

    async def login_attempts(self, email: str = "", limit: int = 100) -> list[LoginAttemptOut]:
        limit = max(1, min(limit, 1000))
        address = normalise_email(email)

        def work(session: Session) -> list[LoginAttemptRow]:
            query = select(LoginAttemptRow)
            if address:
                query = query.where(LoginAttemptRow.email == address)
            query = query.order_by(LoginAttemptRow.attempt_id.desc()).limit(limit)
            return list(session.scalars(query))

        rows = await self._store.read(work)
        return [
            LoginAttemptOut(
                attempt_id=row.attempt_id,
                email=row.email,
                user_id=row.user_id,
                ip=row.ip,
                success=row.success,
                reason=row.reason,
                at=row.at,
            )
            for row in rows
        ]
