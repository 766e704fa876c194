"""The demo market under load: 50 instruments at 20 trades/s each in real time.

The simulator and the engine run as the server runs them (sequencer, SQLite journal with
fsync group commit, the committed market state with candles); projections are left out
because they live in a child process. CPU is the server process's own (``process_time``,
every thread). Target: under half of one core.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from exchange_server.domain.events import TradeExecuted
from exchange_server.engine.sequencer import Committed
from exchange_server.marketdata.market_state import MarketState
from exchange_server.marketdata.simulator import Simulator, SimulatorConfig
from exchange_server.marketdata.universe import Listing
from exchange_server.server import EngineSettings, ExchangeService
from tests.benchmarks.report import report

BENCH = "demo_market"
INSTRUMENTS = 50
TRADES_PER_SECOND = 20.0


def listings(count: int) -> list[Listing]:
    """NSE-like equities in five sectors, priced from 100 to about 5,000 rupees."""
    return [
        Listing(
            f"SIM{i:02d}",
            f"Simulated {i}",
            "equity",
            "NSE",
            "INR",
            f"Sector {i % 5}",
            "",
            2,
            0,
            5,
            1,
            100_000,
            10_000 + i * 10_000 - (i * 10_000) % 5,
            "NSE",
        )
        for i in range(count)
    ]


async def measure(seconds: float) -> None:
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'exchange.db'}"
        service = ExchangeService(EngineSettings(url, projections=False))
        await service.start()
        try:
            market = MarketState(service.sequencer.exchange)
            trades = commands = 0

            def on_commit(batch: list[Committed]) -> None:
                nonlocal trades, commands
                market.apply(batch)
                commands += len(batch)
                for entry in batch:
                    for event in entry.events:
                        if type(event) is TradeExecuted:
                            trades += 1

            service.sequencer.add_listener(on_commit)
            config = SimulatorConfig(seed=1, trades_per_second=TRADES_PER_SECOND, always_open=True)
            simulator = Simulator(service, listings(INSTRUMENTS), config)
            await simulator.prepare()
            task = asyncio.create_task(simulator.run())
            await asyncio.sleep(2.0)  # warm up: books fill, makers settle
            trades = commands = 0
            cpu, wall = time.process_time(), time.perf_counter()
            await asyncio.sleep(seconds)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            counted_trades, counted_commands = trades, commands
            await simulator.stop()
            await task
        finally:
            await service.stop()
    report(BENCH, "cpu", cpu / wall, "cores", target="< 0.5", instruments=INSTRUMENTS)
    report(
        BENCH,
        "trades_per_instrument",
        counted_trades / wall / INSTRUMENTS,
        "trades/s",
        target=f">= {TRADES_PER_SECOND:g}",
    )
    report(BENCH, "commands", counted_commands / wall, "commands/s")


def run(seconds: float = 20.0) -> None:
    asyncio.run(measure(seconds))


if __name__ == "__main__":
    run()
