"""The demo universe: NIFTY 50 equities, the NIFTY 50 index, crypto pairs and commodities.

Loaded from ``resources/universe/listings.csv`` (built by ``resources/convert_nse.py`` from
the shared NSE data; see ``resources/README.md``). Equities and the index carry their latest
real close; crypto pairs and commodities have no shared data and carry illustrative levels
(their ``source`` says so).

Where ``resources/`` is found: ``EXCHANGE_RESOURCES_DIR`` if set, else ``resources`` inside
a PyInstaller bundle (``sys._MEIPASS``), else the ``resources`` folder at the top of the
source checkout (two levels above this package), which also serves an editable install.
"""

from __future__ import annotations

import csv
import os
import sys
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from exchange_server.domain.commands import ListInstrument
from exchange_server.domain.enums import AssetClass

RESOURCES_ENV = "EXCHANGE_RESOURCES_DIR"
SESSION_TIMEZONES = {"NSE": "Asia/Kolkata", "24x7": "UTC"}


def resources_dir() -> Path:
    configured = os.environ.get(RESOURCES_ENV, "").strip()
    if configured:
        return Path(configured)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


@dataclass(frozen=True, slots=True)
class Listing:
    symbol: str
    name: str
    asset_class: str  # "equity", "index", "crypto" or "commodity"
    exchange: str  # "NSE", "CRYPTO", "MCX"
    currency: str
    sector: str
    isin: str
    price_decimals: int
    quantity_decimals: int
    tick_size: int  # price units
    lot_size: int  # quantity units
    band_ppm: int  # half-width of the daily price band
    last_close: int  # price units, on tick: where trading starts
    session: str  # "NSE" (09:15-15:30 Asia/Kolkata, weekdays) or "24x7"
    last_close_date: date | None = None  # None: an illustrative level, not a market fact
    source: str = ""  # where last_close and the history come from

    @property
    def timezone(self) -> str:
        """The exchange's time zone: daily candles run midnight to midnight in it."""
        return SESSION_TIMEZONES[self.session]

    @property
    def tradable(self) -> bool:
        return self.asset_class != AssetClass.INDEX


def load_listings(path: Path) -> list[Listing]:
    listings = []
    with path.open(newline="", encoding="utf-8") as stream:
        for row in csv.DictReader(stream):
            listings.append(
                Listing(
                    symbol=row["symbol"],
                    name=row["name"],
                    asset_class=row["asset_class"],
                    exchange=row["exchange"],
                    currency=row["currency"],
                    sector=row["sector"],
                    isin=row["isin"],
                    price_decimals=int(row["price_decimals"]),
                    quantity_decimals=int(row["quantity_decimals"]),
                    tick_size=int(row["tick_size"]),
                    lot_size=int(row["lot_size"]),
                    band_ppm=int(row["band_ppm"]),
                    last_close=int(row["last_close"]),
                    session=row["session"],
                    last_close_date=(
                        date.fromisoformat(row["last_close_date"])
                        if row["last_close_date"]
                        else None
                    ),
                    source=row["source"],
                )
            )
    return listings


@cache
def _demo_universe() -> tuple[Listing, ...]:
    return tuple(load_listings(resources_dir() / "universe" / "listings.csv"))


def demo_universe() -> list[Listing]:
    """Every demo listing: the index first, then equities by symbol, then crypto and
    commodities."""
    return list(_demo_universe())


def listing_by_symbol() -> dict[str, Listing]:
    return {listing.symbol: listing for listing in _demo_universe()}


def listing_command(listing: Listing) -> ListInstrument:
    """The command that lists ``listing`` on the exchange, its band centred on the last
    close."""
    return ListInstrument(
        listing.symbol,
        listing.name,
        AssetClass(listing.asset_class),
        listing.exchange,
        listing.currency,
        sector=listing.sector,
        isin=listing.isin,
        price_decimals=listing.price_decimals,
        quantity_decimals=listing.quantity_decimals,
        tick_size=listing.tick_size,
        lot_size=listing.lot_size,
        reference_price=listing.last_close,
        band_ppm=listing.band_ppm,
    )
