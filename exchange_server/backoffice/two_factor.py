"""Two-factor sign-in: enrolment with an authenticator app, confirmation, recovery codes
and switching it off. The codes themselves are in ``totp``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from exchange_server.api.errors import ApiError
from exchange_server.backoffice import totp
from exchange_server.backoffice.passwords import PasswordHasher
from exchange_server.backoffice.store import Store, existing_user, rowcount
from exchange_server.protocol import RecoveryCodes, TotpEnrolment
from exchange_server.storage.models import RecoveryCodeRow, UserRow, utc_now


def _not_enabled() -> ApiError:
    return ApiError(409, "totp_not_enabled", "two-factor sign-in is not on")


class TwoFactor:
    def __init__(self, store: Store, passwords: PasswordHasher) -> None:
        self._store = store
        self._passwords = passwords
        # The last time step accepted per user: an observed code cannot be replayed.
        self._last_step: dict[int, int] = {}

    def accept(self, user_id: int, secret: str, code: str) -> bool:
        """Whether ``code`` is valid now and newer than any code this user used before."""
        step = totp.matching_step(secret, code) if secret else None
        if step is None or step <= self._last_step.get(user_id, -1):
            return False
        self._last_step[user_id] = step
        return True

    async def use_recovery_code(self, user_id: int, code: str) -> bool:
        """Whether ``code`` is one of the user's unused recovery codes, now used up."""
        code_hash = totp.recovery_code_hash(user_id, code)

        def work(session: Session) -> bool:
            used = session.execute(
                update(RecoveryCodeRow)
                .where(
                    RecoveryCodeRow.code_hash == code_hash,
                    RecoveryCodeRow.user_id == user_id,
                    RecoveryCodeRow.used_at.is_(None),
                )
                .values(used_at=utc_now())
            )
            return rowcount(used) == 1

        return await self._store.write(work)

    async def begin(self, user_id: int) -> TotpEnrolment:
        """A new secret to scan; two-factor becomes active only once a code confirms it."""
        user = await existing_user(self._store, user_id)
        if user.totp_enabled:
            raise ApiError(
                409, "totp_already_enabled", "two-factor sign-in is already on: disable it first"
            )
        secret = totp.new_secret()
        await self._store.write(_set_totp(user_id, secret=secret))
        return TotpEnrolment(
            secret=secret, provisioning_uri=totp.provisioning_uri(secret, user.email)
        )

    async def confirm(self, user_id: int, code: str) -> RecoveryCodes:
        user = await existing_user(self._store, user_id)
        if user.totp_enabled:
            raise ApiError(409, "totp_already_enabled", "two-factor sign-in is already on")
        if not user.totp_secret:
            raise ApiError(409, "totp_not_enrolled", "start two-factor enrolment first")
        self._require(user, code)
        codes = totp.new_recovery_codes()

        def work(session: Session) -> None:
            _set_totp(user_id, enabled=True)(session)
            _replace_recovery_codes(session, user_id, codes)

        await self._store.write(work)
        return RecoveryCodes(codes=codes)

    async def disable(self, user_id: int, password: str, code: str) -> None:
        user = await existing_user(self._store, user_id)
        if not user.totp_enabled:
            raise _not_enabled()
        if not await asyncio.to_thread(self._passwords.verify, user.password_hash, password):
            raise ApiError(403, "wrong_password", "the password is wrong", "password")
        self._require(user, code)

        def work(session: Session) -> None:
            _set_totp(user_id, secret="", enabled=False)(session)
            session.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.user_id == user_id))

        await self._store.write(work)

    async def regenerate_recovery_codes(self, user_id: int, code: str) -> RecoveryCodes:
        """New recovery codes; the old ones stop working."""
        user = await existing_user(self._store, user_id)
        if not user.totp_enabled:
            raise _not_enabled()
        self._require(user, code)
        codes = totp.new_recovery_codes()
        await self._store.write(lambda s: _replace_recovery_codes(s, user_id, codes))
        return RecoveryCodes(codes=codes)

    def _require(self, user: UserRow, code: str) -> None:
        if not self.accept(user.user_id, user.totp_secret, code):
            # 403, not 401: the caller is signed in; only this code is wrong.
            raise ApiError(403, "invalid_otp", "the authenticator code is wrong", "code")


def _set_totp(
    user_id: int, *, secret: str | None = None, enabled: bool | None = None
) -> Callable[[Session], None]:
    values: dict[str, object] = {}
    if secret is not None:
        values["totp_secret"] = secret
    if enabled is not None:
        values["totp_enabled"] = enabled

    def work(session: Session) -> None:
        session.execute(update(UserRow).where(UserRow.user_id == user_id).values(**values))

    return work


def _replace_recovery_codes(session: Session, user_id: int, codes: list[str]) -> None:
    session.execute(delete(RecoveryCodeRow).where(RecoveryCodeRow.user_id == user_id))
    for code in codes:
        session.add(
            RecoveryCodeRow(code_hash=totp.recovery_code_hash(user_id, code), user_id=user_id)
        )
