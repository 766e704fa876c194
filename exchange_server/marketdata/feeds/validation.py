"""Pure checks that turn a mapped feed message into a ``Tick`` or refuse it with a reason.

No I/O and no clock of its own: the caller passes the instrument, the last accepted tick and
the time, so every rule is a plain function of its inputs and easy to test. Numbers are
converted with ``Decimal`` into the instrument's integer units, exactly or not at all.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from exchange_server.domain.instruments import PPM, Instrument
from exchange_server.marketdata.feeds.adapter import Tick

NS_PER_SECOND = 1_000_000_000
# A feed value with more integer digits than this is refused before it is scaled: no price
# is that large, and ``int()`` of "1e999999999" would build a billion-digit integer.
MAX_INTEGER_DIGITS = 15


class Reason(enum.StrEnum):
    """Why a feed message was refused; the label of the rejection counter."""

    MALFORMED = "malformed"  # not JSON, not an object, a required field missing or mistyped
    UNKNOWN_SYMBOL = "unknown_symbol"
    NON_NUMERIC = "non_numeric"  # NaN, Infinity, not a number, absurdly large
    NON_POSITIVE = "non_positive"  # a zero or negative price (or negative volume)
    PRECISION = "precision"  # more decimals than the instrument's prices have
    CROSSED = "crossed"  # bid above ask
    STALE = "stale"  # too old, or older than the last accepted tick of the symbol
    FUTURE = "future"  # stamped further ahead than clock skew explains
    OUT_OF_BAND = "out_of_band"  # outside the instrument's price band
    JUMP = "jump"  # moved further from the last accepted price than allowed
    DUPLICATE = "duplicate"  # a sequence number already seen on this connection


class BadTick(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class RawTick:
    """A feed message after field mapping: the internal symbol, the time in nanoseconds and
    the numbers as the feed sent them (``Decimal``, ``int`` or ``str``; floats never occur
    because messages are parsed with ``parse_float=Decimal``)."""

    symbol: str
    ts_ns: int
    bid: Any = None
    ask: Any = None
    last: Any = None
    volume: Any = None
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class TickLimits:
    max_age_seconds: float = 10.0  # 0: no age limit (a replayed or delayed feed)
    max_future_seconds: float = 2.0  # clock skew tolerated between feed and exchange
    max_jump_ppm: int = 0  # 0: no limit; 50_000 refuses a 5% move from the last accepted
    # The jump rule compares with the last accepted tick only if it is this recent (by feed
    # time): a real move larger than the limit would otherwise be refused for ever.
    jump_window_seconds: float = 30.0
    check_band: bool = True  # refuse prices outside the instrument's band


def to_decimal(value: Any, name: str, max_digits: int = MAX_INTEGER_DIGITS) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise BadTick(Reason.NON_NUMERIC, f"{name} is not a number: {value!r:.40}")
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        raise BadTick(Reason.NON_NUMERIC, f"{name} is not a number: {value!r:.40}") from None
    if not number.is_finite():
        raise BadTick(Reason.NON_NUMERIC, f"{name} is {number}")
    if number and number.adjusted() >= max_digits:
        raise BadTick(Reason.NON_NUMERIC, f"{name} is out of range: {value!r:.40}")
    return number


def to_units(value: Any, decimals: int, name: str) -> int:
    """``value`` in units of ``10**-decimals``, exactly; extra decimal places are refused
    rather than rounded, because a rounded external price would be one nobody quoted."""
    number = to_decimal(value, name)
    scaled = number.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise BadTick(Reason.PRECISION, f"{name} {value} has more than {decimals} decimals")
    return int(scaled)


def _price(value: Any, instrument: Instrument, name: str) -> int | None:
    if value is None:
        return None
    price = to_units(value, instrument.price_decimals, name)
    if price <= 0:
        raise BadTick(Reason.NON_POSITIVE, f"{name} is {value}")
    return price


def validate(
    raw: RawTick,
    instrument: Instrument | None,
    last_accepted: Tick | None,
    now_ns: int,
    limits: TickLimits,
) -> Tick:
    """The tick ``raw`` describes, or ``BadTick`` with the first rule it breaks."""
    if instrument is None:
        raise BadTick(Reason.UNKNOWN_SYMBOL, repr(raw.symbol))
    bid = _price(raw.bid, instrument, "bid")
    ask = _price(raw.ask, instrument, "ask")
    last = _price(raw.last, instrument, "last")
    volume = None
    if raw.volume is not None:
        volume = to_units(raw.volume, instrument.quantity_decimals, "volume")
        if volume < 0:
            raise BadTick(Reason.NON_POSITIVE, f"volume is {raw.volume}")
    if (bid is None) != (ask is None):
        raise BadTick(Reason.MALFORMED, "a quote needs both bid and ask")
    if bid is None and last is None:
        raise BadTick(Reason.MALFORMED, "no price")
    if bid is not None and ask is not None and bid > ask:
        raise BadTick(Reason.CROSSED, f"bid {raw.bid} > ask {raw.ask}")
    _check_time(raw.ts_ns, last_accepted, now_ns, limits)
    tick = Tick(raw.symbol, raw.ts_ns, bid, ask, last, volume)
    prices = [price for price in (bid, ask, last) if price is not None]
    if limits.check_band and not all(instrument.in_band(price) for price in prices):
        raise BadTick(
            Reason.OUT_OF_BAND,
            f"{prices} outside [{instrument.band_low}, {instrument.band_high}]",
        )
    if (
        limits.max_jump_ppm
        and last_accepted is not None
        and tick.ts_ns - last_accepted.ts_ns <= limits.jump_window_seconds * NS_PER_SECOND
    ):
        _check_jump(tick, last_accepted, limits.max_jump_ppm)
    return tick


def _check_time(ts_ns: int, last_accepted: Tick | None, now_ns: int, limits: TickLimits) -> None:
    if limits.max_age_seconds and now_ns - ts_ns > limits.max_age_seconds * NS_PER_SECOND:
        age = (now_ns - ts_ns) / NS_PER_SECOND
        raise BadTick(Reason.STALE, f"{age:.3f}s old")
    if ts_ns - now_ns > limits.max_future_seconds * NS_PER_SECOND:
        raise BadTick(Reason.FUTURE, f"{(ts_ns - now_ns) / NS_PER_SECOND:.3f}s ahead")
    if last_accepted is not None and ts_ns < last_accepted.ts_ns:
        # Equal stamps are fine: feeds stamp several updates in the same millisecond.
        raise BadTick(Reason.STALE, "older than the last accepted tick")


def _check_jump(tick: Tick, last_accepted: Tick, max_jump_ppm: int) -> None:
    before, after = last_accepted.mid, tick.mid
    if before is None or after is None:
        return
    # Integer cross-multiplication: |after - before| / before > max_jump_ppm / PPM.
    if abs(after - before) * PPM > before * max_jump_ppm:
        raise BadTick(Reason.JUMP, f"mid {before} -> {after} exceeds {max_jump_ppm} ppm")


@dataclass(frozen=True, slots=True)
class Gap:
    expected: int
    received: int

    @property
    def missing(self) -> int:
        return self.received - self.expected


class SequenceTracker:
    """Per-connection message sequence numbers: a jump forward is a gap (messages lost), a
    number already seen is a duplicate. A new connection starts a new sequence, so callers
    ``reset`` on reconnect."""

    def __init__(self) -> None:
        self.last: int | None = None

    def reset(self) -> None:
        self.last = None

    def observe(self, seq: int) -> Gap | None:
        """The gap before ``seq``, if any; ``BadTick(DUPLICATE)`` for an old number."""
        last = self.last
        if last is not None and seq <= last:
            raise BadTick(Reason.DUPLICATE, f"sequence {seq} after {last}")
        self.last = seq
        if last is not None and seq != last + 1:
            return Gap(last + 1, seq)
        return None
