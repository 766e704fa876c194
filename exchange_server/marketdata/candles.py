"""OHLCV candles built from trades, per symbol and interval, in exact integers.

Intervals (1s, 1m, 5m, 15m, 1h, 1d) are aligned to the wall clock of the instrument's
exchange: a day candle runs from midnight to midnight in the exchange's time zone
(Asia/Kolkata for NSE, UTC for crypto), and an hour candle from one local hour to the next
(10:00-11:00 IST, not 09:30-10:30 as UTC alignment would give in India).

Speed: a trade only updates the forming one-second candle. When a second ends, its candle
is folded into the forming candles of the longer intervals, so the cost of five more
intervals is paid once per second per symbol rather than once per trade. The longer forming
candles are put together (folded part + current second) when somebody reads them:
``changed()`` after each committed batch, ``recent()`` and ``between()`` for snapshots.
Each interval keeps a bounded window of closed candles in memory; the rest is in the
history store.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

NS_PER_SECOND = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_SECOND
INTERVALS: dict[str, int] = {
    "1s": NS_PER_SECOND,
    "1m": 60 * NS_PER_SECOND,
    "5m": 300 * NS_PER_SECOND,
    "15m": 900 * NS_PER_SECOND,
    "1h": 3600 * NS_PER_SECOND,
    "1d": NS_PER_DAY,
}
BASE = "1s"
LONGER = tuple(name for name in INTERVALS if name != BASE)  # built by folding seconds
STORED_INTERVALS = LONGER  # one-second candles are a live view only; not persisted
DEFAULT_ZONE = "Asia/Kolkata"
# Exchanges whose day is not India's: crypto trades around the clock and closes its day in UTC.
EXCHANGE_TIMEZONES = {"CRYPTO": "UTC"}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


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

    def merge(self, later: CandleBar) -> None:
        """Fold in ``later``, a candle of the same window whose trades came after ours."""
        if later.high > self.high:
            self.high = later.high
        if later.low < self.low:
            self.low = later.low
        self.close = later.close
        self.volume += later.volume
        self.trades += later.trades

    def copy(self, start: int | None = None) -> CandleBar:
        return CandleBar(
            self.start if start is None else start,
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.trades,
        )


def exchange_timezone(exchange: str) -> str:
    """The time zone an exchange's days are counted in (NSE, BSE, MCX: Asia/Kolkata)."""
    return EXCHANGE_TIMEZONES.get(exchange.upper(), DEFAULT_ZONE)


def _ns(moment: datetime) -> int:
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1000


def day_start_ns(day: date, zone: ZoneInfo) -> int:
    """Epoch ns of midnight starting ``day`` in ``zone``."""
    return _ns(datetime.combine(day, time(0), zone))


def utc_offset_ns(ts: int, zone: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(ts // NS_PER_SECOND, zone).utcoffset()
    return 0 if offset is None else _ns(_EPOCH + offset)


def window(ts: int, interval: str, zone: ZoneInfo) -> tuple[int, int]:
    """[start, end) in epoch ns of the ``interval`` candle holding ``ts`` in ``zone``."""
    if interval == "1d":
        local = datetime.fromtimestamp(ts // NS_PER_SECOND, zone).date()
        # Days are not always 24 hours (daylight saving): take both midnights from the zone.
        return day_start_ns(local, zone), day_start_ns(local + timedelta(days=1), zone)
    length = INTERVALS[interval]
    start = ts - (ts + utc_offset_ns(ts, zone)) % length
    return start, start + length


class CandleSeries:
    """The closed candles of one symbol at one interval, oldest first, and the forming one.

    A read-only snapshot as returned by ``CandleBook.get``: ``bars`` holds the closed
    candles and, last, the forming candle as of the call.
    """

    def __init__(self, interval_ns: int, bars: deque[CandleBar]) -> None:
        self.interval_ns = interval_ns
        self.bars = bars

    def between(self, start: int, end: int, limit: int) -> list[CandleBar]:
        """Candles starting in [start, end), the most recent ``limit`` of them."""
        chosen = [bar for bar in self.bars if start <= bar.start < end]
        return chosen[-limit:] if limit else chosen


class _SymbolCandles:
    """One symbol's candles: the forming second, the folded longer candles, closed ones."""

    __slots__ = ("base", "base_end", "closed", "ends", "folded", "touched", "zone")

    def __init__(self, zone: ZoneInfo, keep: int) -> None:
        self.zone = zone
        self.base: CandleBar | None = None  # the forming one-second candle
        self.base_end = 0
        # Longer intervals: the seconds folded so far, and where each candle ends.
        self.folded: dict[str, CandleBar | None] = dict.fromkeys(LONGER)
        self.ends: dict[str, int] = dict.fromkeys(LONGER, 0)
        self.closed: dict[str, deque[CandleBar]] = {name: deque(maxlen=keep) for name in INTERVALS}
        self.touched = False

    def forming(self, interval: str) -> CandleBar | None:
        """The forming candle of ``interval`` as of now (a fresh object for longer ones)."""
        base = self.base
        if interval == BASE:
            return base
        folded = self.folded[interval]
        if folded is None:
            if base is None:
                return None
            return base.copy(window(base.start, interval, self.zone)[0])
        if base is None:
            return folded.copy()
        return CandleBar(
            folded.start,
            folded.open,
            base.high if base.high > folded.high else folded.high,
            base.low if base.low < folded.low else folded.low,
            base.close,
            folded.volume + base.volume,
            folded.trades + base.trades,
        )


class CandleBook:
    """Every interval of every symbol."""

    def __init__(self, keep: int = 2000, default_zone: str = DEFAULT_ZONE) -> None:
        self.keep = keep
        self.default_zone = ZoneInfo(default_zone)
        self.symbols: dict[str, _SymbolCandles] = {}
        self._touched: list[_SymbolCandles] = []
        self._touched_names: list[str] = []
        self._just_closed: list[tuple[str, str, CandleBar]] = []
        self._unstored: list[tuple[str, str, CandleBar]] = []  # closed, not yet persisted

    def set_zone(self, symbol: str, zone: str) -> None:
        """Align ``symbol``'s candles to ``zone`` (its exchange's time zone)."""
        candles = self.symbols.get(symbol)
        if candles is None:
            self.symbols[symbol] = _SymbolCandles(ZoneInfo(zone), self.keep)
        else:
            candles.zone = ZoneInfo(zone)

    def _symbol(self, symbol: str) -> _SymbolCandles:
        candles = self.symbols.get(symbol)
        if candles is None:
            candles = self.symbols[symbol] = _SymbolCandles(self.default_zone, self.keep)
        return candles

    def add_trade(self, symbol: str, price: int, quantity: int, ts: int) -> None:
        """Record one trade (the hot path: a few attribute updates per trade)."""
        candles = self.symbols.get(symbol)
        if candles is not None:
            bar = candles.base
            # A late trade (ts before the forming second) folds into it, as into the latest
            # candle: committed trades are never dropped.
            if bar is not None and ts < candles.base_end:
                if price > bar.high:
                    bar.high = price
                elif price < bar.low:
                    bar.low = price
                bar.close = price
                bar.volume += quantity
                bar.trades += 1
                if not candles.touched:
                    candles.touched = True
                    self._touched.append(candles)
                    self._touched_names.append(symbol)
                return
        self._new_second(symbol, price, quantity, ts)

    def _new_second(self, symbol: str, price: int, quantity: int, ts: int) -> None:
        candles = self._symbol(symbol)
        zone = candles.zone
        self._fold(symbol, candles)
        for name in LONGER:
            folded = candles.folded[name]
            if folded is not None and ts >= candles.ends[name]:
                self._close(symbol, name, folded, candles)
                candles.folded[name] = None
        start, end = window(ts, BASE, zone)
        candles.base = CandleBar(start, price, price, price, price, quantity, 1)
        candles.base_end = end
        if not candles.touched:
            candles.touched = True
            self._touched.append(candles)
            self._touched_names.append(symbol)

    def _fold(self, symbol: str, candles: _SymbolCandles) -> None:
        """Close the forming second and fold it into the longer forming candles."""
        base = candles.base
        if base is None:
            return
        self._close(symbol, BASE, base, candles)
        candles.base = None
        for name in LONGER:
            folded = candles.folded[name]
            if folded is None:
                start, end = window(base.start, name, candles.zone)
                candles.folded[name] = base.copy(start)
                candles.ends[name] = end
            else:
                folded.merge(base)

    def _close(self, symbol: str, interval: str, bar: CandleBar, candles: _SymbolCandles) -> None:
        candles.closed[interval].append(bar)
        self._just_closed.append((symbol, interval, bar))
        if interval != BASE:
            self._unstored.append((symbol, interval, bar))

    def restore(self, symbol: str, interval: str, bar: CandleBar, now: int) -> bool:
        """Resume a stored forming candle (after a restart) if ``now`` is still in its
        window; returns whether it was taken."""
        candles = self._symbol(symbol)
        if interval == BASE or candles.base is not None or candles.folded[interval] is not None:
            return False
        start, end = window(bar.start, interval, candles.zone)
        if start != bar.start or not start <= now < end:
            return False
        candles.folded[interval] = bar.copy()
        candles.ends[interval] = end
        return True

    # -- reading ---------------------------------------------------------------------------
    def changed(self) -> list[tuple[str, str, CandleBar]]:
        """(symbol, interval, candle) for every candle that closed or changed since the last
        call: closed candles in their final state, then the forming ones as of now."""
        changes = self._just_closed
        self._just_closed = []
        append = changes.append
        for symbol, candles in zip(self._touched_names, self._touched, strict=True):
            candles.touched = False
            for name in INTERVALS:
                bar = candles.forming(name)
                if bar is not None:
                    append((symbol, name, bar))
        self._touched = []
        self._touched_names = []
        return changes

    def take_unstored(self) -> list[tuple[str, str, CandleBar]]:
        """Candles to persist: those closed since the last call, then the forming ones of
        every interval that is stored (written again as they grow; the store replaces)."""
        result = self._unstored
        self._unstored = []
        for symbol, candles in self.symbols.items():
            for name in STORED_INTERVALS:
                bar = candles.forming(name)
                if bar is not None:
                    result.append((symbol, name, bar))
        return result

    def recent(self, symbol: str, interval: str, limit: int) -> list[CandleBar]:
        """The latest ``limit`` candles, the forming one last."""
        series = self.get(symbol, interval)
        if series is None:
            return []
        bars = list(series.bars)
        return bars[-limit:] if limit else bars

    def get(self, symbol: str, interval: str) -> CandleSeries | None:
        candles = self.symbols.get(symbol)
        if candles is None or interval not in INTERVALS:
            return None
        bars = deque(candles.closed[interval])
        forming = candles.forming(interval)
        if forming is not None:
            if bars and bars[-1].start >= forming.start:  # restored or late: keep newest
                bars.pop()
            bars.append(forming)
        return CandleSeries(INTERVALS[interval], bars)
