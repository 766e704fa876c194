"""Reconnecting after the server restarts: the session says the data is stale, comes back
by itself, resubscribes and resynchronises, and the user sees fresh data again."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn

from exchange_server.api.app import create_app
from exchange_server.api.settings import ServerSettings
from tests.api.conftest import LiveServer, list_demo_instruments, server_settings
from tests.workstation.conftest import Market, WaitUntil, open_session
from workstation.client import Backoff


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def serve_on(
    settings: ServerSettings, port: int, list_instruments: bool
) -> AsyncIterator[LiveServer]:
    """The app under uvicorn on a fixed port, so a restart comes back at the same address."""
    app = create_app(settings)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", ws="websockets-sansio"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("the server stopped during startup")
        await asyncio.sleep(0.01)
    live = LiveServer(
        f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws", settings, app.state.context
    )
    try:
        if list_instruments:
            await list_demo_instruments(live.context)
        yield live
    finally:
        for client in live.clients:
            await client.aclose()
        server.should_exit = True
        await task


async def test_session_recovers_after_the_server_restarts(
    tmp_path: Path, wait_until: WaitUntil
) -> None:
    settings = server_settings(tmp_path)  # one secret key: tokens survive the restart
    port = _free_port()
    states: list[str] = []
    async with serve_on(settings, port, list_instruments=True) as first:
        trader = await first.user()
        market = Market(first, await first.user(), await first.user())
        await first.fund(market.maker.account_id, "RELIANCE", "1000")
        await market.quote("RELIANCE")
        session = await open_session(
            first.base_url,
            trader,
            stream_options={"backoff": Backoff(initial=0.05, cap=0.3)},
        )
        session.connection_changed.connect(states.append)
        session.watch_quotes(["RELIANCE"])
        await wait_until(lambda: "RELIANCE" in session.quotes and "INR" in session.balances)
        assert not session.stale
    try:
        # The server is gone: the user is told, and nothing pretends to be live.
        await wait_until(lambda: session.connection_state == "reconnecting", timeout=15)
        assert session.stale

        async with serve_on(settings, port, list_instruments=False) as second:
            await wait_until(lambda: session.connection_state == "connected", timeout=20)
            await wait_until(lambda: not session.stale, timeout=10)
            assert states[-2:] == ["reconnecting", "connected"]
            # Resubscribed: a trade after the restart reaches the watched quote.
            taker = await second.user(email="after-restart@example.com")
            await second.fund(taker.account_id, "INR", "1000000")
            response = await taker.client.post(
                "/api/v1/orders",
                json={"symbol": "RELIANCE", "side": "buy", "quantity": "2", "order_type": "market"},
            )
            assert response.status_code in (200, 201), response.text
            await wait_until(lambda: session.quotes["RELIANCE"].trades >= 1, timeout=10)
            assert session.quotes["RELIANCE"].last is not None
    finally:
        await session.close()
