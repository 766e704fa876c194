"""Order ticket checks made before anything is sent: the exchange's own rules, client side.

The rules mirror ``exchange_server.domain.risk`` exactly (Decimal arithmetic, never floats)
and the messages are the exchange's own (``exchange_server.domain.rejections.MESSAGES``), so
a trader sees the same words whether the ticket or the server refuses. The server stays the
judge: a check the ticket cannot make (fees, another session's orders) still comes back as a
rejection with the server's reason. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Final, Literal

from exchange_server.domain.rejections import MESSAGES, Reject
from exchange_server.protocol import InstrumentOut, OrderOut

TicketField = Literal["symbol", "quantity", "price", "trigger_price", "tif", "funds"]
OrderKind = Literal["market", "limit", "stop_market", "stop_limit"]

MARKET_TIFS: Final = ("day", "ioc", "fok")
RESTING_TIFS: Final = ("day", "gtc")  # GTD needs an expiry the ticket does not offer
STOP_KINDS: Final = ("stop_market", "stop_limit")
PRICED_KINDS: Final = ("limit", "stop_limit")


@dataclass(frozen=True, slots=True)
class Problem:
    field: TicketField
    code: str  # the exchange's rejection code, or "not_a_number" for unparseable text
    message: str


@dataclass(frozen=True, slots=True)
class TicketInput:
    """What the trader typed; text fields stay text until parsed here."""

    symbol: str
    side: Literal["buy", "sell"]
    order_type: OrderKind
    quantity: str
    price: str = ""
    trigger_price: str = ""
    tif: str = "day"


@dataclass(slots=True)
class Checked:
    """The parsed ticket and every problem found (empty: fit to send)."""

    quantity: Decimal | None = None
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def first(self, name: TicketField) -> Problem | None:
        return next((p for p in self.problems if p.field == name), None)


def parse_decimal(text: str) -> Decimal | None:
    """A finite decimal from what a person typed ("1,250.5" included), or None."""
    cleaned = text.strip().replace(",", "").replace("_", "")
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return step > 0 and value % step == 0


def reject(name: TicketField, reason: Reject, detail: str = "") -> Problem:
    return Problem(name, str(reason), MESSAGES[reason] + (f" ({detail})" if detail else ""))


def validate_ticket(
    ticket: TicketInput,
    instrument: InstrumentOut | None,
    *,
    last_price: Decimal | None = None,
    available_cash: Decimal | None = None,
    available_holdings: Decimal | None = None,
) -> Checked:
    """Check a ticket the way the exchange will; ``None`` for what is not known yet (no
    balances loaded: the funds check is left to the server)."""
    checked = Checked()
    problems = checked.problems
    if instrument is None:
        problems.append(reject("symbol", Reject.UNKNOWN_INSTRUMENT, ticket.symbol or "none"))
        return checked
    if instrument.asset_class == "index":
        problems.append(reject("symbol", Reject.INSTRUMENT_NOT_TRADABLE))
    elif instrument.status == "halted":
        problems.append(reject("symbol", Reject.INSTRUMENT_HALTED))
    elif instrument.status == "cancel_only":
        problems.append(reject("symbol", Reject.INSTRUMENT_CANCEL_ONLY))
    elif instrument.status == "post_only" and ticket.order_type in ("market", "stop_market"):
        problems.append(reject("symbol", Reject.INSTRUMENT_POST_ONLY))

    checked.quantity = _check_quantity(ticket.quantity, instrument, problems)
    if ticket.order_type in PRICED_KINDS:
        checked.price = _check_price(ticket.price, instrument, problems)
    if ticket.order_type in STOP_KINDS:
        checked.trigger_price = _check_trigger(ticket, instrument, last_price, problems)
    _check_tif(ticket, problems)
    if ticket.order_type in ("market", "stop_market") and not instrument.band_high:
        # Market orders reserve at the band edge; without a band there is no worst case.
        problems.append(reject("price", Reject.PRICE_OUTSIDE_BAND, "no reference price yet"))
    if checked.quantity is not None and not problems:
        _check_funds(ticket, checked, instrument, available_cash, available_holdings)
    return checked


def _check_quantity(
    text: str, instrument: InstrumentOut, problems: list[Problem]
) -> Decimal | None:
    quantity = parse_decimal(text)
    if quantity is None:
        problems.append(Problem("quantity", "not_a_number", "Enter a quantity"))
        return None
    unit = Decimal(1).scaleb(-instrument.quantity_decimals)
    if quantity <= 0 or not is_multiple(quantity, unit):
        problems.append(reject("quantity", Reject.INVALID_QUANTITY, f"unit {unit}"))
        return None
    if not is_multiple(quantity, instrument.lot_size):
        problems.append(reject("quantity", Reject.LOT_SIZE, f"lot size {instrument.lot_size}"))
        return None
    return quantity


def _check_price(text: str, instrument: InstrumentOut, problems: list[Problem]) -> Decimal | None:
    price = parse_decimal(text)
    if price is None:
        problems.append(Problem("price", "not_a_number", "Enter a limit price"))
        return None
    if price <= 0:
        problems.append(reject("price", Reject.INVALID_PRICE))
        return None
    if not is_multiple(price, instrument.tick_size):
        problems.append(reject("price", Reject.TICK_SIZE, f"tick size {instrument.tick_size}"))
        return None
    band_low, band_high = instrument.band_low, instrument.band_high
    if band_high and not band_low <= price <= band_high:
        problems.append(reject("price", Reject.PRICE_OUTSIDE_BAND, f"band {band_low}-{band_high}"))
        return None
    return price


def _check_trigger(
    ticket: TicketInput,
    instrument: InstrumentOut,
    last_price: Decimal | None,
    problems: list[Problem],
) -> Decimal | None:
    trigger = parse_decimal(ticket.trigger_price)
    if trigger is None:
        problems.append(Problem("trigger_price", "not_a_number", "Enter a trigger price"))
        return None
    if trigger <= 0 or not is_multiple(trigger, instrument.tick_size):
        problems.append(
            reject("trigger_price", Reject.INVALID_TRIGGER, f"tick size {instrument.tick_size}")
        )
        return None
    # A buy stop waits for the price to rise to its trigger: at or below the last trade it
    # would fire at once, and the exchange refuses it.
    if last_price and (trigger <= last_price if ticket.side == "buy" else trigger >= last_price):
        problems.append(
            reject("trigger_price", Reject.TRIGGER_ALREADY_CROSSED, f"last {last_price}")
        )
        return None
    return trigger


def _check_tif(ticket: TicketInput, problems: list[Problem]) -> None:
    tif = ticket.tif
    if ticket.order_type in ("market", "stop_market"):
        if tif not in MARKET_TIFS:
            problems.append(
                reject("tif", Reject.INVALID_TIME_IN_FORCE, "market orders are DAY, IOC or FOK")
            )
    elif tif not in MARKET_TIFS + RESTING_TIFS:
        problems.append(reject("tif", Reject.INVALID_TIME_IN_FORCE, f"unknown {tif!r}"))
    if ticket.order_type in STOP_KINDS and tif == "fok":
        problems.append(
            reject("tif", Reject.INVALID_TIME_IN_FORCE, "stop orders cannot be fill-or-kill")
        )


def worst_price(ticket: TicketInput, price: Decimal | None, instrument: InstrumentOut) -> Decimal:
    """The price a buy reserves cash at: its limit, or for market orders the band edge (the
    exchange's market protection). Zero when unknown."""
    if ticket.order_type in PRICED_KINDS:
        return price or Decimal(0)
    return instrument.band_high if ticket.side == "buy" else instrument.band_low


def _check_funds(
    ticket: TicketInput,
    checked: Checked,
    instrument: InstrumentOut,
    available_cash: Decimal | None,
    available_holdings: Decimal | None,
) -> None:
    quantity = checked.quantity
    assert quantity is not None
    if ticket.side == "buy":
        if available_cash is None:
            return
        need = worst_price(ticket, checked.price, instrument) * quantity
        if need > available_cash:
            checked.problems.append(
                reject("funds", Reject.INSUFFICIENT_FUNDS, f"need {need}, have {available_cash}")
            )
    else:
        if available_holdings is None:
            return
        if quantity > available_holdings:
            checked.problems.append(
                reject(
                    "funds",
                    Reject.INSUFFICIENT_HOLDINGS,
                    f"selling {quantity}, have {available_holdings}",
                )
            )


@dataclass(frozen=True, slots=True)
class Estimate:
    value: Decimal | None  # expected trade value at the limit (or touch for market orders)
    reserve: Decimal | None  # cash (buy) the exchange holds while the order is open


def estimate(
    ticket: TicketInput,
    instrument: InstrumentOut | None,
    *,
    best_bid: Decimal | None = None,
    best_ask: Decimal | None = None,
    last_price: Decimal | None = None,
) -> Estimate:
    """Expected value and reserved cash of a ticket, as far as it parses (fees excluded:
    the exchange's rates are not published; they are taken on fill)."""
    quantity = parse_decimal(ticket.quantity)
    if instrument is None or quantity is None or quantity <= 0:
        return Estimate(None, None)
    if ticket.order_type in PRICED_KINDS:
        price = parse_decimal(ticket.price)
    elif ticket.order_type == "stop_market":
        price = parse_decimal(ticket.trigger_price)
    else:
        touch = best_ask if ticket.side == "buy" else best_bid
        price = touch or last_price
    value = price * quantity if price else None
    reserve: Decimal | None = None
    if ticket.side == "buy":
        worst = worst_price(ticket, parse_decimal(ticket.price), instrument)
        reserve = worst * quantity if worst else None
    return Estimate(value, reserve)


def validate_modify(
    order: OrderOut,
    instrument: InstrumentOut | None,
    *,
    quantity: str,
    price: str = "",
    trigger_price: str = "",
    last_price: Decimal | None = None,
) -> Checked:
    """Check a modification of a working order: the new total quantity, limit and trigger,
    each only when the order has one; unchanged fields are left out of the result."""
    checked = Checked()
    problems = checked.problems
    if instrument is None:
        problems.append(reject("symbol", Reject.UNKNOWN_INSTRUMENT, order.symbol))
        return checked
    new_quantity = _check_quantity(quantity, instrument, problems)
    if new_quantity is not None and new_quantity <= order.filled:
        problems.append(reject("quantity", Reject.MODIFY_BELOW_FILLED, f"filled {order.filled}"))
    elif new_quantity != order.quantity:
        checked.quantity = new_quantity
    if order.price is not None:
        new_price = _check_price(price, instrument, problems)
        if new_price is not None and new_price != order.price:
            checked.price = new_price
    if order.trigger_price is not None and order.status == "new":
        ticket = TicketInput(
            order.symbol, order.side, order.order_type, quantity, trigger_price=trigger_price
        )
        new_trigger = _check_trigger(ticket, instrument, last_price, problems)
        if new_trigger is not None and new_trigger != order.trigger_price:
            checked.trigger_price = new_trigger
    if not problems and (
        checked.quantity is None and checked.price is None and checked.trigger_price is None
    ):
        problems.append(reject("quantity", Reject.MODIFY_NO_CHANGE))
    return checked
