"""The session: live state on the GUI thread, coalesced signals, shared interest, orders."""

from __future__ import annotations

from decimal import Decimal

from exchange_server.protocol import PlaceOrderRequest
from tests.workstation.conftest import Market, WaitUntil
from workstation.client import ApiError
from workstation.session.session import Session


async def test_watched_quotes_arrive_as_coalesced_sets(
    session: Session, market: Market, wait_until: WaitUntil
) -> None:
    batches: list[set[str]] = []
    session.quotes_changed.connect(lambda symbols: batches.append(set(symbols)))
    withdraw = session.watch_quotes(["RELIANCE", "TCS"])
    await wait_until(lambda: {"RELIANCE", "TCS"} <= set(session.quotes))
    # Both snapshots arrive in one flush or a few; never one signal per message.
    assert sum(len(batch) for batch in batches) <= 4
    quote = session.quotes["RELIANCE"]
    assert quote.bid is not None and quote.ask is not None and quote.bid < quote.ask
    withdraw()


async def test_interest_is_shared_and_withdrawn_by_the_last_watcher(
    session: Session, market: Market, wait_until: WaitUntil
) -> None:
    first = session.watch_depth("INFY")
    second = session.watch_depth("INFY")
    await wait_until(lambda: "INFY" in session.depth)
    assert session.watching()[("depth", "INFY", "20")] == 2
    assert session.depth["INFY"].bids and session.depth["INFY"].asks
    first()
    first()  # withdrawing twice is harmless
    assert session.watching()[("depth", "INFY", "20")] == 1
    second()
    assert ("depth", "INFY", "20") not in session.watching()
    assert session.stream is not None
    await wait_until(lambda: "depth:INFY:20" not in session.stream.channels)


async def test_trades_and_candles_follow_the_market(
    session: Session, market: Market, wait_until: WaitUntil
) -> None:
    session.watch_trades("SBIN")
    session.watch_candles("SBIN", "1m")
    await wait_until(lambda: "SBIN" in session.trades and ("SBIN", "1m") in session.candles)
    before = len(session.trades["SBIN"])
    await market.trade("SBIN", quantity="3")
    await wait_until(lambda: len(session.trades["SBIN"]) > before)
    assert session.trades["SBIN"][-1].quantity == Decimal(3)
    assert session.candles[("SBIN", "1m")][-1].volume >= Decimal(3)


async def test_orders_fills_positions_and_balances_follow_the_account(
    session: Session, market: Market, wait_until: WaitUntil
) -> None:
    await wait_until(lambda: "INR" in session.balances)
    changed: list[str] = []
    session.orders_changed.connect(lambda: changed.append("orders"))
    request = PlaceOrderRequest(symbol="TCS", side="buy", quantity=Decimal(2), order_type="market")
    order = await session.place_order(request)
    await wait_until(lambda: session.orders[order.order_id].status == "filled")
    await wait_until(lambda: "TCS" in session.positions and session.fills)
    assert session.positions["TCS"].quantity == Decimal(2)
    assert session.fills[-1].order_id == order.order_id
    assert changed

    resting = await session.place_order(
        PlaceOrderRequest(
            symbol="TCS", side="buy", quantity=Decimal(1), price=session.instruments["TCS"].band_low
        )
    )
    await wait_until(lambda: resting.order_id in {o.order_id for o in session.open_orders()})
    result = await session.cancel_all()
    assert [o.order_id for o in result.cancelled] == [resting.order_id]
    await wait_until(lambda: not session.open_orders())


async def test_refusals_carry_the_servers_reason(session: Session) -> None:
    request = PlaceOrderRequest(symbol="NOSUCH", side="buy", quantity=Decimal(1), price=Decimal(10))
    try:
        await session.place_order(request)
    except ApiError as error:
        assert error.code and error.message
    else:
        raise AssertionError("an order for an unknown symbol was accepted")
