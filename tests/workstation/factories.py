"""Wire objects for tests that need one without a server."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from exchange_server.protocol import InstrumentOut


def instrument(**changes: Any) -> InstrumentOut:
    """An NSE equity (RELIANCE at 2,500.00, a 10% band) with ``changes`` applied."""
    fields: dict[str, Any] = dict(
        symbol="RELIANCE",
        name="Reliance Industries",
        asset_class="equity",
        exchange="NSE",
        currency="INR",
        sector="Energy",
        isin="INE002A01018",
        tick_size=Decimal("0.05"),
        lot_size=Decimal("1"),
        price_decimals=2,
        quantity_decimals=0,
        status="open",
        reference_price=Decimal("2500.00"),
        band_low=Decimal("2250.00"),
        band_high=Decimal("2750.00"),
    )
    fields.update(changes)
    return InstrumentOut(**fields)
