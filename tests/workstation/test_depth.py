"""The depth dock against a real exchange: the ladder shows the book and the trader's own
orders at their prices, clicking a side asks for a trade there, the chart accumulates."""

from __future__ import annotations

import itertools
from decimal import Decimal

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest

from exchange_server.protocol import Depth, DepthLevel, OrderOut, PlaceOrderRequest
from tests.workstation.conftest import Market, WaitUntil
from tests.workstation.trading_shots import shot
from workstation.docks.depth import DepthDock
from workstation.docks.depth_chart import (
    X_LABEL_PADDING,
    DepthChart,
    cumulative,
    price_label,
    size_label,
    step_outline,
)
from workstation.docks.depth_ladder import (
    ASK,
    BID,
    BUYS,
    PRICE,
    LadderView,
    ladder_model,
    ladder_rows,
)
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
    await wait_until(lambda: dock.ladder.model().rowCount() == 10)

    # The ladder: highest price on top, each side's sizes in its own column.
    view = dock.ladder
    prices = [view.row_at_view(r).price for r in range(view.model().rowCount())]
    assert prices == sorted(prices, reverse=True)
    bid_row = prices.index(best_bid)
    assert view.model().index(bid_row, BID).data() == "10"
    assert view.model().index(bid_row, ASK).data() == ""
    assert view.model().index(bid_row, PRICE).data() == f"{best_bid:,.2f}"

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
        rect = view.visualRect(view.model().index(row, column))
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


def test_depth_chart_steps_start_and_end_on_the_zero_line() -> None:
    outline = step_outline(np.array([1.0, 2.0, 3.0]), np.array([10.0, 30.0]))
    assert outline.tolist() == [[1, 0], [1, 10], [2, 10], [2, 30], [3, 30], [3, 0]]


@pytest.mark.parametrize("height", [60, 90, 120, 160, 240, 400])
@pytest.mark.parametrize("deepest", [7, 950, 4000, 12_345, 2_500_000])
def test_depth_chart_size_labels_never_overlap(qapp: object, height: int, deepest: int) -> None:
    # A screenshot showed "4000" drawn over "2000" in a short panel.
    chart = DepthChart()
    chart.resize(400, height)
    text_height = chart.fontMetrics().height()
    values = chart.y_ticks(deepest * 1.08, height - 2 * text_height, text_height)
    assert values and values[0] == 0
    pixels_per_unit = (height - 2 * text_height) / (deepest * 1.08)
    gaps = [(b - a) * pixels_per_unit for a, b in itertools.pairwise(values)]
    assert all(gap >= text_height for gap in gaps)
    labels = [size_label(v) for v in values]
    assert len(set(labels)) == len(labels)  # distinct: no "1K, 1K" from rounding


def test_depth_chart_price_labels_fit_between_each_other(qapp: object) -> None:
    chart = DepthChart()
    metrics = chart.fontMetrics()
    for width, (low, high) in itertools.product((150, 300, 600), ((99.0, 101.0), (0.5, 0.51))):
        values, step = chart.x_ticks(low, high, width, metrics.horizontalAdvance)
        spacing = step * width / (high - low)
        widest = max(metrics.horizontalAdvance(price_label(v, step)) for v in values)
        assert len(values) == 1 or spacing >= widest + X_LABEL_PADDING


def test_depth_chart_paints_the_book(qapp: object) -> None:
    depth = _depth([("99.95", "10"), ("99.90", "20")], [("100.05", "5"), ("100.10", "7")])
    chart = DepthChart()
    chart.resize(300, 150)
    chart.show_depth(depth)
    assert chart.mid == pytest.approx(100.0)
    image = chart.grab().toImage()
    # Low on the bid side (left of the mid) is green, on the ask side red.
    bid = image.pixelColor(chart.width() // 4, chart.height() - 30)
    ask = image.pixelColor(chart.width() * 3 // 4, chart.height() - 30)
    assert bid.green() > bid.red() and ask.red() > ask.green()
    chart.show_depth(None)
    assert chart.data_range() is None
    chart.grab()


def test_ladder_keeps_price_order_as_levels_come_and_go(qapp: object) -> None:
    view = LadderView(ladder_model([2]))
    view.resize(400, 300)
    view.set_rows(ladder_rows(_depth([("99.90", "5")], [("100.10", "5")]), [], SYMBOL))
    # A better bid and a new ask level arrive between the rows shown: no sorting proxy,
    # the rows must still read highest price first.
    depth = _depth([("100.00", "3"), ("99.90", "5")], [("100.05", "2"), ("100.10", "5")])
    view.set_rows(ladder_rows(depth, [_order(1, "sell", "100.20", "1")], SYMBOL))
    prices = [view.row_at_view(r).price for r in range(view.model().rowCount())]
    assert prices == [Decimal(p) for p in ("100.20", "100.10", "100.05", "100.00", "99.90")]
    assert view.model().index(3, PRICE).data() == "100.00"
    assert view.biggest == Decimal(5)


def test_ladder_paints_size_bars_in_the_sides_colours(qapp: object) -> None:
    view = LadderView(ladder_model([2]))
    view.resize(400, 200)
    view.auto_centre = False
    depth = _depth([("99.95", "10"), ("99.90", "5")], [("100.05", "10")])
    view.set_rows(ladder_rows(depth, [], SYMBOL))
    image = view.viewport().grab().toImage()

    def pixel(row: int, column: int, from_right: bool) -> QColor:
        rect = view.visualRect(view.model().index(row, column))
        x = rect.right() - 2 if from_right else rect.left() + 2
        return image.pixelColor(x, rect.center().y())

    bid = pixel(1, BID, from_right=True)  # bid bars grow from the price outward
    assert bid.green() > bid.red()
    ask = pixel(0, ASK, from_right=False)
    assert ask.red() > ask.green()
    half = pixel(2, BID, from_right=False)  # 5 of the biggest 10: no bar at the far end
    assert half == pixel(2, BUYS, from_right=False)
