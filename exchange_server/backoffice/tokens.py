"""Access tokens (signed JWTs), opaque refresh tokens and in-memory revocation.

Access tokens are short-lived and checked without the database on every request; refresh
tokens are random strings whose SHA-256 is stored, rotated on each use (see
``RefreshTokenRow``). Because a JWT stays valid until it expires, revocation (logout,
password change, deactivation) is remembered in memory and checked with every token.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import jwt

from exchange_server.api.errors import ApiError

ALGORITHM = "HS256"
ISSUER = "exchange-server"
# Refresh tokens are 256 bits of randomness; families name one login session.
REFRESH_TOKEN_BYTES = 32
FAMILY_HEX_BYTES = 16


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_refresh_token() -> str:
    return secrets.token_urlsafe(REFRESH_TOKEN_BYTES)


def new_family() -> str:
    return secrets.token_hex(FAMILY_HEX_BYTES)


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    role: str
    account_id: int
    session: str  # the refresh token family the token was issued for
    issued_at: float
    expires_at: float


class AccessTokens:
    """Signs and checks access tokens (HS256 with the server's secret key)."""

    def __init__(self, secret_key: str, lifetime_seconds: int) -> None:
        self._key = secret_key
        self.lifetime_seconds = lifetime_seconds

    def issue(self, user_id: int, role: str, account_id: int, session: str) -> str:
        # iat keeps sub-second precision (a NumericDate may be fractional): a token issued in
        # the same second as, but after, a revocation must still be accepted.
        now = time.time()
        claims = {
            "iss": ISSUER,
            "sub": str(user_id),
            "role": role,
            "account": account_id,
            "sid": session,
            "iat": now,
            "exp": now + self.lifetime_seconds,
            "jti": secrets.token_hex(8),
        }
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def decode(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["sub", "exp", "iat", "jti", "iss"]},
            )
        except jwt.ExpiredSignatureError:
            raise ApiError(
                401,
                "token_expired",
                "the access token has expired: refresh it",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            ) from None
        except jwt.PyJWTError:
            raise invalid_token() from None
        try:
            return AccessClaims(
                user_id=int(claims["sub"]),
                role=str(claims["role"]),
                account_id=int(claims["account"]),
                session=str(claims.get("sid", "")),
                issued_at=float(claims["iat"]),
                expires_at=float(claims["exp"]),
            )
        except (KeyError, TypeError, ValueError):
            raise invalid_token() from None


def invalid_token(message: str = "the access token is not valid") -> ApiError:
    return ApiError(
        401, "invalid_token", message, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


class Revocations:
    """Which access tokens are refused before they expire, kept in memory.

    ``revoked_before[user_id]``: tokens of that user issued before this moment are refused,
    except those of ``kept_session[user_id]`` (the session that changed its own password).
    ``revoked_sessions``: single sessions ended by logout, until their tokens expire anyway.
    """

    def __init__(self, token_lifetime_seconds: int) -> None:
        self.revoked_before: dict[int, float] = {}
        self.kept_session: dict[int, str] = {}
        self.revoked_sessions: dict[str, float] = {}  # session -> when to forget it
        self._lifetime = token_lifetime_seconds

    def revoke_user(self, user_id: int, keep_session: str = "", at: float | None = None) -> None:
        self.revoked_before[user_id] = time.time() if at is None else at
        if keep_session:
            self.kept_session[user_id] = keep_session
        else:
            self.kept_session.pop(user_id, None)

    def revoke_session(self, session: str) -> None:
        now = time.time()
        # Forget sessions whose tokens have all expired, so the map stays small.
        for old in [s for s, until in self.revoked_sessions.items() if until < now]:
            del self.revoked_sessions[old]
        self.revoked_sessions[session] = now + self._lifetime

    def is_revoked(self, claims: AccessClaims) -> bool:
        if claims.session and claims.session in self.revoked_sessions:
            return True
        cutoff = self.revoked_before.get(claims.user_id)
        if cutoff is None or claims.issued_at >= cutoff:
            return False
        return not (claims.session and self.kept_session.get(claims.user_id) == claims.session)
