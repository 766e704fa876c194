"""Request dependencies: the server context, who is calling and what they may do.

Callers identify themselves with ``Authorization: Bearer <access token>`` (people, via the
workstation) or ``X-API-Key: <key id>.<secret>`` (programs). An API key carries scopes
(``read``, ``trade``); an access token may do everything its user's role allows.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from exchange_server.api.errors import ApiError

if TYPE_CHECKING:
    from exchange_server.api.context import ServerContext

ALL_SCOPES = frozenset({"read", "trade"})
ROLE_RANK = {"trader": 0, "broker": 1, "admin": 2}


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    account_id: int
    role: str
    scopes: frozenset[str] = ALL_SCOPES
    api_key_id: str = ""  # set when authenticated by an API key


def get_context(request: Request) -> ServerContext:
    context: ServerContext = request.app.state.context
    return context


Context = Annotated["ServerContext", Depends(get_context)]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


async def optional_principal(request: Request) -> Principal | None:
    """The caller if they presented credentials (invalid ones are refused, not ignored)."""
    context = get_context(request)
    token = bearer_token(request)
    if token is not None:
        principal = context.auth.principal_from_access_token(token)
    else:
        api_key = request.headers.get("x-api-key", "").strip()
        if not api_key:
            return None
        principal = await context.auth.principal_from_api_key(api_key)
    request.state.principal = principal
    return principal


async def current_principal(request: Request) -> Principal:
    principal = await optional_principal(request)
    if principal is None:
        raise ApiError(
            401,
            "unauthorized",
            "sign in: send a bearer access token or an X-API-Key header",
            headers={"WWW-Authenticate": "Bearer"},
        )
    get_context(request).user_buckets.check(principal.user_id, "user")
    return principal


def require(scope: str = "read", role: str = "trader") -> Callable[..., Awaitable[Principal]]:
    """A dependency admitting callers with ``scope`` and at least ``role``."""

    async def dependency(request: Request) -> Principal:
        principal = await current_principal(request)
        if scope not in principal.scopes:
            raise ApiError(403, "insufficient_scope", f"this API key lacks the {scope!r} scope")
        if ROLE_RANK.get(principal.role, -1) < ROLE_RANK[role]:
            raise ApiError(403, "forbidden", f"this needs the {role} role")
        return principal

    return dependency


Reader = Annotated[Principal, Depends(require("read"))]
Trader = Annotated[Principal, Depends(require("trade"))]
# Changes the caller's own data (watchlists, preferences): a read-only API key may not.
Writer = Annotated[Principal, Depends(require("trade"))]
Broker = Annotated[Principal, Depends(require("read", "broker"))]
Admin = Annotated[Principal, Depends(require("trade", "admin"))]
