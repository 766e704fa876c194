"""OHLCV candles built from trades, per symbol and interval, in exact integers.

Intervals are aligned to UTC epoch boundaries (a day candle runs 00:00-24:00 UTC, which
holds the whole NSE session). Each series keeps a bounded window of recent candles in
memory; longer history comes from the history store.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

NS_PER_SECOND = 1_000_000_000
INTERVALS: dict[str, int] = {
    "1m": 60 * NS_PER_SECOND,
    "5m": 300 * NS_PER_SECOND,
    "15m": 900 * NS_PER_SECOND,
    "1h": 3600 * NS_PER_SECOND,
    "1d": 86400 * NS_PER_SECOND,
}


@dataclass(slots=True)
class CandleBar:
    start: int  # epoch ns
    open: int
    high: int
    low: int
    close: int
    volume: int
    trades: int

    def add(self, price: int, quantity: int) -> None:
        if price > self.high:
            self.high = price
        if price < self.low:
            self.low = price
        self.close = price
        self.volume += quantity
        self.trades += 1


class CandleSeries:
    """The candles of one symbol at one interval, oldest first; the last one may be open."""

    def __init__(self, interval_ns: int, keep: int) -> None:
        self.interval_ns = interval_ns
        self.bars: deque[CandleBar] = deque(maxlen=keep)

    def add_trade(self, price: int, quantity: int, ts: int) -> CandleBar:
        start = ts - ts % self.interval_ns
        bars = self.bars
        if bars and bars[-1].start == start:
            bar = bars[-1]
            bar.add(price, quantity)
            return bar
        if bars and bars[-1].start > start:  # a late trade: fold into the latest candle
            bar = bars[-1]
            bar.add(price, quantity)
            return bar
        bar = CandleBar(start, price, price, price, price, quantity, 1)
        bars.append(bar)
        return bar

    def between(self, start: int, end: int, limit: int) -> list[CandleBar]:
        """Candles starting in [start, end), the most recent ``limit`` of them."""
        chosen = [bar for bar in self.bars if start <= bar.start < end]
        return chosen[-limit:] if limit else chosen


class CandleBook:
    """Every interval of every symbol."""

    def __init__(self, keep: int = 2000) -> None:
        self.keep = keep
        self.series: dict[tuple[str, str], CandleSeries] = {}

    def add_trade(
        self, symbol: str, price: int, quantity: int, ts: int
    ) -> list[tuple[str, CandleBar]]:
        """Record a trade; returns each (interval, updated candle)."""
        updated = []
        for name, interval_ns in INTERVALS.items():
            series = self.series.get((symbol, name))
            if series is None:
                series = self.series[(symbol, name)] = CandleSeries(interval_ns, self.keep)
            updated.append((name, series.add_trade(price, quantity, ts)))
        return updated

    def get(self, symbol: str, interval: str) -> CandleSeries | None:
        return self.series.get((symbol, interval))
