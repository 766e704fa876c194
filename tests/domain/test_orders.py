"""Order types, times in force, post-only and client order ids."""

from __future__ import annotations

import pytest

from exchange_server.domain import snapshot
from exchange_server.domain.commands import (
    CancelOrder,
    Deposit,
    EndOfDay,
    ListInstrument,
    OpenAccount,
    PlaceOrder,
    SetReferencePrice,
    Tick,
)
from exchange_server.domain.enums import (
    AssetClass,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    TimeInForce,
)
from exchange_server.domain.events import OrderResubmitted, OrderUpdated
from exchange_server.domain.rejections import Reject
from tests.domain.conftest import (
    ALICE,
    BAND_HIGH,
    BAND_LOW,
    BOB,
    BUY,
    CAROL,
    CASH,
    CURRENCY,
    OTHER,
    SECOND,
    SELL,
    SHARES,
    SYMBOL,
    Market,
    cost,
    last_update,
    of_type,
    updates,
)

# -- limit orders ---------------------------------------------------------------------------


def test_limit_order_that_cannot_match_rests_and_holds_its_cost(market: Market) -> None:
    placed = market.place(ALICE, BUY, 10, 9_900)

    assert placed.status == OrderStatus.NEW
    assert placed.final.remaining == 10
    assert placed.trades == []
    assert market.depth() == ([(9_900, 10, 1)], [])
    assert market.held_cash(ALICE) == cost(9_900, 10)
    assert market.cash(ALICE) == CASH


def test_marketable_limit_order_trades_at_the_resting_price(market: Market) -> None:
    sell = market.place(BOB, SELL, 10, 10_000)
    buy = market.place(ALICE, BUY, 10, 10_100)

    [trade] = buy.trades
    assert (trade.price, trade.quantity, trade.aggressor) == (10_000, 10, "buy")
    assert (trade.buy_order_id, trade.sell_order_id) == (buy.order_id, sell.order_id)
    assert (trade.buyer, trade.seller) == (ALICE, BOB)
    assert trade.notional == cost(10_000, 10)
    assert buy.status == OrderStatus.FILLED
    assert last_update(buy.events, sell.order_id).status == OrderStatus.FILLED
    # The buyer pays the resting price; the better limit it reserved against comes back.
    assert market.cash(ALICE) == CASH - cost(10_000, 10)
    assert market.held_cash(ALICE) == 0
    assert market.shares(ALICE) == SHARES + 10
    assert market.cash(BOB) == CASH + cost(10_000, 10)
    assert market.shares(BOB) == SHARES - 10
    assert market.held_shares(BOB) == 0
    assert market.last_price() == 10_000
    assert market.depth() == ([], [])


def test_limit_order_sweeps_levels_up_to_its_limit_and_rests_the_rest(market: Market) -> None:
    market.place(BOB, SELL, 5, 10_000)
    market.place(CAROL, SELL, 5, 10_050)
    market.place(CAROL, SELL, 5, 10_100)  # beyond the buyer's limit

    buy = market.place(ALICE, BUY, 15, 10_050)

    assert [(t.price, t.quantity) for t in buy.trades] == [(10_000, 5), (10_050, 5)]
    assert buy.status == OrderStatus.PARTIALLY_FILLED
    assert (buy.final.filled, buy.final.remaining) == (10, 5)
    assert buy.final.filled_notional == cost(10_000, 5) + cost(10_050, 5)
    assert market.depth() == ([(10_050, 5, 1)], [(10_100, 5, 1)])
    assert market.held_cash(ALICE) == cost(10_050, 5)
    assert market.last_price() == 10_050
    market.assert_balanced()


# -- market orders --------------------------------------------------------------------------


def test_market_order_fills_what_it_can_and_cancels_the_rest(market: Market) -> None:
    market.place(BOB, SELL, 4, 10_000)
    market.place(CAROL, SELL, 3, 10_500)

    buy = market.place(ALICE, BUY, 10, order_type=OrderType.MARKET, tif=TimeInForce.IOC)

    assert [(t.price, t.quantity) for t in buy.trades] == [(10_000, 4), (10_500, 3)]
    assert buy.status == OrderStatus.CANCELLED
    assert (buy.final.filled, buy.final.remaining) == (7, 0)
    assert market.live(buy.order_id) is None
    assert market.depth() == ([], [])
    assert market.held_cash(ALICE) == 0
    assert market.cash(ALICE) == CASH - cost(10_000, 4) - cost(10_500, 3)


def test_market_sell_against_bids(market: Market) -> None:
    market.place(BOB, BUY, 5, 9_950)
    market.place(CAROL, BUY, 5, 9_900)

    sell = market.place(ALICE, SELL, 8, order_type=OrderType.MARKET, tif=TimeInForce.DAY)

    assert [(t.price, t.quantity, t.aggressor) for t in sell.trades] == [
        (9_950, 5, "sell"),
        (9_900, 3, "sell"),
    ]
    assert sell.status == OrderStatus.FILLED
    assert market.depth() == ([(9_900, 2, 1)], [])
    assert market.shares(ALICE) == SHARES - 8
    assert market.held_shares(ALICE) == 0


def test_market_order_on_an_empty_book_is_cancelled_and_holds_nothing(market: Market) -> None:
    buy = market.place(ALICE, BUY, 10, order_type=OrderType.MARKET, tif=TimeInForce.IOC)

    assert [u.status for u in updates(buy.events, buy.order_id)] == ["new", "cancelled"]
    assert market.held_cash(ALICE) == 0
    assert market.depth() == ([], [])


def test_market_buy_needs_cash_for_the_band_edge_not_the_best_ask(market: Market) -> None:
    market.place(BOB, SELL, 10, 10_000)
    dave, erin = 20, 21
    for account, cash in ((dave, cost(BAND_HIGH, 10)), (erin, cost(BAND_HIGH, 10) - 1)):
        market.accept(OpenAccount(account))
        market.accept(Deposit(account, CURRENCY, cash))

    assert (
        market.refuse(PlaceOrder(erin, SYMBOL, BUY, 10, OrderType.MARKET, tif=TimeInForce.IOC))
        == Reject.INSUFFICIENT_FUNDS
    )
    buy = market.place(dave, BUY, 10, order_type=OrderType.MARKET, tif=TimeInForce.IOC)
    assert buy.final.filled == 10
    assert market.cash(dave) == cost(BAND_HIGH, 10) - cost(10_000, 10)
    assert market.held_cash(dave) == 0


def test_market_order_needs_a_price_band(market: Market) -> None:
    # A freshly listed instrument without a reference price has no band.
    market.accept(ListInstrument("NEW", "New Ltd", AssetClass.EQUITY, "NSE", CURRENCY))
    market.accept(Deposit(ALICE, "NEW", 10))
    command = PlaceOrder(ALICE, "NEW", SELL, 1, OrderType.MARKET, tif=TimeInForce.IOC)
    assert market.refuse(command) == Reject.PRICE_OUTSIDE_BAND
    market.accept(SetReferencePrice("NEW", 1_000))
    assert market.place(ALICE, SELL, 1, symbol="NEW").status == OrderStatus.CANCELLED


# -- times in force -------------------------------------------------------------------------


def test_day_orders_expire_at_end_of_day_and_gtc_orders_stay(market: Market) -> None:
    day = market.place(ALICE, BUY, 10, 9_900, tif=TimeInForce.DAY)
    gtc = market.place(ALICE, BUY, 10, 9_800, tif=TimeInForce.GTC)
    day_sell = market.place(BOB, SELL, 5, 10_100, tif=TimeInForce.DAY)

    events = market.accept(EndOfDay())

    assert last_update(events, day.order_id).status == OrderStatus.EXPIRED
    assert last_update(events, day_sell.order_id).status == OrderStatus.EXPIRED
    assert updates(events, gtc.order_id) == []
    assert market.live(gtc.order_id) is not None
    assert market.depth() == ([(9_800, 10, 1)], [])
    assert market.held_cash(ALICE) == cost(9_800, 10)
    assert market.held_shares(BOB) == 0
    market.assert_balanced()


def test_end_of_day_for_one_instrument_leaves_the_others(market: Market) -> None:
    acme = market.place(ALICE, BUY, 10, 9_900, tif=TimeInForce.DAY)
    beta = market.place(ALICE, BUY, 10, 4_900, tif=TimeInForce.DAY, symbol=OTHER)

    events = market.accept(EndOfDay(OTHER))

    assert last_update(events, beta.order_id).status == OrderStatus.EXPIRED
    assert market.live(acme.order_id) is not None
    assert market.held_cash(ALICE) == cost(9_900, 10)


def test_ioc_trades_what_it_can_and_cancels_the_rest(market: Market) -> None:
    market.place(BOB, SELL, 3, 10_000)

    ioc = market.place(ALICE, BUY, 10, 10_000, tif=TimeInForce.IOC)

    assert [t.quantity for t in ioc.trades] == [3]
    assert ioc.status == OrderStatus.CANCELLED
    assert (ioc.final.filled, ioc.final.remaining) == (3, 0)
    assert market.depth() == ([], [])
    assert market.held_cash(ALICE) == 0


def test_fok_that_cannot_fill_completely_changes_nothing_in_the_book(market: Market) -> None:
    market.place(BOB, SELL, 4, 10_000)
    market.place(CAROL, SELL, 4, 10_050)
    market.place(CAROL, SELL, 4, 10_100)  # beyond the limit: does not count
    depth = market.depth()

    fok = market.place(ALICE, BUY, 10, 10_050, tif=TimeInForce.FOK)

    assert fok.trades == []
    assert fok.status == OrderStatus.CANCELLED
    assert fok.final.filled == 0
    assert market.depth() == depth
    assert market.held_cash(ALICE) == 0
    assert market.cash(ALICE) == CASH


def test_fok_that_can_fill_completely_fills_across_levels(market: Market) -> None:
    market.place(BOB, SELL, 4, 10_000)
    market.place(CAROL, SELL, 8, 10_050)

    fok = market.place(ALICE, BUY, 10, 10_050, tif=TimeInForce.FOK)

    assert [(t.price, t.quantity) for t in fok.trades] == [(10_000, 4), (10_050, 6)]
    assert fok.status == OrderStatus.FILLED
    assert market.depth() == ([], [(10_050, 2, 1)])


def test_fok_does_not_count_its_own_orders(market: Market) -> None:
    market.place(ALICE, SELL, 5, 10_000)
    market.place(BOB, SELL, 5, 10_000)

    fok = market.place(ALICE, BUY, 10, 10_000, tif=TimeInForce.FOK)

    assert fok.trades == []
    assert fok.status == OrderStatus.CANCELLED
    assert market.depth() == ([], [(10_000, 10, 2)])


@pytest.mark.parametrize(
    "mode",
    [
        SelfTradePrevention.CANCEL_NEWEST,
        SelfTradePrevention.CANCEL_BOTH,
        SelfTradePrevention.DECREMENT_AND_CANCEL,
    ],
)
def test_fok_never_partially_fills_when_self_trade_prevention_would_stop_it(
    mode: SelfTradePrevention,
) -> None:
    # Enough others' liquidity in total, but Alice's own order sits in between; her
    # prevention mode would stop (or shrink) the taker there after a partial fill.
    market = Market(stp=mode)
    market.place(BOB, SELL, 5, 10_000)
    own = market.place(ALICE, SELL, 5, 10_000)
    market.place(CAROL, SELL, 5, 10_050)

    fok = market.place(ALICE, BUY, 10, 10_050, tif=TimeInForce.FOK)

    assert fok.trades == []
    assert fok.status == OrderStatus.CANCELLED
    assert market.depth() == ([], [(10_000, 10, 2), (10_050, 5, 1)])
    assert market.live(own.order_id) is not None
    assert market.held_cash(ALICE) == 0


def test_fok_with_cancel_oldest_fills_past_its_own_orders() -> None:
    market = Market(stp=SelfTradePrevention.CANCEL_OLDEST)
    market.place(BOB, SELL, 5, 10_000)
    own = market.place(ALICE, SELL, 5, 10_000)
    market.place(CAROL, SELL, 5, 10_050)

    fok = market.place(ALICE, BUY, 10, 10_050, tif=TimeInForce.FOK)

    assert [(t.seller, t.quantity) for t in fok.trades] == [(BOB, 5), (CAROL, 5)]
    assert fok.status == OrderStatus.FILLED
    assert last_update(fok.events, own.order_id).status == OrderStatus.CANCELLED


def test_gtd_needs_a_future_expiry(market: Market) -> None:
    for expire_at in (0, market.now, market.now - 1):
        command = PlaceOrder(
            ALICE, SYMBOL, BUY, 1, price=9_900, tif=TimeInForce.GTD, expire_at=expire_at
        )
        assert market.refuse(command) == Reject.INVALID_EXPIRY
    command = PlaceOrder(ALICE, SYMBOL, BUY, 1, price=9_900, expire_at=market.now + SECOND)
    assert market.refuse(command) == Reject.INVALID_EXPIRY  # only GTD takes an expiry


def test_gtd_order_expires_when_time_passes(market: Market) -> None:
    expire_at = market.now + 60 * SECOND
    gtd = market.place(ALICE, BUY, 10, 9_900, tif=TimeInForce.GTD, expire_at=expire_at)
    assert gtd.final.expire_at == expire_at

    market.advance(60 * SECOND - 1)
    assert market.accept(Tick()) == []
    assert market.live(gtd.order_id) is not None

    market.advance(1)
    events = market.accept(Tick())
    expired = last_update(events, gtd.order_id)
    assert expired.status == OrderStatus.EXPIRED
    assert expired.remaining == 0
    assert market.depth() == ([], [])
    assert market.held_cash(ALICE) == 0


def test_gtd_expiry_runs_before_the_next_command_so_it_cannot_trade(market: Market) -> None:
    gtd = market.place(BOB, SELL, 10, 10_000, tif=TimeInForce.GTD, expire_at=market.now + SECOND)
    market.advance(2 * SECOND)

    buy = market.place(ALICE, BUY, 10, 10_000)

    assert last_update(buy.events, gtd.order_id).status == OrderStatus.EXPIRED
    assert buy.trades == []
    assert buy.status == OrderStatus.NEW
    assert market.depth() == ([(10_000, 10, 1)], [])


def test_gtd_orders_survive_end_of_day(market: Market) -> None:
    gtd = market.place(
        ALICE, BUY, 10, 9_900, tif=TimeInForce.GTD, expire_at=market.now + 86_400 * SECOND
    )
    market.accept(EndOfDay())
    assert market.live(gtd.order_id) is not None


def test_time_never_runs_backwards(market: Market) -> None:
    gtd = market.place(ALICE, BUY, 10, 9_900, tif=TimeInForce.GTD, expire_at=market.now + SECOND)
    market.advance(SECOND)
    market.accept(Tick())
    market.now -= 5 * SECOND  # a stale timestamp must not revive anything
    market.accept(Tick())
    assert market.exchange.now == market.now + 5 * SECOND
    assert market.live(gtd.order_id) is None


# -- post-only ------------------------------------------------------------------------------


def test_post_only_order_that_would_cross_is_refused(market: Market) -> None:
    market.place(BOB, SELL, 10, 10_000)
    command = PlaceOrder(ALICE, SYMBOL, BUY, 5, price=10_000, tif=TimeInForce.GTC, post_only=True)
    assert market.refuse(command) == Reject.POST_ONLY_WOULD_CROSS


def test_post_only_order_that_does_not_cross_rests(market: Market) -> None:
    market.place(BOB, SELL, 10, 10_000)
    maker = market.place(ALICE, BUY, 5, 9_995, post_only=True)
    assert maker.status == OrderStatus.NEW
    assert maker.final.post_only is True
    assert market.depth() == ([(9_995, 5, 1)], [(10_000, 10, 1)])


def test_post_only_must_be_able_to_rest(market: Market) -> None:
    for tif in (TimeInForce.IOC, TimeInForce.FOK):
        command = PlaceOrder(ALICE, SYMBOL, BUY, 5, price=9_900, tif=tif, post_only=True)
        assert market.refuse(command) == Reject.INVALID_TIME_IN_FORCE


# -- client order ids -----------------------------------------------------------------------


def test_resubmitting_a_client_order_id_returns_the_original(market: Market) -> None:
    command = PlaceOrder(ALICE, SYMBOL, BUY, 10, price=9_900, client_order_id="abc-1")
    first = market.accept(command)
    order_id = of_type(first, OrderUpdated)[0].order_id
    before = snapshot.state_hash(market.exchange)

    again = market.accept(command)

    assert again[0] == OrderResubmitted(order_id, ALICE, "abc-1")
    assert [(u.order_id, u.status, u.remaining) for u in of_type(again, OrderUpdated)] == [
        (order_id, OrderStatus.NEW, 10)
    ]
    assert snapshot.state_hash(market.exchange) == before
    assert market.depth() == ([(9_900, 10, 1)], [])
    assert market.held_cash(ALICE) == cost(9_900, 10)


def test_resubmitting_a_finished_order_only_acknowledges_it(market: Market) -> None:
    market.place(BOB, SELL, 10, 10_000)
    command = PlaceOrder(ALICE, SYMBOL, BUY, 10, price=10_000, client_order_id="x")
    order_id = of_type(market.accept(command), OrderUpdated)[0].order_id
    before = snapshot.state_hash(market.exchange)

    again = market.accept(command)

    assert again == [OrderResubmitted(order_id, ALICE, "x")]
    assert snapshot.state_hash(market.exchange) == before
    assert market.shares(ALICE) == SHARES + 10  # bought once, not twice


def test_same_client_order_id_with_different_parameters_is_refused(market: Market) -> None:
    market.accept(PlaceOrder(ALICE, SYMBOL, BUY, 10, price=9_900, client_order_id="abc"))
    changed = PlaceOrder(ALICE, SYMBOL, BUY, 11, price=9_900, client_order_id="abc")
    assert market.refuse(changed) == Reject.DUPLICATE_CLIENT_ORDER_ID


def test_client_order_ids_are_per_account(market: Market) -> None:
    market.accept(PlaceOrder(ALICE, SYMBOL, BUY, 10, price=9_900, client_order_id="same"))
    events = market.accept(PlaceOrder(BOB, SYMBOL, SELL, 10, price=10_100, client_order_id="same"))
    assert of_type(events, OrderResubmitted) == []
    assert market.depth() == ([(9_900, 10, 1)], [(10_100, 10, 1)])


def test_end_of_day_forgets_finished_client_order_ids_but_not_live_ones(market: Market) -> None:
    done = PlaceOrder(ALICE, SYMBOL, BUY, 10, price=9_900, client_order_id="done")
    done_id = of_type(market.accept(done), OrderUpdated)[0].order_id
    market.accept(CancelOrder(ALICE, done_id))
    live = PlaceOrder(
        ALICE, SYMBOL, BUY, 10, price=9_800, tif=TimeInForce.GTC, client_order_id="live"
    )
    live_id = of_type(market.accept(live), OrderUpdated)[0].order_id

    market.accept(EndOfDay())

    reused = market.accept(done)  # a new order, not a resubmission
    assert of_type(reused, OrderResubmitted) == []
    assert of_type(reused, OrderUpdated)[0].order_id not in (done_id, live_id)
    again = market.accept(live)
    assert of_type(again, OrderResubmitted) == [OrderResubmitted(live_id, ALICE, "live")]


def test_invalid_client_order_ids_are_refused(market: Market) -> None:
    for coid in ("x" * 65, "tab\there", "new\nline"):
        command = PlaceOrder(ALICE, SYMBOL, BUY, 1, price=9_900, client_order_id=coid)
        assert market.refuse(command) == Reject.INVALID_CLIENT_ORDER_ID
    ok = PlaceOrder(ALICE, SYMBOL, BUY, 1, price=9_900, client_order_id="x" * 64)
    market.accept(ok)


def test_order_events_carry_what_was_asked(market: Market) -> None:
    market.advance(7)
    placed = market.place(
        ALICE, BUY, 3, 9_900, tif=TimeInForce.DAY, client_order_id="mine", post_only=True
    )
    first = updates(placed.events, placed.order_id)[0]
    assert (first.account, first.symbol, first.side, first.order_type, first.tif) == (
        ALICE,
        SYMBOL,
        "buy",
        "limit",
        "day",
    )
    assert (first.quantity, first.price, first.client_order_id, first.post_only) == (
        3,
        9_900,
        "mine",
        True,
    )
    assert first.created_at == first.updated_at == market.now


def test_price_band_edges_are_inclusive(market: Market) -> None:
    market.place(ALICE, BUY, 1, BAND_LOW)
    market.place(ALICE, SELL, 1, BAND_HIGH)
    for price in (BAND_LOW - 5, BAND_HIGH + 5):
        command = PlaceOrder(ALICE, SYMBOL, BUY, 1, price=price)
        assert market.refuse(command) == Reject.PRICE_OUTSIDE_BAND
