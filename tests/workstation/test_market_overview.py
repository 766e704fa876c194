"""Market overview: movers, breadth and the sector heat map from the whole universe."""

from __future__ import annotations

import itertools
from decimal import Decimal

from PySide6.QtCore import QRectF

from exchange_server.protocol import Quote
from tests.workstation.conftest import Market, WaitUntil
from workstation.docks.market_overview import MarketOverviewDock, rank_movers
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
