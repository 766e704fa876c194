"""Time & sales: the linked symbol's prints, newest on top, coloured by aggressor, big ones
highlighted, small ones hidden on request."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt

from tests.workstation.conftest import Market, WaitUntil
from workstation.docks.time_and_sales import TimeAndSalesDock
from workstation.docks.watchlist_format import DOWN_COLOUR, UP_COLOUR
from workstation.session.links import LinkGroups
from workstation.session.session import Session


async def test_prints_arrive_newest_first_with_the_aggressors_colour(
    session: Session, market: Market, wait_until: WaitUntil
) -> None:
    links = LinkGroups()
    dock = TimeAndSalesDock(session, links)
    dock.set_link_colour("blue")
    links.set_symbol("blue", "INFY")  # a linked panel picked INFY: the tape follows
    await wait_until(lambda: dock.is_populated())
    await market.trade("INFY", side="sell", quantity="3")
    await wait_until(lambda: dock.model.trades()[0].quantity == Decimal(3))
    newest = dock.model.index(0, 1)
    assert newest.data(Qt.ItemDataRole.ForegroundRole) == DOWN_COLOUR
    assert dock.model.index(0, 3).data() == "Sell"
    await market.trade("INFY", side="buy", quantity="2")
    await wait_until(lambda: dock.model.trades()[0].quantity == Decimal(2))
    assert dock.model.index(0, 1).data(Qt.ItemDataRole.ForegroundRole) == UP_COLOUR
    ids = [t.trade_id for t in dock.model.trades()]
    assert ids == sorted(ids, reverse=True)
    assert dock.windowTitle().endswith("INFY")


async def test_big_prints_stand_out_and_small_ones_can_be_hidden(
    session: Session, market: Market, wait_until: WaitUntil
) -> None:
    dock = TimeAndSalesDock(session, LinkGroups())
    dock.set_symbol("SBIN")
    await wait_until(lambda: dock.is_populated())
    # Within the best offer (10 a level, one already taken), so a single print.
    await market.trade("SBIN", quantity="8")
    await wait_until(lambda: dock.model.trades()[0].quantity == Decimal(8))
    dock.big_box.setValue(5)
    big = dock.model.index(0, 2)
    assert big.data(Qt.ItemDataRole.FontRole).bold()
    assert big.data(Qt.ItemDataRole.BackgroundRole) is not None
    small = next(r for r, t in enumerate(dock.model.trades()) if t.quantity < 5)
    assert dock.model.index(small, 2).data(Qt.ItemDataRole.FontRole) is None
    dock.min_box.setValue(5)
    assert [t.quantity for t in dock.model.trades()] == [Decimal(8)]
    assert dock.save_state()["min_size"] == 5
