"""Snapshots: capture and restore are inverses, and a restored exchange behaves the same."""

from __future__ import annotations

import orjson
import pytest

from exchange_server.domain import snapshot
from exchange_server.domain.commands import (
    CancelAll,
    Command,
    Deposit,
    EndOfDay,
    ModifyOrder,
    OpenAccount,
    PlaceOrder,
    SetFees,
    SetTradingStatus,
    Tick,
)
from exchange_server.domain.enums import OrderType, SelfTradePrevention, TimeInForce, TradingStatus
from exchange_server.domain.exchange import Exchange
from tests.domain.conftest import (
    ALICE,
    BOB,
    BUY,
    CAROL,
    CURRENCY,
    OTHER,
    SECOND,
    SELL,
    SYMBOL,
    Market,
    cost,
)


def round_trip(exchange: Exchange) -> Exchange:
    return snapshot.restore(orjson.loads(snapshot.encode(snapshot.capture(exchange))))


def assert_same_answers(market: Market, commands: list[Command]) -> None:
    restored = round_trip(market.exchange)
    assert snapshot.state_hash(restored) == snapshot.state_hash(market.exchange)
    for command in commands:
        market.advance(SECOND)
        assert restored.apply(command, market.now) == market.apply(command), command
        assert snapshot.state_hash(restored) == snapshot.state_hash(market.exchange)


def busy_market() -> Market:
    market = Market(maker_ppm=500, taker_ppm=1_500, stp=SelfTradePrevention.CANCEL_OLDEST)
    market.place(ALICE, BUY, 10, 9_900, client_order_id="a1")
    market.place(BOB, BUY, 10, 9_900)
    market.place(CAROL, SELL, 5, 10_100, tif=TimeInForce.DAY)
    market.place(BOB, SELL, 5, 10_000)
    market.place(CAROL, BUY, 2, 10_000)  # a trade: last price 100.00
    market.place(
        ALICE, BUY, 3, order_type=OrderType.STOP_MARKET, trigger_price=10_100, tif=TimeInForce.DAY
    )
    market.place(BOB, SELL, 4, 9_950, tif=TimeInForce.GTD, expire_at=market.now + 30 * SECOND)
    market.place(ALICE, BUY, 4, 4_900, symbol=OTHER)
    market.accept(SetTradingStatus(OTHER, TradingStatus.HALTED))
    return market


def test_round_trip_keeps_the_state_hash() -> None:
    market = busy_market()
    state = snapshot.capture(market.exchange)
    restored = round_trip(market.exchange)
    assert orjson.loads(snapshot.encode(snapshot.capture(restored))) == orjson.loads(
        snapshot.encode(state)
    )
    assert snapshot.state_hash(restored) == snapshot.state_hash(market.exchange)
    assert restored.books[SYMBOL].depth() == market.depth()


def test_restored_exchange_answers_like_the_original() -> None:
    market = busy_market()
    assert_same_answers(
        market,
        [
            PlaceOrder(BOB, SYMBOL, BUY, 10, price=10_150),  # fires the stop, trades fees
            PlaceOrder(ALICE, SYMBOL, BUY, 10, price=9_900, client_order_id="a1"),
            ModifyOrder(BOB, 2, quantity=20),
            PlaceOrder(ALICE, SYMBOL, SELL, 30, price=9_900),  # sweeps with STP
            Tick(),
            Tick(),
            EndOfDay(),
            SetFees(2_000, 100),
            CancelAll(BOB),
        ],
    )


def test_restored_exchange_re_sizes_fees_in_the_same_order() -> None:
    # Dave can cover the higher fee on only one of his two buys; which one must not depend
    # on whether the exchange was restored from a snapshot in between.
    market = Market()
    dave = 20
    market.accept(OpenAccount(dave))
    extra = 99_000  # 1% of the first order's 9,900,000
    market.accept(Deposit(dave, CURRENCY, cost(9_900, 10) + cost(9_800, 10) + extra))
    first = market.place(dave, BUY, 10, 9_900)
    market.place(dave, BUY, 10, 9_800)
    market.modify(dave, first.order_id, price=9_900 - 5)  # re-queued: new time priority
    market.modify(dave, first.order_id, price=9_900)

    assert_same_answers(market, [SetFees(0, 10_000), EndOfDay()])


def test_restored_exchange_expires_in_the_same_order() -> None:
    market = Market()
    orders = [market.place(ALICE, BUY, 1, 9_900 - 5 * i, tif=TimeInForce.DAY) for i in range(3)]
    market.modify(ALICE, orders[0].order_id, quantity=2)  # re-queued
    assert_same_answers(market, [EndOfDay()])


def test_unknown_snapshot_version_is_refused() -> None:
    state = snapshot.capture(Market().exchange)
    state["version"] = 999
    with pytest.raises(ValueError, match="unsupported snapshot format"):
        snapshot.restore(state)
