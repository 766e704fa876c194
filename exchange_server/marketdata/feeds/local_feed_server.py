"""A local market data feed: a WebSocket server speaking a small JSON protocol, used by the
tests and for demos in place of a third-party feed. It can also misbehave on purpose: skip
sequence numbers, send bad ticks, go silent, drop connections and refuse new ones.

The protocol, as a client sees it (``LOCAL_FEED_MAPPING`` maps it)::

    server: {"type": "welcome", "heartbeat_seconds": 1.0}
    client: {"op": "subscribe", "symbols": ["RELIANCE"]}   (optional; "*" for all)
    server: {"type": "subscribed", "symbols": ["RELIANCE"]}
    server: {"type": "tick", "n": 1, "s": "RELIANCE", "b": "1327.80", "a": "1327.85",
             "p": "1327.80", "v": "25", "t": 1777000000123}      (t: epoch milliseconds)
    server: {"type": "hb", "t": 1777000001123}                    (when idle)
    client: {"op": "resync"}   -> the latest tick of every symbol again, numbered onwards

``n`` counts the messages of one connection from 1; a gap means messages were lost.

Run one for a demo: ``python -m exchange_server.marketdata.feeds.local_feed_server
--port 9100 --symbol RELIANCE=1327.80 --symbol TCS=2396.90``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from exchange_server.marketdata.feeds.mapping import FieldMapping

log = logging.getLogger(__name__)

# The ``feed_mapping`` table for this protocol, as an operator would configure it.
LOCAL_FEED_MAPPING_TABLE: dict[str, Any] = {
    "symbol": "s",
    "bid": "b",
    "ask": "a",
    "last": "p",
    "volume": "v",
    "ts": "t",
    "ts_unit": "ms",
    "seq": "n",
    "type_field": "type",
    "tick_types": ["tick"],
}
LOCAL_FEED_MAPPING = FieldMapping.from_table(LOCAL_FEED_MAPPING_TABLE)


@dataclass
class FeedConnection:
    socket: ServerConnection
    seq: int = 0
    symbols: set[str] | None = None  # None: no subscription yet, everything is sent
    requests: list[dict[str, Any]] = field(default_factory=list)

    def wants(self, symbol: str) -> bool:
        return self.symbols is None or "*" in self.symbols or symbol in self.symbols


class LocalFeedServer:
    def __init__(
        self,
        heartbeat_seconds: float = 1.0,
        now_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self.heartbeat_seconds = heartbeat_seconds
        self.now_ms = now_ms
        self.connections: list[FeedConnection] = []
        self.accepted = 0  # connections ever accepted
        self.refused = 0  # handshakes refused while ``refusing``
        self.refusing = False  # answer new connections with HTTP 503
        self.stalled = False  # send nothing at all, heartbeats included: a dead feed
        self.latest: dict[str, dict[str, Any]] = {}  # the last tick of each symbol
        self.requests: list[dict[str, Any]] = []  # every client request, in arrival order
        self._changed = asyncio.Condition()
        self._server: Server | None = None
        self.url = ""

    @contextlib.asynccontextmanager
    async def running(self, port: int = 0) -> AsyncIterator[LocalFeedServer]:
        async with serve(
            self._handle, "127.0.0.1", port, process_request=self._admit, compression=None
        ) as server:
            self._server = server
            bound = next(iter(server.sockets)).getsockname()[1]
            self.url = f"ws://127.0.0.1:{bound}/feed"
            yield self

    # -- what a test waits on -----------------------------------------------------------
    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(condition)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- publishing ---------------------------------------------------------------------
    async def publish(
        self,
        symbol: str,
        bid: Decimal | str | None = None,
        ask: Decimal | str | None = None,
        last: Decimal | str | None = None,
        volume: Decimal | str | None = None,
        ts_ms: int | None = None,
    ) -> None:
        """A tick in the protocol's shape (numbers as decimal strings)."""
        message: dict[str, Any] = {"type": "tick", "s": symbol}
        for key, value in (("b", bid), ("a", ask), ("p", last), ("v", volume)):
            if value is not None:
                message[key] = str(value)
        message["t"] = self.now_ms() if ts_ms is None else ts_ms
        self.latest[symbol] = message
        await self.send_numbered(message, symbol)

    async def send_numbered(self, message: dict[str, Any], symbol: str | None = None) -> None:
        """``message`` with the next sequence number of each connection, to every connection
        subscribed to ``symbol`` (all when None). Any content, so tests can send bad ticks."""
        if self.stalled:
            return
        for connection in list(self.connections):
            if symbol is None or connection.wants(symbol):
                connection.seq += 1
                await self._send(connection, {**message, "n": connection.seq})

    async def send_raw(self, text: str) -> None:
        """A frame exactly as given (not JSON, say), unnumbered."""
        for connection in list(self.connections):
            with contextlib.suppress(ConnectionClosed):
                await connection.socket.send(text)

    def skip(self, count: int = 1) -> None:
        """Lose the next ``count`` messages of every connection: the next one shows a gap."""
        for connection in self.connections:
            connection.seq += count

    async def play(self, ticks: Iterable[dict[str, Any]]) -> None:
        for tick in ticks:
            await self.publish(**tick)

    async def random_walk(
        self,
        start: dict[str, Decimal],
        steps: int | None = None,
        interval: float = 0.2,
        tick_size: Decimal = Decimal("0.05"),
        seed: int = 7,
    ) -> None:
        """Prices wandering a tick or two at a time around ``start``, with a one-tick spread
        (``steps`` None: until cancelled)."""
        rng = random.Random(seed)
        prices = dict(start)
        count = 0
        while steps is None or count < steps:
            for symbol, price in prices.items():
                price = max(tick_size, price + tick_size * rng.choice((-2, -1, 0, 0, 1, 2)))
                prices[symbol] = price
                volume = rng.randrange(1, 500)
                await self.publish(symbol, price, price + tick_size, price, Decimal(volume))
            count += 1
            await asyncio.sleep(interval)

    # -- misbehaving ----------------------------------------------------------------------
    async def drop(self, abrupt: bool = False) -> None:
        """Close every connection: with a close frame, or (``abrupt``) by cutting the TCP
        connection as a crashed feed or a network fault would."""
        for connection in list(self.connections):
            if abrupt:
                connection.socket.transport.abort()
            else:
                await connection.socket.close(1011, "feed restarting")

    # -- the connection -------------------------------------------------------------------
    def _admit(self, socket: ServerConnection, request: Request) -> Response | None:
        if self.refusing:
            self.refused += 1
            asyncio.get_running_loop().create_task(self._notify())
            return socket.respond(HTTPStatus.SERVICE_UNAVAILABLE, "feed unavailable\n")
        return None

    async def _handle(self, socket: ServerConnection) -> None:
        connection = FeedConnection(socket)
        self.connections.append(connection)
        self.accepted += 1
        heartbeat = asyncio.create_task(self._heartbeat(connection))
        try:
            await self._send(
                connection, {"type": "welcome", "heartbeat_seconds": self.heartbeat_seconds}
            )
            await self._notify()
            async for raw in socket:
                await self._request(connection, raw)
        except ConnectionClosed:
            pass
        finally:
            heartbeat.cancel()
            self.connections.remove(connection)
            await self._notify()

    async def _request(self, connection: FeedConnection, raw: str | bytes) -> None:
        try:
            request = json.loads(raw)
        except ValueError:
            return
        if not isinstance(request, dict):
            return
        connection.requests.append(request)
        self.requests.append(request)
        if request.get("op") == "subscribe":
            symbols = request.get("symbols") or ["*"]
            connection.symbols = {str(symbol) for symbol in symbols}
            await self._send(connection, {"type": "subscribed", "symbols": sorted(symbols)})
        elif request.get("op") == "resync":
            for symbol, message in sorted(self.latest.items()):
                if connection.wants(symbol) and not self.stalled:
                    connection.seq += 1
                    await self._send(connection, {**message, "n": connection.seq})
        await self._notify()

    async def _heartbeat(self, connection: FeedConnection) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            if not self.stalled:
                await self._send(connection, {"type": "hb", "t": self.now_ms()})

    async def _send(self, connection: FeedConnection, message: dict[str, Any]) -> None:
        if self.stalled:
            return
        with contextlib.suppress(ConnectionClosed):
            await connection.socket.send(json.dumps(message))


async def _serve_forever(port: int, start: dict[str, Decimal], interval: float) -> None:
    server = LocalFeedServer()
    async with server.running(port):
        log.warning("local feed on %s", server.url)
        await server.random_walk(start, interval=interval)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local random-walk market data feed")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between ticks")
    parser.add_argument(
        "--symbol",
        action="append",
        default=[],
        metavar="SYMBOL=PRICE",
        help="a symbol and its starting price (repeatable)",
    )
    arguments = parser.parse_args(argv)
    start = {
        name: Decimal(price)
        for name, price in (item.split("=", 1) for item in arguments.symbol or ["ACME=100.00"])
    }
    logging.basicConfig(level=logging.INFO)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve_forever(arguments.port, start, arguments.interval))


if __name__ == "__main__":
    main()
