"""Stop orders: held off the book until the last trade price reaches the trigger."""

from __future__ import annotations

from exchange_server.domain.commands import (
    CancelOrder,
    Deposit,
    EndOfDay,
    ListInstrument,
    ModifyOrder,
    PlaceOrder,
    SetReferencePrice,
)
from exchange_server.domain.enums import AssetClass, OrderStatus, OrderType, TimeInForce
from exchange_server.domain.events import Event, OrderUpdated
from exchange_server.domain.rejections import Reject
from tests.domain.conftest import (
    ALICE,
    BAND_HIGH,
    BOB,
    BUY,
    CAROL,
    CASH,
    CURRENCY,
    SELL,
    SYMBOL,
    Market,
    Placed,
    cost,
    last_update,
    of_type,
    trades,
    updates,
)

STOP_MARKET, STOP_LIMIT = OrderType.STOP_MARKET, OrderType.STOP_LIMIT


def trade_at(market: Market, price: int) -> list[Event]:
    """Print one share at ``price`` between Bob and Carol."""
    market.place(BOB, SELL, 1, price)
    events = market.place(CAROL, BUY, 1, price).events
    assert [t.price for t in trades(events)][:1] == [price]
    return events


def stop(
    market: Market,
    side: str,
    quantity: int,
    trigger: int,
    price: int = 0,
    account: int = ALICE,
    tif: TimeInForce = TimeInForce.GTC,
) -> Placed:
    order_type = STOP_LIMIT if price else STOP_MARKET
    if order_type == STOP_MARKET and tif == TimeInForce.GTC:
        tif = TimeInForce.DAY
    return market.place(
        account,
        side,  # type: ignore[arg-type]
        quantity,
        price,
        order_type=order_type,
        tif=tif,
        trigger_price=trigger,
    )


def triggered_ids(events: list[Event]) -> list[int]:
    return [e.order_id for e in of_type(events, OrderUpdated) if e.status == "triggered"]


def test_stop_waits_off_the_book_holding_its_worst_case(market: Market) -> None:
    buy_stop = stop(market, BUY, 5, trigger=10_200)
    sell_stop = stop(market, SELL, 5, trigger=9_800, price=9_750)

    assert buy_stop.status == OrderStatus.NEW
    assert buy_stop.final.trigger_price == 10_200
    assert market.depth() == ([], [])
    assert market.held_cash(ALICE) == cost(BAND_HIGH, 5)  # a market buy: the band edge
    assert market.held_shares(ALICE) == 5
    assert sell_stop.final.price == 9_750


def test_stop_market_buy_fires_when_the_last_trade_reaches_the_trigger(market: Market) -> None:
    buy_stop = stop(market, BUY, 5, trigger=10_200)
    market.place(BOB, SELL, 10, 10_300)

    assert triggered_ids(trade_at(market, 10_195)) == []  # below the trigger: nothing
    events = trade_at(market, 10_200)

    assert triggered_ids(events) == [buy_stop.order_id]
    stop_trades = [t for t in trades(events) if t.buy_order_id == buy_stop.order_id]
    assert [(t.price, t.quantity) for t in stop_trades] == [(10_300, 5)]
    assert last_update(events, buy_stop.order_id).status == OrderStatus.FILLED
    assert market.held_cash(ALICE) == 0
    assert market.cash(ALICE) == CASH - cost(10_300, 5)
    market.assert_balanced()


def test_stop_limit_sell_fires_and_rests_at_its_limit(market: Market) -> None:
    sell_stop = stop(market, SELL, 5, trigger=9_800, price=9_750)

    events = trade_at(market, 9_800)

    assert triggered_ids(events) == [sell_stop.order_id]
    rested = last_update(events, sell_stop.order_id)
    assert (rested.status, rested.remaining) == (OrderStatus.TRIGGERED, 5)
    assert market.depth() == ([], [(9_750, 5, 1)])
    assert market.held_shares(ALICE) == 5
    # Once triggered it has no trigger left to change.
    assert market.refuse(ModifyOrder(ALICE, sell_stop.order_id, trigger_price=9_700)) == (
        Reject.INVALID_TRIGGER
    )


def test_triggers_must_not_already_be_crossed(market: Market) -> None:
    trade_at(market, 10_000)
    cases = [
        (PlaceOrder(ALICE, SYMBOL, BUY, 1, STOP_MARKET, trigger_price=10_000), False),
        (PlaceOrder(ALICE, SYMBOL, BUY, 1, STOP_MARKET, trigger_price=9_995), False),
        (PlaceOrder(ALICE, SYMBOL, SELL, 1, STOP_MARKET, trigger_price=10_000), False),
        (PlaceOrder(ALICE, SYMBOL, SELL, 1, STOP_MARKET, trigger_price=10_005), False),
        (PlaceOrder(ALICE, SYMBOL, BUY, 1, STOP_MARKET, trigger_price=10_005), True),
        (PlaceOrder(ALICE, SYMBOL, SELL, 1, STOP_MARKET, trigger_price=9_995), True),
    ]
    for command, accepted in cases:
        if accepted:
            market.accept(command)
        else:
            assert market.refuse(command) == Reject.TRIGGER_ALREADY_CROSSED, command


def test_several_stops_fire_in_trigger_order_then_time_order(market: Market) -> None:
    # Stop-limit buys that rest far below the market, so firing is all they do.
    high = stop(market, BUY, 1, trigger=10_300, price=9_000)
    low_first = stop(market, BUY, 1, trigger=10_200, price=9_000)
    low_second = stop(market, BUY, 1, trigger=10_200, price=9_000)
    not_yet = stop(market, BUY, 1, trigger=10_400, price=9_000)

    events = trade_at(market, 10_300)

    expected = [low_first.order_id, low_second.order_id, high.order_id]
    assert triggered_ids(events) == expected
    assert market.queue(BUY, 9_000) == expected
    assert market.live(not_yet.order_id) is not None
    assert updates(events, not_yet.order_id) == []


def test_sell_stops_fire_highest_trigger_first(market: Market) -> None:
    low = stop(market, SELL, 1, trigger=9_700, price=11_000)
    high = stop(market, SELL, 1, trigger=9_900, price=11_000)

    events = trade_at(market, 9_700)

    assert triggered_ids(events) == [high.order_id, low.order_id]


def test_stops_cascade(market: Market) -> None:
    first = stop(market, BUY, 1, trigger=10_100)
    second = stop(market, BUY, 1, trigger=10_200)
    market.place(BOB, SELL, 1, 10_200)
    market.place(BOB, SELL, 1, 10_300)

    events = trade_at(market, 10_100)

    assert [t.price for t in trades(events)] == [10_100, 10_200, 10_300]
    assert triggered_ids(events) == [first.order_id, second.order_id]
    assert market.last_price() == 10_300
    assert market.depth()[1] == []
    market.assert_balanced()


def test_modifying_a_stop_trigger_changes_when_it_fires(market: Market) -> None:
    moved = stop(market, BUY, 1, trigger=10_200, price=9_000)
    other = stop(market, BUY, 1, trigger=10_300, price=9_000)

    events = market.modify(ALICE, moved.order_id, trigger_price=10_400)

    assert last_update(events, moved.order_id).trigger_price == 10_400
    assert triggered_ids(trade_at(market, 10_250)) == []  # the old trigger is gone
    assert triggered_ids(trade_at(market, 10_300)) == [other.order_id]
    assert triggered_ids(trade_at(market, 10_400)) == [moved.order_id]


def test_modifying_a_stop_trigger_is_checked_against_the_last_trade(market: Market) -> None:
    buy_stop = stop(market, BUY, 1, trigger=10_200)
    trade_at(market, 10_100)
    for trigger, reason in (
        (10_100, Reject.TRIGGER_ALREADY_CROSSED),
        (10_101, Reject.INVALID_TRIGGER),
    ):
        command = ModifyOrder(ALICE, buy_stop.order_id, trigger_price=trigger)
        assert market.refuse(command) == reason


def test_modifying_a_stop_limit_resizes_its_reservation(market: Market) -> None:
    buy_stop = stop(market, BUY, 4, trigger=10_200, price=10_250)
    assert market.held_cash(ALICE) == cost(10_250, 4)

    events = market.modify(ALICE, buy_stop.order_id, quantity=6, price=10_300)

    changed = last_update(events, buy_stop.order_id)
    assert (changed.quantity, changed.price, changed.status) == (6, 10_300, OrderStatus.NEW)
    assert market.held_cash(ALICE) == cost(10_300, 6)
    assert market.depth() == ([], [])  # still waiting: a modify does not trigger it
    market.assert_balanced()


def test_a_stop_market_order_takes_no_price(market: Market) -> None:
    buy_stop = stop(market, BUY, 4, trigger=10_200)
    command = ModifyOrder(ALICE, buy_stop.order_id, price=10_000)
    assert market.refuse(command) == Reject.INVALID_PRICE
    market.modify(ALICE, buy_stop.order_id, quantity=2)
    assert market.held_cash(ALICE) == cost(BAND_HIGH, 2)


def test_triggered_stop_market_is_protected_by_the_tighter_band(market: Market) -> None:
    buy_stop = stop(market, BUY, 2, trigger=10_100)
    market.place(BOB, SELL, 1, 10_400)
    market.place(BOB, SELL, 1, 10_500)
    market.accept(SetReferencePrice(SYMBOL, 9_500))  # band now 8_550..10_450

    events = trade_at(market, 10_100)

    mine = [t for t in trades(events) if t.buy_order_id == buy_stop.order_id]
    assert [(t.price, t.quantity) for t in mine] == [(10_400, 1)]
    final = last_update(events, buy_stop.order_id)
    assert (final.status, final.filled) == (OrderStatus.CANCELLED, 1)
    assert market.depth()[1] == [(10_500, 1, 1)]
    assert market.exchange.instruments[SYMBOL].status == "open"
    assert market.held_cash(ALICE) == 0
    market.assert_balanced()


def test_post_only_stop_limit_that_would_cross_when_triggered_is_cancelled(
    market: Market,
) -> None:
    post = market.place(
        ALICE,
        BUY,
        1,
        10_300,
        order_type=STOP_LIMIT,
        trigger_price=10_200,
        post_only=True,
    )
    market.place(BOB, SELL, 5, 10_300)

    events = trade_at(market, 10_200)

    final = last_update(events, post.order_id)
    assert (final.status, final.filled) == (OrderStatus.CANCELLED, 0)
    assert final.reason == "would cross while post-only"
    assert market.held_cash(ALICE) == 0


def test_stop_ioc_fires_and_cancels_what_it_cannot_fill(market: Market) -> None:
    ioc = stop(market, SELL, 3, trigger=9_800, price=9_700, tif=TimeInForce.IOC)
    market.place(BOB, BUY, 1, 9_750)

    events = trade_at(market, 9_800)

    final = last_update(events, ioc.order_id)
    assert (final.status, final.filled) == (OrderStatus.CANCELLED, 1)
    assert market.held_shares(ALICE) == 0


def test_stop_orders_cannot_be_fill_or_kill(market: Market) -> None:
    command = PlaceOrder(
        ALICE, SYMBOL, BUY, 1, STOP_LIMIT, price=10_300, trigger_price=10_200, tif=TimeInForce.FOK
    )
    assert market.refuse(command) == Reject.INVALID_TIME_IN_FORCE


def test_only_stop_orders_take_a_trigger(market: Market) -> None:
    command = PlaceOrder(ALICE, SYMBOL, BUY, 1, price=10_000, trigger_price=10_200)
    assert market.refuse(command) == Reject.INVALID_TRIGGER
    for trigger in (0, -5, 10_201):
        command = PlaceOrder(ALICE, SYMBOL, BUY, 1, STOP_MARKET, trigger_price=trigger)
        assert market.refuse(command) == Reject.INVALID_TRIGGER


def test_pending_stops_can_be_cancelled_and_day_stops_expire(market: Market) -> None:
    cancelled = stop(market, BUY, 1, trigger=10_200)
    expiring = stop(market, SELL, 1, trigger=9_800, tif=TimeInForce.DAY)
    staying = stop(market, SELL, 1, trigger=9_700, price=9_650, tif=TimeInForce.GTC)

    events = market.accept(CancelOrder(ALICE, cancelled.order_id))
    assert last_update(events, cancelled.order_id).status == OrderStatus.CANCELLED
    events = market.accept(EndOfDay())
    assert last_update(events, expiring.order_id).status == OrderStatus.EXPIRED
    assert market.live(staying.order_id) is not None
    assert market.held_cash(ALICE) == 0
    assert market.held_shares(ALICE) == 1
    # Cancelled and expired stops never fire.
    assert triggered_ids(trade_at(market, 10_200)) == []
    assert triggered_ids(trade_at(market, 9_800)) == []


def test_a_long_cascade_of_stops_runs_to_the_end(market: Market) -> None:
    # Each stop buys the next ask up and so triggers the next one: hundreds deep.
    depth = 600
    market.accept(
        ListInstrument(
            "DEEP", "Deep", AssetClass.EQUITY, "NSE", CURRENCY, tick_size=1, reference_price=100_000
        )
    )
    market.accept(Deposit(ALICE, CURRENCY, 10**11))
    market.accept(Deposit(BOB, "DEEP", depth + 1))
    for step in range(1, depth + 2):
        market.place(BOB, SELL, 1, 100_000 + step, symbol="DEEP")
    stops = [
        market.place(
            ALICE,
            BUY,
            1,
            order_type=STOP_MARKET,
            tif=TimeInForce.DAY,
            trigger_price=100_000 + step,
            symbol="DEEP",
        ).order_id
        for step in range(1, depth + 1)
    ]

    events = market.place(CAROL, BUY, 1, 100_001, symbol="DEEP", tif=TimeInForce.IOC).events

    assert triggered_ids(events) == stops
    assert [t.price for t in trades(events)] == [100_000 + s for s in range(1, depth + 2)]
    assert market.exchange.last_price["DEEP"] == 100_000 + depth + 1
    assert market.exchange.books["DEEP"].depth() == ([], [])
    market.assert_balanced()
