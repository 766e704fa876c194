"""Tick validation rules as pure functions: exact conversion and every refusal reason."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from exchange_server.backoff import Backoff
from exchange_server.marketdata.feeds.adapter import Tick
from exchange_server.marketdata.feeds.validation import (
    BadTick,
    Gap,
    RawTick,
    Reason,
    SequenceTracker,
    TickLimits,
    validate,
)
from tests.marketdata.feeds.support import NOW_NS, reliance

SECOND = 1_000_000_000


def raw(**fields: Any) -> RawTick:
    values: dict[str, Any] = {"symbol": "RELIANCE", "ts_ns": NOW_NS, "bid": "1327.80"}
    values["ask"] = "1327.85"
    values.update(fields)
    return RawTick(**values)


def check(tick: RawTick, last: Tick | None = None, **limits: Any) -> Tick:
    return validate(tick, reliance(), last, NOW_NS, TickLimits(**limits))


def refusal(tick: RawTick, last: Tick | None = None, **limits: Any) -> Reason:
    with pytest.raises(BadTick) as refused:
        check(tick, last, **limits)
    return refused.value.reason


def test_prices_convert_exactly_from_strings_ints_and_decimals() -> None:
    tick = check(raw(bid=Decimal("1327.8"), ask="1327.85", last=1328, volume="25"))
    assert tick == Tick("RELIANCE", NOW_NS, 132780, 132785, 132800, 25)
    assert tick.mid == 132783  # 1327.825 rounds half up to a price unit
    assert check(raw(bid=None, ask=None, last="1327.90")).mid == 132790


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"bid": "1328.00", "ask": "1327.95"}, Reason.CROSSED),
        ({"bid": "-1327.80"}, Reason.NON_POSITIVE),
        ({"bid": "0", "ask": "0"}, Reason.NON_POSITIVE),
        ({"last": "0.00"}, Reason.NON_POSITIVE),
        ({"volume": "-5"}, Reason.NON_POSITIVE),
        ({"bid": Decimal("NaN")}, Reason.NON_NUMERIC),
        ({"ask": "Infinity"}, Reason.NON_NUMERIC),
        ({"last": "-inf"}, Reason.NON_NUMERIC),
        ({"last": "12abc"}, Reason.NON_NUMERIC),
        ({"last": True}, Reason.NON_NUMERIC),
        ({"last": [1]}, Reason.NON_NUMERIC),
        ({"last": "1e999999999"}, Reason.NON_NUMERIC),
        ({"bid": "1327.801"}, Reason.PRECISION),
        ({"volume": "1.5"}, Reason.PRECISION),
        ({"bid": None}, Reason.MALFORMED),
        ({"bid": None, "ask": None}, Reason.MALFORMED),
        ({"bid": "1100.00"}, Reason.OUT_OF_BAND),
        ({"last": "1500.00"}, Reason.OUT_OF_BAND),
        ({"symbol": "NOPE"}, Reason.UNKNOWN_SYMBOL),
        ({"ts_ns": NOW_NS - 11 * SECOND}, Reason.STALE),
        ({"ts_ns": NOW_NS + 3 * SECOND}, Reason.FUTURE),
    ],
)
def test_bad_ticks_are_refused_with_their_reason(fields: dict[str, Any], reason: Reason) -> None:
    if fields.get("symbol") == "NOPE":
        with pytest.raises(BadTick) as refused:
            validate(raw(**fields), None, None, NOW_NS, TickLimits())
        assert refused.value.reason is reason
        return
    assert refusal(raw(**fields)) is reason


def test_band_edges_are_inside_and_the_band_check_can_be_turned_off() -> None:
    # Band of 1327.80 +/-10% rounded inward to the tick: [1195.05, 1460.55].
    assert check(raw(bid="1195.05", ask="1460.55")).bid == 119505
    assert refusal(raw(bid="1195.00")) is Reason.OUT_OF_BAND
    assert check(raw(bid="2000.00", ask="2000.05"), check_band=False).bid == 200000


def test_older_than_the_last_accepted_tick_is_stale_but_the_same_stamp_is_not() -> None:
    last = check(raw())
    assert check(raw(bid="1327.85", ask="1327.90"), last).bid == 132785
    assert refusal(raw(ts_ns=NOW_NS - 1), last) is Reason.STALE
    assert check(raw(ts_ns=NOW_NS - 60 * SECOND), max_age_seconds=0).ts_ns < NOW_NS


def test_a_jump_from_a_recent_price_is_refused_but_not_from_an_old_one() -> None:
    last = check(raw(ts_ns=NOW_NS - 5 * SECOND))
    jumped = raw(bid="1360.00", ask="1360.05")  # +2.4%
    assert refusal(jumped, last, max_jump_ppm=20_000) is Reason.JUMP
    assert check(raw(bid="1350.00", ask="1350.05"), last, max_jump_ppm=20_000).bid == 135000
    # The last accepted price is older than the window: the market really moved.
    assert check(jumped, last, max_jump_ppm=20_000, jump_window_seconds=1).bid == 136000


def test_sequence_tracker_reports_gaps_and_refuses_duplicates() -> None:
    tracker = SequenceTracker()
    assert tracker.observe(7) is None  # a session may start anywhere
    assert tracker.observe(8) is None
    gap = tracker.observe(11)
    assert gap == Gap(9, 11) and gap.missing == 2
    with pytest.raises(BadTick) as refused:
        tracker.observe(11)
    assert refused.value.reason is Reason.DUPLICATE
    tracker.reset()
    assert tracker.observe(1) is None


def test_backoff_grows_to_the_cap_and_jitter_only_shortens() -> None:
    backoff = Backoff(initial=0.5, factor=2.0, cap=3.0, jitter=0.5)
    assert [backoff.base(n) for n in range(6)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]
    assert backoff.delay(2, lambda: 0.0) == 2.0
    assert backoff.delay(2, lambda: 1.0) == 1.0
    assert backoff.base(10_000) == 3.0
    with pytest.raises(ValueError):
        Backoff(initial=5.0, cap=1.0)
