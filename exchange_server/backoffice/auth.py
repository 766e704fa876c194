"""Who may use the exchange: registration, login, sessions, passwords, two-factor and API keys.

``AuthService`` is the back office's single entry point for the API. Passwords are argon2id
hashes; sessions are a short-lived JWT access token plus a rotating refresh token; programs
use scoped API keys. Failed logins are recorded and, past a threshold within a window, lock
the account for a while.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from exchange_server.api.deps import Principal
from exchange_server.api.errors import ApiError
from exchange_server.api.settings import ServerSettings
from exchange_server.backoffice.admin import UserAdministration
from exchange_server.backoffice.api_keys import ApiKeys
from exchange_server.backoffice.mailer import Mailer, OutboxMailer, sender_address
from exchange_server.backoffice.passwords import (
    PasswordHasher,
    password_problem,
    unusable_password_hash,
)
from exchange_server.backoffice.refusals import (
    account_disabled,
    account_locked,
    email_taken,
    invalid_credentials,
    invalid_refresh_token,
    weak_password,
)
from exchange_server.backoffice.store import (
    Store,
    existing_user,
    normalise_email,
    rowcount,
    user_out,
)
from exchange_server.backoffice.tokens import (
    AccessClaims,
    AccessTokens,
    Revocations,
    invalid_token,
    new_family,
    new_refresh_token,
    sha256_hex,
)
from exchange_server.backoffice.two_factor import TwoFactor
from exchange_server.protocol import TokenPair, UserOut
from exchange_server.storage.models import (
    LoginAttemptRow,
    OneTimeTokenRow,
    RefreshTokenRow,
    UserRow,
    utc_now,
)

USER_ACCOUNT_BASE = 1_000_000
ROLES = ("trader", "broker", "admin")
VERIFY_EMAIL = "verify_email"
RESET_PASSWORD = "reset_password"
ONE_TIME_TOKEN_LIFETIME = {VERIFY_EMAIL: timedelta(days=2), RESET_PASSWORD: timedelta(hours=1)}
# Failed attempts that count towards a lockout; a missing second factor is a normal step
# of a two-factor login and an attempt on a locked account is already refused.
COUNTED_FAILURES = ("bad_password", "bad_otp", "bad_recovery_code", "bad_current_password")

OpenAccount = Callable[[int, bool], Awaitable[None]]

log = logging.getLogger(__name__)


class AuthService:
    def __init__(
        self,
        engine: Engine,
        settings: ServerSettings,
        open_account: OpenAccount,
        mailer: Mailer | None = None,
    ) -> None:
        self.settings = settings
        self.store = Store(engine)
        self._open_account = open_account
        self.mailer: Mailer = mailer or OutboxMailer(
            engine, settings.outbox_dir, sender_address(settings.public_url)
        )
        self.passwords = PasswordHasher(settings.password_hashing)
        self.access_tokens = AccessTokens(settings.secret_key, settings.access_token_seconds)
        self.revocations = Revocations(settings.access_token_seconds)
        self.keys = ApiKeys(self.store)
        self.two_factor = TwoFactor(self.store, self.passwords)
        self.admin = UserAdministration(self)
        self._embedded_secret_used = False
        self._restore_revocations()

    @property
    def revoked_before(self) -> dict[int, float]:
        return self.revocations.revoked_before

    def _restore_revocations(self) -> None:
        """Revocations live in memory; after a restart (with a configured secret key, old
        access tokens still verify) rebuild the ones the database can tell: deactivated
        users and recent password changes. One small query before the server serves."""
        recent = utc_now() - timedelta(seconds=self.settings.access_token_seconds)

        def work(session: Session) -> list[tuple[int, bool, datetime]]:
            rows = session.execute(
                select(UserRow.user_id, UserRow.is_active, UserRow.password_changed_at).where(
                    (UserRow.is_active.is_(False)) | (UserRow.password_changed_at > recent)
                )
            )
            return [(r[0], r[1], r[2]) for r in rows]

        for user_id, is_active, changed_at in self.store.read_now(work):
            cutoff = math.inf if not is_active else changed_at.timestamp()
            self.revocations.revoke_user(user_id, at=cutoff)

    # -- who is calling -----------------------------------------------------------------
    def verify_access_token(self, token: str) -> AccessClaims:
        claims = self.access_tokens.decode(token)
        if self.revocations.is_revoked(claims):
            raise invalid_token("this session has ended: sign in again")
        return claims

    def principal_from_access_token(self, token: str) -> Principal:
        claims = self.verify_access_token(token)
        return Principal(claims.user_id, claims.account_id, claims.role)

    async def principal_from_api_key(self, api_key: str) -> Principal:
        return await self.keys.principal(api_key)

    # -- registration and e-mail verification ------------------------------------------
    async def register(self, email: str, password: str, display_name: str = "") -> UserOut:
        user = await self._create_user(email, password, "trader", False, display_name, False)
        try:
            await self._send_verification(user.user_id, user.email)
        except Exception:
            # The account exists either way; the user asks for the mail again
            # (resend-verification) rather than meet "e-mail taken" on a second try.
            log.exception("the verification mail to user %d could not be sent", user.user_id)
        return user

    async def create_user(
        self,
        email: str,
        password: str,
        role: str = "trader",
        verified: bool = False,
        display_name: str = "",
    ) -> UserOut:
        """A user made by an operator (``exchange-server create-admin``), no mail sent."""
        return await self._create_user(email, password, role, verified, display_name, False)

    async def provision_paper_user(
        self, email: str = "paper@localhost", display_name: str = "Paper trader"
    ) -> UserOut:
        """The embedded mode's trader: verified, flagged paper, no usable password, an
        engine account funded with paper cash. Safe to call on every start."""
        email = normalise_email(email)
        user = await self.store.read(lambda s: _user_by_email(s, email))
        if user is None:
            try:
                created = await self._insert_user(
                    email, unusable_password_hash(), "trader", True, display_name, True
                )
            except ApiError:  # provisioned concurrently
                user = await self.store.read(lambda s: _user_by_email(s, email))
                if user is None:
                    raise
            else:
                user = created
        # Idempotent in the engine (an existing account is left alone, and only a new one is
        # funded), so a start that died between these two steps is repaired by the next.
        await self._open_account(user.account_id, True)
        return user_out(user)

    async def _create_user(
        self,
        email: str,
        password: str,
        role: str,
        verified: bool,
        display_name: str,
        paper: bool,
    ) -> UserOut:
        email = normalise_email(email)
        if role not in ROLES:
            raise ApiError(422, "invalid_field", f"role must be one of {', '.join(ROLES)}", "role")
        problem = password_problem(password, email)
        if problem:
            raise weak_password(problem, "password")
        if await self.store.read(lambda s: _user_by_email(s, email)) is not None:
            raise email_taken()
        password_hash = await asyncio.to_thread(self.passwords.hash, password)
        row = await self._insert_user(email, password_hash, role, verified, display_name, paper)
        try:
            await self._open_account(row.account_id, paper)
        except BaseException:
            # A user without an engine account could sign in but not trade: undo.
            await self.store.write(
                lambda s: s.execute(delete(UserRow).filter_by(user_id=row.user_id))
            )
            raise
        return user_out(row)

    async def _insert_user(
        self,
        email: str,
        password_hash: str,
        role: str,
        verified: bool,
        display_name: str,
        paper: bool,
    ) -> UserRow:
        def work(session: Session) -> UserRow:
            # account_id is unique and derived from the generated user_id, which exists only
            # after the insert: a unique negative placeholder fills it for that moment.
            row = UserRow(
                email=email,
                display_name=display_name,
                password_hash=password_hash,
                role=role,
                account_id=-1 - secrets.randbits(62),
                email_verified=verified,
                is_active=True,
                is_paper=paper,
                totp_secret="",
                totp_enabled=False,
                failed_logins=0,
                created_at=utc_now(),
                password_changed_at=utc_now(),
            )
            session.add(row)
            session.flush()
            row.account_id = USER_ACCOUNT_BASE + row.user_id
            return row

        try:
            return await self.store.write(work)
        except IntegrityError:
            raise email_taken() from None

    async def _send_verification(self, user_id: int, email: str) -> None:
        token = await self.store.write(_new_one_time_token(user_id, VERIFY_EMAIL))
        await self.mailer.send(
            email,
            "Confirm your e-mail address",
            "Welcome to the Trading Workstation.\n\n"
            "Confirm your e-mail address with this code:\n\n"
            f"    {token}\n\n"
            f"{self._link('verify-email', token)}"
            "The code is valid for 48 hours. If you did not register, ignore this message.\n",
        )

    def _link(self, action: str, token: str) -> str:
        base = self.settings.public_url.rstrip("/")
        return f"or open {base}/{action}?token={token}\n\n" if base else ""

    async def resend_verification(self, email: str) -> None:
        """Mail a new verification code if ``email`` belongs to an unverified user. Says
        nothing either way, so nobody can probe which addresses have accounts."""
        user = await self.store.read(lambda s: _user_by_email(s, normalise_email(email)))
        if user is not None and not user.email_verified and user.is_active:
            await self._send_verification(user.user_id, user.email)

    async def verify_email(self, token: str) -> UserOut:
        def work(session: Session) -> UserRow | ApiError:
            user_id = _consume_one_time_token(session, token, VERIFY_EMAIL)
            user = session.get(UserRow, user_id) if user_id is not None else None
            if user is None:
                return ApiError(
                    400,
                    "invalid_verification_token",
                    "this verification code is wrong, used or expired: request a new one",
                    "token",
                )
            user.email_verified = True
            return user

        return user_out(await self.store.write(work))

    # -- signing in and sessions ----------------------------------------------------------
    async def login(
        self,
        email: str,
        password: str,
        otp: str | None = None,
        recovery_code: str | None = None,
        ip: str = "",
        client: str = "",
    ) -> TokenPair:
        email = normalise_email(email)
        user = await self.store.read(lambda s: _user_by_email(s, email))
        if user is None:
            await asyncio.to_thread(self.passwords.waste_time, password)
            await self._record_attempt(email, 0, ip, "unknown_email")
            raise invalid_credentials()
        if user.locked_until is not None and user.locked_until > utc_now():
            await self._record_attempt(email, user.user_id, ip, "locked")
            raise account_locked(user.locked_until)
        if not await asyncio.to_thread(self.passwords.verify, user.password_hash, password):
            await self._fail(user, ip, "bad_password", invalid_credentials())
        # Status is told only to someone who knows the password.
        if not user.is_active:
            await self._record_attempt(email, user.user_id, ip, "disabled")
            raise account_disabled()
        if self.settings.require_email_verification and not user.email_verified:
            await self._record_attempt(email, user.user_id, ip, "email_not_verified")
            raise ApiError(
                403,
                "email_not_verified",
                "confirm your e-mail address first (see the message we sent you)",
            )
        if user.totp_enabled:
            await self._check_second_factor(user, otp, recovery_code, ip)
        pair = await self._start_session(user.user_id, client, successful_login=(email, ip))
        if self.passwords.needs_rehash(user.password_hash):
            # The hashing cost was raised since this password was set: upgrade it now, the
            # only moment the plain password is at hand.
            new_hash = await asyncio.to_thread(self.passwords.hash, password)
            await self.store.write(_set_password_hash(user.user_id, new_hash, changed=False))
        return pair

    async def _check_second_factor(
        self, user: UserRow, otp: str | None, recovery_code: str | None, ip: str
    ) -> None:
        if otp is None and not recovery_code:
            await self._record_attempt(user.email, user.user_id, ip, "mfa_required")
            raise ApiError(
                401,
                "mfa_required",
                "enter the code from your authenticator app (or a recovery code)",
                "otp",
            )
        if otp is not None:
            if not self.two_factor.accept(user.user_id, user.totp_secret, otp):
                await self._fail(
                    user,
                    ip,
                    "bad_otp",
                    ApiError(401, "invalid_otp", "the authenticator code is wrong", "otp"),
                )
            return
        assert recovery_code is not None
        if not await self.two_factor.use_recovery_code(user.user_id, recovery_code):
            await self._fail(
                user,
                ip,
                "bad_recovery_code",
                ApiError(
                    401,
                    "invalid_recovery_code",
                    "this recovery code is wrong or was already used",
                    "recovery_code",
                ),
            )

    async def _record_attempt(self, email: str, user_id: int, ip: str, reason: str) -> None:
        def work(session: Session) -> None:
            session.add(_attempt(email, user_id, ip, False, reason))

        await self.store.write(work)

    async def _fail(self, user: UserRow, ip: str, reason: str, error: ApiError) -> None:
        """Record a counted failure; raise ``error``, or account_locked if this one locks."""
        threshold = self.settings.lockout_threshold
        window = timedelta(seconds=self.settings.lockout_window_seconds)
        lock_for = timedelta(seconds=self.settings.lockout_seconds)

        def work(session: Session) -> ApiError:
            now = utc_now()
            session.add(_attempt(user.email, user.user_id, ip, False, reason, now))
            row = session.get(UserRow, user.user_id, with_for_update=True)
            if row is None:
                return error
            row.failed_logins += 1
            # failed_logins counts failures since the last reset (success, unlock, lockout);
            # the query counts those within the window. Both are suffixes of the same
            # sequence of failures, so the smaller is the number in the window since reset.
            in_window = session.scalar(
                select(func.count())
                .select_from(LoginAttemptRow)
                .where(
                    LoginAttemptRow.user_id == user.user_id,
                    LoginAttemptRow.success.is_(False),
                    LoginAttemptRow.reason.in_(COUNTED_FAILURES),
                    LoginAttemptRow.at > now - window,
                )
            )
            if threshold > 0 and min(row.failed_logins, in_window or 0) >= threshold:
                row.locked_until = now + lock_for
                row.failed_logins = 0
                return account_locked(row.locked_until)
            return error

        await self.store.write(work)

    async def _start_session(
        self, user_id: int, client: str, successful_login: tuple[str, str] | None = None
    ) -> TokenPair:
        refresh_token = new_refresh_token()
        family = new_family()
        expires = timedelta(seconds=self.settings.refresh_token_seconds)

        def work(session: Session) -> UserRow | ApiError:
            user = session.get(UserRow, user_id)
            if user is None:
                return ApiError(404, "user_not_found", "no such user")
            if not user.is_active:
                return account_disabled()
            if successful_login is not None:
                email, ip = successful_login
                session.add(_attempt(email, user_id, ip, True, ""))
                user.failed_logins = 0
                user.locked_until = None
            session.add(_refresh_row(refresh_token, user_id, family, expires, client))
            return user

        user = await self.store.write(work)
        return self._token_pair(user, refresh_token, family)

    def _token_pair(self, user: UserRow, refresh_token: str, family: str) -> TokenPair:
        return TokenPair(
            access_token=self.access_tokens.issue(user.user_id, user.role, user.account_id, family),
            expires_in=self.settings.access_token_seconds,
            refresh_token=refresh_token,
            refresh_expires_in=self.settings.refresh_token_seconds,
            user=user_out(user),
        )

    async def issue_tokens_for(self, user_id: int, client: str = "") -> TokenPair:
        """A new session for ``user_id`` without credentials (the embedded login)."""
        return await self._start_session(user_id, client)

    async def refresh(self, refresh_token: str, client: str = "") -> TokenPair:
        """Exchange a refresh token for a new pair; the presented token is used up."""
        token_hash = sha256_hex(refresh_token)
        replacement = new_refresh_token()
        expires = timedelta(seconds=self.settings.refresh_token_seconds)
        reused_family: list[str] = []

        def work(session: Session) -> tuple[UserRow, str] | ApiError:
            now = utc_now()
            # Claim the token in one conditional update, so two concurrent refreshes with
            # the same token cannot both succeed.
            claimed = rowcount(
                session.execute(
                    update(RefreshTokenRow)
                    .where(
                        RefreshTokenRow.token_hash == token_hash,
                        RefreshTokenRow.used_at.is_(None),
                        RefreshTokenRow.revoked_at.is_(None),
                        RefreshTokenRow.expires_at > now,
                    )
                    .values(used_at=now)
                )
            )
            row = session.scalar(
                select(RefreshTokenRow).where(RefreshTokenRow.token_hash == token_hash)
            )
            if row is None:
                return invalid_refresh_token()
            if not claimed:
                if row.revoked_at is None and row.used_at is not None:
                    # A token that was already exchanged is presented again: one of the two
                    # holders is not the user. End the session for both.
                    _revoke_refresh_tokens(session, RefreshTokenRow.family == row.family)
                    reused_family.append(row.family)
                    return ApiError(
                        401,
                        "refresh_token_reused",
                        "this refresh token was already used; the session has been ended "
                        "for safety: sign in again",
                    )
                return invalid_refresh_token()
            user = session.get(UserRow, row.user_id)
            if user is None or not user.is_active:
                _revoke_refresh_tokens(session, RefreshTokenRow.family == row.family)
                return account_disabled()
            session.add(
                _refresh_row(replacement, user.user_id, row.family, expires, client or row.client)
            )
            return user, row.family

        try:
            user, family = await self.store.write(work)
        finally:
            for family_id in reused_family:
                self.revocations.revoke_session(family_id)
        return self._token_pair(user, replacement, family)

    async def logout(self, refresh_token: str) -> None:
        """End the session the refresh token belongs to (its access tokens too). Unknown
        tokens are ignored: logging out twice is not an error."""
        token_hash = sha256_hex(refresh_token)

        def work(session: Session) -> str | None:
            family = session.scalar(
                select(RefreshTokenRow.family).where(RefreshTokenRow.token_hash == token_hash)
            )
            if family is not None:
                _revoke_refresh_tokens(session, RefreshTokenRow.family == family)
            return family

        family = await self.store.write(work)
        if family is not None:
            self.revocations.revoke_session(family)

    async def logout_all(self, user_id: int) -> None:
        await self.store.write(
            lambda s: _revoke_refresh_tokens(s, RefreshTokenRow.user_id == user_id)
        )
        self.revocations.revoke_user(user_id)

    async def end_sessions(self, user_id: int) -> None:
        """Every way ``user_id`` is signed in stops working now (deactivation, role change)."""
        await self.logout_all(user_id)
        self.keys.cache.forget_user(user_id)

    async def embedded_login(self, secret: str, client: str = "") -> TokenPair:
        """The workstation's own sign-in to the server it started: the one-time secret it
        passed the child process logs the paper trader in, once."""
        expected = self.settings.embedded_secret
        if not expected:
            raise ApiError(404, "not_found", "this server was not started by a workstation")
        matches = hmac.compare_digest(secret.encode(), expected.encode())
        if self._embedded_secret_used or not matches:
            raise ApiError(401, "invalid_secret", "the embedded secret is wrong or was used")
        # Consumed before the first await, so two concurrent requests cannot both pass.
        self._embedded_secret_used = True
        try:
            user = await self.provision_paper_user()
            return await self.issue_tokens_for(user.user_id, client)
        except BaseException:
            self._embedded_secret_used = False  # nothing was handed out: allow a retry
            raise

    # -- passwords ----------------------------------------------------------------------
    async def me(self, user_id: int) -> UserOut:
        user = await self.store.read(lambda s: s.get(UserRow, user_id))
        if user is None:
            raise invalid_token("this user no longer exists")
        return user_out(user)

    async def change_password(
        self, user_id: int, current_password: str, new_password: str, keep_session: str = ""
    ) -> None:
        """Set a new password; every other session and its access tokens end."""
        user = await existing_user(self.store, user_id)
        if user.locked_until is not None and user.locked_until > utc_now():
            raise account_locked(user.locked_until)
        if not await asyncio.to_thread(self.passwords.verify, user.password_hash, current_password):
            await self._fail(
                user,
                "",
                "bad_current_password",
                ApiError(
                    403, "wrong_password", "the current password is wrong", "current_password"
                ),
            )
        problem = password_problem(new_password, user.email)
        if problem:
            raise weak_password(problem, "new_password")
        if new_password == current_password:
            raise ApiError(
                422, "password_unchanged", "choose a password you do not use now", "new_password"
            )
        new_hash = await asyncio.to_thread(self.passwords.hash, new_password)

        def work(session: Session) -> None:
            _set_password_hash(user_id, new_hash, changed=True)(session)
            condition = RefreshTokenRow.user_id == user_id
            if keep_session:
                condition = condition & (RefreshTokenRow.family != keep_session)
            _revoke_refresh_tokens(session, condition)

        await self.store.write(work)
        self.revocations.revoke_user(user_id, keep_session=keep_session)
        await self.mailer.send(
            user.email,
            "Your password was changed",
            "The password of your Trading Workstation account was just changed and every "
            "other session was signed out.\n\nIf this was not you, reset your password now.\n",
        )

    async def request_password_reset(self, email: str) -> None:
        """Mail a reset code if the address has an account; silent either way."""
        user = await self.store.read(lambda s: _user_by_email(s, normalise_email(email)))
        if user is None or not user.is_active or user.is_paper:
            return
        token = await self.store.write(_new_one_time_token(user.user_id, RESET_PASSWORD))
        await self.mailer.send(
            user.email,
            "Reset your password",
            "Someone (hopefully you) asked to reset the password of your Trading "
            "Workstation account. Use this code to choose a new one:\n\n"
            f"    {token}\n\n"
            f"{self._link('reset-password', token)}"
            "The code is valid for one hour. If you did not ask, ignore this message: "
            "your password stays as it is.\n",
        )

    async def reset_password(self, token: str, new_password: str) -> None:
        """Set a new password with a mailed code: every session ends and a lockout lifts."""
        invalid = ApiError(
            400,
            "invalid_reset_token",
            "this reset code is wrong, used or expired: request a new one",
            "token",
        )
        token_hash = sha256_hex(token)
        pending = await self.store.read(lambda s: _pending_token(s, token_hash, RESET_PASSWORD))
        user = await self.store.read(lambda s: s.get(UserRow, pending)) if pending else None
        if user is None:
            raise invalid
        problem = password_problem(new_password, user.email)
        if problem:
            raise weak_password(problem, "new_password")
        new_hash = await asyncio.to_thread(self.passwords.hash, new_password)

        def work(session: Session) -> ApiError | None:
            if _consume_one_time_token(session, token, RESET_PASSWORD) != user.user_id:
                return invalid  # used meanwhile
            _set_password_hash(user.user_id, new_hash, changed=True)(session)
            row = session.get(UserRow, user.user_id)
            assert row is not None
            row.locked_until = None
            row.failed_logins = 0
            row.email_verified = True  # the code arrived at this address
            session.execute(
                update(OneTimeTokenRow)
                .where(
                    OneTimeTokenRow.user_id == user.user_id,
                    OneTimeTokenRow.purpose == RESET_PASSWORD,
                    OneTimeTokenRow.used_at.is_(None),
                )
                .values(used_at=utc_now())
            )
            _revoke_refresh_tokens(session, RefreshTokenRow.user_id == user.user_id)
            return None

        await self.store.write(work)
        self.revocations.revoke_user(user.user_id)


# -- units of work and conversions ----------------------------------------------------------
def _user_by_email(session: Session, email: str) -> UserRow | None:
    return session.scalar(select(UserRow).where(UserRow.email == email))


def _attempt(
    email: str, user_id: int, ip: str, success: bool, reason: str, at: datetime | None = None
) -> LoginAttemptRow:
    return LoginAttemptRow(
        email=email[:254],
        user_id=user_id,
        ip=ip[:64],
        success=success,
        reason=reason,
        at=at or utc_now(),
    )


def _refresh_row(
    token: str, user_id: int, family: str, lifetime: timedelta, client: str
) -> RefreshTokenRow:
    now = utc_now()
    return RefreshTokenRow(
        token_hash=sha256_hex(token),
        user_id=user_id,
        family=family,
        created_at=now,
        expires_at=now + lifetime,
        client=client[:200],
    )


def _revoke_refresh_tokens(session: Session, condition: ColumnElement[bool]) -> None:
    session.execute(
        update(RefreshTokenRow)
        .where(condition, RefreshTokenRow.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    )


def _set_password_hash(
    user_id: int, password_hash: str, changed: bool
) -> Callable[[Session], None]:
    def work(session: Session) -> None:
        values: dict[str, object] = {"password_hash": password_hash}
        if changed:
            values["password_changed_at"] = utc_now()
        session.execute(update(UserRow).where(UserRow.user_id == user_id).values(**values))

    return work


def _new_one_time_token(user_id: int, purpose: str) -> Callable[[Session], str]:
    def work(session: Session) -> str:
        token = secrets.token_urlsafe(24)
        session.add(
            OneTimeTokenRow(
                token_hash=sha256_hex(token),
                user_id=user_id,
                purpose=purpose,
                expires_at=utc_now() + ONE_TIME_TOKEN_LIFETIME[purpose],
            )
        )
        return token

    return work


def _pending_token(session: Session, token_hash: str, purpose: str) -> int | None:
    return session.scalar(
        select(OneTimeTokenRow.user_id).where(
            OneTimeTokenRow.token_hash == token_hash,
            OneTimeTokenRow.purpose == purpose,
            OneTimeTokenRow.used_at.is_(None),
            OneTimeTokenRow.expires_at > utc_now(),
        )
    )


def _consume_one_time_token(session: Session, token: str, purpose: str) -> int | None:
    """The token's user if it was valid, now used up; None otherwise."""
    token_hash = sha256_hex(token)
    user_id = _pending_token(session, token_hash, purpose)
    if user_id is None:
        return None
    claimed = rowcount(
        session.execute(
            update(OneTimeTokenRow)
            .where(OneTimeTokenRow.token_hash == token_hash, OneTimeTokenRow.used_at.is_(None))
            .values(used_at=utc_now())
        )
    )
    return user_id if claimed else None
