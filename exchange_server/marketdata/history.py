"""Stored candles (the ``bars`` table): shipped daily history, imported bars and live candles.

The store is synchronous (SQLAlchemy Core with ``executemany``); the API calls it through
``asyncio.to_thread`` so a slow query never stalls the event loop. A write of a candle that
is already stored replaces it (one row per symbol, interval and start), which makes
imports idempotent; the shipped history is seeded with "insert if absent" so it never
overwrites what a user imported or what the market traded.
"""

from __future__ import annotations

import asyncio
import csv
import gzip
import io
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite

from exchange_server.marketdata.candles import (
    STORED_INTERVALS,
    CandleBar,
    CandleBook,
    day_start_ns,
)
from exchange_server.marketdata.universe import listing_by_symbol, resources_dir
from exchange_server.storage.models import BarRow

log = logging.getLogger(__name__)

SOURCES = ("history", "import", "live")
BARS = cast(Table, BarRow.__table__)
VALUE_COLUMNS = ("open", "high", "low", "close", "volume", "trades", "source")
KEY_COLUMNS = ("symbol", "interval", "start")
BATCH = 5000  # rows per executemany: large enough to be fast, small enough for PostgreSQL


@dataclass(frozen=True, slots=True)
class StoredBar:
    symbol: str
    interval: str
    bar: CandleBar
    source: str


def _row(symbol: str, interval: str, bar: CandleBar, source: str) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "interval": interval,
        "start": bar.start,
        "open": bar.open,
        "high": bar.high,
        "low": bar.low,
        "close": bar.close,
        "volume": bar.volume,
        "trades": bar.trades,
        "source": source,
    }


class HistoryStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _insert(self, replace: bool) -> Any:
        dialect = self.engine.dialect.name
        if dialect == "sqlite":
            statement: Any = sqlite.insert(BARS)
        elif dialect == "postgresql":
            statement = postgresql.insert(BARS)
        else:  # pragma: no cover - only SQLite and PostgreSQL are supported
            raise NotImplementedError(dialect)
        if not replace:
            return statement.on_conflict_do_nothing(index_elements=list(KEY_COLUMNS))
        return statement.on_conflict_do_update(
            index_elements=list(KEY_COLUMNS),
            set_={name: statement.excluded[name] for name in VALUE_COLUMNS},
        )

    def upsert(self, bars: Iterable[StoredBar], replace: bool = True) -> int:
        """Store ``bars`` in one transaction; returns how many were offered.

        ``replace=False`` keeps a stored candle and skips the new one (seeding history)."""
        rows = [_row(b.symbol, b.interval, b.bar, b.source) for b in bars]
        for row in rows:
            if row["source"] not in SOURCES:
                raise ValueError(f"unknown bar source {row['source']!r}")
        if not rows:
            return 0
        statement = self._insert(replace)
        with self.engine.begin() as connection:
            for first in range(0, len(rows), BATCH):
                connection.execute(statement, rows[first : first + BATCH])
        return len(rows)

    def bars(
        self, symbol: str, interval: str, start_ns: int = 0, end_ns: int = 2**62, limit: int = 0
    ) -> list[CandleBar]:
        """Candles starting in [start_ns, end_ns), oldest first; the latest ``limit`` of
        them (0: all)."""
        query = (
            select(
                BARS.c.start,
                BARS.c.open,
                BARS.c.high,
                BARS.c.low,
                BARS.c.close,
                BARS.c.volume,
                BARS.c.trades,
            )
            .where(
                BARS.c.symbol == symbol,
                BARS.c.interval == interval,
                BARS.c.start >= start_ns,
                BARS.c.start < end_ns,
            )
            .order_by(BARS.c.start.desc())
        )
        if limit:
            query = query.limit(limit)
        with self.engine.connect() as connection:
            rows = connection.execute(query).all()
        return [CandleBar(*row) for row in reversed(rows)]

    def sources(self, symbol: str, interval: str) -> dict[int, str]:
        """start -> source of every stored candle (for reports and tests)."""
        query = select(BARS.c.start, BARS.c.source).where(
            BARS.c.symbol == symbol, BARS.c.interval == interval
        )
        with self.engine.connect() as connection:
            return {start: source for start, source in connection.execute(query)}

    def last_close(self, symbol: str) -> int | None:
        """The close of the latest stored daily candle, or None when there is none."""
        bars = self.bars(symbol, "1d", limit=1)
        return bars[-1].close if bars else None

    def latest(self, interval: str) -> dict[str, CandleBar]:
        """Each symbol's latest stored candle at ``interval`` (to resume forming candles)."""
        newest = (
            select(BARS.c.symbol, func.max(BARS.c.start).label("start"))
            .where(BARS.c.interval == interval)
            .group_by(BARS.c.symbol)
            .subquery()
        )
        query = select(
            BARS.c.symbol,
            BARS.c.start,
            BARS.c.open,
            BARS.c.high,
            BARS.c.low,
            BARS.c.close,
            BARS.c.volume,
            BARS.c.trades,
        ).join(
            newest,
            (BARS.c.symbol == newest.c.symbol)
            & (BARS.c.start == newest.c.start)
            & (BARS.c.interval == interval),
        )
        with self.engine.connect() as connection:
            return {row[0]: CandleBar(*row[1:]) for row in connection.execute(query)}

    def counts(self, interval: str, source: str) -> dict[str, tuple[int, int]]:
        """symbol -> (number of candles, latest start) for one interval and source."""
        query = (
            select(BARS.c.symbol, func.count(), func.max(BARS.c.start))
            .where(BARS.c.interval == interval, BARS.c.source == source)
            .group_by(BARS.c.symbol)
        )
        with self.engine.connect() as connection:
            return {symbol: (count, last) for symbol, count, last in connection.execute(query)}


# -- the shipped daily history ------------------------------------------------------------


def shipped_history_path() -> Path:
    return resources_dir() / "history" / "nse_daily.csv.gz"


def read_shipped_history(path: Path | None = None) -> dict[str, list[CandleBar]]:
    """symbol -> daily candles (oldest first), each starting at midnight in its exchange's
    time zone, prices in its price units."""
    listings = listing_by_symbol()
    zones: dict[str, ZoneInfo] = {}
    history: dict[str, list[CandleBar]] = {}
    with gzip.open(path or shipped_history_path(), "rb") as raw:
        for row in csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline="")):
            symbol = row["symbol"]
            zone = zones.get(symbol)
            if zone is None:
                listing = listings.get(symbol)
                zone = zones[symbol] = ZoneInfo(listing.timezone if listing else "Asia/Kolkata")
            history.setdefault(symbol, []).append(
                CandleBar(
                    day_start_ns(date.fromisoformat(row["date"]), zone),
                    int(row["open"]),
                    int(row["high"]),
                    int(row["low"]),
                    int(row["close"]),
                    int(row["volume"]),
                    int(row["trades"]),
                )
            )
    return history


def seed_history(store: HistoryStore, path: Path | None = None) -> int:
    """Store the shipped daily history once; returns how many candles were offered.

    Symbols whose stored history already ends where the file ends are skipped, so a
    restart costs one small query. Existing candles (imported, live) are kept: a user's
    import of a day wins over the shipped one.
    """
    history = read_shipped_history(path)
    stored = store.counts("1d", "history")
    todo: list[StoredBar] = []
    for symbol, bars in history.items():
        if symbol in stored and stored[symbol][1] == bars[-1].start:
            continue
        todo.extend(StoredBar(symbol, "1d", bar, "history") for bar in bars)
    return store.upsert(todo, replace=False)


def history_database_url(url: str) -> str:
    """Where the bars live for a journal database URL: the same PostgreSQL database, or for
    SQLite a sibling file (``exchange.db`` -> ``exchange-marketdata.db``), so seeding years
    of history or saving candles never holds the journal's write lock."""
    from exchange_server.server import sibling_database_url  # the server imports marketdata

    return sibling_database_url(url, "marketdata")


# -- live candles: merge for reading, save and resume -------------------------------------


def merge_bars(stored: list[CandleBar], live: list[CandleBar], limit: int) -> list[CandleBar]:
    """Stored and in-memory candles as one series, oldest first, the latest ``limit``.

    Where both hold a candle of the same start, memory wins: it has every committed trade
    (the stored copy is at most one save behind)."""
    by_start = {bar.start: bar for bar in stored}
    for bar in live:
        by_start[bar.start] = bar
    merged = [by_start[start] for start in sorted(by_start)]
    return merged[-limit:] if limit else merged


def restore_candles(book: CandleBook, store: HistoryStore, now_ns: int) -> int:
    """Resume the forming candles saved before a restart; returns how many were resumed."""
    resumed = 0
    for interval in STORED_INTERVALS:
        for symbol, bar in store.latest(interval).items():
            resumed += book.restore(symbol, interval, bar, now_ns)
    return resumed


class CandleRecorder:
    """Saves candles built from trades (source "live") every ``period`` seconds.

    Runs on the event loop beside the market state (which feeds the candle book); the
    database write goes to a thread. Candles that did not change since the last save are
    not written again, so a quiet market costs nothing.
    """

    def __init__(self, book: CandleBook, store: HistoryStore, period: float = 2.0) -> None:
        self.book = book
        self.store = store
        self.period = period
        self._saved: dict[tuple[str, str, int], tuple[int, int, int]] = {}
        self._retry: list[StoredBar] = []

    async def flush(self) -> int:
        """Save what changed since the last save; returns how many candles were written."""
        pending, self._retry = self._retry, []  # a failed save's candles go first
        states = []
        for symbol, interval, bar in self.book.take_unstored():
            key = (symbol, interval, bar.start)
            state = (bar.trades, bar.volume, bar.close)
            if self._saved.get(key) != state:
                pending.append(StoredBar(symbol, interval, bar.copy(), "live"))
                states.append((key, state))
        if pending:
            try:
                await asyncio.to_thread(self.store.upsert, pending)
            except BaseException:
                self._retry = pending
                raise
        if len(self._saved) > 100_000:  # forget old candles: saving one again is harmless
            self._saved.clear()
        self._saved.update(states)  # only once written: a failed save is retried
        return len(pending)

    async def run(self) -> None:
        """Save until cancelled, then save once more."""
        try:
            while True:
                await asyncio.sleep(self.period)
                try:
                    await self.flush()
                except Exception:  # a database hiccup must not stop the market
                    log.exception("saving candles failed; retrying in %.0fs", self.period)
        finally:
            await asyncio.shield(self.flush())
