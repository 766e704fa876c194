"""Reservations (what a live order holds) and fees (who pays what, and where it goes)."""

from __future__ import annotations

import pytest

from exchange_server.domain.commands import (
    CancelOrder,
    Deposit,
    OpenAccount,
    PlaceOrder,
    SetFees,
    Withdraw,
)
from exchange_server.domain.enums import OrderStatus, OrderType, TimeInForce
from exchange_server.domain.events import BalanceChanged, FeesChanged
from exchange_server.domain.ledger import FEES
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
    SHARES,
    SYMBOL,
    Market,
    cost,
    last_update,
    of_type,
)

PPM = 1_000_000


def with_fee(notional: int, ppm: int) -> int:
    return notional + notional * ppm // PPM


# -- reservations ---------------------------------------------------------------------------


def test_buy_holds_its_worst_case_cost_plus_the_highest_fee() -> None:
    market = Market(maker_ppm=3_000, taker_ppm=1_000)  # the maker rate is the higher here
    market.place(ALICE, BUY, 7, 9_905)
    assert market.held_cash(ALICE) == with_fee(cost(9_905, 7), 3_000)
    assert market.cash(ALICE) == CASH


def test_sell_holds_the_shares() -> None:
    market = Market(maker_ppm=3_000, taker_ppm=1_000)
    market.place(ALICE, SELL, 7, 10_100)
    assert market.held_shares(ALICE) == 7
    assert market.held_cash(ALICE) == 0
    assert market.shares(ALICE) == SHARES


def test_exactly_enough_cash_is_enough(market: Market) -> None:
    dave = 20
    market.accept(OpenAccount(dave))
    market.accept(Deposit(dave, CURRENCY, cost(9_900, 10)))
    too_much = PlaceOrder(dave, SYMBOL, BUY, 11, price=9_900)
    assert market.refuse(too_much) == Reject.INSUFFICIENT_FUNDS
    market.place(dave, BUY, 10, 9_900)
    assert market.held_cash(dave) == market.cash(dave)
    assert market.refuse(PlaceOrder(dave, SYMBOL, BUY, 1, price=9_000)) == (
        Reject.INSUFFICIENT_FUNDS
    )


def test_shares_held_by_one_sell_cannot_be_sold_twice(market: Market) -> None:
    market.place(ALICE, SELL, SHARES - 1, 10_100)
    market.place(ALICE, SELL, 1, 10_200)
    assert market.refuse(PlaceOrder(ALICE, SYMBOL, SELL, 1, price=10_300)) == (
        Reject.INSUFFICIENT_HOLDINGS
    )


def test_reserved_money_cannot_be_withdrawn(market: Market) -> None:
    market.place(ALICE, BUY, 10, 10_000)
    market.place(ALICE, SELL, 10, 10_100)
    free_cash = CASH - cost(10_000, 10)
    assert market.refuse(Withdraw(ALICE, CURRENCY, free_cash + 1)) == Reject.INSUFFICIENT_FUNDS
    assert market.refuse(Withdraw(ALICE, SYMBOL, SHARES - 9)) == Reject.INSUFFICIENT_HOLDINGS
    market.accept(Withdraw(ALICE, CURRENCY, free_cash))
    market.accept(Withdraw(ALICE, SYMBOL, SHARES - 10))
    assert market.cash(ALICE) == market.held_cash(ALICE) == cost(10_000, 10)
    assert market.shares(ALICE) == market.held_shares(ALICE) == 10


def test_partial_fills_release_the_right_amounts() -> None:
    market = Market(maker_ppm=1_000, taker_ppm=2_000)
    # A resting buy, partly filled twice.
    buy = market.place(ALICE, BUY, 10, 10_000)
    assert market.held_cash(ALICE) == with_fee(cost(10_000, 10), 2_000)
    market.place(BOB, SELL, 3, 10_000)
    assert market.held_cash(ALICE) == with_fee(cost(10_000, 7), 2_000)
    market.place(CAROL, SELL, 2, 10_000)
    assert market.held_cash(ALICE) == with_fee(cost(10_000, 5), 2_000)
    maker_fees = cost(10_000, 3) * 1_000 // PPM + cost(10_000, 2) * 1_000 // PPM
    assert market.cash(ALICE) == CASH - cost(10_000, 5) - maker_fees
    assert market.live(buy.order_id).reserved == market.held_cash(ALICE)  # type: ignore[union-attr]

    # A resting sell, partly filled: it keeps holding exactly its unfilled shares.
    sell = market.place(BOB, SELL, 10, 10_100)
    market.place(CAROL, BUY, 4, 10_100)
    assert market.held_shares(BOB) == 6
    assert market.live(sell.order_id).reserved == 6  # type: ignore[union-attr]

    # An incoming buy that fills part at a better price and rests the rest.
    taker = market.place(CAROL, BUY, 10, 10_150)
    assert taker.final.filled == 6
    assert market.held_cash(CAROL) == with_fee(cost(10_150, 4), 2_000)
    market.assert_balanced()

    # Cancelling releases what is left, and only that.
    market.accept(CancelOrder(CAROL, taker.order_id))
    assert market.held_cash(CAROL) == 0
    market.accept(CancelOrder(ALICE, buy.order_id))
    assert market.held_cash(ALICE) == 0
    market.assert_balanced()


def test_balance_events_report_new_balance_and_reservation(market: Market) -> None:
    placed = market.place(ALICE, BUY, 10, 9_900)
    changes = [e for e in of_type(placed.events, BalanceChanged) if e.account == ALICE]
    assert changes == [BalanceChanged(ALICE, CURRENCY, CASH, cost(9_900, 10))]


# -- fees -----------------------------------------------------------------------------------


def test_maker_and_taker_fees_are_charged_and_collected() -> None:
    market = Market(maker_ppm=1_000, taker_ppm=2_500)
    sell = market.place(BOB, SELL, 10, 10_000)

    buy = market.place(ALICE, BUY, 10, 10_000)

    notional = cost(10_000, 10)
    [trade] = buy.trades
    assert (trade.buyer_fee, trade.seller_fee) == (25_000, 10_000)
    assert buy.final.fees == 25_000
    assert last_update(buy.events, sell.order_id).fees == 10_000
    assert market.cash(ALICE) == CASH - notional - 25_000
    assert market.cash(BOB) == CASH + notional - 10_000
    assert market.exchange.ledger.balance(FEES, CURRENCY) == 35_000
    assert market.held_cash(ALICE) == 0
    market.assert_balanced()


def test_a_selling_taker_pays_the_taker_rate() -> None:
    market = Market(maker_ppm=1_000, taker_ppm=2_500)
    market.place(BOB, BUY, 10, 10_000)
    sell = market.place(ALICE, SELL, 10, 10_000)
    [trade] = sell.trades
    assert (trade.buyer_fee, trade.seller_fee) == (10_000, 25_000)
    assert market.cash(ALICE) == CASH + cost(10_000, 10) - 25_000
    assert market.cash(BOB) == CASH - cost(10_000, 10) - 10_000


def test_fees_round_down() -> None:
    market = Market(maker_ppm=1_000, taker_ppm=2_500)
    market.place(BOB, SELL, 1, 10_005)  # notional 1,000,500 cash units
    buy = market.place(ALICE, BUY, 1, 10_005)
    [trade] = buy.trades
    assert trade.notional == 1_000_500
    assert trade.buyer_fee == 2_501  # 2,501.25 rounded down
    assert trade.seller_fee == 1_000  # 1,000.5 rounded down
    assert market.exchange.ledger.balance(FEES, CURRENCY) == 3_501


def test_fees_per_fill_are_rounded_separately() -> None:
    market = Market(taker_ppm=2_500)
    market.place(BOB, SELL, 1, 10_005)
    market.place(CAROL, SELL, 1, 10_005)
    buy = market.place(ALICE, BUY, 2, 10_005)
    assert [t.buyer_fee for t in buy.trades] == [2_501, 2_501]
    assert buy.final.fees == 5_002
    assert market.cash(ALICE) == CASH - 2 * 1_000_500 - 5_002
    assert market.held_cash(ALICE) == 0


def test_set_fees_resizes_buy_reservations(market: Market) -> None:
    buy = market.place(ALICE, BUY, 10, 9_900)
    stop = market.place(
        BOB, BUY, 5, order_type=OrderType.STOP_MARKET, tif=TimeInForce.DAY, trigger_price=10_500
    )
    sell = market.place(CAROL, SELL, 10, 10_100)

    events = market.accept(SetFees(1_000, 4_000))

    assert events[0] == FeesChanged(1_000, 4_000)
    assert market.held_cash(ALICE) == with_fee(cost(9_900, 10), 4_000)
    assert market.held_cash(BOB) == with_fee(cost(BAND_HIGH, 5), 4_000)
    assert market.held_shares(CAROL) == 10
    assert market.live(buy.order_id).reserved == market.held_cash(ALICE)  # type: ignore[union-attr]
    assert market.live(stop.order_id) is not None
    assert market.live(sell.order_id) is not None
    market.assert_balanced()

    market.accept(SetFees(0, 500))  # lower fees release the difference
    assert market.held_cash(ALICE) == with_fee(cost(9_900, 10), 500)
    market.assert_balanced()


def test_set_fees_cancels_buys_whose_owner_cannot_cover_the_higher_fee(market: Market) -> None:
    dave = 20
    market.accept(OpenAccount(dave))
    market.accept(Deposit(dave, CURRENCY, cost(9_900, 10) + cost(9_800, 1)))
    market.accept(Deposit(dave, SYMBOL, 5))
    # The older, larger order cannot be covered; the later, smaller one can.
    big = market.place(dave, BUY, 10, 9_900)
    small = market.place(dave, BUY, 1, 9_800)
    sell = market.place(dave, SELL, 5, 10_100)

    events = market.accept(SetFees(0, 10_000))

    cancelled = last_update(events, big.order_id)
    assert cancelled.status == OrderStatus.CANCELLED
    assert cancelled.reason == "insufficient funds for the new fees"
    assert market.live(small.order_id) is not None
    assert market.live(sell.order_id) is not None
    assert market.held_cash(dave) == with_fee(cost(9_800, 1), 10_000)
    assert market.depth()[0] == [(9_800, 1, 1)]
    market.assert_balanced()


@pytest.mark.parametrize(("maker", "taker"), [(-1, 0), (0, -1), (PPM, 0), (0, PPM)])
def test_invalid_fees_are_refused(market: Market, maker: int, taker: int) -> None:
    assert market.refuse(SetFees(maker, taker)) == Reject.INVALID_FEES
