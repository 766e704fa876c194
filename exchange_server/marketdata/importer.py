"""Importing OHLCV bars from CSV files (``exchange-server import-bars FILE``).

Layouts read (column names in any case, in any order):
- a header naming a time column (``date``, ``datetime``, ``timestamp``, ``time``, or
  separate ``date`` and ``time``) and ``open, high, low, close``, optionally ``volume``,
  ``trades`` and ``symbol``/``ticker`` (Yahoo's ``Adj Close`` is ignored: ``Close`` is the
  split-adjusted price);
- yfinance's three header rows (``Price``/``Ticker``/``Date``);
- no header: ``time, open, high, low, close[, volume]``, or NSE's eight-column daily files
  (``ddmmyy, open, high, low, close, turnover, volume, trades``).

Times: ISO dates and datetimes (with or without an offset; ``Z`` is UTC), ``dd/mm/yyyy``
(``mm/dd/yyyy`` when a value proves it), ``dd-Mon-yyyy``, ``ddmmyy``, ``yyyymmdd`` and epoch
seconds, milliseconds, microseconds or nanoseconds. A time without an offset is read in
``--tz`` (default: the instrument's exchange time zone); a bare date is a daily candle
starting at midnight in the exchange's time zone, like the candles built from trades.

The whole file is checked before anything is written: a bad row (unreadable number or time,
negative or zero price, high below low, open or close outside the range, negative volume,
a price finer than the instrument's tick units, a repeated timestamp) is reported with its
line number and nothing is stored. A good file is written in one transaction, replacing any
stored candle at the same time, so importing a file twice leaves the same data.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import IO, cast
from zoneinfo import ZoneInfo

from exchange_server.marketdata.candles import INTERVALS, NS_PER_SECOND, CandleBar, window
from exchange_server.marketdata.history import HistoryStore, StoredBar

MAX_REPORTED = 50


@dataclass(frozen=True, slots=True)
class Scales:
    """How an instrument's prices and quantities are stored, and its exchange's zone."""

    price_decimals: int = 2
    quantity_decimals: int = 0
    timezone: str = "Asia/Kolkata"


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class ImportFailed(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:MAX_REPORTED])
        more = len(problems) - MAX_REPORTED
        super().__init__(shown + (f"\n... and {more} more" if more > 0 else ""))


@dataclass(slots=True)
class ImportReport:
    interval: str
    bars: dict[str, list[CandleBar]]
    skipped: int = 0  # zero-volume placeholder rows
    new: int = 0
    replaced: int = 0
    unchanged: int = 0

    @property
    def rows(self) -> int:
        return sum(len(bars) for bars in self.bars.values())


# -- columns ----------------------------------------------------------------------------

ALIASES = {
    "time": ("datetime", "timestamp", "ts", "date", "time", "", "datetimeutc", "index"),
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c", "last"),
    "volume": ("volume", "vol", "v", "quantity", "qty"),
    "trades": ("trades", "numberoftrades", "notrades", "count"),
    "symbol": ("symbol", "ticker"),
}


def _key(name: str) -> str:
    return re.sub(r"[^a-z]", "", name.lower())


@dataclass(slots=True)
class Layout:
    columns: dict[str, int]  # role -> column index
    date_column: int | None = None  # a separate date column (with "time" the time of day)
    width: int = 0
    data_from: int = 1  # first data line (1-based)


def header_layout(header: list[str]) -> Layout | None:
    keys = [_key(name) for name in header]
    columns: dict[str, int] = {}
    for role, names in ALIASES.items():
        for name in names:
            if name in keys and role not in columns:
                columns[role] = keys.index(name)
                break
    date_column = None
    if "date" in keys and "time" in keys:  # Symbol,Date,Time,Open,... (one-minute files)
        date_column, columns["time"] = keys.index("date"), keys.index("time")
    if not {"time", "open", "high", "low", "close"} <= set(columns):
        return None
    return Layout(columns, date_column, len(header))


def headerless_layout(first: list[str]) -> Layout | None:
    if len(first) == 8:  # NSE daily: ddmmyy, o, h, l, c, turnover, volume, trades
        return Layout({"time": 0, "open": 1, "high": 2, "low": 3, "close": 4, "volume": 6,
                       "trades": 7}, None, 8, 1)  # fmt: skip
    if len(first) in (5, 6):
        columns = {"time": 0, "open": 1, "high": 2, "low": 3, "close": 4}
        if len(first) == 6:
            columns["volume"] = 5
        return Layout(columns, None, len(first), 1)
    return None


def _has_letters(row: list[str]) -> bool:
    return any(re.search(r"[A-Za-z]{2,}", cell) for cell in row)


def detect_layout(rows: list[list[str]]) -> Layout:
    first = rows[0] if rows else []
    if first and _key(first[0]) == "price" and len(rows) >= 3 and _key(rows[1][0]) == "ticker":
        header = [rows[2][0], *first[1:]]  # yfinance: Price,Close,... / Ticker,... / Date,,,
        layout = header_layout(header)
        if layout is not None:
            layout.data_from = 4
            return layout
    if _has_letters(first):
        layout = header_layout(first)
        if layout is None:
            raise ImportFailed(
                [Problem(1, f"cannot find time, open, high, low and close in {first}")]
            )
        layout.data_from = 2
        return layout
    layout = headerless_layout(first)
    if layout is None:
        raise ImportFailed([Problem(1, f"unknown layout of {len(first)} columns without header")])
    return layout


# -- values -----------------------------------------------------------------------------

DATE_FORMATS = ("%Y-%m-%d", "%d-%b-%Y", "%d-%m-%Y", "%Y/%m/%d", "%d %b %Y")
DIGIT_DATES = {6: "%d%m%y", 8: "%Y%m%d"}  # by length: strptime alone would misread them
SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(.*)$")


def _epoch_ns(digits: str) -> int:
    value = int(digits)
    for limit, scale in ((10**11, NS_PER_SECOND), (10**14, 10**6), (10**17, 10**3)):
        if value < limit:
            return value * scale
    return value


def parse_time(
    text: str, zone: ZoneInfo, exchange_zone: ZoneInfo, month_first: bool
) -> tuple[int, bool]:
    """(epoch ns, whether it was a bare date) of one time cell."""
    text = text.strip()
    if text.isdigit():
        if len(text) in DIGIT_DATES:
            day = datetime.strptime(text, DIGIT_DATES[len(text)]).date()
            return _midnight(day, exchange_zone), True
        if len(text) >= 9:
            return _epoch_ns(text), False
        raise ValueError(text)
    slashed = SLASHED.match(text)
    if slashed:
        first, second, year, rest = slashed.groups()
        day_part, month_part = (second, first) if month_first else (first, second)
        text = f"{year}-{int(month_part):02d}-{int(day_part):02d}{rest}"
    for fmt in DATE_FORMATS:
        try:
            day_only = datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        return _midnight(day_only, exchange_zone), True
    moment = datetime.fromisoformat(text.replace(" UTC", "+00:00"))  # ValueError: bad cell
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    seconds = int(moment.timestamp())
    return seconds * NS_PER_SECOND + moment.microsecond * 1000, False


def _midnight(day: date, zone: ZoneInfo) -> int:
    moment = datetime.combine(day, time(0), zone)
    return int(moment.timestamp()) * NS_PER_SECOND


def to_units(text: str, decimals: int, rounding: bool) -> int:
    """A decimal string as an integer of ``10**-decimals`` units, exactly."""
    value = Decimal(text.strip())
    if not value.is_finite():
        raise InvalidOperation
    scaled = value.scaleb(decimals)
    whole = scaled.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    if whole != scaled and not rounding:
        raise ValueError(f"{text.strip()} has more than {decimals} decimals (use --round)")
    return int(whole)


# -- reading ----------------------------------------------------------------------------

Progress = Callable[[int, int], None]  # (rows checked, rows in the file)
PROGRESS_EVERY = 5000


def _open(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return cast(IO[bytes], gzip.GzipFile(path, "rb"))
    return path.open("rb")


def _rows(raw: IO[bytes]) -> Iterator[tuple[int, list[str]]]:
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    for row in reader:
        if row and any(cell.strip() for cell in row):
            yield reader.line_num, row


@dataclass(slots=True)
class _Row:
    line: int
    symbol: str
    ts: int
    day_only: bool
    cells: list[str]


@dataclass(slots=True)
class ParseOptions:
    symbol: str | None = None
    interval: str | None = None
    timezone: str | None = None  # for times without an offset
    rounding: bool = False
    scales: Callable[[str], Scales] = field(default=lambda symbol: Scales())


def parse_file(path: Path, options: ParseOptions, progress: Progress | None = None) -> ImportReport:
    """Read and check ``path``; raises ImportFailed listing every bad row."""
    with _open(path) as raw:
        lines = list(_rows(raw))
    if not lines:
        raise ImportFailed([Problem(1, "the file is empty")])
    layout = detect_layout([row for _, row in lines[:3]])
    data = [(line, row) for line, row in lines if line >= layout.data_from]
    problems: list[Problem] = []
    columns = layout.columns
    symbol_column = columns.get("symbol")
    if symbol_column is None and not options.symbol:
        raise ImportFailed([Problem(1, "the file has no symbol column: pass --symbol")])

    # mm/dd/yyyy only when a value proves it (a first part above 12); else day first.
    time_cells = [row[columns["time"]] for _, row in data if len(row) > columns["time"]]
    month_first = any(
        (m := SLASHED.match(cell.strip())) and int(m.group(2)) > 12 for cell in time_cells
    )

    parsed: list[_Row] = []
    zones: dict[str, tuple[ZoneInfo, ZoneInfo]] = {}
    for line, row in data:
        if len(row) < layout.width:
            problems.append(Problem(line, f"expected {layout.width} fields, found {len(row)}"))
            continue
        symbol = (options.symbol or row[symbol_column or 0]).strip().upper()
        if symbol not in zones:
            exchange_zone = ZoneInfo(options.scales(symbol).timezone)
            zone = ZoneInfo(options.timezone) if options.timezone else exchange_zone
            zones[symbol] = (zone, exchange_zone)
        zone, exchange_zone = zones[symbol]
        cell = row[columns["time"]]
        if layout.date_column is not None:
            cell = f"{row[layout.date_column].strip()} {cell.strip()}"
        try:
            ts, day_only = parse_time(cell, zone, exchange_zone, month_first)
        except (ValueError, OverflowError):
            problems.append(Problem(line, f"unreadable time {cell!r}"))
            continue
        parsed.append(_Row(line, symbol, ts, day_only, row))

    interval = options.interval or _infer_interval(parsed, problems)
    if interval not in INTERVALS:
        problems.append(Problem(1, f"interval must be one of {', '.join(INTERVALS)}"))
        raise ImportFailed(problems)
    report = ImportReport(interval, {})
    seen: dict[tuple[str, int], int] = {}
    for done, item in enumerate(parsed):
        if progress and done % PROGRESS_EVERY == 0:
            progress(done, len(parsed))
        scales = options.scales(item.symbol)
        bar, problem = _bar(item, columns, scales, options.rounding)
        if problem:
            problems.append(Problem(item.line, problem))
            continue
        assert bar is not None
        if "volume" in columns and bar.volume == 0 and bar.high == bar.low:
            report.skipped += 1  # a placeholder (e.g. Yahoo's holiday rows): no trading
            continue
        exchange_zone = zones[item.symbol][1]
        start = window(item.ts, interval, exchange_zone)[0]
        if start != item.ts and not (item.day_only and interval == "1d"):
            problems.append(Problem(item.line, f"time is not the start of a {interval} candle"))
            continue
        first = seen.setdefault((item.symbol, start), item.line)
        if first != item.line:
            problems.append(Problem(item.line, f"duplicate time: same candle as line {first}"))
            continue
        report.bars.setdefault(item.symbol, []).append(bar)
    if progress:
        progress(len(parsed), len(parsed))
    if problems:
        raise ImportFailed(sorted(problems, key=lambda p: p.line))
    for bars in report.bars.values():
        bars.sort(key=lambda bar: bar.start)
    return report


def _infer_interval(rows: list[_Row], problems: list[Problem]) -> str:
    if rows and all(row.day_only for row in rows):
        return "1d"
    by_symbol: dict[str, list[int]] = {}
    for row in rows:
        by_symbol.setdefault(row.symbol, []).append(row.ts)
    gaps = [
        b - a
        for times in by_symbol.values()
        for a, b in zip(sorted(times), sorted(times)[1:], strict=False)
        if b > a
    ]
    if gaps:
        smallest = min(gaps)
        for name, length in INTERVALS.items():
            if length == smallest:
                return name
    problems.append(Problem(1, "cannot tell the candle interval from the times: pass --interval"))
    raise ImportFailed(problems)


def _bar(
    row: _Row, columns: dict[str, int], scales: Scales, rounding: bool
) -> tuple[CandleBar | None, str]:
    cells = row.cells
    prices = []
    for name in ("open", "high", "low", "close"):
        try:
            prices.append(to_units(cells[columns[name]], scales.price_decimals, rounding))
        except ValueError as problem:
            return None, f"{name}: {problem}"
        except InvalidOperation:
            return None, f"{name}: not a number: {cells[columns[name]]!r}"
    o, h, low, c = prices
    if min(prices) <= 0:
        return None, "prices must be positive"
    if h < low:
        return None, f"high {cells[columns['high']]} is below low {cells[columns['low']]}"
    if not (low <= o <= h and low <= c <= h):
        return None, "open and close must lie between low and high"
    volume = trades = 0
    try:
        if "volume" in columns and cells[columns["volume"]].strip():
            volume = to_units(cells[columns["volume"]], scales.quantity_decimals, rounding)
        if "trades" in columns and cells[columns["trades"]].strip():
            trades = int(Decimal(cells[columns["trades"]].strip()))
    except ValueError as problem:
        return None, f"volume: {problem}"
    except InvalidOperation:
        return None, "volume or trades: not a number"
    if volume < 0 or trades < 0:
        return None, "volume and trades must not be negative"
    return CandleBar(row.ts, o, h, low, c, volume, trades), ""


# -- writing ----------------------------------------------------------------------------


def import_file(
    store: HistoryStore,
    path: Path,
    options: ParseOptions,
    progress: Progress | None = None,
    dry_run: bool = False,
) -> ImportReport:
    """Check ``path`` whole, then store its candles in one transaction."""
    report = parse_file(path, options, progress)
    interval = report.interval
    for symbol, bars in report.bars.items():
        stored = {
            bar.start: bar
            for bar in store.bars(symbol, interval, bars[0].start, bars[-1].start + 1)
        }
        for bar in bars:
            before = stored.get(bar.start)
            if before is None:
                report.new += 1
            elif before == bar:
                report.unchanged += 1
            else:
                report.replaced += 1
    if not dry_run:
        store.upsert(
            StoredBar(symbol, interval, bar, "import")
            for symbol, bars in report.bars.items()
            for bar in bars
        )
    return report
