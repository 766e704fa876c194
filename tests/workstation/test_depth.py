"""The depth dock against a real exchange: the ladder shows the book and the trader's own
orders at their prices, clicking a side asks for a trade there, the chart accumulates."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from exchange_server.protocol import Depth, DepthLevel, OrderOut, PlaceOrderRequest
from tests.workstation.conftest import Market, WaitUntil
from tests.workstation.trading_shots import shot
from workstation.docks.depth import DepthDock
from workstation.docks.depth_chart import cumulative
from workstation.docks.depth_ladder import ASK, BID, PRICE, ladder_rows
from workstation.session.links import LinkGroups
from workstation.session.session import Session

SYMBOL = "RELIANCE"


def _order(order_id: int, side: str, price: str, remaining: str, status: str = "new") -> OrderOut:
    return OrderOut(
        order_id=order_id,
        client_order_id=f"c{order_id}",
        symbol=SYMBOL,
        side=side,  # type: ignore[arg-type]
        order_type="limit",
        tif="day",
        status=status,
        quantity=Decimal(remaining),
        price=Decimal(price),
        trigger_price=None,
        filled=Decimal(0),
        remaining=Decimal(remaining),
        average_price=None,
        fees=Decimal(0),
        post_only=False,
        expire_at=0,
        created_at=order_id,
        updated_at=order_id,
        reason="",
    )


def _depth(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> Depth:
    def levels(pairs: list[tuple[str, str]]) -> list[DepthLevel]:
        return [DepthLevel(price=Decimal(p), quantity=Decimal(q), orders=1) for p, q in pairs]

    return Depth(symbol=SYMBOL, bids=levels(bids), asks=levels(asks), ts=0)


def test_ladder_rows_put_asks_above_bids_with_own_working_orders() -> None:
    depth = _depth([("99.95", "10"), ("99.90", "20")], [("100.05", "5"), ("100.10", "7")])
    orders = [
        _order(1, "buy", "99.90", "3"),
        _order(2, "buy", "99.90", "2"),
        _order(3, "sell", "100.50", "1"),  # own price beyond the 20 levels still shows
        _order(4, "buy", "99.95", "4", status="filled"),  # done: not working
    ]
    rows = ladder_rows(depth, orders, SYMBOL)
    assert [row.price for row in rows] == [
        Decimal("100.50"),
        Decimal("100.10"),
        Decimal("100.05"),
        Decimal("99.95"),
        Decimal("99.90"),
    ]
    by_price = {row.price: row for row in rows}
    assert by_price[Decimal("99.90")].my_buy == Decimal(5)
    assert by_price[Decimal("99.95")].my_buy is None
    assert by_price[Decimal("100.50")].my_sell == Decimal(1)
    assert by_price[Decimal("100.05")].best and by_price[Decimal("99.95")].best


def test_cumulative_depth_adds_up_outward_from_the_touch() -> None:
    depth = _depth([("99.95", "10"), ("99.90", "20")], [("100.05", "5"), ("100.10", "7")])
    bid_prices, bid_sizes, ask_prices, ask_sizes = cumulative(depth)
    assert list(bid_prices) == [99.95, 99.90] and list(bid_sizes) == [10, 30]
    assert list(ask_prices) == [100.05, 100.10] and list(ask_sizes) == [5, 12]


async def test_depth_dock_follows_the_book_and_clicks_trade(
    session: Session, market: Market, wait_until: WaitUntil, qtbot: object
) -> None:
    links = LinkGroups()
    dock = DepthDock(session, links)
    dock.resize(460, 720)
    dock.show()
    links.set_symbol("red", SYMBOL)
    dock.set_link_colour("red")  # linked: follows the red group's symbol
    assert dock.symbol == SYMBOL
    await wait_until(dock.is_populated, message="depth never arrived")
    reference = market.prices[SYMBOL]
    tick = session.instruments[SYMBOL].tick_size
    best_bid = reference - tick
    await wait_until(lambda: dock.ladder.proxy.rowCount() == 10)

    # The ladder: highest price on top, each side's sizes in its own column.
    view = dock.ladder
    prices = [view.row_at_view(r).price for r in range(view.proxy.rowCount())]
    assert prices == sorted(prices, reverse=True)
    bid_row = prices.index(best_bid)
    assert view.proxy.index(bid_row, BID).data() == "10"
    assert view.proxy.index(bid_row, ASK).data() == ""
    assert view.proxy.index(bid_row, PRICE).data() == f"{best_bid:,.2f}"

    # An order of ours at the best bid shows in the "My buys" column of that row.
    placed = await session.place_order(
        PlaceOrderRequest(symbol=SYMBOL, side="buy", quantity=Decimal(3), price=best_bid)
    )
    # (our 3 joined the maker's 10 in the book)
    await wait_until(lambda: view.row_at_view(bid_row).my_buy == Decimal(3))
    await wait_until(lambda: view.row_at_view(bid_row).bid == Decimal(13))

    # Clicking the bid side asks to buy at that price; the ask side to sell.
    requests: list[tuple[str, Decimal]] = []
    dock.trade_requested.connect(lambda side, price: requests.append((side, price)))
    ask_row = bid_row - 1
    for row, column in ((bid_row, BID), (ask_row, ASK)):
        rect = view.visualRect(view.proxy.index(row, column))
        QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert requests == [("buy", best_bid), ("sell", reference + tick)]

    # Right-click on one's own orders cancels them (the menu's action, taken directly).
    shot(dock, "depth_reliance")
    dock.cancel_at("buy", best_bid)
    await wait_until(lambda: view.row_at_view(bid_row).my_buy is None)
    assert session.orders[placed.order_id].status == "cancelled"

    # Another symbol on the link moves the dock; the old book is gone from the ladder.
    links.set_symbol("red", "TCS")
    await wait_until(lambda: dock.symbol == "TCS" and dock.is_populated())

    def shows_tcs() -> bool:
        book = session.depth["TCS"]
        prices = {level.price for level in book.bids + book.asks}
        return {row.price for row in view.ladder_model.rows()} == prices

    await wait_until(shows_tcs)
    dock.close()
