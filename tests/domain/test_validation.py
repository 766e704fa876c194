"""Malformed fields are refused with the field's own reason before any rule runs."""

from __future__ import annotations

from typing import Any

import pytest

from exchange_server.domain.commands import (
    Deposit,
    EndOfDay,
    ModifyOrder,
    PlaceOrder,
    SetFees,
)
from exchange_server.domain.enums import OrderType, Side, TimeInForce
from exchange_server.domain.events import OrderResubmitted, OrderUpdated
from exchange_server.domain.rejections import Reject
from tests.domain.conftest import ALICE, BUY, CURRENCY, INDEX, OTHER, SYMBOL, Market


def _order(**fields: Any) -> PlaceOrder:
    values: dict[str, Any] = {
        "account": ALICE,
        "symbol": SYMBOL,
        "side": BUY,
        "quantity": 1,
        "price": 9_900,
    }
    values.update(fields)
    return PlaceOrder(**values)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"quantity": 1.5}, Reject.INVALID_QUANTITY),
        ({"quantity": True}, Reject.INVALID_QUANTITY),
        ({"quantity": "10"}, Reject.INVALID_QUANTITY),
        ({"price": 99.0}, Reject.INVALID_PRICE),
        ({"price": float("nan")}, Reject.INVALID_PRICE),
        ({"price": None}, Reject.INVALID_PRICE),
        ({"account": "10"}, Reject.UNKNOWN_ACCOUNT),
        ({"symbol": ["ACME"]}, Reject.UNKNOWN_INSTRUMENT),
        ({"side": "long"}, Reject.INVALID_SIDE),
        ({"side": ["buy"]}, Reject.INVALID_SIDE),
        ({"order_type": "iceberg"}, Reject.INVALID_ORDER_TYPE),
        ({"tif": "forever"}, Reject.INVALID_TIME_IN_FORCE),
        ({"post_only": 1}, Reject.INVALID_TIME_IN_FORCE),
        ({"client_order_id": 7}, Reject.INVALID_CLIENT_ORDER_ID),
        ({"trigger_price": 1e3}, Reject.INVALID_TRIGGER),
        ({"expire_at": "tomorrow"}, Reject.INVALID_EXPIRY),
    ],
)
def test_a_malformed_order_field_is_refused_with_its_reason(
    market: Market, fields: dict[str, Any], reason: Reject
) -> None:
    assert market.refuse(_order(**fields)) == reason


def test_other_commands_check_their_fields_too(market: Market) -> None:
    assert market.refuse(Deposit(ALICE, CURRENCY, 10.5)) == Reject.INVALID_AMOUNT  # type: ignore[arg-type]
    assert market.refuse(Deposit(ALICE, {"x": 1}, 10)) == Reject.UNKNOWN_ASSET  # type: ignore[arg-type]
    assert market.refuse(SetFees(0.5, 0)) == Reject.INVALID_FEES  # type: ignore[arg-type]
    assert market.refuse(ModifyOrder(ALICE, "1", quantity=2)) == Reject.UNKNOWN_ORDER  # type: ignore[arg-type]
    assert market.refuse(Deposit(ALICE, CURRENCY, 1, reference="x" * 201)) == Reject.INVALID_AMOUNT


def test_enum_fields_given_as_their_values_are_accepted(market: Market) -> None:
    events = market.accept(_order(side="buy", order_type="limit", tif="gtc"))
    update = next(e for e in events if isinstance(e, OrderUpdated))
    assert update.side is Side.BUY
    assert update.order_type is OrderType.LIMIT
    assert update.tif is TimeInForce.GTC


def test_an_index_cannot_be_deposited(market: Market) -> None:
    assert market.refuse(Deposit(ALICE, INDEX, 10)) == Reject.INSTRUMENT_NOT_TRADABLE


def test_end_of_day_for_one_symbol_forgets_only_its_client_order_ids(market: Market) -> None:
    market.accept(_order(symbol=SYMBOL, tif=TimeInForce.IOC, client_order_id="a"))
    market.accept(_order(symbol=OTHER, price=5_000, tif=TimeInForce.IOC, client_order_id="b"))
    market.accept(EndOfDay(SYMBOL))
    # ACME's id is free again; BETA's still answers as a resubmission of the first order.
    reused = market.accept(_order(symbol=SYMBOL, tif=TimeInForce.IOC, client_order_id="a"))
    assert not any(isinstance(e, OrderResubmitted) for e in reused)
    again = market.accept(
        _order(symbol=OTHER, price=5_000, tif=TimeInForce.IOC, client_order_id="b")
    )
    assert any(isinstance(e, OrderResubmitted) for e in again)
