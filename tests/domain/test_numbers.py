"""Exact conversions between the engine's integers and the decimals people and the wire use."""

from __future__ import annotations

from decimal import Decimal

import pytest

from exchange_server.domain.enums import AssetClass
from exchange_server.domain.instruments import Instrument, cash_from_decimal, cash_to_decimal

BTC = Instrument(
    "BTC-INR", "Bitcoin", AssetClass.CRYPTO, "DEMO", "INR",
    price_decimals=0, quantity_decimals=4, tick_size=1, lot_size=1,
)  # fmt: skip


def test_prices_quantities_and_cash_convert_exactly_both_ways() -> None:
    assert BTC.price_from_decimal(Decimal("6500000")) == 6_500_000
    assert BTC.quantity_from_decimal(Decimal("0.0125")) == 125
    assert BTC.quantity_to_decimal(125) == Decimal("0.0125")
    assert BTC.price_to_decimal(6_500_000) == Decimal("6500000")
    # 0.0125 BTC at 6,500,000 INR is exactly 81,250 INR, in cash units of 0.0001.
    assert cash_to_decimal(BTC.notional(6_500_000, 125)) == Decimal("81250")
    assert cash_from_decimal(Decimal("12.3456")) == 123_456


@pytest.mark.parametrize("value", ["0.00001", "NaN", "Infinity", "-Infinity"])
def test_values_that_would_need_rounding_or_are_not_numbers_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        BTC.quantity_from_decimal(Decimal(value))
