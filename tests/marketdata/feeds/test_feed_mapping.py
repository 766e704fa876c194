"""Field mapping: configured field names, nested paths, symbol renames and time units."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange_server.marketdata.feeds.mapping import FieldMapping, TimeUnit
from exchange_server.marketdata.feeds.validation import BadTick, Reason

MS = 1_777_000_000_123


def test_a_mapping_from_configuration_extracts_renamed_fields() -> None:
    mapping = FieldMapping.from_table(
        {
            "symbol": "s",
            "bid": "q.b",
            "ask": "q.a",
            "last": "p",
            "volume": "v",
            "ts": "t",
            "ts_unit": "ms",
            "seq": "n",
            "type_field": "type",
            "tick_types": ["tick", "quote"],
            "symbols": {"RELIANCE.NS": "RELIANCE"},
        }
    )
    message = {
        "type": "quote",
        "n": 42,
        "s": "RELIANCE.NS",
        "q": {"b": "1327.80", "a": Decimal("1327.85")},
        "p": "1327.80",
        "v": 10,
        "t": MS,
    }
    assert mapping.is_tick(message)
    assert not mapping.is_tick({"type": "hb"})
    assert mapping.sequence(message) == 42
    raw = mapping.extract(message, 42)
    assert raw.symbol == "RELIANCE"
    assert (raw.bid, raw.ask, raw.last, raw.volume) == (
        "1327.80",
        Decimal("1327.85"),
        "1327.80",
        10,
    )
    assert raw.ts_ns == MS * 1_000_000
    assert mapping.extract({**message, "s": "TCS"}).symbol == "TCS"  # unrenamed: as sent


def test_configuration_mistakes_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown feed mapping keys: prise"):
        FieldMapping.from_table({"prise": "p"})
    with pytest.raises(ValueError, match="last field or both"):
        FieldMapping.from_table({"last": "", "ask": ""})
    with pytest.raises(ValueError):
        FieldMapping.from_table({"ts_unit": "minutes"})


@pytest.mark.parametrize(
    ("unit", "value", "expected"),
    [
        ("s", 1_777_000_000, 1_777_000_000 * 10**9),
        ("s", Decimal("1777000000.123456789"), 1_777_000_000_123_456_789),
        ("s", "1777000000.5", 1_777_000_000_500_000_000),
        ("ms", MS, MS * 10**6),
        ("us", MS * 1000 + 7, (MS * 1000 + 7) * 1000),
        ("ns", 1_777_000_000_123_456_789, 1_777_000_000_123_456_789),
        ("iso", "2026-04-24T09:15:00Z", 1_777_022_100 * 10**9),
        ("iso", "2026-04-24T14:45:00.5+05:30", 1_777_022_100_500_000_000),
        ("iso", "2026-04-24T09:15:00.123456789+00:00", 1_777_022_100_123_456_789),
    ],
)
def test_timestamps_in_every_unit_become_exact_nanoseconds(
    unit: str, value: object, expected: int
) -> None:
    assert FieldMapping(ts_unit=TimeUnit(unit)).timestamp_ns(value) == expected


@pytest.mark.parametrize(
    ("unit", "value"),
    [("iso", "2026-04-24T09:15:00"), ("iso", "yesterday"), ("iso", 1), ("ms", "soon")],
)
def test_unreadable_or_zoneless_timestamps_are_malformed(unit: str, value: object) -> None:
    with pytest.raises(BadTick) as refused:
        FieldMapping(ts_unit=TimeUnit(unit)).timestamp_ns(value)
    assert refused.value.reason is Reason.MALFORMED


@pytest.mark.parametrize(
    "message", [{"ts": MS}, {"symbol": 7, "ts": MS}, {"symbol": "TCS"}, {"symbol": "", "ts": MS}]
)
def test_messages_without_a_symbol_or_time_are_malformed(message: dict[str, object]) -> None:
    with pytest.raises(BadTick) as refused:
        FieldMapping().extract(message)
    assert refused.value.reason is Reason.MALFORMED


def test_fractional_or_non_numeric_sequence_numbers_are_malformed() -> None:
    mapping = FieldMapping(seq="n")
    assert mapping.sequence({}) is None
    for bad in ("x", Decimal("1.5"), True):
        with pytest.raises(BadTick) as refused:
            mapping.sequence({"n": bad})
        assert refused.value.reason is Reason.MALFORMED
