"""Order entry over the WebSocket: acknowledged (durable) orders per second from 100
concurrent clients, and acknowledgement latency at a fixed 2,000 orders per second.

The server runs as it does for users: `exchange-server serve` in its own process (the
embedded launcher, SQLite, fsync group commit). The load generator runs in worker processes
of its own, each with its share of the clients, so neither side steals the other's GIL
(on this 2-core machine they still share the cores, which the figures include).

Every client signs in with the paper trader's token and sends buy limit orders for one share
at prices spread below the market, so orders rest rather than trade: the measured path is
parse, validate, risk, book, ledger, journal commit, acknowledgement.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import orjson
from websockets.asyncio.client import connect

from exchange_server import event_loop
from exchange_server.embedded import start_embedded
from tests.benchmarks.report import percentile, report

CLIENTS = 100
WORKERS = 2
THROUGHPUT_SECONDS = 10.0
WINDOW = 8  # orders each client keeps in flight in the throughput run
LATENCY_RATE = 2_000
LATENCY_SECONDS = 10.0
SYMBOLS = ("RELIANCE", "TCS", "INFY", "HDFCBANK", "SBIN")
REFERENCE = {
    "RELIANCE": 1327.80,
    "TCS": 2396.90,
    "INFY": 1154.60,
    "HDFCBANK": 784.85,
    "SBIN": 1101.10,
}


def order_body(rng: random.Random) -> dict[str, Any]:
    symbol = rng.choice(SYMBOLS)
    # Between 1% and 9% below the reference: inside the band, never crossing.
    ticks = int(REFERENCE[symbol] * rng.uniform(0.91, 0.99) * 20)
    price = Decimal(ticks) / 20
    return {"symbol": symbol, "side": "buy", "quantity": "1", "price": f"{price:.2f}"}


class Client:
    """One socket: requests keyed by id, replies matched as they come (frames may carry one
    message or a list of them)."""

    def __init__(self, socket: Any) -> None:
        self.socket = socket
        self.pending: dict[int, asyncio.Future[float]] = {}
        self.next_id = 0
        self.errors = 0

    async def send_order(self, body: dict[str, Any]) -> asyncio.Future[float]:
        self.next_id += 1
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.pending[self.next_id] = future
        await self.socket.send(orjson.dumps({"op": "place", "id": self.next_id, "order": body}))
        return future

    async def read(self) -> None:
        async for frame in self.socket:
            messages = orjson.loads(frame)
            for message in messages if isinstance(messages, list) else [messages]:
                future = self.pending.pop(message.get("id"), None) if "id" in message else None
                if future is None:
                    continue
                if message.get("type") != "result":
                    self.errors += 1
                future.set_result(time.perf_counter())


async def open_clients(ws_url: str, token: str, count: int) -> tuple[list[Client], list[Any]]:
    clients, readers = [], []
    for _ in range(count):
        socket = await connect(f"{ws_url}?token={token}", max_size=2**22)
        client = Client(socket)
        clients.append(client)
        readers.append(asyncio.create_task(client.read()))
    return clients, readers


async def throughput_worker(ws_url: str, token: str, count: int, seed: int) -> tuple[int, int]:
    clients, readers = await open_clients(ws_url, token, count)
    rng = random.Random(seed)
    deadline = time.perf_counter() + THROUGHPUT_SECONDS
    acknowledged = 0

    async def drive(client: Client) -> None:
        nonlocal acknowledged
        in_flight: list[asyncio.Future[float]] = []
        while time.perf_counter() < deadline:
            while len(in_flight) < WINDOW:
                in_flight.append(await client.send_order(order_body(rng)))
            done, _ = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
            acknowledged += len(done)
            in_flight = [f for f in in_flight if not f.done()]
        await asyncio.gather(*in_flight)

    await asyncio.gather(*(drive(client) for client in clients))
    errors = sum(client.errors for client in clients)
    for client in clients:
        await client.socket.close()
    for reader in readers:
        reader.cancel()
    return acknowledged, errors


async def latency_worker(
    ws_url: str, token: str, count: int, rate: float, seed: int
) -> list[float]:
    """Open loop: each order is sent at its scheduled time and timed from that time, so a
    stall shows up as latency rather than as fewer orders sent."""
    clients, readers = await open_clients(ws_url, token, count)
    rng = random.Random(seed)
    interval = 1.0 / rate
    total = int(rate * LATENCY_SECONDS)
    started = time.perf_counter() + 0.5
    waits: list[tuple[float, asyncio.Future[float]]] = []
    for index in range(total):
        scheduled = started + index * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        client = clients[index % len(clients)]
        waits.append((scheduled, await client.send_order(order_body(rng))))
    latencies = [(await future) - scheduled for scheduled, future in waits]
    for client in clients:
        await client.socket.close()
    for reader in readers:
        reader.cancel()
    return latencies


def _throughput(args: tuple[str, str, int, int]) -> tuple[int, int]:
    return event_loop.run(throughput_worker(*args))


def _latency(args: tuple[str, str, int, float, int]) -> list[float]:
    return event_loop.run(latency_worker(*args))


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="bench-ws-") as directory:
        server = start_embedded(
            Path(directory),
            paper_cash=Decimal("100000000000"),
            demo_market=False,
            extra_env={
                "EXCHANGE_USER_RATE": "1000000/1000000",
                "EXCHANGE_IP_RATE": "1000000/1000000",
            },
        )
        try:
            response = httpx.post(
                f"{server.base_url}/api/v1/auth/embedded", json={"secret": server.secret}
            )
            response.raise_for_status()
            token = response.json()["access_token"]
            share = CLIENTS // WORKERS
            with multiprocessing.get_context("spawn").Pool(WORKERS) as pool:
                started = time.perf_counter()
                results = pool.map(
                    _throughput, [(server.ws_url, token, share, seed) for seed in range(WORKERS)]
                )
                elapsed = time.perf_counter() - started
                acknowledged = sum(r[0] for r in results)
                errors = sum(r[1] for r in results)
                report(
                    "ws_order_entry",
                    "throughput",
                    acknowledged / THROUGHPUT_SECONDS,
                    "orders/s",
                    clients=CLIENTS,
                    window=WINDOW,
                    refused=errors,
                    wall_seconds=round(elapsed, 1),
                    target=">= 10000",
                )
                samples = pool.map(
                    _latency,
                    [
                        (server.ws_url, token, share, LATENCY_RATE / WORKERS, 100 + seed)
                        for seed in range(WORKERS)
                    ],
                )
            latencies = [value * 1000 for chunk in samples for value in chunk]
            for name, fraction in (("p50", 0.5), ("p99", 0.99), ("p999", 0.999)):
                report(
                    "ws_order_entry",
                    f"latency_{name}_at_{LATENCY_RATE}_per_s",
                    percentile(latencies, fraction),
                    "ms",
                    samples=len(latencies),
                    **({"target": "< 20"} if name == "p99" else {}),
                )
        finally:
            server.stop()


if __name__ == "__main__":
    run()
