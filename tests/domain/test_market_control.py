"""Price bands, the circuit breaker, and trading statuses set by the exchange."""

from __future__ import annotations

import pytest

from exchange_server.domain.commands import (
    CancelOrder,
    ModifyOrder,
    PlaceOrder,
    SetReferencePrice,
    SetTradingStatus,
)
from exchange_server.domain.enums import OrderStatus, OrderType, TimeInForce, TradingStatus
from exchange_server.domain.events import InstrumentStatusChanged
from exchange_server.domain.rejections import Reject
from tests.domain.conftest import (
    ALICE,
    BOB,
    BUY,
    CAROL,
    CASH,
    INDEX,
    OTHER,
    SELL,
    SYMBOL,
    Market,
    cost,
    last_update,
    of_type,
    trades,
)


def status_of(market: Market, symbol: str = SYMBOL) -> str:
    return market.exchange.instruments[symbol].status


# -- reference price and band ---------------------------------------------------------------


def test_reference_price_moves_the_band_and_announces_it(market: Market) -> None:
    events = market.accept(SetReferencePrice(SYMBOL, 10_005))
    # +/-10% of 100.05 is 10.005; the band edges are rounded inward to the 0.05 tick.
    assert events == [
        InstrumentStatusChanged(SYMBOL, "open", "reference price set", 10_005, 9_005, 11_005)
    ]
    assert market.refuse(PlaceOrder(ALICE, SYMBOL, BUY, 1, price=9_000)) == (
        Reject.PRICE_OUTSIDE_BAND
    )
    market.place(ALICE, BUY, 1, 9_005)


@pytest.mark.parametrize("price", [0, -5, 10_001])
def test_invalid_reference_prices_are_refused(market: Market, price: int) -> None:
    assert market.refuse(SetReferencePrice(SYMBOL, price)) == Reject.INVALID_REFERENCE_PRICE


def test_moving_the_band_leaves_resting_orders_alone(market: Market) -> None:
    resting = market.place(BOB, SELL, 5, 10_000)
    market.accept(SetReferencePrice(SYMBOL, 11_500))
    assert market.live(resting.order_id) is not None
    assert market.depth() == ([], [(10_000, 5, 1)])


# -- circuit breaker ------------------------------------------------------------------------


def test_a_trade_outside_the_band_halts_the_market_instead_of_printing(market: Market) -> None:
    resting = market.place(BOB, SELL, 5, 10_000)
    market.accept(SetReferencePrice(SYMBOL, 11_500))  # band 10_350..12_650

    buy = market.place(ALICE, BUY, 5, 10_500)

    assert buy.trades == []
    [halt] = of_type(buy.events, InstrumentStatusChanged)
    assert halt.symbol == SYMBOL
    assert halt.status == TradingStatus.HALTED
    assert "circuit breaker" in halt.reason
    assert (halt.band_low, halt.band_high) == (10_350, 12_650)
    final = buy.final
    assert (final.status, final.filled, final.remaining) == (OrderStatus.CANCELLED, 0, 0)
    assert final.reason == "circuit breaker halted the market"
    assert status_of(market) == TradingStatus.HALTED
    assert market.live(resting.order_id) is not None
    assert market.depth() == ([], [(10_000, 5, 1)])
    assert (market.held_cash(ALICE), market.cash(ALICE)) == (0, CASH)
    assert market.last_price() == 0
    # While halted nothing new is accepted, but traders can pull their orders.
    assert market.refuse(PlaceOrder(ALICE, SYMBOL, BUY, 5, price=10_500)) == (
        Reject.INSTRUMENT_HALTED
    )
    market.accept(CancelOrder(BOB, resting.order_id))
    assert market.held_shares(BOB) == 0
    market.assert_balanced()


def test_circuit_breaker_on_the_sell_side(market: Market) -> None:
    market.place(BOB, BUY, 5, 10_000)
    market.accept(SetReferencePrice(SYMBOL, 8_500))  # band 7_650..9_350

    sell = market.place(ALICE, SELL, 5, 9_000)

    assert sell.trades == []
    assert sell.status == OrderStatus.CANCELLED
    assert status_of(market) == TradingStatus.HALTED
    assert market.held_shares(ALICE) == 0


def test_circuit_breaker_cancels_the_remainder_after_in_band_fills(market: Market) -> None:
    # A stop-limit accepted under the old band can reach past the new one when it fires.
    stop_limit = market.place(
        ALICE, BUY, 3, 10_900, order_type=OrderType.STOP_LIMIT, trigger_price=10_100
    )
    market.place(BOB, SELL, 1, 10_400)
    outside = market.place(BOB, SELL, 1, 10_800)
    market.accept(SetReferencePrice(SYMBOL, 9_500))  # band 8_550..10_450
    market.place(BOB, SELL, 1, 10_100)

    events = market.place(CAROL, BUY, 1, 10_100).events

    assert [(t.price, t.buyer) for t in trades(events)] == [(10_100, CAROL), (10_400, ALICE)]
    assert all(8_550 <= t.price <= 10_450 for t in trades(events))
    final = last_update(events, stop_limit.order_id)
    assert (final.status, final.filled, final.remaining) == (OrderStatus.CANCELLED, 1, 0)
    assert status_of(market) == TradingStatus.HALTED
    assert market.live(outside.order_id) is not None
    assert market.last_price() == 10_400
    assert market.held_cash(ALICE) == 0
    assert market.cash(ALICE) == CASH - cost(10_400, 1)
    market.assert_balanced()


def test_a_fill_or_kill_into_the_band_edge_prints_nothing(market: Market) -> None:
    market.place(BOB, SELL, 5, 10_000)
    market.place(CAROL, SELL, 5, 10_500)
    market.accept(SetReferencePrice(SYMBOL, 11_500))

    fok = market.place(ALICE, BUY, 10, 10_500, tif=TimeInForce.FOK)

    assert fok.trades == []
    assert fok.status == OrderStatus.CANCELLED
    assert market.depth()[1] == [(10_000, 5, 1), (10_500, 5, 1)]


def test_a_fill_or_kill_that_would_meet_the_band_is_killed_without_halting(
    market: Market,
) -> None:
    market.place(BOB, SELL, 5, 10_000)
    market.place(CAROL, SELL, 5, 10_400)
    market.accept(SetReferencePrice(SYMBOL, 11_500))  # band 10_350..12_650: 10_000 is below

    fok = market.place(ALICE, BUY, 10, 10_400, tif=TimeInForce.FOK)

    # Matching would stop at the out-of-band 10_000 ask, so the order cannot fill whole:
    # it is killed before it reaches the book, and no trade means no circuit breaker.
    assert fok.trades == []
    assert fok.status == OrderStatus.CANCELLED
    assert status_of(market) == TradingStatus.OPEN
    assert market.held_cash(ALICE) == 0


def test_trading_resumes_after_a_halt(market: Market) -> None:
    market.place(BOB, SELL, 5, 10_000)
    market.accept(SetReferencePrice(SYMBOL, 11_500))
    market.place(ALICE, BUY, 5, 10_500)
    assert status_of(market) == TradingStatus.HALTED

    market.accept(SetReferencePrice(SYMBOL, 10_000))
    events = market.accept(SetTradingStatus(SYMBOL, TradingStatus.OPEN, "resumed"))

    assert events == [InstrumentStatusChanged(SYMBOL, "open", "resumed", 10_000, 9_000, 11_000)]
    assert [t.price for t in market.place(ALICE, BUY, 5, 10_000).trades] == [10_000]


# -- trading statuses -----------------------------------------------------------------------


def test_halted_market_refuses_orders_and_modifications(market: Market) -> None:
    resting = market.place(ALICE, BUY, 5, 9_900)
    market.accept(SetTradingStatus(SYMBOL, TradingStatus.HALTED, "news pending"))
    for command in (
        PlaceOrder(ALICE, SYMBOL, BUY, 1, price=9_900),
        PlaceOrder(ALICE, SYMBOL, SELL, 1, OrderType.MARKET, tif=TimeInForce.IOC),
        PlaceOrder(ALICE, SYMBOL, SELL, 1, OrderType.STOP_MARKET, trigger_price=9_000),
        ModifyOrder(ALICE, resting.order_id, quantity=4),
    ):
        assert market.refuse(command) == Reject.INSTRUMENT_HALTED
    market.place(ALICE, BUY, 1, 4_900, symbol=OTHER)  # other markets still trade
    market.accept(CancelOrder(ALICE, resting.order_id))


def test_cancel_only_market_accepts_only_cancels(market: Market) -> None:
    resting = market.place(ALICE, BUY, 5, 9_900)
    market.accept(SetTradingStatus(SYMBOL, TradingStatus.CANCEL_ONLY))
    for command in (
        PlaceOrder(ALICE, SYMBOL, BUY, 1, price=9_900),
        ModifyOrder(ALICE, resting.order_id, price=9_850),
    ):
        assert market.refuse(command) == Reject.INSTRUMENT_CANCEL_ONLY
    events = market.accept(CancelOrder(ALICE, resting.order_id))
    assert last_update(events, resting.order_id).status == OrderStatus.CANCELLED


def test_post_only_market_accepts_only_orders_that_rest(market: Market) -> None:
    bid = market.place(BOB, BUY, 5, 9_900)
    market.accept(SetTradingStatus(SYMBOL, TradingStatus.POST_ONLY, "pre-open"))

    ask = market.place(ALICE, SELL, 5, 10_000)
    assert ask.status == OrderStatus.NEW
    stop_limit = market.place(
        ALICE, SELL, 1, 9_800, order_type=OrderType.STOP_LIMIT, trigger_price=9_850
    )
    assert stop_limit.status == OrderStatus.NEW
    for command in (
        PlaceOrder(ALICE, SYMBOL, SELL, 1, price=9_900),
        ModifyOrder(ALICE, ask.order_id, price=9_900),
        ModifyOrder(BOB, bid.order_id, price=10_000),
    ):
        assert market.refuse(command) == Reject.INSTRUMENT_POST_ONLY
    for command in (
        PlaceOrder(ALICE, SYMBOL, SELL, 1, OrderType.MARKET, tif=TimeInForce.IOC),
        PlaceOrder(ALICE, SYMBOL, SELL, 1, OrderType.STOP_MARKET, trigger_price=9_000),
    ):
        assert market.refuse(command) == Reject.INSTRUMENT_POST_ONLY
    market.modify(ALICE, ask.order_id, price=9_950)  # still resting: allowed
    assert market.depth() == ([(9_900, 5, 1)], [(9_950, 5, 1)])
    assert trades(market.accept(CancelOrder(BOB, bid.order_id))) == []


def test_index_cannot_be_traded(market: Market) -> None:
    command = PlaceOrder(ALICE, INDEX, BUY, 1, price=10_000)
    assert market.refuse(command) == Reject.INSTRUMENT_NOT_TRADABLE


def test_trading_status_refusals(market: Market) -> None:
    bogus = SetTradingStatus(SYMBOL, "closed")  # type: ignore[arg-type]
    assert market.refuse(bogus) == Reject.INVALID_STATUS
    assert market.refuse(SetTradingStatus("NOPE", TradingStatus.HALTED)) == (
        Reject.UNKNOWN_INSTRUMENT
    )
    assert market.refuse(SetReferencePrice("NOPE", 10_000)) == Reject.UNKNOWN_INSTRUMENT
