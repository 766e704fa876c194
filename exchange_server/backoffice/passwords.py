"""Password hashing (argon2id) and the strength rules new passwords must meet."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher as Argon2Hasher
from argon2.exceptions import InvalidHashError, VerificationError

# A stored hash that no password verifies: for users who never log in with a password
# (the provisioned paper trader). Not argon2, so it can never match.
UNUSABLE_PREFIX = "!"

# Passwords that pass the length rule but are the first any attacker tries.
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "12345678910",
        "0123456789",
        "9876543210",
        "1q2w3e4r5t",
        "qwertyuiop",
        "asdfghjkl;",
        "password12",
        "password123",
        "password1234",
        "passw0rd123",
        "iloveyou123",
        "letmein1234",
        "welcome123",
        "admin12345",
        "administrator",
        "qwerty12345",
        "trustno1234",
        "changeme123",
        "football123",
    }
)
MIN_DISTINCT_CHARACTERS = 5


class PasswordHasher:
    """argon2id with the server's cost profile: "standard" (argon2-cffi's recommended
    parameters) or "fast" (tiny costs, so tests create users in microseconds)."""

    def __init__(self, profile: str = "standard") -> None:
        if profile == "fast":
            self._hasher = Argon2Hasher(time_cost=1, memory_cost=8, parallelism=1)
        elif profile == "standard":
            self._hasher = Argon2Hasher()
        else:
            raise ValueError(f"unknown password hashing profile {profile!r}")
        # Verified against when the e-mail is unknown, so that a wrong address takes as long
        # as a wrong password and response times do not reveal who has an account. Made on
        # first use (in a worker thread), not here on the event loop.
        self._dummy_hash: str | None = None

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        if password_hash.startswith(UNUSABLE_PREFIX):
            return False
        try:
            return self._hasher.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def waste_time(self, password: str) -> None:
        """Spend the time of one verification (for an unknown user)."""
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(16))
        self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        if password_hash.startswith(UNUSABLE_PREFIX):
            return False
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return False


def unusable_password_hash() -> str:
    return UNUSABLE_PREFIX + secrets.token_urlsafe(24)


def password_problem(password: str, email: str = "") -> str | None:
    """Why ``password`` is too weak, or None. Length is checked by the wire model; this adds
    the rules a length check cannot express."""
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS:
        return "this password is too common"
    if len(set(password)) < MIN_DISTINCT_CHARACTERS:
        return f"use at least {MIN_DISTINCT_CHARACTERS} different characters"
    local_part = email.split("@", 1)[0].lower()
    if len(local_part) >= 4 and local_part in lowered:
        return "the password must not contain your e-mail address"
    return None
