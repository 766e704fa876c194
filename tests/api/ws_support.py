"""Builders for the stream tests: an exchange whose commits feed a hub, fake sockets, and
waiting on conditions instead of sleeping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from exchange_server.api.metrics import Metrics
from exchange_server.api.settings import ServerSettings
from exchange_server.api.stream import Connection, StreamHub
from exchange_server.domain.commands import (
    Command,
    Deposit,
    ListInstrument,
    OpenAccount,
    PlaceOrder,
)
from exchange_server.domain.enums import AssetClass, OrderType, Side, TimeInForce
from exchange_server.domain.events import CommandRejected
from exchange_server.domain.exchange import Exchange
from exchange_server.engine.sequencer import Committed
from exchange_server.marketdata.market_state import MarketState

SYMBOLS = ("ACME", "BETA")
ALICE, BOB = 10, 11
START = 1_700_000_000_000_000_000


async def wait_for(condition: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``condition`` on the loop until it is truthy; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await asyncio.sleep(0.002)


class FakeSocket:
    """The hub's view of a socket. ``stall()`` makes sends block like a peer that stopped
    reading (its TCP window full)."""

    def __init__(self) -> None:
        self.frames: list[Any] = []
        self.closed: tuple[int, str] | None = None
        self._open = asyncio.Event()
        self._open.set()

    def stall(self) -> None:
        self._open.clear()

    def resume(self) -> None:
        self._open.set()

    async def send(self, frame: str) -> None:
        await self._open.wait()
        self.frames.append(orjson.loads(frame))

    async def close(self, code: int, reason: str) -> None:
        await self._open.wait()
        self.closed = (code, reason)

    @property
    def messages(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for frame in self.frames:
            out.extend(frame if isinstance(frame, list) else [frame])
        return out

    def on(self, channel: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("channel") == channel and "seq" in m]


class Exchanged:
    """An in-memory exchange whose 'commits' go straight to a market state and a hub."""

    def __init__(self, tmp_path: Path, **settings: Any) -> None:
        self.exchange = Exchange()
        self.seq = 0
        self.now = START
        for symbol in SYMBOLS:
            self.apply(
                ListInstrument(
                    symbol, symbol, AssetClass.EQUITY, "NSE", "INR", reference_price=10_000
                )
            )
        for account in (ALICE, BOB):
            self.apply(OpenAccount(account))
            self.apply(Deposit(account, "INR", 100_000 * 10_000))
            self.apply(Deposit(account, "ACME", 1_000))
        self.market = MarketState(self.exchange)
        self.settings = ServerSettings(database_url="sqlite://", data_dir=tmp_path, **settings)
        self.metrics = Metrics()
        self.hub = StreamHub(self.market, self.settings, self.metrics, flush_seconds=0.005)

    def apply(self, command: Command) -> Committed:
        self.seq += 1
        self.now += 1_000_000
        events = self.exchange.apply(command, self.now)
        assert not [e for e in events if isinstance(e, CommandRejected)], events
        return Committed(self.seq, self.now, command, events)

    def commit(self, command: Command) -> Committed:
        entry = self.apply(command)
        self.hub.publish([entry], self.market.apply([entry]))
        return entry

    def place(
        self, account: int, side: Side, quantity: int, price: int, symbol: str = "ACME"
    ) -> Committed:
        return self.commit(
            PlaceOrder(account, symbol, side, quantity, OrderType.LIMIT, price, tif=TimeInForce.GTC)
        )

    def connect(self, socket: FakeSocket) -> Connection:
        return self.hub.connect(socket.send, socket.close)


class WsClient:
    """A test client on a real socket: a background task collects every message."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.messages: list[dict[str, Any]] = []
        self.close_code: int | None = None
        self.close_reason = ""
        self._next_id = 0
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, url: str, **options: Any) -> WsClient:
        from websockets.asyncio.client import connect

        return cls(await connect(url, **options))

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in self.connection:
                decoded = orjson.loads(raw)
                self.messages.extend(decoded if isinstance(decoded, list) else [decoded])
        except ConnectionClosed:
            pass
        self.close_code = self.connection.close_code
        self.close_reason = self.connection.close_reason or ""

    async def send(self, message: dict[str, Any] | str | bytes) -> None:
        await self.connection.send(
            message if isinstance(message, str | bytes) else orjson.dumps(message).decode()
        )

    async def request(self, op: str, **fields: Any) -> dict[str, Any]:
        """Send ``op`` with a fresh id; the reply (result, error, subscribed, pong...)."""
        self._next_id += 1
        request_id = self._next_id
        await self.send({"op": op, "id": request_id, **fields})
        return await wait_for(lambda: self.reply(request_id))

    def reply(self, request_id: int) -> dict[str, Any] | None:
        for message in self.messages:
            if message.get("id") == request_id and "seq" not in message:
                return message
        return None

    def on(self, channel: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("channel") == channel and "seq" in m]

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.messages if m.get("type") == kind]

    async def closed(self, timeout: float = 10.0) -> tuple[int | None, str]:
        await asyncio.wait_for(asyncio.shield(self._reader), timeout)
        return self.close_code, self.close_reason

    async def close(self) -> None:
        await self.connection.close()
        await asyncio.wait_for(self._reader, 5.0)
