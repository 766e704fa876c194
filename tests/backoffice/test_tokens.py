from __future__ import annotations

import time

import jwt
import pytest

from exchange_server.api.errors import ApiError
from exchange_server.backoffice.tokens import AccessTokens, Revocations

KEY = "k" * 48


def test_access_token_carries_the_user_role_account_and_session() -> None:
    tokens = AccessTokens(KEY, 900)
    claims = tokens.decode(tokens.issue(7, "broker", 1_000_007, "family-1"))
    assert (claims.user_id, claims.role, claims.account_id, claims.session) == (
        7,
        "broker",
        1_000_007,
        "family-1",
    )
    assert 899 <= claims.expires_at - claims.issued_at <= 901
    raw = jwt.decode(tokens.issue(7, "broker", 1_000_007, "f"), KEY, algorithms=["HS256"])
    assert {"sub", "role", "account", "exp", "iat", "jti"} <= raw.keys()


def test_expired_token_is_refused_as_expired() -> None:
    tokens = AccessTokens(KEY, -5)
    with pytest.raises(ApiError) as caught:
        tokens.decode(tokens.issue(1, "trader", 1_000_001, "f"))
    assert (caught.value.status, caught.value.code) == (401, "token_expired")


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        AccessTokens("another key" * 5, 900).issue(1, "admin", 1_000_001, "f"),
        # Unsigned ("alg": "none") tokens must never be accepted.
        jwt.encode(
            {"sub": "1", "role": "admin", "account": 1, "iat": 1, "exp": 2**40}, None, "none"
        ),
        # Signed with our key but not one of ours (no issuer, no jti).
        jwt.encode({"sub": "1", "exp": time.time() + 60}, KEY, "HS256"),
    ],
)
def test_forged_or_malformed_tokens_are_invalid(token: str) -> None:
    with pytest.raises(ApiError) as caught:
        AccessTokens(KEY, 900).decode(token)
    assert (caught.value.status, caught.value.code) == (401, "invalid_token")


def test_revoking_a_user_spares_the_session_that_asked_and_later_tokens() -> None:
    tokens = AccessTokens(KEY, 900)
    revocations = Revocations(900)
    mine = tokens.decode(tokens.issue(1, "trader", 1, "mine"))
    other = tokens.decode(tokens.issue(1, "trader", 1, "other"))
    someone_else = tokens.decode(tokens.issue(2, "trader", 2, "theirs"))
    revocations.revoke_user(1, keep_session="mine")
    assert not revocations.is_revoked(mine)
    assert revocations.is_revoked(other)
    assert not revocations.is_revoked(someone_else)
    assert not revocations.is_revoked(tokens.decode(tokens.issue(1, "trader", 1, "other")))
    revocations.revoke_session("theirs")
    assert revocations.is_revoked(someone_else)
