"""Candles from trades: exact OHLCV, the exchange's day and hour boundaries, live updates."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from exchange_server.marketdata.candles import (
    INTERVALS,
    NS_PER_SECOND,
    CandleBar,
    CandleBook,
    window,
)

IST = ZoneInfo("Asia/Kolkata")


def ns(text: str, zone: ZoneInfo = IST) -> int:
    """Epoch ns of a local wall-clock time like '2026-04-24 09:15:00.250'."""
    moment = datetime.fromisoformat(text).replace(tzinfo=zone)
    return int(moment.timestamp()) * NS_PER_SECOND + moment.microsecond * 1000


def bars(book: CandleBook, symbol: str, interval: str) -> list[CandleBar]:
    return book.recent(symbol, interval, 0)


def test_ohlcv_of_a_known_trade_list() -> None:
    book = CandleBook()
    trades = [  # price (paise), quantity, local time
        (132780, 10, "2026-04-24 09:15:00.100"),
        (132800, 5, "2026-04-24 09:15:00.900"),
        (132700, 7, "2026-04-24 09:15:01.000"),  # next second
        (132900, 1, "2026-04-24 09:15:59.999"),
        (132650, 3, "2026-04-24 09:16:00.000"),  # next minute
    ]
    for price, quantity, when in trades:
        book.add_trade("RELIANCE", price, quantity, ns(when))
    assert bars(book, "RELIANCE", "1s") == [
        CandleBar(ns("2026-04-24 09:15:00"), 132780, 132800, 132780, 132800, 15, 2),
        CandleBar(ns("2026-04-24 09:15:01"), 132700, 132700, 132700, 132700, 7, 1),
        CandleBar(ns("2026-04-24 09:15:59"), 132900, 132900, 132900, 132900, 1, 1),
        CandleBar(ns("2026-04-24 09:16:00"), 132650, 132650, 132650, 132650, 3, 1),
    ]
    assert bars(book, "RELIANCE", "1m") == [
        CandleBar(ns("2026-04-24 09:15:00"), 132780, 132900, 132700, 132900, 23, 4),
        CandleBar(ns("2026-04-24 09:16:00"), 132650, 132650, 132650, 132650, 3, 1),
    ]
    for interval, start in (("5m", "09:15"), ("15m", "09:15"), ("1h", "09:00"), ("1d", "00:00")):
        assert bars(book, "RELIANCE", interval) == [
            CandleBar(ns(f"2026-04-24 {start}"), 132780, 132900, 132650, 132650, 26, 5)
        ]


def test_the_nse_day_runs_midnight_to_midnight_in_mumbai() -> None:
    book = CandleBook()
    book.add_trade("SBIN", 110000, 1, ns("2026-04-24 09:15:00"))
    book.add_trade("SBIN", 110500, 1, ns("2026-04-24 15:29:59"))
    book.add_trade("SBIN", 111000, 1, ns("2026-04-27 09:15:00"))  # Monday
    days = bars(book, "SBIN", "1d")
    assert [bar.start for bar in days] == [ns("2026-04-24 00:00"), ns("2026-04-27 00:00")]
    # Midnight in Mumbai is 18:30 UTC the evening before.
    assert datetime.fromtimestamp(days[0].start / 1e9, UTC).isoformat() == (
        "2026-04-23T18:30:00+00:00"
    )
    assert (days[0].open, days[0].close, days[0].volume) == (110000, 110500, 2)


def test_crypto_days_end_at_midnight_utc() -> None:
    book = CandleBook()
    book.set_zone("BTC-INR", "UTC")
    book.add_trade("BTC-INR", 8_000_000, 5, ns("2026-04-24 23:59:59.999", ZoneInfo("UTC")))
    book.add_trade("BTC-INR", 8_000_100, 5, ns("2026-04-25 00:00:00", ZoneInfo("UTC")))
    assert len(bars(book, "BTC-INR", "1d")) == 2
    assert len(bars(book, "BTC-INR", "1h")) == 2


def test_a_day_with_a_daylight_saving_change_is_23_hours() -> None:
    new_york = ZoneInfo("America/New_York")
    start, end = window(ns("2026-03-08 12:00", new_york), "1d", new_york)
    assert (end - start) // (3600 * NS_PER_SECOND) == 23
    start, end = window(ns("2026-03-08 12:00", new_york), "1h", new_york)
    assert start == ns("2026-03-08 12:00", new_york)


def test_changed_reports_closed_candles_final_and_forming_ones_current() -> None:
    book = CandleBook()
    book.add_trade("INFY", 115000, 2, ns("2026-04-24 09:15:59.500"))
    first = book.changed()
    assert [(s, i) for s, i, _ in first] == [("INFY", name) for name in INTERVALS]
    assert book.changed() == []  # nothing new
    book.add_trade("INFY", 115100, 3, ns("2026-04-24 09:16:00.100"))
    changes = book.changed()
    closed = [(i, bar) for _, i, bar in changes[:2]]
    assert closed == [
        ("1s", CandleBar(ns("2026-04-24 09:15:59"), 115000, 115000, 115000, 115000, 2, 1)),
        ("1m", CandleBar(ns("2026-04-24 09:15:00"), 115000, 115000, 115000, 115000, 2, 1)),
    ]
    forming = {i: bar for _, i, bar in changes[2:]}
    assert forming["1m"] == CandleBar(ns("2026-04-24 09:16"), 115100, 115100, 115100, 115100, 3, 1)
    assert forming["1d"].volume == 5 and forming["1d"].close == 115100


def test_a_late_trade_folds_into_the_latest_candle() -> None:
    book = CandleBook()
    book.add_trade("TCS", 240000, 1, ns("2026-04-24 10:00:05"))
    book.add_trade("TCS", 239000, 1, ns("2026-04-24 10:00:04"))  # a clock step back
    assert bars(book, "TCS", "1s") == [
        CandleBar(ns("2026-04-24 10:00:05"), 240000, 240000, 239000, 239000, 2, 2)
    ]


def test_a_restored_forming_candle_continues_after_a_restart() -> None:
    book = CandleBook()
    stored = CandleBar(ns("2026-04-24 00:00"), 100000, 101000, 99000, 100500, 40, 4)
    assert book.restore("SBIN", "1d", stored, ns("2026-04-24 11:00"))
    assert not book.restore("SBIN", "1h", stored, ns("2026-04-24 11:00"))  # not its window
    book.add_trade("SBIN", 102000, 10, ns("2026-04-24 11:00:01"))
    assert bars(book, "SBIN", "1d") == [
        CandleBar(ns("2026-04-24 00:00"), 100000, 102000, 99000, 102000, 50, 5)
    ]


def reference(trades: list[tuple[int, int, int]], interval: str) -> list[CandleBar]:
    """The obvious aggregation: bucket every trade by its own window."""
    found: dict[int, CandleBar] = {}
    for price, quantity, ts in trades:
        start = window(ts, interval, IST)[0]
        bar = found.get(start)
        if bar is None:
            found[start] = CandleBar(start, price, price, price, price, quantity, 1)
        else:
            bar.add(price, quantity)
    return [found[start] for start in sorted(found)]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 10**9),  # price
            st.integers(1, 10**6),  # quantity
            st.integers(0, 3 * 86_400 * NS_PER_SECOND),  # within three days
        ),
        min_size=1,
        max_size=300,
    ),
    st.integers(0, 3),
)
def test_every_interval_equals_direct_bucketing(
    trades: list[tuple[int, int, int]], clustering: int
) -> None:
    # Time-ordered trades, as the engine commits them; clustering packs them into seconds.
    base = ns("2026-04-20 00:00")
    ordered = sorted((p, q, base + t // 10**clustering) for p, q, t in trades)
    ordered.sort(key=lambda trade: trade[2])
    book = CandleBook()
    for price, quantity, ts in ordered:
        book.add_trade("X", price, quantity, ts)
    for interval in INTERVALS:
        assert bars(book, "X", interval) == reference(ordered, interval), interval


def test_memory_keeps_a_bounded_window() -> None:
    book = CandleBook(keep=10)
    rng = random.Random(1)
    start = ns("2026-04-24 09:15")
    for second in range(100):
        book.add_trade("X", rng.randint(1, 100), 1, start + second * NS_PER_SECOND)
    assert len(bars(book, "X", "1s")) == 10 + 1  # the closed ones kept, and the forming one
