"""WebSocket market-data fan-out: N subscribers on one server process, S symbols whose best
bid moves R times a second (real ModifyOrder commands through the engine).

Phases: connect every client (idle) and measure the server's memory per connection; then
each client subscribes to ``quote`` of ``--per-client`` symbols; the driver runs for
``--seconds``; clients record exchange-to-client latency (receive time minus the quote's
commit timestamp), seq gaps, and whether their last quote of each symbol is the final one.

python -m tests.benchmarks.bench_fanout --clients 1000 --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing as mp
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson
import psutil
import uvicorn

from exchange_server import event_loop
from exchange_server.api.app import create_app
from exchange_server.api.context import ServerContext
from exchange_server.api.settings import ServerSettings
from exchange_server.domain.commands import ListInstrument, ModifyOrder, PlaceOrder
from exchange_server.domain.enums import AssetClass, OrderType, Side, TimeInForce
from exchange_server.domain.events import OrderUpdated
from exchange_server.engine.journal import Durability
from tests.benchmarks import light_ws_client
from tests.benchmarks.report import percentile, report

BENCH = "ws_fanout"
MAKER = 900_001
BASE_PRICE = 100_000  # 1000.00
P99_TARGET_MS = 250.0


def symbols_for(count: int) -> list[str]:
    return [f"FAN{i:02d}" for i in range(count)]


# -- client workers (separate processes) ------------------------------------------------
async def _client(url: str, channels: list[str], stats: dict[str, Any], phase: Any) -> None:
    seqs: dict[str, int] = {}
    last_ts: dict[str, int] = {}
    stats["last_ts"][len(stats["last_ts"])] = last_ts
    latencies = stats["latencies"]
    measuring = [False]  # a local copy of the phase: the shared Value takes a lock to read

    def receive(raw: bytes) -> None:
        now = time.time_ns()
        frame = orjson.loads(raw)
        for message in frame if isinstance(frame, list) else (frame,):
            seq = message.get("seq")
            if seq is None:
                continue
            channel = message["channel"]
            if seq != seqs.get(channel, 0) + 1:
                stats["gaps"] += 1
            seqs[channel] = seq
            stats["messages"] += 1
            ts = message["data"]["ts"]
            last_ts[channel] = ts
            if measuring[0] and message["type"] == "update":
                latencies.append((now - ts) / 1e6)

    client = await light_ws_client.connect(url, receive)
    stats["connected"] += 1
    while phase.value < 1:
        await asyncio.sleep(0.05)
    measuring[0] = True
    for channel in channels:
        client.send_text(orjson.dumps({"op": "subscribe", "channel": channel}))
    while phase.value < 2:
        await asyncio.sleep(0.05)
    measuring[0] = False
    assert client.transport is not None
    client.transport.close()


def worker(url: str, clients: list[list[str]], phase: Any, out: Any) -> None:
    stats: dict[str, Any] = {
        "connected": 0,
        "gaps": 0,
        "messages": 0,
        "latencies": [],
        "last_ts": {},
    }

    async def main() -> None:
        tasks = []
        for channels in clients:
            tasks.append(asyncio.create_task(_client(url, channels, stats, phase)))
            if len(tasks) % 100 == 0:
                await asyncio.sleep(0.01)  # do not flood the listen backlog
        while phase.value < 3:
            await asyncio.sleep(0.2)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    event_loop.run(main())
    finals = list(stats["last_ts"].values())
    out.put(("done", stats["gaps"], stats["messages"], stats["latencies"], finals))


# -- server side ------------------------------------------------------------------------
async def setup_market(context: ServerContext, symbols: list[str]) -> dict[str, int]:
    for symbol in symbols:
        await context.submit(
            ListInstrument(
                symbol, symbol, AssetClass.EQUITY, "NSE", "INR", reference_price=BASE_PRICE
            )
        )
    await context.open_account(MAKER, paper_cash=True)
    orders = {}
    for symbol in symbols:
        ack = await context.submit(
            PlaceOrder(MAKER, symbol, Side.BUY, 1, OrderType.LIMIT, BASE_PRICE, tif=TimeInForce.GTC)
        )
        orders[symbol] = next(e.order_id for e in ack.events if isinstance(e, OrderUpdated))
    return orders


async def drive(context: ServerContext, orders: dict[str, int], rate: float, seconds: float) -> int:
    """Move each symbol's best bid ``rate`` times a second for ``seconds``."""
    interval, updates, step = 1.0 / rate, 0, 0
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        step += 1
        price = BASE_PRICE - 5 * (step % 20)
        commands = [
            context.submit(ModifyOrder(MAKER, order_id, 0, price, 0))
            for order_id in orders.values()
        ]
        await asyncio.gather(*commands)
        updates += len(commands)
        await asyncio.sleep(max(0.0, start + step * interval - time.monotonic()))
    return updates


async def run_async(args: argparse.Namespace) -> float:
    """One run; its p99 exchange-to-client latency in milliseconds."""
    data_dir = Path(tempfile.mkdtemp(prefix="bench-fanout-"))
    settings = ServerSettings(
        database_url=f"sqlite:///{data_dir / 'exchange.db'}",
        data_dir=data_dir,
        durability=Durability.BUFFERED,
        password_hashing="fast",
        ws_idle_timeout_seconds=3600.0,
    )
    app = create_app(settings)
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_level="warning", ws="websockets-sansio", backlog=4096
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    context: ServerContext = app.state.context
    symbols = symbols_for(args.symbols)
    orders = await setup_market(context, symbols)
    url = f"ws://127.0.0.1:{port}/ws"

    plans = [
        [f"quote:{symbols[(i + k) % len(symbols)]}" for k in range(args.per_client)]
        for i in range(args.clients)
    ]
    spawn = mp.get_context("spawn")
    phase, out = spawn.Value("i", 0), spawn.Queue()
    workers = [
        spawn.Process(target=worker, args=(url, plans[w :: args.workers], phase, out))
        for w in range(args.workers)
    ]
    process = psutil.Process()
    gc.collect()
    rss_before = process.memory_info().rss
    for child in workers:
        child.start()
    hub = context.hub
    deadline = time.monotonic() + 300
    while len(hub.connections) < args.clients and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    await asyncio.sleep(1.0)  # let the handshakes' garbage go
    gc.collect()
    rss_idle = process.memory_info().rss
    connected = len(hub.connections)
    report(BENCH, "connections", connected, "count", clients=args.clients)
    report(
        BENCH,
        "memory_per_idle_connection",
        (rss_idle - rss_before) / max(1, connected) / 1024,
        "KiB",
    )

    phase.value = 1
    cpu_before = process.cpu_times()
    updates = await drive(context, orders, args.rate, args.seconds)
    cpu_after = process.cpu_times()
    final = {f"quote:{s}": context.market.books[s].ts for s in symbols}
    await asyncio.sleep(1.0)  # the last flush reaches everyone
    phase.value = 2
    await asyncio.sleep(0.5)
    phase.value = 3
    gaps = messages = 0
    latencies: list[float] = []
    complete = clients_seen = 0
    done = 0
    while done < args.workers:
        item = await asyncio.to_thread(out.get)
        if item[0] != "done":
            continue
        done += 1
        gaps += item[1]
        messages += item[2]
        latencies.extend(item[3])
        for last in item[4]:
            clients_seen += 1
            complete += all(
                last.get(channel) == ts for channel, ts in final.items() if channel in last
            )
    for child in workers:
        child.join(10)
    busy = (cpu_after.user + cpu_after.system) - (cpu_before.user + cpu_before.system)
    extra = {"clients": args.clients, "symbols": args.symbols, "per_client": args.per_client}
    report(BENCH, "quote_updates_published", updates / args.seconds, "per_second", **extra)
    report(BENCH, "messages_received", messages / args.seconds, "per_second", **extra)
    report(BENCH, "seq_gaps", gaps, "count", **extra)
    report(
        BENCH, "clients_with_final_state", complete / max(1, clients_seen) * 100, "percent", **extra
    )
    for name, fraction in (("p50", 0.5), ("p99", 0.99), ("max", 1.0)):
        report(BENCH, f"latency_{name}", percentile(latencies, fraction), "ms", **extra)
    report(BENCH, "server_cpu", busy / args.seconds * 100, "percent_of_a_core", **extra)
    server.should_exit = True
    await serving
    return percentile(latencies, 0.99)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_fanout")
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--symbols", type=int, default=20)
    parser.add_argument("--per-client", type=int, default=1, help="quote channels per client")
    parser.add_argument("--rate", type=float, default=10.0, help="updates per symbol per second")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--workers", type=int, default=2, help="client processes")
    return parser.parse_args(argv)


def run(clients: int = 1000, seconds: float = 20.0) -> float:
    """One run with ``clients`` subscribers; its p99 latency in milliseconds."""
    return event_loop.run(run_async(parse(["--clients", str(clients), "--seconds", str(seconds)])))


def run_search(counts: tuple[int, ...] = (1000, 2500, 5000, 7500, 10_000)) -> None:
    """The issue's figures (1,000 and 5,000 subscribers) and the largest count held with
    p99 under the target: counts in rising order until one misses it."""
    held = 0
    for clients in counts:
        p99 = run(clients=clients)
        if p99 >= P99_TARGET_MS:
            if clients < 5000:  # the 5,000 is reported whatever happens below it
                run(clients=5000)
            break
        held = clients
    report(BENCH, "largest_count_with_p99_under_target", held, "subscribers",
           target_ms=P99_TARGET_MS, tried=list(counts))  # fmt: skip


if __name__ == "__main__":
    event_loop.run(run_async(parse()))
