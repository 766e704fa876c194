"""Notifications: notices and the account's order and fill events, filtered by level."""

from __future__ import annotations

from decimal import Decimal

from exchange_server.protocol import PlaceOrderRequest
from tests.workstation.conftest import Market, WaitUntil
from workstation.docks.notifications import NotificationsDock
from workstation.session.links import LinkGroups
from workstation.session.session import Session


async def test_fills_orders_and_notices_are_logged_and_filtered(
    session: Session, market: Market, wait_until: WaitUntil
) -> None:
    dock = NotificationsDock(session, LinkGroups())
    await session.place_order(
        PlaceOrderRequest(symbol="TCS", side="buy", quantity=Decimal(2), order_type="market")
    )
    await wait_until(lambda: any(e.source == "Fill" for e in dock.entries()))
    fill = next(e for e in dock.entries() if e.source == "Fill")
    assert fill.text.startswith("Bought 2 TCS @ ")
    await wait_until(lambda: any("filled" in e.text for e in dock.entries() if e.source == "Order"))

    session.notice.emit("error", "Order refused: insufficient funds")
    assert dock.entries()[0].level == "error"
    dock.level_box.setCurrentText("Errors only")
    assert dock.proxy.rowCount() == 1
    assert dock.count.text() == f"1 of {len(dock.entries())}"
    dock.level_box.setCurrentText("All levels")
    dock.clear()
    assert dock.proxy.rowCount() == 0


async def test_history_from_before_the_panel_opened_is_not_news(
    session: Session, market: Market, wait_until: WaitUntil
) -> None:
    order = await session.place_order(
        PlaceOrderRequest(symbol="SBIN", side="buy", quantity=Decimal(1), order_type="market")
    )
    await wait_until(lambda: session.fills and session.fills[-1].order_id == order.order_id)
    dock = NotificationsDock(session, LinkGroups())
    session.fills_added.emit()
    session.orders_changed.emit()
    assert dock.entries() == []
