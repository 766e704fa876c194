"""Modifying and cancelling orders: queue priority, reservations and refusals."""

from __future__ import annotations

from exchange_server.domain.commands import (
    CancelAll,
    CancelOrder,
    ModifyOrder,
    PlaceOrder,
    SetTradingStatus,
)
from exchange_server.domain.enums import OrderStatus, OrderType, TimeInForce, TradingStatus
from exchange_server.domain.events import CommandRejected, OrderUpdated
from exchange_server.domain.rejections import Reject
from tests.domain.conftest import (
    ALICE,
    BOB,
    BUY,
    CAROL,
    CASH,
    OTHER,
    SELL,
    SHARES,
    SYMBOL,
    Market,
    cost,
    last_update,
    of_type,
    trades,
    updates,
)

# -- queue priority -------------------------------------------------------------------------


def test_reducing_quantity_keeps_queue_priority_and_releases_cash(market: Market) -> None:
    alice = market.place(ALICE, BUY, 10, 9_900)
    bob = market.place(BOB, BUY, 10, 9_900)

    events = market.modify(ALICE, alice.order_id, quantity=4)

    changed = last_update(events, alice.order_id)
    assert (changed.quantity, changed.remaining, changed.status) == (4, 4, OrderStatus.NEW)
    assert market.queue(BUY, 9_900) == [alice.order_id, bob.order_id]
    assert market.depth() == ([(9_900, 14, 2)], [])
    assert market.held_cash(ALICE) == cost(9_900, 4)
    sell = market.place(CAROL, SELL, 4, 9_900)
    assert [t.buy_order_id for t in sell.trades] == [alice.order_id]


def test_raising_quantity_loses_queue_priority(market: Market) -> None:
    alice = market.place(ALICE, BUY, 10, 9_900)
    bob = market.place(BOB, BUY, 10, 9_900)

    events = market.modify(ALICE, alice.order_id, quantity=12)

    assert last_update(events, alice.order_id).quantity == 12
    assert market.queue(BUY, 9_900) == [bob.order_id, alice.order_id]
    assert market.held_cash(ALICE) == cost(9_900, 12)
    sell = market.place(CAROL, SELL, 12, 9_900)
    assert [(t.buy_order_id, t.quantity) for t in sell.trades] == [
        (bob.order_id, 10),
        (alice.order_id, 2),
    ]


def test_changing_price_loses_queue_priority_even_when_changed_back(market: Market) -> None:
    alice = market.place(ALICE, BUY, 10, 9_900)
    bob = market.place(BOB, BUY, 10, 9_900)

    market.modify(ALICE, alice.order_id, price=9_895)
    assert market.depth() == ([(9_900, 10, 1), (9_895, 10, 1)], [])
    assert market.held_cash(ALICE) == cost(9_895, 10)
    market.modify(ALICE, alice.order_id, price=9_900)

    assert market.queue(BUY, 9_900) == [bob.order_id, alice.order_id]
    assert market.depth() == ([(9_900, 20, 2)], [])
    assert market.held_cash(ALICE) == cost(9_900, 10)


def test_reducing_quantity_and_changing_price_together_loses_priority(market: Market) -> None:
    alice = market.place(ALICE, SELL, 10, 10_100)
    bob = market.place(BOB, SELL, 10, 10_050)

    market.modify(ALICE, alice.order_id, quantity=5, price=10_050)

    assert market.queue(SELL, 10_050) == [bob.order_id, alice.order_id]
    assert market.held_shares(ALICE) == 5


def test_a_price_change_that_crosses_trades_immediately(market: Market) -> None:
    alice = market.place(ALICE, BUY, 10, 9_900)
    bob = market.place(BOB, SELL, 6, 10_000)

    events = market.modify(ALICE, alice.order_id, price=10_050)

    [trade] = trades(events)
    assert (trade.price, trade.quantity, trade.buy_order_id, trade.sell_order_id) == (
        10_000,
        6,
        alice.order_id,
        bob.order_id,
    )
    after = last_update(events, alice.order_id)
    assert (after.status, after.filled, after.remaining, after.price) == (
        OrderStatus.PARTIALLY_FILLED,
        6,
        4,
        10_050,
    )
    assert market.depth() == ([(10_050, 4, 1)], [])
    assert market.cash(ALICE) == CASH - cost(10_000, 6)
    assert market.held_cash(ALICE) == cost(10_050, 4)
    market.assert_balanced()


def test_modifying_a_partially_filled_order(market: Market) -> None:
    alice = market.place(ALICE, BUY, 10, 10_000)
    market.place(BOB, SELL, 4, 10_000)

    events = market.modify(ALICE, alice.order_id, quantity=8, price=9_950)

    after = last_update(events, alice.order_id)
    assert (after.quantity, after.filled, after.remaining) == (8, 4, 4)
    assert after.status == OrderStatus.PARTIALLY_FILLED
    assert market.depth() == ([(9_950, 4, 1)], [])
    assert market.held_cash(ALICE) == cost(9_950, 4)
    market.assert_balanced()


def test_modify_below_or_at_filled_is_refused(market: Market) -> None:
    alice = market.place(ALICE, BUY, 10, 10_000)
    market.place(BOB, SELL, 4, 10_000)

    for quantity in (4, 3):
        command = ModifyOrder(ALICE, alice.order_id, quantity=quantity)
        assert market.refuse(command) == Reject.MODIFY_BELOW_FILLED
    events = market.modify(ALICE, alice.order_id, quantity=5)
    assert last_update(events, alice.order_id).remaining == 1


def test_a_modification_that_changes_nothing_is_refused(market: Market) -> None:
    alice = market.place(ALICE, BUY, 10, 9_900)
    for command in (
        ModifyOrder(ALICE, alice.order_id),
        ModifyOrder(ALICE, alice.order_id, quantity=10),
        ModifyOrder(ALICE, alice.order_id, quantity=10, price=9_900),
    ):
        assert market.refuse(command) == Reject.MODIFY_NO_CHANGE


def test_modify_needs_funds_for_the_increase(market: Market) -> None:
    alice = market.place(ALICE, BUY, 10, 9_900)
    too_many = CASH // cost(9_900, 1) + 1
    assert (
        market.refuse(ModifyOrder(ALICE, alice.order_id, quantity=too_many))
        == Reject.INSUFFICIENT_FUNDS
    )
    sell = market.place(BOB, SELL, SHARES, 10_100)
    assert (
        market.refuse(ModifyOrder(BOB, sell.order_id, quantity=SHARES + 1))
        == Reject.INSUFFICIENT_HOLDINGS
    )


def test_modify_checks_quantity_and_price_like_a_new_order(market: Market) -> None:
    alice = market.place(ALICE, BUY, 10, 9_900)
    cases = [
        (ModifyOrder(ALICE, alice.order_id, quantity=-1), Reject.INVALID_QUANTITY),
        (ModifyOrder(ALICE, alice.order_id, price=-5), Reject.INVALID_PRICE),
        (ModifyOrder(ALICE, alice.order_id, price=9_901), Reject.TICK_SIZE),
        (ModifyOrder(ALICE, alice.order_id, price=12_000), Reject.PRICE_OUTSIDE_BAND),
        (ModifyOrder(ALICE, alice.order_id, trigger_price=9_000), Reject.INVALID_TRIGGER),
    ]
    for command, reason in cases:
        assert market.refuse(command) == reason, command


def test_post_only_order_cannot_be_moved_across_the_spread(market: Market) -> None:
    alice = market.place(ALICE, BUY, 10, 9_900, post_only=True)
    market.place(BOB, SELL, 10, 10_000)
    command = ModifyOrder(ALICE, alice.order_id, price=10_000)
    assert market.refuse(command) == Reject.POST_ONLY_WOULD_CROSS
    market.modify(ALICE, alice.order_id, price=9_995)  # still passive: fine


def test_modify_of_someone_elses_or_a_finished_order_is_refused(market: Market) -> None:
    alice = market.place(ALICE, BUY, 10, 9_900)
    assert market.refuse(ModifyOrder(BOB, alice.order_id, quantity=5)) == Reject.NOT_ORDER_OWNER
    market.accept(CancelOrder(ALICE, alice.order_id))
    assert market.refuse(ModifyOrder(ALICE, alice.order_id, quantity=5)) == Reject.ORDER_NOT_OPEN
    assert market.refuse(ModifyOrder(ALICE, 10**9, quantity=5)) == Reject.UNKNOWN_ORDER


def test_modify_is_refused_while_halted_or_cancel_only(market: Market) -> None:
    alice = market.place(ALICE, BUY, 10, 9_900)
    for status, reason in (
        (TradingStatus.HALTED, Reject.INSTRUMENT_HALTED),
        (TradingStatus.CANCEL_ONLY, Reject.INSTRUMENT_CANCEL_ONLY),
    ):
        market.accept(SetTradingStatus(SYMBOL, status))
        assert market.refuse(ModifyOrder(ALICE, alice.order_id, quantity=5)) == reason


# -- cancel ---------------------------------------------------------------------------------


def test_cancel_takes_the_order_out_and_releases_its_reservation(market: Market) -> None:
    buy = market.place(ALICE, BUY, 10, 9_900)
    sell = market.place(ALICE, SELL, 7, 10_100)

    for order_id in (buy.order_id, sell.order_id):
        events = market.accept(CancelOrder(ALICE, order_id))
        cancelled = last_update(events, order_id)
        assert (cancelled.status, cancelled.remaining) == (OrderStatus.CANCELLED, 0)
        assert cancelled.reason == "cancelled by user"
        assert market.live(order_id) is None

    assert market.depth() == ([], [])
    assert (market.held_cash(ALICE), market.held_shares(ALICE)) == (0, 0)
    assert (market.cash(ALICE), market.shares(ALICE)) == (CASH, SHARES)


def test_cancel_of_a_partially_filled_order_keeps_what_was_filled(market: Market) -> None:
    alice = market.place(ALICE, BUY, 10, 10_000)
    market.place(BOB, SELL, 3, 10_000)

    events = market.accept(CancelOrder(ALICE, alice.order_id))

    cancelled = last_update(events, alice.order_id)
    assert (cancelled.quantity, cancelled.filled, cancelled.remaining) == (10, 3, 0)
    assert market.held_cash(ALICE) == 0
    assert market.cash(ALICE) == CASH - cost(10_000, 3)
    assert market.shares(ALICE) == SHARES + 3


def test_cancel_refusals(market: Market) -> None:
    alice = market.place(ALICE, BUY, 10, 9_900)
    assert market.refuse(CancelOrder(BOB, alice.order_id)) == Reject.NOT_ORDER_OWNER
    assert market.refuse(CancelOrder(ALICE, 0)) == Reject.UNKNOWN_ORDER
    assert market.refuse(CancelOrder(ALICE, 10**9)) == Reject.UNKNOWN_ORDER
    market.accept(CancelOrder(ALICE, alice.order_id))
    assert market.refuse(CancelOrder(ALICE, alice.order_id)) == Reject.ORDER_NOT_OPEN


def test_cancel_is_allowed_in_every_trading_status(market: Market) -> None:
    for status in TradingStatus:
        market.accept(SetTradingStatus(SYMBOL, TradingStatus.OPEN))
        order = market.place(ALICE, BUY, 1, 9_900)
        market.accept(SetTradingStatus(SYMBOL, status))
        events = market.accept(CancelOrder(ALICE, order.order_id))
        assert last_update(events, order.order_id).status == OrderStatus.CANCELLED


# -- cancel all -----------------------------------------------------------------------------


def _some_orders(market: Market) -> dict[str, int]:
    return {
        "acme_buy": market.place(ALICE, BUY, 10, 9_900).order_id,
        "acme_sell": market.place(ALICE, SELL, 10, 10_100).order_id,
        "acme_stop": market.place(
            ALICE,
            SELL,
            5,
            order_type=OrderType.STOP_MARKET,
            tif=TimeInForce.DAY,
            trigger_price=9_500,
        ).order_id,
        "beta_buy": market.place(ALICE, BUY, 10, 4_900, symbol=OTHER).order_id,
        "bob_acme": market.place(BOB, BUY, 10, 9_900).order_id,
    }


def test_cancel_all_for_one_instrument(market: Market) -> None:
    ids = _some_orders(market)

    events = market.accept(CancelAll(ALICE, SYMBOL))

    cancelled = {
        e.order_id for e in of_type(events, OrderUpdated) if e.status == OrderStatus.CANCELLED
    }
    assert cancelled == {ids["acme_buy"], ids["acme_sell"], ids["acme_stop"]}
    assert market.live(ids["beta_buy"]) is not None
    assert market.live(ids["bob_acme"]) is not None
    assert market.depth() == ([(9_900, 10, 1)], [])
    assert market.held_shares(ALICE) == 0
    assert market.held_cash(ALICE) == cost(4_900, 10)


def test_cancel_all_instruments(market: Market) -> None:
    ids = _some_orders(market)

    events = market.accept(CancelAll(ALICE))

    cancelled = [
        e.order_id for e in of_type(events, OrderUpdated) if e.status == OrderStatus.CANCELLED
    ]
    assert cancelled == sorted(ids[k] for k in ("acme_buy", "acme_sell", "acme_stop", "beta_buy"))
    assert market.live(ids["bob_acme"]) is not None
    assert (market.held_cash(ALICE), market.held_shares(ALICE)) == (0, 0)
    assert market.held_shares(ALICE, OTHER) == 0
    assert market.accept(CancelAll(ALICE)) == []  # nothing left: nothing happens


def test_cancel_all_refusals(market: Market) -> None:
    assert market.refuse(CancelAll(99)) == Reject.UNKNOWN_ACCOUNT
    assert market.refuse(CancelAll(ALICE, "NOPE")) == Reject.UNKNOWN_INSTRUMENT


def test_refused_place_reports_who_and_what(market: Market) -> None:
    events = market.apply(PlaceOrder(ALICE, SYMBOL, BUY, 0, price=9_900, client_order_id="c-1"))
    [refused] = of_type(events, CommandRejected)
    assert (refused.command, refused.reason, refused.account, refused.client_order_id) == (
        "place_order",
        Reject.INVALID_QUANTITY,
        ALICE,
        "c-1",
    )
    assert refused.symbol == SYMBOL
    assert updates(events, market.exchange.next_order_id) == []
