"""The demo universe: what a user sees in the instrument list, and that every listing trades."""

from __future__ import annotations

from decimal import Decimal

from exchange_server.domain.enums import AssetClass
from exchange_server.domain.instruments import Instrument
from exchange_server.marketdata.universe import demo_universe, listing_by_symbol, listing_command

FIELDS = (
    "symbol",
    "name",
    "asset_class",
    "exchange",
    "currency",
    "sector",
    "isin",
    "price_decimals",
    "quantity_decimals",
    "tick_size",
    "lot_size",
    "reference_price",
    "band_ppm",
)


def test_the_nifty_50_equities_with_names_sectors_and_isins() -> None:
    equities = [listing for listing in demo_universe() if listing.asset_class == "equity"]
    assert len(equities) == 50
    for listing in equities:
        assert listing.name and listing.sector and listing.isin.startswith("INE"), listing
        assert len(listing.isin) == 12
        assert listing.exchange == "NSE" and listing.session == "NSE"
        assert listing.timezone == "Asia/Kolkata"
        assert (listing.tick_size, listing.price_decimals, listing.lot_size) == (5, 2, 1)
    reliance = listing_by_symbol()["RELIANCE"]
    assert reliance.name == "Reliance Industries Ltd."
    assert reliance.isin == "INE002A01018"
    # The real NSE close of 2026-04-24 (../shared/data/market/nse/daily/RELIANCE.csv).
    assert reliance.last_close == 132780
    assert str(reliance.last_close_date) == "2026-04-24"


def test_the_index_is_quoted_but_not_tradable() -> None:
    nifty = listing_by_symbol()["NIFTY50"]
    assert nifty.asset_class == "index" and not nifty.tradable
    instrument = Instrument(**_fields(listing_command(nifty)))
    assert not instrument.tradable


def test_crypto_trades_around_the_clock_in_fractions_and_commodities_in_lots() -> None:
    listings = listing_by_symbol()
    btc = listings["BTC-INR"]
    assert btc.session == "24x7" and btc.timezone == "UTC"
    assert btc.quantity_decimals == 4  # 0.0001 BTC
    assert {"ETH-INR", "GOLD", "SILVER"} <= set(listings)
    assert listings["GOLD"].asset_class == "commodity"
    assert btc.source == "illustrative" and btc.last_close_date is None


def test_every_listing_is_a_valid_instrument_with_its_band_around_the_last_close() -> None:
    for listing in demo_universe():
        command = listing_command(listing)
        instrument = Instrument(**_fields(command))  # validates scales, tick and band
        assert instrument.asset_class == AssetClass(listing.asset_class)
        assert instrument.band_low < listing.last_close < instrument.band_high
        assert listing.last_close % listing.tick_size == 0
        assert instrument.price_to_decimal(listing.last_close) > Decimal(0)


def _fields(command: object) -> dict[str, object]:
    return {name: getattr(command, name) for name in FIELDS}
