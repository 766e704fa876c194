"""How numbers and times read in the trading panels: grouped digits, the instrument's own
decimals, signed P&L in the semantic up/down colours."""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal

# The shell's semantic colours, re-exported for the trading panels.
from workstation.theme import DOWN as DOWN
from workstation.theme import UP as UP

MONEY_DECIMALS = 2


def fmt_decimal(value: Decimal | None, decimals: int | None = None, *, signed: bool = False) -> str:
    """``1234567.5`` -> ``1,234,567.50`` (with ``decimals=2``); None -> empty."""
    if value is None:
        return ""
    if decimals is not None:
        value = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_EVEN)
    text = f"{value:,f}"
    return f"+{text}" if signed and value > 0 else text


def fmt_money(value: Decimal | None, *, signed: bool = False) -> str:
    return fmt_decimal(value, MONEY_DECIMALS, signed=signed)


def fmt_cash(value: Decimal | None, *, signed: bool = False) -> str:
    """Money to the paisa; an amount finer than that (a fee's fraction) in full, never
    rounded away."""
    if value is None:
        return ""
    cents = value.quantize(Decimal("0.01"))
    return fmt_decimal(cents if cents == value else value.normalize(), signed=signed)


def fmt_quantity(value: Decimal | None) -> str:
    if value is None:
        return ""
    return fmt_decimal(value.normalize() if value == value.to_integral_value() else value)


def fmt_time(ts_ns: int) -> str:
    """Local wall-clock time of an epoch-nanosecond stamp (today's trading needs no date)."""
    if not ts_ns:
        return ""
    return datetime.fromtimestamp(ts_ns / 1e9).strftime("%H:%M:%S")


def fmt_datetime(ts_ns: int) -> str:
    if not ts_ns:
        return ""
    return datetime.fromtimestamp(ts_ns / 1e9).strftime("%Y-%m-%d %H:%M:%S")


def sign_colour(value: Decimal | None) -> str | None:
    if value is None or value == 0:
        return None
    return UP if value > 0 else DOWN


def side_colour(side: str) -> str:
    return UP if side == "buy" else DOWN
