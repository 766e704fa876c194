"""Candle aggregation: trades into 1s, 1m, 5m, 15m, 1h and 1d candles.

Target: >= 1,000,000 trades/s ("aggregation"). The trades are a realistic tape: 50 symbols
from 09:15 IST, about 30 trades per symbol per second, prices moving by ticks. Also measured:
the same with a read of every changed candle (what the stream publishes) after each batch of
1000 or 100 trades, as the market state does after each committed batch.
"""

from __future__ import annotations

import gc
import random
import time
from datetime import datetime
from zoneinfo import ZoneInfo

from exchange_server.marketdata.candles import NS_PER_SECOND, CandleBook
from tests.benchmarks.report import report

BENCH = "candles"


def tape(trades: int, symbols: int = 50, seed: int = 3) -> list[tuple[str, int, int, int]]:
    rng = random.Random(seed)
    names = [f"SYM{i:02d}" for i in range(symbols)]
    prices = [rng.randrange(10_000, 500_000, 5) for _ in names]
    opening = datetime(2026, 4, 24, 9, 15, tzinfo=ZoneInfo("Asia/Kolkata"))
    ts = int(opening.timestamp()) * NS_PER_SECOND
    step = NS_PER_SECOND // (30 * symbols)  # 30 trades per symbol per second
    result = []
    for _ in range(trades):
        index = rng.randrange(symbols)
        prices[index] = max(5, prices[index] + 5 * rng.randint(-2, 2))
        ts += step
        result.append((names[index], prices[index], rng.randint(1, 500), ts))
    return result


def _rate(trade_list: list[tuple[str, int, int, int]], batch: int) -> float:
    """Trades/s through the candle book, reading the changed candles every ``batch``
    trades (0: never)."""
    book = CandleBook()
    add = book.add_trade
    step = batch or len(trade_list)
    gc.collect()
    gc.disable()
    started = time.perf_counter()
    for offset in range(0, len(trade_list), step):
        for symbol, price, quantity, ts in trade_list[offset : offset + step]:
            add(symbol, price, quantity, ts)
        if batch:
            book.changed()
    elapsed = time.perf_counter() - started
    gc.enable()
    return len(trade_list) / elapsed


def run(trades: int = 1_000_000) -> None:
    trade_list = tape(trades)
    report(BENCH, "aggregation", _rate(trade_list, 0), "trades/s", trades=trades,
           target=1_000_000, intervals=6, symbols=50)  # fmt: skip
    # With the stream's read of every changed candle after each committed batch.
    for batch in (1000, 100):
        report(BENCH, "aggregation_and_publication", _rate(trade_list, batch), "trades/s",
               trades=trades, batch=batch)  # fmt: skip


if __name__ == "__main__":
    run()
