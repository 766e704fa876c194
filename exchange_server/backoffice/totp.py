"""Time-based one-time passwords (RFC 6238, via pyotp) and single-use recovery codes."""

from __future__ import annotations

import hashlib
import secrets
import time

import pyotp

ISSUER = "Trading Workstation"
RECOVERY_CODE_COUNT = 10
# No 0/o, 1/l/i: codes are read off paper and typed by hand.
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
RECOVERY_GROUP = 5
STEP_SECONDS = 30
# Accept the previous and next 30-second step too: phone clocks drift.
VALID_WINDOW = 1


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


def current_code(secret: str, at: float | None = None) -> str:
    return pyotp.TOTP(secret).at(time.time() if at is None else at)


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step ``code`` belongs to, or None if it is not valid now. Callers refuse a
    step at or before the last one accepted, so an observed code cannot be replayed."""
    now = time.time() if at is None else at
    totp = pyotp.TOTP(secret)
    step = int(now // STEP_SECONDS)
    for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
        candidate = step + offset
        if secrets.compare_digest(totp.at(candidate * STEP_SECONDS), code):
            return candidate
    return None


def new_recovery_codes() -> list[str]:
    def group() -> str:
        return "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_GROUP))

    return [f"{group()}-{group()}" for _ in range(RECOVERY_CODE_COUNT)]


def normalise_recovery_code(code: str) -> str:
    return "".join(code.lower().split()).replace("-", "")


def recovery_code_hash(user_id: int, code: str) -> str:
    # Salted with the user id: codes of different users can never collide in the table's
    # primary key, and a code only works for its own user.
    return hashlib.sha256(f"{user_id}:{normalise_recovery_code(code)}".encode()).hexdigest()
