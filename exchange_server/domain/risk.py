"""Pre-trade checks: everything an order must satisfy before it may touch the book.

Each check refuses with its own ``Reject`` code; none of them changes state.
"""

from __future__ import annotations

from typing import Final

from exchange_server.domain.commands import PlaceOrder
from exchange_server.domain.enums import (
    BUY,
    CANCEL_ONLY,
    DAY,
    FOK,
    GTC,
    GTD,
    HALTED,
    IOC,
    LIMIT,
    MARKET,
    POST_ONLY,
    SELL,
    STOP_LIMIT,
    STOP_MARKET,
    Side,
)
from exchange_server.domain.instruments import PPM, Instrument
from exchange_server.domain.rejections import Reject, Rejected

MAX_CLIENT_ORDER_ID: Final = 64
_MARKET_TIFS: Final = (DAY, IOC, FOK)
_RESTING_TIFS: Final = (DAY, GTC, GTD)


def check_entry_allowed(instrument: Instrument) -> None:
    """New orders and modifications need an open (or post-only) tradable instrument."""
    if not instrument.tradable:
        raise Rejected(Reject.INSTRUMENT_NOT_TRADABLE)
    status = instrument.status
    if status == HALTED:
        raise Rejected(Reject.INSTRUMENT_HALTED)
    if status == CANCEL_ONLY:
        raise Rejected(Reject.INSTRUMENT_CANCEL_ONLY)


def check_client_order_id(client_order_id: str) -> None:
    if (
        not isinstance(client_order_id, str)
        or len(client_order_id) > MAX_CLIENT_ORDER_ID
        or not client_order_id.isprintable()
    ):
        raise Rejected(Reject.INVALID_CLIENT_ORDER_ID)


def check_quantity(instrument: Instrument, quantity: int) -> None:
    if type(quantity) is not int or quantity <= 0:
        raise Rejected(Reject.INVALID_QUANTITY)
    if quantity % instrument.lot_size:
        raise Rejected(Reject.LOT_SIZE, f"lot size {instrument.lot_size}")
    if instrument.max_order_quantity and quantity > instrument.max_order_quantity:
        raise Rejected(Reject.MAX_ORDER_QUANTITY, f"maximum {instrument.max_order_quantity}")


def check_limit_price(instrument: Instrument, price: int) -> None:
    if type(price) is not int or price <= 0:
        raise Rejected(Reject.INVALID_PRICE)
    if price % instrument.tick_size:
        raise Rejected(Reject.TICK_SIZE, f"tick size {instrument.tick_size}")
    if instrument.band_high and not instrument.band_low <= price <= instrument.band_high:
        raise Rejected(
            Reject.PRICE_OUTSIDE_BAND, f"band {instrument.band_low}..{instrument.band_high}"
        )


def check_trigger(instrument: Instrument, side: Side, trigger: int, last_price: int) -> None:
    if type(trigger) is not int or trigger <= 0 or trigger % instrument.tick_size:
        raise Rejected(Reject.INVALID_TRIGGER)
    if last_price and (trigger <= last_price if side == BUY else trigger >= last_price):
        raise Rejected(Reject.TRIGGER_ALREADY_CROSSED, f"last traded price {last_price}")


def check_notional(instrument: Instrument, limit: int, quantity: int) -> None:
    if instrument.max_order_notional and (
        instrument.notional(limit, quantity) > instrument.max_order_notional
    ):
        raise Rejected(Reject.MAX_ORDER_NOTIONAL, f"maximum {instrument.max_order_notional}")


def market_protection(instrument: Instrument, side: Side) -> int:
    """Worst price a market order may trade at: the band edge. Without a band there is no
    bounded worst case to reserve funds against, so market orders are refused."""
    if not instrument.band_high:
        raise Rejected(Reject.PRICE_OUTSIDE_BAND, "no reference price yet: use a limit order")
    return instrument.band_high if side == BUY else instrument.band_low


def validate_new_order(
    command: PlaceOrder, instrument: Instrument, last_price: int, now: int
) -> int:
    """Check a new order completely; return the limit it will match up to."""
    check_entry_allowed(instrument)
    if command.side not in (BUY, SELL):
        raise Rejected(Reject.INVALID_SIDE)
    check_quantity(instrument, command.quantity)
    order_type = command.order_type
    tif = command.tif
    if tif not in _RESTING_TIFS and tif not in _MARKET_TIFS:
        raise Rejected(Reject.INVALID_TIME_IN_FORCE, f"unknown time in force {tif!r}")
    if order_type in (MARKET, STOP_MARKET):
        if command.price:
            raise Rejected(Reject.INVALID_PRICE, "market orders take no price")
        if tif not in _MARKET_TIFS or command.post_only:
            raise Rejected(Reject.INVALID_TIME_IN_FORCE, "market orders are DAY, IOC or FOK")
        if instrument.status == POST_ONLY:
            raise Rejected(Reject.INSTRUMENT_POST_ONLY)
        limit = market_protection(instrument, command.side)
    elif order_type in (LIMIT, STOP_LIMIT):
        check_limit_price(instrument, command.price)
        limit = command.price
        if command.post_only and tif not in _RESTING_TIFS:
            raise Rejected(Reject.INVALID_TIME_IN_FORCE, "post-only orders must be able to rest")
    else:
        raise Rejected(Reject.INVALID_ORDER_TYPE, repr(order_type))
    if order_type in (STOP_MARKET, STOP_LIMIT):
        check_trigger(instrument, command.side, command.trigger_price, last_price)
        if tif == FOK:
            raise Rejected(Reject.INVALID_TIME_IN_FORCE, "stop orders cannot be fill-or-kill")
    elif command.trigger_price:
        raise Rejected(Reject.INVALID_TRIGGER, "only stop orders take a trigger price")
    if tif == GTD:
        if type(command.expire_at) is not int or command.expire_at <= now:
            raise Rejected(Reject.INVALID_EXPIRY)
    elif command.expire_at:
        raise Rejected(Reject.INVALID_EXPIRY, "only GTD orders take an expiry time")
    check_notional(instrument, limit, command.quantity)
    return limit


def buy_reservation(instrument: Instrument, limit: int, quantity: int, fee_ppm: int) -> int:
    """Cash a buy must hold: its worst-case cost plus the highest fee it could pay.

    Fees round down, which keeps this superadditive: what the fills of an order consume plus
    what its remainder still holds never exceeds what was held before a fill."""
    notional = limit * quantity * instrument.notional_multiplier
    return notional + notional * fee_ppm // PPM
