from __future__ import annotations

import pytest

from exchange_server.backoffice.passwords import (
    PasswordHasher,
    password_problem,
    unusable_password_hash,
)


def test_a_hash_verifies_its_password_only() -> None:
    hasher = PasswordHasher("fast")
    stored = hasher.hash("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert hasher.verify(stored, "correct horse battery")
    assert not hasher.verify(stored, "correct horse batterY")


def test_no_password_verifies_an_unusable_hash_or_garbage() -> None:
    hasher = PasswordHasher("fast")
    unusable = unusable_password_hash()
    assert not hasher.verify(unusable, unusable)
    assert not hasher.verify(unusable, "")
    assert not hasher.verify("not a hash", "not a hash")
    hasher.waste_time("anything")  # an unknown user costs a verification, and never fails


def test_raising_the_cost_asks_for_a_rehash() -> None:
    cheap = PasswordHasher("fast").hash("correct horse battery")
    assert PasswordHasher("standard").needs_rehash(cheap)
    assert not PasswordHasher("fast").needs_rehash(cheap)


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(ValueError, match="profile"):
        PasswordHasher("instant")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("password123", "too common"),
        ("aaaaaaaaaaaa", "different characters"),
        ("ababababab12", "different characters"),
        ("my-annabel-secret", "e-mail"),
    ],
)
def test_weak_passwords_are_explained(password: str, problem: str) -> None:
    found = password_problem(password, "Annabel@example.com")
    assert found is not None and problem in found


def test_a_reasonable_password_passes() -> None:
    assert password_problem("correct horse battery", "ann@example.com") is None
