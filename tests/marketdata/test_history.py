"""The history store and the shipped, split/bonus-adjusted daily history."""

from __future__ import annotations

from datetime import UTC, date, datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from exchange_server.marketdata import corporate_actions
from exchange_server.marketdata.candles import CandleBar, CandleBook, day_start_ns
from exchange_server.marketdata.corporate_actions import CorporateAction, DailyBar
from exchange_server.marketdata.history import (
    CandleRecorder,
    HistoryStore,
    StoredBar,
    merge_bars,
    read_shipped_history,
    restore_candles,
    seed_history,
)
from exchange_server.marketdata.universe import demo_universe, resources_dir

IST = ZoneInfo("Asia/Kolkata")


@pytest.fixture(scope="module")
def shipped() -> dict[str, list[CandleBar]]:
    return read_shipped_history()


def ist_day(bar: CandleBar) -> date:
    return datetime.fromtimestamp(bar.start / 1e9, UTC).astimezone(IST).date()


def test_every_equity_and_the_index_open_on_years_of_real_prices(
    shipped: dict[str, list[CandleBar]],
) -> None:
    for listing in demo_universe():
        if listing.asset_class not in ("equity", "index"):
            continue
        bars = shipped[listing.symbol]
        assert len(bars) > 1000, listing.symbol  # four years and more of sessions
        assert bars[-1].close == listing.last_close, listing.symbol
        # Daily candles start at midnight in Mumbai.
        assert all(datetime.fromtimestamp(b.start / 1e9, IST).time().hour == 0 for b in bars[:5])
        assert all(b.low <= min(b.open, b.close) <= max(b.open, b.close) <= b.high for b in bars)


def test_no_split_or_bonus_is_plotted_as_a_crash(shipped: dict[str, list[CandleBar]]) -> None:
    # Any day-to-day fall of more than 30% in NIFTY 50 names would be an unadjusted action.
    for symbol, bars in shipped.items():
        for previous, bar in pairwise(bars):
            assert bar.open * 10 > previous.close * 7, (symbol, ist_day(bar))


def test_reliance_bonus_of_2017_is_back_adjusted(shipped: dict[str, list[CandleBar]]) -> None:
    actions = corporate_actions.load(resources_dir() / "history" / "corporate_actions.csv")
    reliance = [a for a in actions if a.symbol == "RELIANCE"]
    assert reliance[0].ex_date == date(2017, 9, 7)
    assert (reliance[0].kind, reliance[0].new, reliance[0].old) == ("bonus", 2, 1)
    by_day = {ist_day(b): b for b in shipped["RELIANCE"]}
    before, after = by_day[date(2017, 9, 6)], by_day[date(2017, 9, 7)]
    # Raw prices: close 1645.40, then open 823.00. Adjusted, the open is within 2%.
    assert abs(after.open / before.close - 1) < 0.02


def test_detection_finds_a_bonus_and_adjustment_is_exact() -> None:
    bars = [
        DailyBar(date(2017, 9, 5), 160000, 166000, 159000, 164540, 1000),
        DailyBar(date(2017, 9, 6), 164540, 165000, 163000, 164541, 1000),
        DailyBar(date(2017, 9, 7), 82300, 83000, 81500, 81810, 3000),
    ]
    found = corporate_actions.detect("RELIANCE", bars)
    assert [(a.ex_date, a.new, a.old) for a in found] == [(date(2017, 9, 7), 2, 1)]
    adjusted = corporate_actions.adjust(bars, found)
    assert adjusted[1] == DailyBar(date(2017, 9, 6), 82270, 82500, 81500, 82270, 2000)
    assert adjusted[2] == bars[2]
    # A 1:3 bonus (4 for 3): prices x 3/4, rounded half to even once.
    assert corporate_actions.adjust(
        bars[:1], [CorporateAction("X", date(2017, 9, 6), "bonus", 4, 3)]
    )[0] == DailyBar(date(2017, 9, 5), 120000, 124500, 119250, 123405, 1333)


def test_an_ordinary_bad_day_is_not_a_split() -> None:
    bars = [
        DailyBar(date(2020, 3, 20), 100000, 101000, 99000, 100000, 10),
        DailyBar(date(2020, 3, 23), 88000, 90000, 80000, 81000, 10),  # -12% open, -19% close
    ]
    assert corporate_actions.detect("X", bars) == []


def test_store_round_trip_latest_and_replace(engine: Engine) -> None:
    store = HistoryStore(engine)
    day = day_start_ns(date(2026, 4, 24), IST)
    bars = [CandleBar(day + i * 60 * 10**9, 100, 110, 90, 105, 7, 3) for i in range(5)]
    assert store.upsert(StoredBar("SBIN", "1m", bar, "import") for bar in bars) == 5
    assert store.bars("SBIN", "1m") == bars
    assert store.bars("SBIN", "1m", limit=2) == bars[-2:]
    assert store.bars("SBIN", "1m", bars[1].start, bars[3].start) == bars[1:3]
    changed = CandleBar(bars[4].start, 100, 120, 80, 110, 9, 4)
    store.upsert([StoredBar("SBIN", "1m", changed, "live")])
    assert store.bars("SBIN", "1m")[-1] == changed
    assert store.sources("SBIN", "1m")[changed.start] == "live"
    assert store.latest("1m") == {"SBIN": changed}
    assert store.last_close("SBIN") is None
    with pytest.raises(ValueError, match="source"):
        store.upsert([StoredBar("SBIN", "1m", changed, "guess")])


def test_seeding_is_idempotent_and_keeps_imports(engine: Engine) -> None:
    store = HistoryStore(engine)
    shipped = read_shipped_history()
    first = shipped["RELIANCE"][0]
    mine = CandleBar(first.start, 1, 2, 1, 2, 5, 0)
    store.upsert([StoredBar("RELIANCE", "1d", mine, "import")])
    assert seed_history(store) == sum(len(bars) for bars in shipped.values())
    assert seed_history(store) == 0  # already there: nothing to do
    assert store.bars("RELIANCE", "1d", limit=0)[0] == mine  # the user's import wins
    assert store.last_close("RELIANCE") == shipped["RELIANCE"][-1].close


def test_live_candles_win_over_stored_ones_of_the_same_start() -> None:
    stored = [CandleBar(t, 10, 10, 10, 10, 1, 1) for t in (1, 2, 3)]
    live = [CandleBar(3, 11, 12, 11, 12, 2, 2), CandleBar(4, 12, 12, 12, 12, 1, 1)]
    assert merge_bars(stored, live, 3) == [stored[1], *live]


async def test_recorded_live_candles_are_served_and_resumed_after_a_restart(
    engine: Engine,
) -> None:
    store = HistoryStore(engine)
    book = CandleBook()
    opening = day_start_ns(date(2026, 4, 24), IST) + (9 * 3600 + 15 * 60) * 10**9
    book.add_trade("SBIN", 110000, 10, opening)
    book.add_trade("SBIN", 110500, 5, opening + 61 * 10**9)  # closes the first minute
    recorder = CandleRecorder(book, store)
    assert await recorder.flush() == 1 + 5  # the closed minute, then each forming candle
    assert await recorder.flush() == 0  # nothing changed: nothing written
    minutes = store.bars("SBIN", "1m")
    assert [(b.open, b.close, b.volume) for b in minutes] == [
        (110000, 110000, 10),
        (110500,) * 2 + (5,),
    ]
    assert set(store.sources("SBIN", "1d").values()) == {"live"}
    # After a restart the day's candle goes on from what was saved.
    fresh = CandleBook()
    assert restore_candles(fresh, store, opening + 62 * 10**9) == 5
    fresh.add_trade("SBIN", 109000, 1, opening + 63 * 10**9)
    day = fresh.recent("SBIN", "1d", 1)[0]
    assert (day.open, day.low, day.close, day.volume, day.trades) == (110000, 109000, 109000, 16, 3)
