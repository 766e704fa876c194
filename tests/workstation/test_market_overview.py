"""Market overview: movers, breadth and the sector heat map from the whole universe."""

from __future__ import annotations

import itertools
from decimal import Decimal

from PySide6.QtCore import QRectF

from exchange_server.domain.commands import SetReferencePrice
from exchange_server.marketdata.universe import listing_by_symbol, listing_command
from exchange_server.protocol import Quote
from tests.api.conftest import LiveServer, SignedInUser
from tests.workstation.conftest import Market, WaitUntil, open_session
from workstation.docks.market_overview import MarketOverviewDock, index_strip, rank_movers
from workstation.docks.overview_heatmap import tile_colour
from workstation.docks.overview_treemap import squarify
from workstation.docks.watchlist_format import DOWN_COLOUR, UP_COLOUR
from workstation.session.links import LinkGroups
from workstation.session.session import Session


def quote(symbol: str, percent: str | None) -> Quote:
    change = None if percent is None else Decimal(percent)
    return Quote(symbol=symbol, status="open", change=change, change_percent=change)


def test_movers_rank_real_moves_only() -> None:
    quotes = [quote("A", "1.5"), quote("B", "-2"), quote("C", "0"), quote("D", None)]
    quotes.append(quote("E", "3"))
    gainers, losers = rank_movers(quotes, count=5)
    assert [q.symbol for q in gainers] == ["E", "A"]
    assert [q.symbol for q in losers] == ["B"]


def test_treemap_tiles_fill_the_area_in_proportion() -> None:
    tiles = squarify([6, 6, 4, 3, 2, 2, 1], QRectF(0, 0, 6, 4))
    areas = [t.width() * t.height() for t in tiles]
    assert [round(a, 6) for a in areas] == [6, 6, 4, 3, 2, 2, 1]
    for a, b in itertools.combinations(tiles, 2):
        overlap = a.intersected(b)
        assert overlap.width() * overlap.height() < 1e-9


def test_heat_colours_run_from_red_through_grey_to_green() -> None:
    assert tile_colour(3.0) == UP_COLOUR and tile_colour(-5.0) == DOWN_COLOUR
    assert tile_colour(0.5).green() < UP_COLOUR.green() or tile_colour(0.5) != UP_COLOUR
    assert tile_colour(0.0) == tile_colour(None)


async def test_overview_shows_the_market_and_picks_a_symbol(
    session: Session, market: Market, wait_until: WaitUntil
) -> None:
    links = LinkGroups()
    dock = MarketOverviewDock(session, links)
    dock.resize(900, 500)
    dock.show()
    await wait_until(lambda: len(dock.heat_map.tiles()) == len(session.instruments))
    await market.trade("RELIANCE", quantity="5")
    await market.trade("TCS", side="sell", quantity="5")
    await wait_until(lambda: dock.is_populated(), message="no movers")
    moved = {q.symbol for q in dock.gainers.quotes + dock.losers.quotes}
    assert moved and all(session.quotes[s].change_percent for s in moved)
    assert "▲" in dock.breadth_label.text()

    rect = dock.heat_map.tile_rect("TCS")
    assert rect is not None and rect.width() > 0
    dock.set_link_colour("green")
    dock.heat_map.symbol_clicked.emit("TCS")
    assert links.symbol("green") == "TCS"


def test_an_index_with_a_change_shows_it_against_the_previous_close() -> None:
    traded = Quote(
        symbol="NIFTY50",
        status="open",
        last=Decimal("24100.5"),
        previous_close=Decimal("24000"),
        change=Decimal("100.5"),
        change_percent=Decimal("0.42"),
    )
    text, tip = index_strip("NIFTY 50", traded)
    assert "24,100.50" in text and "+100.50 (+0.42%)" in text and UP_COLOUR.name() in text
    assert "24,000.00" in tip
    quoted = Quote(symbol="NIFTY50", status="open", previous_close=Decimal("24050.6"))
    text, tip = index_strip("NIFTY 50", quoted)
    assert "24,050.60" in text and "ref" in text and "%" not in text
    assert "no previous close" in tip


async def test_strip_shows_the_index_level_the_exchange_publishes(
    live_server: LiveServer, trader: SignedInUser, wait_until: WaitUntil
) -> None:
    await live_server.context.submit(listing_command(listing_by_symbol()["NIFTY50"]))
    session = await open_session(live_server.base_url, trader)
    try:
        dock = MarketOverviewDock(session, LinkGroups())
        dock.show()
        # Never traded: the level is the index's reference price (its last close at first).
        await wait_until(lambda: "24,050.60" in dock.index_label.text(), message="no index")
        assert "NIFTY 50" in dock.index_label.text()
        assert "no previous close" in dock.index_label.toolTip()
        # The simulator publishes a new level as the index's reference price.
        await live_server.context.submit(SetReferencePrice("NIFTY50", 2_410_000))
        await wait_until(lambda: "24,100.00" in dock.index_label.text(), message="level stuck")
        assert all(tile.symbol != "NIFTY50" for tile in dock.heat_map.tiles())
    finally:
        await session.close()
