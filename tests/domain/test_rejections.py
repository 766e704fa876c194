"""Every refusal reason, each with an input that causes it.

Each case sets up what it needs and returns the command that must be refused; ``refuse``
checks that exactly one ``CommandRejected`` comes out and that the state hash is unchanged.
A reason that becomes unreachable makes its case fail; a new reason without a case fails
``test_every_reason_has_a_case``. None is excluded: all of them are reachable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

import pytest

from exchange_server.domain.commands import (
    CancelOrder,
    Command,
    Deposit,
    ListInstrument,
    ModifyOrder,
    OpenAccount,
    PlaceOrder,
    SetFees,
    SetReferencePrice,
    SetTradingStatus,
)
from exchange_server.domain.enums import AssetClass, OrderType, TimeInForce, TradingStatus
from exchange_server.domain.rejections import MESSAGES, Reject
from tests.domain.conftest import (
    ALICE,
    BOB,
    BUY,
    CASH,
    CURRENCY,
    INDEX,
    SELL,
    SHARES,
    SYMBOL,
    Market,
)


@dataclass
class Unheard(Command):
    kind: ClassVar[str] = "unheard_of"


def _buy(price: int = 9_900, quantity: int = 1, **extra: object) -> PlaceOrder:
    return PlaceOrder(ALICE, SYMBOL, BUY, quantity, price=price, **extra)  # type: ignore[arg-type]


def _new(market: Market, **instrument: object) -> str:
    market.accept(
        ListInstrument(
            "NEWCO",
            "New Co",
            AssetClass.EQUITY,
            "NSE",
            CURRENCY,
            reference_price=10_000,
            **instrument,  # type: ignore[arg-type]
        )
    )
    return "NEWCO"


def _status(market: Market, status: TradingStatus) -> Command:
    market.accept(SetTradingStatus(SYMBOL, status))
    return _buy()


def _post_only_status(market: Market) -> Command:
    market.place(BOB, SELL, 1, 10_000)
    market.accept(SetTradingStatus(SYMBOL, TradingStatus.POST_ONLY))
    return _buy(10_000)


def _crossing_post_only(market: Market) -> Command:
    market.place(BOB, SELL, 1, 10_000)
    return _buy(10_000, post_only=True, tif=TimeInForce.GTC)


def _crossed_trigger(market: Market) -> Command:
    market.place(BOB, SELL, 1, 10_000)
    market.place(ALICE, BUY, 1, 10_000)
    return PlaceOrder(ALICE, SYMBOL, BUY, 1, OrderType.STOP_MARKET, trigger_price=10_000)


def _duplicate_coid(market: Market) -> Command:
    market.accept(_buy(client_order_id="dup"))
    return _buy(9_895, client_order_id="dup")


def _not_owner(market: Market) -> Command:
    return CancelOrder(BOB, market.place(ALICE, BUY, 1, 9_900).order_id)


def _not_open(market: Market) -> Command:
    order_id = market.place(ALICE, BUY, 1, 9_900).order_id
    market.accept(CancelOrder(ALICE, order_id))
    return CancelOrder(ALICE, order_id)


def _no_change(market: Market) -> Command:
    order_id = market.place(ALICE, BUY, 5, 9_900).order_id
    return ModifyOrder(ALICE, order_id, quantity=5, price=9_900)


def _below_filled(market: Market) -> Command:
    order_id = market.place(ALICE, BUY, 5, 10_000).order_id
    market.place(BOB, SELL, 3, 10_000)
    return ModifyOrder(ALICE, order_id, quantity=3)


def _lot_size(market: Market) -> Command:
    return PlaceOrder(ALICE, _new(market, lot_size=5), BUY, 3, price=10_000)


def _max_quantity(market: Market) -> Command:
    return PlaceOrder(ALICE, _new(market, max_order_quantity=100), BUY, 101, price=10_000)


def _max_notional(market: Market) -> Command:
    symbol = _new(market, max_order_notional=10_000 * 100 * 10)  # ten shares at 100.00
    market.accept(PlaceOrder(ALICE, symbol, BUY, 10, price=10_000))
    return PlaceOrder(ALICE, symbol, BUY, 10, price=10_005)


CASES: dict[Reject, Callable[[Market], Command]] = {
    Reject.UNKNOWN_INSTRUMENT: lambda m: PlaceOrder(ALICE, "NOPE", BUY, 1, price=9_900),
    Reject.INSTRUMENT_EXISTS: lambda m: ListInstrument(
        SYMBOL, "Again", AssetClass.EQUITY, "NSE", CURRENCY
    ),
    Reject.INSTRUMENT_NOT_TRADABLE: lambda m: PlaceOrder(ALICE, INDEX, BUY, 1, price=9_900),
    Reject.INVALID_INSTRUMENT: lambda m: ListInstrument(
        "ZERO", "Zero tick", AssetClass.EQUITY, "NSE", CURRENCY, tick_size=0
    ),
    Reject.INSTRUMENT_HALTED: lambda m: _status(m, TradingStatus.HALTED),
    Reject.INSTRUMENT_CANCEL_ONLY: lambda m: _status(m, TradingStatus.CANCEL_ONLY),
    Reject.INSTRUMENT_POST_ONLY: _post_only_status,
    Reject.UNKNOWN_ACCOUNT: lambda m: PlaceOrder(99, SYMBOL, BUY, 1, price=9_900),
    Reject.ACCOUNT_EXISTS: lambda m: OpenAccount(ALICE),
    Reject.INVALID_QUANTITY: lambda m: _buy(quantity=0),
    Reject.LOT_SIZE: _lot_size,
    Reject.INVALID_PRICE: lambda m: _buy(price=0),
    Reject.TICK_SIZE: lambda m: _buy(price=9_901),
    Reject.PRICE_OUTSIDE_BAND: lambda m: _buy(price=11_005),
    Reject.MAX_ORDER_QUANTITY: _max_quantity,
    Reject.MAX_ORDER_NOTIONAL: _max_notional,
    Reject.INSUFFICIENT_FUNDS: lambda m: _buy(price=10_000, quantity=CASH // 1_000_000 + 1),
    Reject.INSUFFICIENT_HOLDINGS: lambda m: PlaceOrder(
        ALICE, SYMBOL, SELL, SHARES + 1, price=10_000
    ),
    Reject.POST_ONLY_WOULD_CROSS: _crossing_post_only,
    Reject.INVALID_TIME_IN_FORCE: lambda m: PlaceOrder(
        ALICE, SYMBOL, BUY, 1, OrderType.MARKET, tif=TimeInForce.GTC
    ),
    Reject.INVALID_EXPIRY: lambda m: _buy(tif=TimeInForce.GTD),
    Reject.INVALID_TRIGGER: lambda m: PlaceOrder(ALICE, SYMBOL, BUY, 1, OrderType.STOP_MARKET),
    Reject.TRIGGER_ALREADY_CROSSED: _crossed_trigger,
    Reject.DUPLICATE_CLIENT_ORDER_ID: _duplicate_coid,
    Reject.INVALID_CLIENT_ORDER_ID: lambda m: _buy(client_order_id="c" * 65),
    Reject.UNKNOWN_ORDER: lambda m: CancelOrder(ALICE, 123_456),
    Reject.NOT_ORDER_OWNER: _not_owner,
    Reject.ORDER_NOT_OPEN: _not_open,
    Reject.MODIFY_NO_CHANGE: _no_change,
    Reject.MODIFY_BELOW_FILLED: _below_filled,
    Reject.INVALID_AMOUNT: lambda m: Deposit(ALICE, CURRENCY, 0),
    Reject.UNKNOWN_ASSET: lambda m: Deposit(ALICE, "GOLD", 1),
    Reject.INVALID_FEES: lambda m: SetFees(0, 1_000_000),
    Reject.INVALID_REFERENCE_PRICE: lambda m: SetReferencePrice(SYMBOL, 10_002),
    Reject.UNKNOWN_COMMAND: lambda m: Unheard(),
    Reject.INVALID_STATUS: lambda m: SetTradingStatus(SYMBOL, "closed"),  # type: ignore[arg-type]
    Reject.INVALID_SIDE: lambda m: PlaceOrder(ALICE, SYMBOL, "short", 1, price=9_900),  # type: ignore[arg-type]
    Reject.INVALID_ORDER_TYPE: lambda m: PlaceOrder(
        ALICE,
        SYMBOL,
        BUY,
        1,
        "iceberg",
        price=9_900,  # type: ignore[arg-type]
    ),
    Reject.INVALID_SELF_TRADE_PREVENTION: lambda m: OpenAccount(77, "cancel_random"),  # type: ignore[arg-type]
}


def test_every_reason_has_a_case() -> None:
    assert set(CASES) == set(Reject)


def test_every_reason_has_a_message() -> None:
    assert set(MESSAGES) == set(Reject)
    assert all(MESSAGES.values())


@pytest.mark.parametrize("reason", list(Reject), ids=str)
def test_reason_is_given_for_its_input(reason: Reject) -> None:
    market = Market()
    command = CASES[reason](market)
    assert market.refuse(command) == reason
