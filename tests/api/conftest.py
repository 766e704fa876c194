"""A real exchange server on 127.0.0.1 for API tests: uvicorn serving the FastAPI app on a
free port, with its own SQLite database (or PostgreSQL), in the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from exchange_server.api.app import create_app
from exchange_server.api.context import ServerContext
from exchange_server.api.settings import RateLimit, ServerSettings
from exchange_server.engine.journal import Durability
from exchange_server.marketdata.universe import demo_universe, listing_command
from exchange_server.protocol import TokenPair, UserOut

PASSWORD = "correct horse battery"


@dataclass
class SignedInUser:
    user: UserOut
    tokens: TokenPair
    client: httpx.AsyncClient  # sends this user's access token

    @property
    def account_id(self) -> int:
        return self.user.account_id


@dataclass
class LiveServer:
    base_url: str
    ws_url: str
    settings: ServerSettings
    context: ServerContext
    clients: list[httpx.AsyncClient] = field(default_factory=list)
    _emails: int = 0

    def client(self, **headers: str) -> httpx.AsyncClient:
        """An HTTP client for this server; closed when the test ends."""
        client = httpx.AsyncClient(base_url=self.base_url, headers=headers, timeout=10.0)
        self.clients.append(client)
        return client

    async def user(
        self, role: str = "trader", cash: str | None = "1000000", email: str | None = None
    ) -> SignedInUser:
        """A verified user with this role, signed in over HTTP, funded with ``cash`` INR."""
        self._emails += 1
        email = email or f"user{self._emails}@example.com"
        user = await self.context.auth.create_user(
            email, PASSWORD, role=role, verified=True, display_name=f"User {self._emails}"
        )
        anonymous = self.client()
        response = await anonymous.post(
            "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
        )
        assert response.status_code == 200, response.text
        tokens = TokenPair.model_validate(response.json())
        if cash and Decimal(cash):
            await self.fund(user.account_id, "INR", cash)
        client = self.client(authorization=f"Bearer {tokens.access_token}")
        return SignedInUser(user, tokens, client)

    async def fund(self, account_id: int, asset: str, amount: str) -> None:
        """Deposit through the engine directly (admin routes are tested on their own)."""
        from exchange_server.domain.commands import Deposit
        from exchange_server.domain.instruments import cash_from_decimal

        instrument = self.context.market.instruments.get(asset)
        units = (
            instrument.quantity_from_decimal(Decimal(amount))
            if instrument is not None
            else cash_from_decimal(Decimal(amount))
        )
        ack = await self.context.submit(Deposit(account_id, asset, units, "test funding"))
        assert all(event.kind != "rejected" for event in ack.events), ack.events


def server_settings(
    tmp_path: Path, database_url: str | None = None, **overrides: Any
) -> ServerSettings:
    settings = ServerSettings(
        database_url=database_url or f"sqlite:///{tmp_path / 'exchange.db'}",
        data_dir=tmp_path,
        password_hashing="fast",
        durability=Durability.BUFFERED,
        seed_history=False,  # a second per server; the history tests seed their own
        # Generous limits: tests that are about limits set their own.
        user_rate=RateLimit(10_000, 10_000),
        ip_rate=RateLimit(10_000, 10_000),
        auth_ip_rate=RateLimit(10_000, 10_000),
    )
    for name, value in overrides.items():
        setattr(settings, name, value)
    return settings


# A few names of the demo universe: enough for every test, quick to list.
TEST_SYMBOLS = ("RELIANCE", "TCS", "INFY", "HDFCBANK", "SBIN")


async def list_demo_instruments(context: ServerContext) -> None:
    for listing in demo_universe():
        if listing.symbol in TEST_SYMBOLS:
            await context.submit(listing_command(listing))


@contextlib.asynccontextmanager
async def serve(settings: ServerSettings, instruments: bool = True) -> AsyncIterator[LiveServer]:
    """Start the app under uvicorn on a free 127.0.0.1 port; stop it (draining) afterwards."""
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=0,
        log_level="warning",
        lifespan="on",
        ws="websockets-sansio",
        ws_per_message_deflate=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # startup failed: raise its error
            raise RuntimeError("the server stopped during startup")
        await asyncio.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    context: ServerContext = app.state.context
    live = LiveServer(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws", settings, context)
    try:
        if instruments:
            await list_demo_instruments(context)
        yield live
    finally:
        for client in live.clients:
            await client.aclose()
        server.should_exit = True
        await task


@pytest.fixture
async def live_server(tmp_path: Path) -> AsyncIterator[LiveServer]:
    async with serve(server_settings(tmp_path)) as live:
        yield live
