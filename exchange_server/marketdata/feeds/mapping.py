"""Configurable field mapping: where a feed keeps the symbol, prices, time and sequence
number, how it names symbols and how it writes time. One mapping fits most JSON feeds, so
connecting a new one is configuration, not code.

Example (TOML)::

    [feed_mapping]
    symbol = "s"
    bid = "b"
    ask = "a"
    last = "p"
    volume = "v"
    ts = "t"
    ts_unit = "ms"
    seq = "n"
    type_field = "type"
    tick_types = ["tick"]
    [feed_mapping.symbols]
    "RELIANCE.NS" = "RELIANCE"
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from exchange_server.marketdata.feeds.validation import (
    NS_PER_SECOND,
    BadTick,
    RawTick,
    Reason,
    to_decimal,
)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Nanosecond timestamps have 19 digits; sequence numbers fit in 64 bits.
_MAX_COUNTER_DIGITS = 20


class TimeUnit(enum.StrEnum):
    SECONDS = "s"
    MILLISECONDS = "ms"
    MICROSECONDS = "us"
    NANOSECONDS = "ns"
    ISO8601 = "iso"  # "2026-04-24T09:15:00.123+05:30"; a zone is required


_SCALE = {
    TimeUnit.SECONDS: NS_PER_SECOND,
    TimeUnit.MILLISECONDS: 1_000_000,
    TimeUnit.MICROSECONDS: 1_000,
    TimeUnit.NANOSECONDS: 1,
}


@dataclass(frozen=True, slots=True)
class FieldMapping:
    """Field names may be dotted paths into nested objects ("data.bid"). A price field set
    to "" is one the feed does not have."""

    symbol: str = "symbol"
    bid: str = "bid"
    ask: str = "ask"
    last: str = "last"
    volume: str = ""
    ts: str = "ts"
    ts_unit: TimeUnit = TimeUnit.MILLISECONDS
    seq: str = ""  # "": the feed has no sequence numbers
    # Feeds mix ticks with heartbeats, acks and status messages; when ``type_field`` is set,
    # only messages whose type is in ``tick_types`` are ticks, the rest only prove liveness.
    type_field: str = ""
    tick_types: frozenset[str] = frozenset({"tick"})
    symbols: Mapping[str, str] = field(default_factory=dict)  # feed's name -> ours

    @classmethod
    def from_table(cls, table: Mapping[str, Any]) -> FieldMapping:
        """A mapping from configuration (a TOML table); unknown keys are refused so a typo
        does not silently leave a field unmapped."""
        known = {f.name for f in fields(cls)}
        unknown = set(table) - known
        if unknown:
            raise ValueError(f"unknown feed mapping keys: {', '.join(sorted(unknown))}")
        values: dict[str, Any] = dict(table)
        if "ts_unit" in values:
            values["ts_unit"] = TimeUnit(values["ts_unit"])
        if "tick_types" in values:
            types = values["tick_types"]
            values["tick_types"] = frozenset([types] if isinstance(types, str) else types)
        if "symbols" in values:
            values["symbols"] = {str(k): str(v) for k, v in dict(values["symbols"]).items()}
        mapping = cls(**values)
        for name in ("symbol", "ts"):
            if not getattr(mapping, name):
                raise ValueError(f"feed mapping needs a {name} field")
        if not (mapping.last or (mapping.bid and mapping.ask)):
            raise ValueError("feed mapping needs a last field or both bid and ask")
        return mapping

    def is_tick(self, message: Mapping[str, Any]) -> bool:
        if not self.type_field:
            return True
        return _get(message, self.type_field) in self.tick_types

    def sequence(self, message: Mapping[str, Any]) -> int | None:
        if not self.seq:
            return None
        value = _get(message, self.seq)
        if value is None:
            return None
        try:
            number = to_decimal(value, "sequence number", max_digits=_MAX_COUNTER_DIGITS)
        except BadTick:
            number = Decimal("NaN")
        if not number.is_finite() or number != number.to_integral_value():
            raise BadTick(Reason.MALFORMED, f"sequence number {value!r:.40}")
        return int(number)

    def extract(self, message: Mapping[str, Any], seq: int | None = None) -> RawTick:
        symbol = _get(message, self.symbol)
        if not isinstance(symbol, str) or not symbol:
            raise BadTick(Reason.MALFORMED, f"symbol {symbol!r:.40}")
        ts = _get(message, self.ts)
        if ts is None:
            raise BadTick(Reason.MALFORMED, "no timestamp")
        return RawTick(
            symbol=self.symbols.get(symbol, symbol),
            ts_ns=self.timestamp_ns(ts),
            bid=_get(message, self.bid) if self.bid else None,
            ask=_get(message, self.ask) if self.ask else None,
            last=_get(message, self.last) if self.last else None,
            volume=_get(message, self.volume) if self.volume else None,
            seq=seq,
        )

    def timestamp_ns(self, value: Any) -> int:
        if self.ts_unit is TimeUnit.ISO8601:
            return _iso_to_ns(value)
        try:
            number = to_decimal(value, "timestamp", max_digits=_MAX_COUNTER_DIGITS)
        except BadTick as problem:
            raise BadTick(Reason.MALFORMED, problem.detail) from None
        # Exact: "1714000000.123456789" seconds is 1714000000123456789 ns; finer is cut.
        return int(number * _SCALE[self.ts_unit])


def _get(message: Mapping[str, Any], path: str) -> Any:
    value: Any = message
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _iso_to_ns(value: Any) -> int:
    if not isinstance(value, str):
        raise BadTick(Reason.MALFORMED, f"timestamp {value!r:.40} is not ISO 8601")
    text = value.strip()
    # datetime keeps microseconds only; nanoseconds are split off and added back exactly.
    extra_ns = 0
    dot = text.find(".")
    if dot != -1:
        end = dot + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        digits = text[dot + 1 : end]
        if len(digits) > 6:
            extra_ns = int(digits[6:9].ljust(3, "0"))
            text = text[: dot + 7] + text[end:]
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadTick(Reason.MALFORMED, f"timestamp {value!r:.40} is not ISO 8601") from None
    if moment.tzinfo is None:
        # A zoneless time is ambiguous (local? UTC? the exchange's?): refuse it.
        raise BadTick(Reason.MALFORMED, f"timestamp {value!r:.40} has no zone")
    delta = moment - _EPOCH
    micros = (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds
    return micros * 1_000 + extra_ns
