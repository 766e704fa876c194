"""The blotters on a real exchange: working orders modified and cancelled (one, then all),
a fill in fills, positions with P&L that moves with the market, holdings, funds and the
ledger."""

from __future__ import annotations

from decimal import Decimal

from exchange_server.protocol import PlaceOrderRequest
from tests.workstation.conftest import Market, WaitUntil
from tests.workstation.trading_shots import shot
from workstation.docks.blotters import (
    FillsDock,
    FundsDock,
    OpenOrdersDock,
    OrderHistoryDock,
    PositionsDock,
)
from workstation.docks.table_view import BlotterTable
from workstation.session.links import LinkGroups
from workstation.session.session import Session

SYMBOL = "RELIANCE"


def cells(table: BlotterTable, title: str) -> list[str]:
    """The column ``title`` as shown, top to bottom."""
    column = [c.title for c in table.model.columns].index(title)
    return [table.proxy.index(r, column).data() for r in range(table.proxy.rowCount())]


def select(table: BlotterTable, order_id: int) -> None:
    for r in range(table.proxy.rowCount()):
        if cells(table, "Order id")[r] == str(order_id):
            table.view.selectRow(r)
            return
    raise AssertionError(f"order {order_id} is not shown")


def buy(symbol: str, quantity: int, price: Decimal) -> PlaceOrderRequest:
    return PlaceOrderRequest(symbol=symbol, side="buy", quantity=Decimal(quantity), price=price)


async def test_open_orders_modify_cancel_and_cancel_all(
    session: Session, market: Market, wait_until: WaitUntil
) -> None:
    links = LinkGroups()
    dock = OpenOrdersDock(session, links)
    history = OrderHistoryDock(session, links)
    dock.resize(900, 260)
    dock.show()
    tick = session.instruments[SYMBOL].tick_size
    below = market.prices[SYMBOL] - 3 * tick
    first = await session.place_order(buy(SYMBOL, 5, below))
    second = await session.place_order(buy("TCS", 2, market.prices["TCS"] - 3 * tick))
    table = dock.table
    await wait_until(lambda: table.proxy.rowCount() == 2)
    assert cells(table, "Symbol") == ["TCS", SYMBOL]  # newest first
    assert cells(table, "Side") == ["BUY", "BUY"]
    assert table.count.text() == "2 working"

    # Modify: a bad price is refused in the dialog, a good change reaches the exchange.
    select(table, first.order_id)
    dock.modify_selected()
    dialog = dock.dialog
    assert dialog is not None and dialog.isVisible()
    dialog.price.setText(str(below + tick / 5))
    dialog.submit()
    assert dialog.error.text() == f"Price must be a multiple of the tick size (tick size {tick})"
    lower = below - 2 * tick
    dialog.quantity.setText("7")
    dialog.price.setText(str(lower))
    dialog.submit()
    await wait_until(lambda: table.status.text() == f"Order {first.order_id} modified")
    await wait_until(lambda: session.orders[first.order_id].price == lower)
    row = cells(table, "Order id").index(str(first.order_id))
    await wait_until(lambda: cells(table, "Qty")[row] == "7")
    assert cells(table, "Price")[row] == f"{lower:,.2f}"
    shot(dock, "open_orders")

    # Cancel the selected order; the other stays.
    select(table, second.order_id)
    dock.cancel_selected()
    await wait_until(lambda: table.proxy.rowCount() == 1)
    assert cells(table, "Order id") == [str(first.order_id)]

    # Cancel all.
    await session.place_order(buy("INFY", 1, market.prices["INFY"] - 3 * tick))
    await wait_until(lambda: table.proxy.rowCount() == 2)
    dock.cancel_all()
    await wait_until(lambda: table.proxy.rowCount() == 0)
    await wait_until(lambda: table.status.text() == "Cancelled 2 orders")
    assert table.count.text() == "No working orders"

    # History keeps them all, with their final state.
    await wait_until(lambda: history.table.proxy.rowCount() == 3)
    assert sorted(cells(history.table, "Status")) == ["cancelled"] * 3
    dock.close()


async def test_refusals_in_the_blotter_are_shown(
    session: Session, market: Market, wait_until: WaitUntil
) -> None:
    dock = OpenOrdersDock(session, LinkGroups())
    notices: list[tuple[str, str]] = []
    session.notice.connect(lambda level, text: notices.append((level, text)))
    order = await session.place_order(buy(SYMBOL, 1, market.prices[SYMBOL] - 3 * Decimal("0.05")))
    await session.cancel_order(order.order_id)
    dock.cancel(order.order_id)  # already cancelled: the exchange says so
    expected = f"Cancel {order.order_id} refused: The order is no longer open"
    await wait_until(lambda: dock.table.status.text() == expected)
    assert ("error", expected) in notices


async def test_a_fill_reaches_fills_positions_holdings_and_funds(
    session: Session, market: Market, wait_until: WaitUntil
) -> None:
    links = LinkGroups()
    fills, positions, funds = (
        FillsDock(session, links),
        PositionsDock(session, links),
        FundsDock(session, links),
    )
    for dock in (fills, positions, funds):
        dock.resize(900, 280)
        dock.show()
    await wait_until(lambda: "INR" in session.balances)
    await wait_until(lambda: funds.ledger_loaded)
    start_cash = session.balances["INR"].balance
    tick = session.instruments[SYMBOL].tick_size
    ask = market.prices[SYMBOL] + tick  # the maker's best ask
    await session.place_order(buy(SYMBOL, 5, ask))  # marketable: fills at once

    await wait_until(lambda: fills.table.proxy.rowCount() == 1)
    assert cells(fills.table, "Side") == ["BUY"]
    assert cells(fills.table, "Qty") == ["5"]
    assert cells(fills.table, "Price") == [f"{ask:,.2f}"]
    assert cells(fills.table, "Value") == [f"{5 * ask:,.2f}"]

    table = positions.positions_table
    await wait_until(lambda: cells(table, "Qty") == ["5"])
    assert cells(table, "Symbol") == [SYMBOL]
    assert cells(table, "Avg price") == [f"{ask:,.2f}"]

    # The market trades lower: the position's P&L follows, in the loss colour.
    bid = market.prices[SYMBOL] - tick
    await market.trade(SYMBOL, side="sell", quantity="1")  # hits the maker's best bid
    loss = 5 * (bid - ask)
    await wait_until(
        lambda: cells(table, "Unrealised") == [f"{loss:,.2f}"],
        message=f"{cells(table, 'Unrealised')} {cells(table, 'LTP')} {loss}",
    )
    assert cells(table, "LTP") == [f"{bid:,.2f}"]
    assert positions.total_pnl == loss
    assert "Unrealised" in positions.totals.text() and f"{loss:,.2f}" in positions.totals.text()

    positions.tabs.setCurrentIndex(1)
    holdings = positions.holdings_table
    await wait_until(lambda: cells(holdings, "Symbol") == [SYMBOL])
    assert cells(holdings, "Quantity") == ["5"]
    assert cells(holdings, "Value") == [f"{5 * bid:,.2f}"]
    shot(positions, "positions_holdings")
    positions.tabs.setCurrentIndex(0)
    shot(positions, "positions")
    shot(fills, "fills")

    # Funds: the cash paid, and the ledger entry for it.
    spent = 5 * ask
    await wait_until(lambda: cells(funds.cash_table, "Balance") == [f"{start_cash - spent:,.2f}"])
    assert cells(funds.cash_table, "Asset") == ["INR"]
    await wait_until(lambda: f"-{spent:,.2f}" in cells(funds.ledger_table, "Change"))
    assert cells(funds.ledger_table, "Asset")[:2] == [SYMBOL, "INR"]  # newest first
    assert cells(funds.ledger_table, "Change")[0] == "+5"  # the shares bought
    shot(funds, "funds")
