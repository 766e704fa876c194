"""Instruments and the exact-number scales they trade in.

Prices are integers in units of ``10**-price_decimals`` of the quote currency; quantities are
integers in units of ``10**-quantity_decimals`` of the instrument; cash is an integer in units
of ``10**-CASH_DECIMALS`` of the currency. Requiring ``price_decimals + quantity_decimals <=
CASH_DECIMALS`` makes every trade value exact in cash units, so ledgers never round.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final

from exchange_server.domain.enums import AssetClass, TradingStatus
from exchange_server.domain.rejections import Reject, Rejected

CASH_DECIMALS: Final = 4
CASH_SCALE: Final = 10**CASH_DECIMALS
PPM: Final = 1_000_000  # fee rates and price bands are in parts per million


@dataclass(slots=True)
class Instrument:
    symbol: str
    name: str
    asset_class: AssetClass
    exchange: str
    currency: str
    sector: str = ""
    isin: str = ""
    price_decimals: int = 2
    quantity_decimals: int = 0
    tick_size: int = 5  # in price units: 5 with 2 decimals is 0.05
    lot_size: int = 1  # in quantity units
    status: TradingStatus = TradingStatus.OPEN
    reference_price: int = 0  # centre of the price band; 0 means no band yet
    band_ppm: int = 100_000  # half-width of the band: 100,000 ppm is +/-10%
    max_order_quantity: int = 0  # 0: no limit
    max_order_notional: int = 0  # in cash units; 0: no limit
    # Derived: multiplier turning price * quantity into cash units (exact by construction).
    notional_multiplier: int = field(init=False, default=1)
    band_low: int = field(init=False, default=0)
    band_high: int = field(init=False, default=0)
    tradable: bool = field(init=False, default=True)  # an index is quoted, never traded

    def __post_init__(self) -> None:
        self.validate()
        self.notional_multiplier = 10 ** (
            CASH_DECIMALS - self.price_decimals - self.quantity_decimals
        )
        self.set_reference_price(self.reference_price)
        self.tradable = self.asset_class != AssetClass.INDEX

    def validate(self) -> None:
        numbers = (
            self.price_decimals,
            self.quantity_decimals,
            self.tick_size,
            self.lot_size,
            self.reference_price,
            self.band_ppm,
            self.max_order_quantity,
            self.max_order_notional,
        )
        if any(type(number) is not int for number in numbers):
            # Exact arithmetic needs integers; a float scale would leak floats into cash.
            raise Rejected(Reject.INVALID_INSTRUMENT, "scales, sizes and limits are integers")
        problems = []
        try:
            self.asset_class = AssetClass(self.asset_class)
            self.status = TradingStatus(self.status)
        except ValueError as problem:
            problems.append(str(problem))
        if (
            not isinstance(self.symbol, str)
            or not self.symbol
            or len(self.symbol) > 32
            or not self.symbol.isprintable()
        ):
            problems.append("symbol must be 1-32 printable characters")
        if self.price_decimals < 0 or self.quantity_decimals < 0:
            problems.append("decimals must not be negative")
        if self.price_decimals + self.quantity_decimals > CASH_DECIMALS:
            problems.append(f"price and quantity decimals together exceed {CASH_DECIMALS}")
        if self.tick_size <= 0 or self.lot_size <= 0:
            problems.append("tick and lot size must be positive")
        if not 0 < self.band_ppm < PPM:
            problems.append("band must be between 0 and 100%")
        if self.max_order_quantity < 0 or self.max_order_notional < 0:
            problems.append("order limits must not be negative")
        if self.reference_price < 0 or (
            self.tick_size > 0 and self.reference_price % self.tick_size
        ):
            problems.append("reference price must be on tick and not negative")
        if not self.currency:
            problems.append("currency is required")
        if problems:
            raise Rejected(Reject.INVALID_INSTRUMENT, "; ".join(problems))

    def set_reference_price(self, price: int) -> None:
        """Centre the price band on ``price``; band edges are rounded inward to the tick."""
        self.reference_price = price
        if price <= 0:
            self.band_low, self.band_high = 0, 0
            return
        width = price * self.band_ppm // PPM
        tick = self.tick_size
        low = -(-(price - width) // tick) * tick  # round up to tick
        self.band_low = max(low, tick)
        self.band_high = (price + width) // tick * tick

    def in_band(self, price: int) -> bool:
        return self.band_high == 0 or self.band_low <= price <= self.band_high

    def notional(self, price: int, quantity: int) -> int:
        """Exact value of ``quantity`` at ``price`` in cash units."""
        return price * quantity * self.notional_multiplier

    # Conversions for people and the wire (Decimal strings); the engine never calls these.
    def price_to_decimal(self, price: int) -> Decimal:
        return Decimal(price).scaleb(-self.price_decimals)

    def price_from_decimal(self, value: Decimal) -> int:
        return _to_units(value, self.price_decimals)

    def quantity_to_decimal(self, quantity: int) -> Decimal:
        return Decimal(quantity).scaleb(-self.quantity_decimals)

    def quantity_from_decimal(self, value: Decimal) -> int:
        return _to_units(value, self.quantity_decimals)


def cash_to_decimal(amount: int) -> Decimal:
    return Decimal(amount).scaleb(-CASH_DECIMALS)


def cash_from_decimal(value: Decimal) -> int:
    return _to_units(value, CASH_DECIMALS)


def _to_units(value: Decimal, decimals: int) -> int:
    """Exact conversion; a value with more decimals than allowed is refused, never rounded."""
    if not value.is_finite():
        raise ValueError("value must be finite")
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"value has more than {decimals} decimal places")
    return int(scaled)
