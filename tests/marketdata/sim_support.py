"""Listings and an engine on a ManualClock for the simulator's tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from exchange_server.domain.events import TradeExecuted
from exchange_server.engine.clock import ManualClock
from exchange_server.engine.journal import Durability
from exchange_server.marketdata.universe import Listing
from exchange_server.server import EngineSettings, ExchangeService


def equity(symbol: str, last_close: int, sector: str = "Financial Services") -> Listing:
    return Listing(
        symbol, symbol, "equity", "NSE", "INR", sector, "", 2, 0, 5, 1, 100_000, last_close, "NSE"
    )


LISTINGS = [
    Listing(
        "NIFTY50",
        "NIFTY 50",
        "index",
        "NSE",
        "INR",
        "Index",
        "",
        2,
        0,
        5,
        1,
        100_000,
        2_405_060,
        "NSE",
    ),
    equity("SBIN", 110_110),
    equity("HDFCBANK", 78_485),
    equity("TCS", 239_690, "Information Technology"),
    Listing(
        "BTC-INR",
        "Bitcoin",
        "crypto",
        "CRYPTO",
        "INR",
        "Crypto",
        "",
        0,
        4,
        1,
        1,
        200_000,
        8_000_000,
        "24x7",
    ),
]

# Monday 2026-04-27 10:00 IST: NSE is open.
MONDAY_1000_IST = int(datetime(2026, 4, 27, 4, 30, tzinfo=UTC).timestamp()) * 1_000_000_000
TICK_NS = 100_000_000


@asynccontextmanager
async def engine_on(path: Path, clock: ManualClock) -> AsyncIterator[ExchangeService]:
    path.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path / 'exchange.db'}"
    settings = EngineSettings(url, durability=Durability.BUFFERED, projections=False)
    service = ExchangeService(settings, clock=clock)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


def record_trades(service: ExchangeService) -> list[tuple[object, ...]]:
    trades: list[tuple[object, ...]] = []

    def listen(batch: list) -> None:  # type: ignore[type-arg]
        for entry in batch:
            for event in entry.events:
                if type(event) is TradeExecuted:
                    trades.append(tuple(event.values()))

    service.sequencer.add_listener(listen)
    return trades
