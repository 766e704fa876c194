"""The portfolio panel on a real account: holdings, FIFO P&L, allocation, equity curve."""

from __future__ import annotations

from decimal import Decimal

from exchange_server.protocol import PlaceOrderRequest
from tests.workstation.conftest import Market, WaitUntil
from workstation.docks.portfolio import FIFO_TIP, PortfolioDock
from workstation.docks.portfolio_charts import CASH_LABEL
from workstation.session.links import LinkGroups
from workstation.session.session import Session


async def test_holdings_value_and_pnl_follow_the_account(
    session: Session, market: Market, wait_until: WaitUntil
) -> None:
    dock = PortfolioDock(session, LinkGroups())
    dock.resize(900, 560)
    await wait_until(lambda: dock.is_populated())
    start = dock.summary
    assert start is not None and start.cash == Decimal(1_000_000)
    for quantity in ("4", "6"):
        await session.place_order(
            PlaceOrderRequest(
                symbol="TCS", side="buy", quantity=Decimal(quantity), order_type="market"
            )
        )
    await wait_until(lambda: [h.quantity for h in dock.model.holdings] == [Decimal(10)])
    await session.place_order(
        PlaceOrderRequest(symbol="TCS", side="sell", quantity=Decimal(5), order_type="market")
    )
    await wait_until(lambda: [h.quantity for h in dock.model.holdings] == [Decimal(5)])
    await wait_until(lambda: dock.summary is not None and dock.summary.cash != start.cash)
    summary = dock.summary
    assert summary is not None
    (tcs,) = dock.model.holdings
    assert summary.account_value == summary.cash + tcs.value
    assert summary.total_pnl == summary.realised + summary.unrealised
    assert FIFO_TIP in dock.figures["realised"].toolTip()
    labels = [label for label, _ in dock.allocation.slices()]
    assert labels == ["Information Technology", CASH_LABEL]
    _times, values = dock.equity.samples()
    assert len(values) >= 1 and values[0] == float(start.account_value)
