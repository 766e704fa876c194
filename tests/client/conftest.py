"""End-to-end client tests run against the real server the API tests use (uvicorn on a free
127.0.0.1 port, its own database), through the client's own login."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from exchange_server.protocol import UserOut
from tests.api.conftest import PASSWORD, LiveServer, live_server  # noqa: F401 (fixture)
from workstation.client import ExchangeClient


@dataclass
class Trader:
    user: UserOut
    email: str
    password: str = PASSWORD


async def new_trader(server: LiveServer, name: str = "trader", cash: str = "1000000") -> Trader:
    email = f"{name}@example.com"
    user = await server.context.auth.create_user(email, PASSWORD, verified=True)
    if cash:
        await server.fund(user.account_id, "INR", cash)
    return Trader(user, email)


@pytest.fixture
async def trader(live_server: LiveServer) -> Trader:  # noqa: F811
    return await new_trader(live_server)


@pytest.fixture
async def client(live_server: LiveServer, trader: Trader) -> AsyncIterator[ExchangeClient]:  # noqa: F811
    async with ExchangeClient(live_server.base_url) as client:
        await client.login(trader.email, trader.password)
        yield client
