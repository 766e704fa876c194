"""Self-trade prevention: an account never trades with itself, and each mode decides which
of the two orders gives way.

The book in every scenario: asks of Bob 4 @ 100.00, then Alice 6 @ 100.00 (her own), then
Carol 5 @ 100.50; Alice sends a buy of 8 up to 100.50.
"""

from __future__ import annotations

import pytest

from exchange_server.domain.commands import SetSelfTradePrevention
from exchange_server.domain.enums import OrderStatus, SelfTradePrevention
from exchange_server.domain.events import AccountUpdated
from exchange_server.domain.rejections import Reject
from tests.domain.conftest import (
    ALICE,
    BOB,
    BUY,
    CAROL,
    CASH,
    SELL,
    SHARES,
    Market,
    Placed,
    cost,
    last_update,
)


def _scenario(mode: SelfTradePrevention) -> tuple[Market, Placed, Placed, Placed]:
    market = Market(stp=mode)
    market.place(BOB, SELL, 4, 10_000)
    own = market.place(ALICE, SELL, 6, 10_000)
    carol = market.place(CAROL, SELL, 5, 10_050)
    taker = market.place(ALICE, BUY, 8, 10_050)
    assert all(t.buyer != t.seller for t in taker.trades)
    market.assert_balanced()
    return market, own, carol, taker


def test_cancel_newest_cancels_the_incoming_order() -> None:
    market, own, _, taker = _scenario(SelfTradePrevention.CANCEL_NEWEST)

    assert [(t.seller, t.quantity) for t in taker.trades] == [(BOB, 4)]
    final = taker.final
    assert (final.status, final.quantity, final.filled, final.remaining) == (
        OrderStatus.CANCELLED,
        8,
        4,
        0,
    )
    assert final.reason == "self-trade prevention"
    # The resting order is untouched, still first in the queue, still holding its shares.
    assert market.queue(SELL, 10_000) == [own.order_id]
    assert market.depth()[1] == [(10_000, 6, 1), (10_050, 5, 1)]
    assert market.held_shares(ALICE) == 6
    assert market.held_cash(ALICE) == 0
    assert market.cash(ALICE) == CASH - cost(10_000, 4)


def test_cancel_oldest_cancels_the_resting_order_and_keeps_matching() -> None:
    market, own, carol, taker = _scenario(SelfTradePrevention.CANCEL_OLDEST)

    assert [(t.seller, t.price, t.quantity) for t in taker.trades] == [
        (BOB, 10_000, 4),
        (CAROL, 10_050, 4),
    ]
    assert taker.status == OrderStatus.FILLED
    resting = last_update(taker.events, own.order_id)
    assert (resting.status, resting.quantity, resting.filled, resting.remaining) == (
        OrderStatus.CANCELLED,
        6,
        0,
        0,
    )
    assert resting.reason == "self-trade prevention"
    assert market.depth()[1] == [(10_050, 1, 1)]
    assert market.live(carol.order_id) is not None
    assert (market.held_shares(ALICE), market.held_cash(ALICE)) == (0, 0)
    assert market.shares(ALICE) == SHARES + 8
    assert market.cash(ALICE) == CASH - cost(10_000, 4) - cost(10_050, 4)


def test_cancel_both_cancels_both_orders() -> None:
    market, own, carol, taker = _scenario(SelfTradePrevention.CANCEL_BOTH)

    assert [(t.seller, t.quantity) for t in taker.trades] == [(BOB, 4)]
    assert (taker.status, taker.final.filled, taker.final.quantity) == (
        OrderStatus.CANCELLED,
        4,
        8,
    )
    resting = last_update(taker.events, own.order_id)
    assert (resting.status, resting.quantity, resting.remaining) == (OrderStatus.CANCELLED, 6, 0)
    assert market.depth()[1] == [(10_050, 5, 1)]
    assert market.live(carol.order_id) is not None
    assert (market.held_shares(ALICE), market.held_cash(ALICE)) == (0, 0)
    assert market.shares(ALICE) == SHARES + 4


def test_decrement_and_cancel_shrinks_the_larger_and_cancels_the_smaller() -> None:
    # After Bob's 4, the taker has 4 left against Alice's 6: the taker is the smaller.
    market, own, _, taker = _scenario(SelfTradePrevention.DECREMENT_AND_CANCEL)

    assert [(t.seller, t.quantity) for t in taker.trades] == [(BOB, 4)]
    final = taker.final
    assert (final.status, final.filled, final.remaining) == (OrderStatus.CANCELLED, 4, 0)
    assert final.quantity == 8  # cancelled, not shrunk: it keeps what was asked
    resting = last_update(taker.events, own.order_id)
    assert (resting.status, resting.quantity, resting.remaining) == (OrderStatus.NEW, 2, 2)
    # The shrunk resting order keeps its place at the front of the queue.
    assert market.queue(SELL, 10_000) == [own.order_id]
    assert market.depth()[1] == [(10_000, 2, 1), (10_050, 5, 1)]
    assert market.held_shares(ALICE) == 2
    assert market.held_cash(ALICE) == 0
    assert market.live(own.order_id) is not None
    assert market.live(own.order_id).reserved == 2  # type: ignore[union-attr]


def test_decrement_and_cancel_when_the_resting_order_is_smaller() -> None:
    market = Market(stp=SelfTradePrevention.DECREMENT_AND_CANCEL)
    market.place(BOB, SELL, 4, 10_000)
    own = market.place(ALICE, SELL, 3, 10_000)
    market.place(CAROL, SELL, 5, 10_050)

    taker = market.place(ALICE, BUY, 8, 10_050)

    assert [(t.seller, t.price, t.quantity) for t in taker.trades] == [
        (BOB, 10_000, 4),
        (CAROL, 10_050, 1),
    ]
    resting = last_update(taker.events, own.order_id)
    assert (resting.status, resting.quantity, resting.remaining) == (OrderStatus.CANCELLED, 3, 0)
    # The taker was decremented by 3 to 5, all of which filled.
    final = taker.final
    assert (final.status, final.quantity, final.filled) == (OrderStatus.FILLED, 5, 5)
    assert (market.held_shares(ALICE), market.held_cash(ALICE)) == (0, 0)
    assert market.depth()[1] == [(10_050, 4, 1)]
    market.assert_balanced()


def test_decrement_and_cancel_equal_sizes_cancels_both() -> None:
    market = Market(stp=SelfTradePrevention.DECREMENT_AND_CANCEL)
    own = market.place(ALICE, SELL, 10, 10_000)

    taker = market.place(ALICE, BUY, 10, 10_000)

    assert taker.trades == []
    final = taker.final
    # Nothing was bought: the incoming order is cancelled, never reported as filled.
    assert (final.status, final.quantity, final.filled) == (OrderStatus.CANCELLED, 10, 0)
    resting = last_update(taker.events, own.order_id)
    assert (resting.status, resting.quantity, resting.filled) == (OrderStatus.CANCELLED, 10, 0)
    assert market.depth() == ([], [])
    assert (market.held_shares(ALICE), market.held_cash(ALICE)) == (0, 0)


def test_decremented_incoming_order_rests_with_its_new_size_announced() -> None:
    market = Market(stp=SelfTradePrevention.DECREMENT_AND_CANCEL)
    own = market.place(ALICE, SELL, 3, 10_000)

    taker = market.place(ALICE, BUY, 10, 10_000)

    assert last_update(taker.events, own.order_id).status == OrderStatus.CANCELLED
    final = taker.final
    assert (final.status, final.quantity, final.remaining) == (OrderStatus.NEW, 7, 7)
    assert market.depth() == ([(10_000, 7, 1)], [])
    assert market.held_cash(ALICE) == cost(10_000, 7)
    assert market.held_shares(ALICE) == 0


def test_decrement_of_a_resting_buy_releases_the_cash_it_no_longer_needs() -> None:
    market = Market(stp=SelfTradePrevention.DECREMENT_AND_CANCEL)
    own = market.place(ALICE, BUY, 10, 10_000)

    taker = market.place(ALICE, SELL, 4, 9_950)

    resting = last_update(taker.events, own.order_id)
    assert (resting.quantity, resting.remaining, resting.status) == (6, 6, OrderStatus.NEW)
    assert taker.status == OrderStatus.CANCELLED
    assert market.held_cash(ALICE) == cost(10_000, 6)
    assert market.held_shares(ALICE) == 0
    assert market.depth() == ([(10_000, 6, 1)], [])


def test_prevention_applies_only_to_the_same_account(market: Market) -> None:
    market.place(BOB, SELL, 5, 10_000)
    buy = market.place(ALICE, BUY, 5, 10_000)
    assert [(t.buyer, t.seller) for t in buy.trades] == [(ALICE, BOB)]


@pytest.mark.parametrize("mode", list(SelfTradePrevention))
def test_self_trade_prevention_mode_can_be_changed(mode: SelfTradePrevention) -> None:
    market = Market()
    events = market.accept(SetSelfTradePrevention(ALICE, mode))
    assert events == [AccountUpdated(ALICE, mode)]
    assert market.exchange.self_trade_prevention[ALICE] == mode


def test_unknown_self_trade_prevention_mode_is_refused(market: Market) -> None:
    command = SetSelfTradePrevention(ALICE, "never")  # type: ignore[arg-type]
    assert market.refuse(command) == Reject.INVALID_SELF_TRADE_PREVENTION
    assert market.refuse(SetSelfTradePrevention(99, SelfTradePrevention.CANCEL_BOTH)) == (
        Reject.UNKNOWN_ACCOUNT
    )
