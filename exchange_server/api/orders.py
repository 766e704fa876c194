"""Order entry shared by REST and the WebSocket: wire requests become engine commands, the
engine's answer becomes an order or a refusal with a code, a status and the field at fault.

Decimal inputs are converted exactly to the instrument's integer units here, so a price
with too many decimals is refused with a reason rather than rounded.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from exchange_server.api.convert import order_out
from exchange_server.api.deps import Principal
from exchange_server.api.errors import ApiError
from exchange_server.api.queries import get_order
from exchange_server.domain.commands import CancelAll, CancelOrder, ModifyOrder, PlaceOrder
from exchange_server.domain.enums import OrderType, Side, TimeInForce
from exchange_server.domain.events import CommandRejected, Event, OrderResubmitted, OrderUpdated
from exchange_server.domain.instruments import Instrument
from exchange_server.domain.rejections import Reject
from exchange_server.protocol import (
    CancelAllResult,
    ModifyOrderRequest,
    OrderOut,
    PlaceOrderRequest,
)

if TYPE_CHECKING:
    from exchange_server.api.context import ServerContext

# Larger than any real order, small enough that price * quantity stays far inside 64 bits
# for the journal and the database.
MAX_UNITS = 10**15

# Refusals that describe the state of the market or the order rather than the request.
CONFLICTS = {
    Reject.ORDER_NOT_OPEN,
    Reject.INSTRUMENT_HALTED,
    Reject.INSTRUMENT_CANCEL_ONLY,
    Reject.INSTRUMENT_POST_ONLY,
    Reject.DUPLICATE_CLIENT_ORDER_ID,
    Reject.POST_ONLY_WOULD_CROSS,
    Reject.TRIGGER_ALREADY_CROSSED,
}
NOT_FOUND = {Reject.UNKNOWN_ORDER, Reject.NOT_ORDER_OWNER, Reject.UNKNOWN_INSTRUMENT}
FIELDS: dict[str, str] = {
    Reject.UNKNOWN_INSTRUMENT: "symbol",
    Reject.INSTRUMENT_NOT_TRADABLE: "symbol",
    Reject.INVALID_QUANTITY: "quantity",
    Reject.LOT_SIZE: "quantity",
    Reject.MAX_ORDER_QUANTITY: "quantity",
    Reject.INVALID_PRICE: "price",
    Reject.TICK_SIZE: "price",
    Reject.PRICE_OUTSIDE_BAND: "price",
    Reject.INVALID_TRIGGER: "trigger_price",
    Reject.TRIGGER_ALREADY_CROSSED: "trigger_price",
    Reject.INVALID_TIME_IN_FORCE: "tif",
    Reject.POST_ONLY_WOULD_CROSS: "post_only",
    Reject.MAX_ORDER_NOTIONAL: "quantity",
    Reject.INVALID_EXPIRY: "expire_at",
    Reject.DUPLICATE_CLIENT_ORDER_ID: "client_order_id",
    Reject.INVALID_CLIENT_ORDER_ID: "client_order_id",
    Reject.UNKNOWN_ORDER: "order_id",
    Reject.NOT_ORDER_OWNER: "order_id",
    Reject.ORDER_NOT_OPEN: "order_id",
}


def refusal(rejected: CommandRejected) -> ApiError:
    reason = rejected.reason
    if reason in NOT_FOUND:
        status = 404
    elif reason in CONFLICTS:
        status = 409
    elif reason == Reject.UNKNOWN_ACCOUNT:
        status = 403
    else:
        status = 422
    message = rejected.message
    if reason == Reject.NOT_ORDER_OWNER:  # say no more than for an order that does not exist
        reason, message = Reject.UNKNOWN_ORDER, "no such order in this account"
    return ApiError(status, reason, message, FIELDS.get(reason))


def instrument_for(context: ServerContext, symbol: str) -> Instrument:
    instrument = context.market.instruments.get(symbol)
    if instrument is None:
        raise ApiError(404, "unknown_instrument", f"no instrument {symbol!r}", "symbol")
    return instrument


def units(value: Decimal, decimals: int, field: str, what: str) -> int:
    """``value`` in integer units with ``decimals`` places: exact, positive, bounded."""
    if not value.is_finite():
        raise ApiError(422, f"invalid_{what}", f"{field} must be a finite number", field)
    scaled = value.scaleb(decimals)
    if scaled != scaled.to_integral_value():
        raise ApiError(
            422, f"invalid_{what}", f"{field} allows at most {decimals} decimal places", field
        )
    result = int(scaled)
    if result <= 0:
        raise ApiError(422, f"invalid_{what}", f"{field} must be greater than zero", field)
    if result > MAX_UNITS:
        raise ApiError(422, f"invalid_{what}", f"{field} is too large", field)
    return result


def price_units(instrument: Instrument, value: Decimal, field: str) -> int:
    return units(value, instrument.price_decimals, field, "price")


def quantity_units(instrument: Instrument, value: Decimal) -> int:
    return units(value, instrument.quantity_decimals, "quantity", "quantity")


def place_command(
    context: ServerContext, principal: Principal, request: PlaceOrderRequest
) -> tuple[PlaceOrder, Instrument]:
    instrument = instrument_for(context, request.symbol)
    order_type = OrderType(request.order_type)
    needs_price = order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    needs_trigger = order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
    if needs_price and request.price is None:
        raise ApiError(422, "missing_field", f"a {order_type} order needs a price", "price")
    if not needs_price and request.price is not None:
        raise ApiError(422, "invalid_price", f"a {order_type} order takes no price", "price")
    if needs_trigger and request.trigger_price is None:
        raise ApiError(
            422, "missing_field", f"a {order_type} order needs a trigger price", "trigger_price"
        )
    if not needs_trigger and request.trigger_price is not None:
        raise ApiError(
            422, "invalid_trigger", f"a {order_type} order takes no trigger", "trigger_price"
        )
    if request.tif == "gtd" and request.expire_at is None:
        raise ApiError(422, "missing_field", "a GTD order needs expire_at", "expire_at")
    if request.tif != "gtd" and request.expire_at is not None:
        raise ApiError(422, "invalid_expiry", "only GTD orders take expire_at", "expire_at")
    command = PlaceOrder(
        principal.account_id,
        request.symbol,
        Side(request.side),
        quantity_units(instrument, request.quantity),
        order_type,
        price_units(instrument, request.price, "price") if request.price is not None else 0,
        price_units(instrument, request.trigger_price, "trigger_price")
        if request.trigger_price is not None
        else 0,
        TimeInForce(request.tif),
        request.client_order_id or "",
        request.post_only,
        request.expire_at or 0,
    )
    return command, instrument


def _last_update(events: list[Event], order_id: int) -> OrderUpdated | None:
    for event in reversed(events):
        if type(event) is OrderUpdated and event.order_id == order_id:
            return event
    return None


def _first_rejection(events: list[Event]) -> CommandRejected | None:
    for event in events:
        if type(event) is CommandRejected:
            return event
    return None


async def place_order(
    context: ServerContext, principal: Principal, request: PlaceOrderRequest
) -> OrderOut:
    command, instrument = place_command(context, principal, request)
    ack = await context.submit(command)
    events = ack.events
    rejected = _first_rejection(events)
    if rejected is not None:
        raise refusal(rejected)
    for event in events:
        if type(event) is OrderResubmitted:  # idempotent: the original order, as it is now
            return await get_order(context, principal.account_id, event.order_id)
    # The new order has the newest id among this account's updates (others in the same
    # command are older orders: expiries, self-trade cancels).
    ids = [e.order_id for e in events if type(e) is OrderUpdated and e.account == command.account]
    update = _last_update(events, max(ids)) if ids else None
    if update is None:  # cannot happen: an accepted order always reports itself
        raise ApiError(503, "unavailable", "the order's state was not reported")
    return order_out(instrument, update)


async def modify_order(
    context: ServerContext, principal: Principal, order_id: int, request: ModifyOrderRequest
) -> OrderOut:
    current = await get_order(context, principal.account_id, order_id)
    instrument = instrument_for(context, current.symbol)
    if request.quantity is None and request.price is None and request.trigger_price is None:
        raise ApiError(422, "modify_no_change", "give a new quantity, price or trigger", None)
    command = ModifyOrder(
        principal.account_id,
        order_id,
        quantity_units(instrument, request.quantity) if request.quantity is not None else 0,
        price_units(instrument, request.price, "price") if request.price is not None else 0,
        price_units(instrument, request.trigger_price, "trigger_price")
        if request.trigger_price is not None
        else 0,
    )
    ack = await context.submit(command)
    return await _order_result(context, principal, instrument, order_id, ack.events)


async def cancel_order(context: ServerContext, principal: Principal, order_id: int) -> OrderOut:
    current = await get_order(context, principal.account_id, order_id)
    instrument = instrument_for(context, current.symbol)
    ack = await context.submit(CancelOrder(principal.account_id, order_id))
    return await _order_result(context, principal, instrument, order_id, ack.events)


async def _order_result(
    context: ServerContext,
    principal: Principal,
    instrument: Instrument,
    order_id: int,
    events: list[Event],
) -> OrderOut:
    rejected = _first_rejection(events)
    if rejected is not None:
        raise refusal(rejected)
    update = _last_update(events, order_id)
    if update is None:
        return await get_order(context, principal.account_id, order_id)
    return order_out(instrument, update)


async def cancel_all(
    context: ServerContext, principal: Principal, symbol: str | None
) -> CancelAllResult:
    if symbol is not None:
        instrument_for(context, symbol)
    ack = await context.submit(CancelAll(principal.account_id, symbol or ""))
    rejected = _first_rejection(ack.events)
    if rejected is not None:
        raise refusal(rejected)
    cancelled = [
        order_out(context.market.instruments[e.symbol], e)
        for e in ack.events
        if type(e) is OrderUpdated and e.account == principal.account_id
    ]
    return CancelAllResult(cancelled=cancelled)
