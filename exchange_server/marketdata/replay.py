"""Replay mode: a real trading day's 1-minute bars drive an instrument's fair value.

Each bar becomes a path through its open, its two extremes (the nearer one first) and its
close, so the candles the engine builds from the bots' trades come out close to the real
ones. Bars are read from the NSE 1-minute files (``Symbol,Date,Time,Open,High,Low,Close,
Volume`` in IST; or yfinance's three-header-row layout with UTC timestamps).

Two ways to replay (the simulator picks by the clock):
- the real day: the clock is set to the day (``SimulatedClock(speed, replay.start_ns)``),
  prices are the real ones and the band is moved to them;
- the day's shape: the path is moved to start now (or at the next open) and scaled to start
  from the instrument's current price, so the practice continues from the last close.
"""

from __future__ import annotations

import bisect
import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

IST = ZoneInfo("Asia/Kolkata")
BAR_NS = 60 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class Bar:
    start_ns: int  # epoch ns (UTC)
    open: float
    high: float
    low: float
    close: float


def read_bars(path: Path) -> list[Bar]:
    """Every bar in an intraday file, in time order; rows that do not parse are skipped."""
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        return []
    bars: list[Bar] = []
    if rows[0][:3] == ["Symbol", "Date", "Time"]:
        for row in rows[1:]:
            try:
                moment = datetime.fromisoformat(f"{row[1]}T{row[2]}").replace(tzinfo=IST)
                o, h, low, c = (float(value) for value in row[3:7])
            except (ValueError, IndexError):
                continue
            bars.append(Bar(_ns(moment), o, h, low, c))
    else:  # yfinance: Price,Close,High,Low,Open,Volume / Ticker,... / Datetime,,,
        for row in rows[3:]:
            try:
                moment = datetime.fromisoformat(row[0])
                c, h, low, o = (float(value) for value in row[1:5])
            except (ValueError, IndexError):
                continue
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            bars.append(Bar(_ns(moment), o, h, low, c))
    bars.sort(key=lambda bar: bar.start_ns)
    return bars


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000


def trading_days(bars: Iterable[Bar]) -> list[date]:
    return sorted({_day(bar) for bar in bars})


def _day(bar: Bar) -> date:
    return datetime.fromtimestamp(bar.start_ns / 1e9, IST).date()


@dataclass(frozen=True, slots=True)
class ReplayPath:
    """A piecewise-linear price path in time; ``None`` outside it."""

    symbol: str
    times: tuple[int, ...]  # epoch ns, increasing
    prices: tuple[float, ...]

    @classmethod
    def of_bars(cls, symbol: str, bars: Sequence[Bar]) -> ReplayPath:
        if not bars:
            raise ValueError(f"no bars to replay for {symbol}")
        times: list[int] = []
        prices: list[float] = []
        third = BAR_NS // 3
        for bar in bars:
            # A rising bar most likely made its low first, a falling one its high.
            first, second = (bar.low, bar.high) if bar.close >= bar.open else (bar.high, bar.low)
            for offset, price in (
                (0, bar.open),
                (third, first),
                (2 * third, second),
                (BAR_NS - 1, bar.close),
            ):
                moment = bar.start_ns + offset
                if times and moment <= times[-1]:
                    continue  # overlapping bars: keep time increasing
                times.append(moment)
                prices.append(price)
        return cls(symbol, tuple(times), tuple(prices))

    @property
    def start_ns(self) -> int:
        return self.times[0]

    @property
    def end_ns(self) -> int:
        return self.times[-1]

    @property
    def first_price(self) -> float:
        return self.prices[0]

    def price_at(self, now_ns: int) -> float | None:
        times = self.times
        if not times[0] <= now_ns <= times[-1]:
            return None
        right = bisect.bisect_right(times, now_ns)
        if right >= len(times):
            return self.prices[-1]
        left = right - 1
        span = times[right] - times[left]
        weight = (now_ns - times[left]) / span if span else 0.0
        return self.prices[left] + (self.prices[right] - self.prices[left]) * weight

    def shifted(self, start_ns: int) -> ReplayPath:
        """The same path starting at ``start_ns``."""
        delta = start_ns - self.times[0]
        return ReplayPath(self.symbol, tuple(t + delta for t in self.times), self.prices)

    def scaled(self, first_price: float) -> ReplayPath:
        """The same returns, starting from ``first_price``."""
        factor = first_price / self.prices[0]
        return ReplayPath(self.symbol, self.times, tuple(p * factor for p in self.prices))


def parse_replay_setting(setting: str) -> list[tuple[str, Path, date | None]]:
    """``"SBIN=data/SBIN_1min.csv@2017-09-27,NIFTY 50=NSEI.csv"`` -> [(symbol, file, day)].

    A path that is a directory is searched for ``<SYMBOL>_1min_*.csv``; without a day the
    file's first trading day is replayed."""
    entries = []
    for raw in setting.split(","):
        item = raw.strip()
        if not item:
            continue
        symbol, sep, rest = item.partition("=")
        if not sep or not symbol.strip() or not rest.strip():
            raise ValueError(f"replay entry {item!r} is not SYMBOL=FILE[@YYYY-MM-DD]")
        location, _, day_text = rest.partition("@")
        path = Path(location.strip()).expanduser()
        if path.is_dir():
            matches = sorted(path.glob(f"{symbol.strip()}_1min_*.csv"))
            if not matches:
                raise ValueError(f"no {symbol.strip()}_1min_*.csv in {path}")
            path = matches[0]
        if not path.is_file():
            raise ValueError(f"replay file {path} not found")
        day = date.fromisoformat(day_text.strip()) if day_text.strip() else None
        entries.append((symbol.strip(), path, day))
    return entries


def load_replays(setting: str) -> list[ReplayPath]:
    """The replay paths a ``replay`` setting names (see ``parse_replay_setting``)."""
    paths = []
    for symbol, path, day in parse_replay_setting(setting):
        bars = read_bars(path)
        days = trading_days(bars)
        if not days:
            raise ValueError(f"{path} holds no bars")
        chosen = day or days[0]
        if chosen not in days:
            raise ValueError(f"{path} has no bars on {chosen}; it has {days[0]}..{days[-1]}")
        paths.append(ReplayPath.of_bars(symbol, [bar for bar in bars if _day(bar) == chosen]))
    return paths
