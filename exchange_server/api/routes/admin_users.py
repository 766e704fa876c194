"""User administration: ``/api/v1/admin``. Brokers may look users up; only admins change
them or read the login audit trail (it holds addresses and IPs)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from exchange_server.api.deps import Admin, Broker, Context
from exchange_server.protocol import (
    ErrorResponse,
    LoginAttemptOut,
    Page,
    Role,
    UserOut,
    UserUpdate,
)

router = APIRouter(
    prefix="/api/v1/admin",
    tags=["admin"],
    responses={
        401: {"model": ErrorResponse},
        403: {"model": ErrorResponse},
        422: {"model": ErrorResponse},
    },
)

UserId = Annotated[int, Path(ge=1, le=2**62)]


@router.get("/users")
async def list_users(
    principal: Broker,
    context: Context,
    search: Annotated[str, Query(max_length=254)] = "",
    role: Role | None = None,
    cursor: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Page[UserOut]:
    """Users by id; ``search`` matches e-mail or display name. Pass ``next_cursor`` back as
    ``cursor`` for the next page."""
    return await context.auth.admin.list_users(search, role, cursor, limit)


@router.get("/users/{user_id}", responses={404: {"model": ErrorResponse}})
async def get_user(user_id: UserId, principal: Broker, context: Context) -> UserOut:
    return await context.auth.admin.get_user(user_id)


@router.patch(
    "/users/{user_id}",
    responses={404: {"model": ErrorResponse}, 409: {"model": ErrorResponse}},
)
async def update_user(
    user_id: UserId, body: UserUpdate, principal: Admin, context: Context
) -> UserOut:
    """Change a role, disable or enable, or lift a lockout. Disabling or changing the role
    signs the user out everywhere at once."""
    return await context.auth.admin.update_user(principal.user_id, user_id, body)


@router.get("/login-attempts")
async def login_attempts(
    principal: Admin,
    context: Context,
    email: Annotated[str, Query(max_length=254)] = "",
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[LoginAttemptOut]:
    """Sign-in attempts, newest first, optionally for one e-mail address."""
    return await context.auth.admin.login_attempts(email, limit)
