"""The back office's refusals, each with its HTTP status and stable code (one place, so the
same situation is always reported the same way)."""

from __future__ import annotations

import math
from datetime import datetime

from exchange_server.api.errors import ApiError
from exchange_server.storage.models import utc_now


def invalid_credentials() -> ApiError:
    return ApiError(401, "invalid_credentials", "wrong e-mail address or password")


def weak_password(problem: str, field: str) -> ApiError:
    return ApiError(422, "weak_password", problem, field=field)


def account_locked(until: datetime) -> ApiError:
    seconds = max(1, math.ceil((until - utc_now()).total_seconds()))
    return ApiError(
        423,
        "account_locked",
        f"too many failed sign-ins: try again in {seconds} seconds or reset your password",
        headers={"Retry-After": str(seconds)},
    )


def account_disabled() -> ApiError:
    return ApiError(403, "account_disabled", "this account has been disabled")


def email_taken() -> ApiError:
    return ApiError(409, "email_taken", "an account with this e-mail address exists", "email")


def invalid_api_key() -> ApiError:
    return ApiError(401, "invalid_api_key", "the API key is not valid (wrong, or revoked)")


def invalid_refresh_token() -> ApiError:
    return ApiError(
        401, "invalid_refresh_token", "the refresh token is not valid (expired or ended)"
    )
