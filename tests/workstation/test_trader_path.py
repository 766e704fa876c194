"""A trader's path through the workstation, end to end on a real exchange: start, pick a
symbol from the watchlist, the chart and depth follow, place a limit order from the ticket,
it appears in open orders and on the chart, modify it, it fills against the market, the fill
shows in fills and positions, P&L updates, cancel-all works."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from PySide6.QtCore import QItemSelectionModel

from tests.workstation.conftest import Market, WaitUntil
from tests.workstation.trading_shots import shot
from workstation.docks.blotters import FillsDock, OpenOrdersDock, PositionsDock
from workstation.docks.depth import DepthDock
from workstation.docks.order_ticket import OrderTicketDock
from workstation.docks.table_view import BlotterTable
from workstation.session.session import Session

SYMBOL = "TCS"  # not the default symbol: picking it must move the linked panels


def cells(table: BlotterTable, title: str) -> list[str]:
    column = [c.title for c in table.model.columns].index(title)
    return [table.proxy.index(r, column).data() for r in range(table.proxy.rowCount())]


def pick_in_watchlist(watchlist: Any, symbol: str) -> None:
    """Click ``symbol``'s row, as the trader does."""
    from workstation.docks.watchlist_model import SYMBOL_ROLE, Column

    model = watchlist.model  # the rows as shown: it sorts and filters itself
    for row in range(model.rowCount()):
        index = model.index(row, Column.SYMBOL)
        if index.data(SYMBOL_ROLE) == symbol:
            watchlist.view.selectionModel().setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            return
    raise AssertionError(f"{symbol} is not in the watchlist")


def chart_order_ids(chart: Any) -> set[int]:
    """The working orders the chart draws as lines."""
    from workstation.charts.chart_view import ChartView

    view = chart.findChild(ChartView)
    assert view is not None, "the chart dock has no chart view"
    return set(view.order_lines())


async def test_a_traders_path(
    main_window: Any, session: Session, market: Market, wait_until: WaitUntil
) -> None:
    window = main_window
    watchlist, chart = window.dock("watchlist"), window.dock("chart")
    depth, ticket = window.dock("depth"), window.dock("order_ticket")
    open_orders, fills = window.dock("open_orders"), window.dock("fills")
    positions = window.dock("positions")
    assert isinstance(depth, DepthDock) and isinstance(ticket, OrderTicketDock)
    assert isinstance(open_orders, OpenOrdersDock) and isinstance(fills, FillsDock)
    assert isinstance(positions, PositionsDock)
    assert watchlist is not None
    # The chart panel is built in parallel; until it exists its part of the path is left
    # out and the test ends as an expected failure saying so (never a silent pass).
    has_chart = chart is not None

    # Start: the watchlist lists the market.
    await wait_until(watchlist.is_populated, message="the watchlist never filled")

    # Pick a symbol from the watchlist: chart, depth and ticket follow.
    pick_in_watchlist(watchlist, SYMBOL)
    await wait_until(lambda: (depth.symbol, ticket.symbol) == (SYMBOL, SYMBOL))
    await wait_until(depth.is_populated, message="depth never arrived")
    if has_chart:
        await wait_until(lambda: chart.symbol == SYMBOL, message="the chart did not follow")
        await wait_until(chart.is_populated, message="the chart never drew")
    tick = session.instruments[SYMBOL].tick_size
    reference = market.prices[SYMBOL]
    best_ask = reference + tick
    assert depth.ladder.ladder_model.row_of(best_ask) >= 0

    # Place a limit order from the ticket, below the market: it rests.
    resting = reference - 3 * tick
    ticket.set_side("buy")
    ticket.set_order_kind("limit")
    for edit, text in ((ticket.form.quantity, "4"), (ticket.form.price, str(resting))):
        edit.setText(text)
        edit.textEdited.emit(text)
    ticket.form.submit.click()
    await wait_until(lambda: ticket.form.status.text().startswith("Order "))
    (order_id,) = [o.order_id for o in session.open_orders(SYMBOL)]

    # It appears in open orders, on the ladder and on the chart.
    table = open_orders.table
    await wait_until(lambda: cells(table, "Order id") == [str(order_id)])
    assert cells(table, "Price") == [f"{resting:,.2f}"]
    await wait_until(lambda: depth.ladder.ladder_model.row_of(resting) >= 0)
    row = depth.ladder.ladder_model.row_at(depth.ladder.ladder_model.row_of(resting))
    assert row.my_buy == Decimal(4)
    if has_chart:
        await wait_until(lambda: order_id in chart_order_ids(chart), message="no order line")
    shot(window, "trader_path_order")

    # Modify it to the best ask: it fills against the market.
    table.view.selectRow(0)
    open_orders.modify_selected()
    dialog = open_orders.dialog
    assert dialog is not None
    dialog.price.setText(str(best_ask))
    dialog.submit()
    await wait_until(lambda: session.orders[order_id].status == "filled")
    await wait_until(lambda: table.proxy.rowCount() == 0)
    if has_chart:
        await wait_until(lambda: order_id not in chart_order_ids(chart))

    # The fill shows in fills and positions.
    await wait_until(lambda: cells(fills.table, "Order id") == [str(order_id)])
    assert cells(fills.table, "Price") == [f"{best_ask:,.2f}"]
    position_table = positions.positions_table
    await wait_until(lambda: cells(position_table, "Symbol") == [SYMBOL])
    assert cells(position_table, "Qty") == ["4"]

    # P&L updates as the market trades lower.
    await market.trade(SYMBOL, side="sell", quantity="1")  # at the maker's best bid
    loss = 4 * (reference - tick - best_ask)
    await wait_until(lambda: positions.total_pnl == loss, message=f"P&L {positions.total_pnl}")
    assert cells(position_table, "Unrealised") == [f"{loss:,.2f}"]
    shot(window, "trader_path_filled")

    # Cancel all: every working order goes.
    for steps in (4, 5):
        ticket.form.price.setText(str(reference - steps * tick))
        ticket.form.price.textEdited.emit(ticket.form.price.text())
        ticket.submit()
        await wait_until(lambda: not ticket.sending)
    await wait_until(lambda: table.proxy.rowCount() == 2)
    open_orders.cancel_all_button.click()
    await wait_until(lambda: table.proxy.rowCount() == 0)
    assert session.open_orders() == []
    if not has_chart:
        pytest.xfail("no chart panel yet (workstation/charts/chart_dock.py): chart not checked")
