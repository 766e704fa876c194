"""Order ticket checks made before anything is sent: the exchange's own rules, client side.

The rules mirror ``exchange_server.domain.risk`` exactly (Decimal arithmetic, never floats)
and the messages are the exchange's own (``exchange_server.domain.rejections.MESSAGES``), so
a trader sees the same words whether the ticket or the server refuses. Fees come from the
exchange's published schedule (``FeeSchedule``) and are computed as the engine does: parts
per million of the notional, rounded down to the cash unit; a buy must cover its worst-case
cost plus the fee at the schedule's reserve rate. The server stays the judge: a check the
ticket cannot make (whether a post-only order would cross the live book, another session's
orders) still comes back as a rejection with the server's reason. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal, InvalidOperation, localcontext
from typing import Final, Literal

from exchange_server.domain.rejections import MESSAGES, Reject
from exchange_server.protocol import FeeSchedule, InstrumentOut, OrderOut

TicketField = Literal[
    "symbol", "quantity", "price", "trigger_price", "tif", "expire_at", "post_only", "funds"
]
OrderKind = Literal["market", "limit", "stop_market", "stop_limit"]
# Which fee rate an estimate uses: the taker's (market orders, limits that cross the touch),
# the maker's (limits that rest, post-only), or the higher of the two when either may apply
# (a stop limit: what its limit meets when it triggers is unknown).
FeeBasis = Literal["maker", "taker", "worst"]

MARKET_TIFS: Final = ("day", "ioc", "fok")
RESTING_TIFS: Final = ("day", "gtc", "gtd")
MARKET_KINDS: Final = ("market", "stop_market")
STOP_KINDS: Final = ("stop_market", "stop_limit")
PRICED_KINDS: Final = ("limit", "stop_limit")
# The exchange takes any future expiry; further than this is far more likely a typo (a year
# typed wrong) than a plan, and a GTC order says "no end" plainly.
MAX_GTD_DAYS: Final = 365
NS_PER_DAY: Final = 86_400 * 10**9
PPM: Final = 1_000_000


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
    post_only: bool = False
    expire_at: int | None = None  # epoch ns, GTD only


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
    fees: FeeSchedule | None = None,
    now_ns: int | None = None,
) -> Checked:
    """Check a ticket the way the exchange will; ``None`` for what is not known yet (no
    balances loaded: the funds check is left to the server; no fee schedule: a buy is checked
    for its cost alone; no clock: a GTD expiry is checked for presence only). ``now_ns`` is
    the exchange's time (epoch ns), which a GTD expiry must be after."""
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
    elif instrument.status == "post_only" and ticket.order_type in MARKET_KINDS:
        problems.append(reject("symbol", Reject.INSTRUMENT_POST_ONLY))

    checked.quantity = _check_quantity(ticket.quantity, instrument, problems)
    if ticket.order_type in PRICED_KINDS:
        checked.price = _check_price(ticket.price, instrument, problems)
    if ticket.order_type in STOP_KINDS:
        checked.trigger_price = _check_trigger(ticket, instrument, last_price, problems)
    _check_tif(ticket, problems)
    _check_expiry(ticket, now_ns, problems)
    _check_post_only(ticket, problems)
    if ticket.order_type in MARKET_KINDS and not instrument.band_high:
        # Market orders reserve at the band edge; without a band there is no worst case.
        problems.append(reject("price", Reject.PRICE_OUTSIDE_BAND, "no reference price yet"))
    if checked.quantity is not None and not problems:
        _check_funds(ticket, checked, instrument, available_cash, available_holdings, fees)
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
    if ticket.order_type in MARKET_KINDS:
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


def _check_expiry(ticket: TicketInput, now_ns: int | None, problems: list[Problem]) -> None:
    """A GTD order needs an expiry in the future (the exchange's rule) and within
    ``MAX_GTD_DAYS`` (the ticket's); no other order takes one."""
    expire_at = ticket.expire_at
    if ticket.tif != "gtd":
        if expire_at is not None:
            problems.append(
                reject("expire_at", Reject.INVALID_EXPIRY, "only GTD orders take an expiry time")
            )
        return
    if expire_at is None:
        problems.append(Problem("expire_at", "missing_field", "Enter an expiry date and time"))
    elif now_ns is not None and expire_at <= now_ns:
        problems.append(reject("expire_at", Reject.INVALID_EXPIRY))
    elif now_ns is not None and expire_at > now_ns + MAX_GTD_DAYS * NS_PER_DAY:
        problems.append(
            Problem("expire_at", "expiry_too_far", f"Expiry must be within {MAX_GTD_DAYS} days")
        )


def _check_post_only(ticket: TicketInput, problems: list[Problem]) -> None:
    """Post-only: a limit order that must rest (the exchange refuses it if it would trade
    on arrival, which only the exchange's book can tell)."""
    if not ticket.post_only:
        return
    if ticket.order_type in MARKET_KINDS:
        problems.append(
            reject("post_only", Reject.INVALID_TIME_IN_FORCE, "market orders cannot be post-only")
        )
    elif ticket.tif not in RESTING_TIFS:
        problems.append(
            reject("tif", Reject.INVALID_TIME_IN_FORCE, "post-only orders must be able to rest")
        )


def worst_price(ticket: TicketInput, price: Decimal | None, instrument: InstrumentOut) -> Decimal:
    """The price a buy reserves cash at: its limit, or for market orders the band edge (the
    exchange's market protection). Zero when unknown."""
    if ticket.order_type in PRICED_KINDS:
        return price or Decimal(0)
    return instrument.band_high if ticket.side == "buy" else instrument.band_low


def fee_of(notional: Decimal, ppm: int, fees: FeeSchedule) -> Decimal:
    """``ppm`` of ``notional`` rounded down to the cash unit, exactly as the engine charges
    and reserves (integer cash units, floor division)."""
    with localcontext() as context:
        context.prec = 80  # exact for any order the exchange could accept
        raw = notional * ppm / PPM
        try:
            return raw.quantize(Decimal(1).scaleb(-fees.cash_decimals), rounding=ROUND_FLOOR)
        except InvalidOperation:  # beyond any real order (refused for funds anyway)
            return raw


def buy_reservation(
    ticket: TicketInput,
    price: Decimal | None,
    quantity: Decimal,
    instrument: InstrumentOut,
    fees: FeeSchedule | None,
) -> tuple[Decimal, Decimal]:
    """(worst-case cost, fee held on top of it) of a buy: what the exchange reserves. The
    fee part is zero when the schedule is not known."""
    cost = worst_price(ticket, price, instrument) * quantity
    fee = fee_of(cost, fees.reserve_fee_ppm, fees) if fees is not None else Decimal(0)
    return cost, fee


def _check_funds(
    ticket: TicketInput,
    checked: Checked,
    instrument: InstrumentOut,
    available_cash: Decimal | None,
    available_holdings: Decimal | None,
    fees: FeeSchedule | None,
) -> None:
    quantity = checked.quantity
    assert quantity is not None
    if ticket.side == "buy":
        if available_cash is None:
            return
        cost, fee = buy_reservation(ticket, checked.price, quantity, instrument, fees)
        need = cost + fee if fee else cost  # no fee: the cost as typed ("25000.00")
        if need > available_cash:
            detail = f"need {need}" + (f" incl. fees {fee}" if fee else "")
            checked.problems.append(
                reject("funds", Reject.INSUFFICIENT_FUNDS, f"{detail}, have {available_cash}")
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
    reserve: Decimal | None  # cash (buy) the exchange holds while the order is open, fee incl.
    fee: Decimal | None = None  # expected fee on ``value`` (None: no fee schedule)
    fee_basis: FeeBasis | None = None  # which rate ``fee`` is at
    fee_ppm: int | None = None  # that rate
    total: Decimal | None = None  # buy: value plus fee; sell: value less fee (net proceeds)


def fee_basis(
    ticket: TicketInput,
    price: Decimal | None,
    instrument: InstrumentOut,
    best_bid: Decimal | None,
    best_ask: Decimal | None,
) -> FeeBasis:
    """Whether an order is expected to take liquidity (taker), add it (maker) or either."""
    if ticket.order_type in MARKET_KINDS:
        return "taker"
    if ticket.order_type == "stop_limit":
        return "worst"
    if ticket.post_only or instrument.status == "post_only":
        return "maker"  # it rests or the exchange refuses it
    touch = best_ask if ticket.side == "buy" else best_bid
    if price is None or touch is None:
        return "worst"  # nothing to compare with: it may well trade on arrival
    crosses = price >= touch if ticket.side == "buy" else price <= touch
    return "taker" if crosses else "maker"


def fee_rate(fees: FeeSchedule, basis: FeeBasis) -> int:
    if basis == "maker":
        return fees.maker_fee_ppm
    if basis == "taker":
        return fees.taker_fee_ppm
    return max(fees.maker_fee_ppm, fees.taker_fee_ppm)


def estimate(
    ticket: TicketInput,
    instrument: InstrumentOut | None,
    *,
    best_bid: Decimal | None = None,
    best_ask: Decimal | None = None,
    last_price: Decimal | None = None,
    fees: FeeSchedule | None = None,
) -> Estimate:
    """Expected value, fee, total and reserved cash of a ticket, as far as it parses. Value
    is at the limit (stop market: the trigger; market: the touch, else the last trade); the
    fee is at the rate ``fee_basis`` picks; a buy reserves its worst-case cost plus the fee
    at the schedule's reserve rate (the exchange's rule). Without ``fees`` the fee, total
    and the fee part of the reserve are unknown (None, and the reserve is the cost)."""
    quantity = parse_decimal(ticket.quantity)
    if instrument is None or quantity is None or quantity <= 0:
        return Estimate(None, None)
    limit = parse_decimal(ticket.price) if ticket.order_type in PRICED_KINDS else None
    if ticket.order_type in PRICED_KINDS:
        price = limit
    elif ticket.order_type == "stop_market":
        price = parse_decimal(ticket.trigger_price)
    else:
        touch = best_ask if ticket.side == "buy" else best_bid
        price = touch or last_price
    value = price * quantity if price else None
    fee = total = None
    basis: FeeBasis | None = None
    ppm: int | None = None
    if fees is not None:
        basis = fee_basis(ticket, limit, instrument, best_bid, best_ask)
        ppm = fee_rate(fees, basis)
        if value is not None:
            fee = fee_of(value, ppm, fees)
            total = value + fee if ticket.side == "buy" else value - fee
    reserve: Decimal | None = None
    if ticket.side == "buy":
        cost, reserve_fee = buy_reservation(ticket, limit, quantity, instrument, fees)
        reserve = (cost + reserve_fee if reserve_fee else cost) if cost else None
    return Estimate(value, reserve, fee, basis, ppm, total)


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
