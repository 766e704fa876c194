"""The simulated market's participants: market makers, noise traders and momentum traders.

Bots are ordinary accounts. Each tick they look at the engine's state (read only: books, last
prices, their own orders and balances) and the fair value, and add real commands to a
``Flow``; the simulator submits the flow through the sequencer like any user's orders. They
trade long-only: a bot sells only holdings it has.

Every random choice comes from the generator the simulator hands in, in a fixed order, so a
seed decides the whole flow.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from exchange_server.domain.commands import CancelOrder, Command, ModifyOrder, PlaceOrder
from exchange_server.domain.enums import OrderType, Side, TimeInForce
from exchange_server.domain.events import OrderUpdated
from exchange_server.domain.exchange import Exchange
from exchange_server.domain.instruments import Instrument
from exchange_server.engine.sequencer import Ack

BUY, SELL = Side.BUY, Side.SELL


@dataclass(slots=True)
class Flow:
    """One tick's commands, in submission order, and what to do with each acknowledgement."""

    commands: list[Command] = field(default_factory=list)
    handlers: list[Callable[[Ack], None] | None] = field(default_factory=list)

    def add(self, command: Command, handler: Callable[[Ack], None] | None = None) -> None:
        self.commands.append(command)
        self.handlers.append(handler)


@dataclass(frozen=True, slots=True)
class Quote:
    """What a bot needs to know about one instrument this tick."""

    instrument: Instrument
    fair: float  # in price units
    base_quantity: int  # a typical order, in quantity units, a whole number of lots
    step: int  # the bots' price grid: whole ticks, about half a basis point of the price


def price_step(instrument: Instrument, fair: float) -> int:
    """Spreads and level gaps are counted in steps of about half a basis point (at least a
    tick), so a 1,300-rupee share quotes a tick apart and an 80-lakh bitcoin with a 1-rupee
    tick does not quote a few rupees wide."""
    tick = instrument.tick_size
    return max(1, round(fair * 0.00005 / tick)) * tick


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method: means here are a few events per tick at most)."""
    if mean <= 0.0:
        return 0
    limit = math.exp(-mean)
    count, product = 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def lots(quantity: float, lot: int) -> int:
    """``quantity`` rounded to whole lots, at least one lot."""
    return max(1, round(quantity / lot)) * lot


def in_band(instrument: Instrument, price: int) -> bool:
    return price > 0 and (
        instrument.band_high == 0 or instrument.band_low <= price <= instrument.band_high
    )


def clamp_to_band(instrument: Instrument, price: int) -> int:
    if instrument.band_high:
        return min(max(price, instrument.band_low), instrument.band_high)
    return max(price, instrument.tick_size)


def inventory_deviation(exchange: Exchange, account: int, symbol: str, target: int) -> float:
    """How far the holdings are from the target, as a fraction of it, within -1..1."""
    held = exchange.ledger.balance(account, symbol)
    return max(-1.0, min(1.0, (held - target) / target)) if target > 0 else 0.0


# -- market makers -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class MakerStyle:
    # Prices in price steps (see ``price_step``).
    half_spread: int = 2  # from the (skewed) fair value to the first level
    levels: int = 5
    level_gap: int = 1
    size: float = 1.0  # times the instrument's base quantity at the first level
    skew: float = 1.5  # how many half-spreads a full inventory deviation moves the quotes
    requote: int = 1  # how far the fair value moves before the maker requotes


class MarketMaker:
    """Quotes a ladder on both sides around the fair value, shifted against its inventory.

    When the fair value moves, the maker re-prices only the orders whose price left the
    ladder, and with ``ModifyOrder`` (one command per level moved rather than a cancel and a
    new order): a one-step move costs one command a side."""

    def __init__(self, account: int, style: MakerStyle, inventory_target: Callable[[str], int]):
        self.account = account
        self.style = style
        self.inventory_target = inventory_target
        self.orders: dict[tuple[str, Side], list[int]] = {}
        self.centres: dict[str, int] = {}  # symbol -> quoted centre, in price steps

    def quote(self, exchange: Exchange, quote: Quote, rng: random.Random, flow: Flow) -> None:
        instrument = quote.instrument
        symbol, step = instrument.symbol, quote.step
        style = self.style
        live = {side: self._live(exchange, symbol, side) for side in (BUY, SELL)}
        deviation = inventory_deviation(
            exchange, self.account, symbol, self.inventory_target(symbol)
        )
        centre = quote.fair - style.skew * deviation * style.half_spread * step
        centre_steps = round(centre / step)
        complete = all(len(orders) >= style.levels for orders in live.values())
        previous = self.centres.get(symbol)
        if complete and previous is not None and abs(centre_steps - previous) < style.requote:
            return
        self.centres[symbol] = centre_steps
        best_bid = math.floor(centre / step - style.half_spread) * step
        best_ask = math.ceil(centre / step + style.half_spread) * step
        if best_ask <= best_bid:
            best_ask = best_bid + step
        gap = style.level_gap * step
        ladders = {
            BUY: [best_bid - k * gap for k in range(style.levels)],
            SELL: [best_ask + k * gap for k in range(style.levels)],
        }
        # Move the side the market moved away from first, so a ladder that shifts never
        # crosses this maker's own stale quotes on the other side.
        current_bids = [exchange.orders[i].price for i in live[BUY]]
        rising = not current_bids or best_bid > max(current_bids)
        for side in (SELL, BUY) if rising else (BUY, SELL):
            self._requote(exchange, instrument, side, live[side], ladders[side], quote, rng, flow)

    def _live(self, exchange: Exchange, symbol: str, side: Side) -> list[int]:
        """This maker's orders still resting (fills, expiries and user trades remove some)."""
        ids = self.orders.get((symbol, side), [])
        alive = [i for i in ids if i in exchange.orders]
        self.orders[symbol, side] = alive
        return alive

    def _requote(
        self,
        exchange: Exchange,
        instrument: Instrument,
        side: Side,
        live: list[int],
        ladder: list[int],
        quote: Quote,
        rng: random.Random,
        flow: Flow,
    ) -> None:
        account, symbol, lot = self.account, instrument.symbol, instrument.lot_size
        wanted = [price for price in ladder if in_band(instrument, price)]
        sizes = {
            price: lots(
                quote.base_quantity * self.style.size * (1 + 0.5 * k) * rng.uniform(0.7, 1.3), lot
            )
            for k, price in enumerate(wanted)
        }
        if side == SELL:
            # Long-only: offer no more than is held (resting asks already hold theirs).
            free = exchange.ledger.available(account, symbol)
            free += sum(exchange.orders[i].remaining for i in live)
            kept = []
            for price in wanted:
                if sizes[price] > free:
                    break
                free -= sizes[price]
                kept.append(price)
            wanted = kept
        wanted_set = set(wanted)
        at_price: dict[int, int] = {}
        stale: list[int] = []
        for order_id in live:
            price = exchange.orders[order_id].price
            if price in wanted_set and price not in at_price:
                at_price[price] = order_id
            else:
                stale.append(order_id)
        missing = [price for price in wanted if price not in at_price]
        # Re-price stale orders into the missing levels: farthest-out stale order first.
        for order_id, price in zip(stale, missing, strict=False):
            order = exchange.orders[order_id]
            size = sizes[price]
            quantity = order.filled + size if order.remaining < size // 2 else 0
            flow.add(ModifyOrder(account, order_id, quantity, price))
        for order_id in stale[len(missing) :]:
            flow.add(CancelOrder(account, order_id))
        for price in missing[len(stale) :]:
            flow.add(
                PlaceOrder(account, symbol, side, sizes[price], OrderType.LIMIT, price),
                self._remember(symbol, side),
            )

    def _remember(self, symbol: str, side: Side) -> Callable[[Ack], None]:
        def handler(ack: Ack) -> None:
            for event in ack.events:
                if type(event) is OrderUpdated and event.account == self.account:
                    if event.remaining and event.status in ("new", "partially_filled"):
                        self.orders.setdefault((symbol, side), []).append(event.order_id)
                    return

        return handler


# -- takers --------------------------------------------------------------------------------
def marketable_price(instrument: Instrument, exchange: Exchange, side: Side, reach: int) -> int:
    """A limit price ``reach`` (price units, whole ticks) through the best opposite price;
    0 when that side of the book is empty, so there is nothing sensible to take."""
    book = exchange.books[instrument.symbol]
    best = book.best_ask if side == BUY else book.best_bid
    if not best:
        return 0
    return clamp_to_band(instrument, best + reach if side == BUY else best - reach)


def affordable(
    exchange: Exchange, account: int, instrument: Instrument, side: Side, price: int, quantity: int
) -> bool:
    if side == SELL:
        return exchange.ledger.available(account, instrument.symbol) >= quantity
    cost = instrument.notional(price, quantity) * 101 // 100  # room for fees
    return exchange.ledger.available(account, instrument.currency) >= cost


class NoiseTrader:
    """Uninformed flow: marketable IOC orders that take liquidity and passive limit orders
    that add to it, on a side tilted back towards its inventory target so holdings stay
    bounded over long runs. Passive orders are good-till-date: the engine expires them, so
    they cost no cancel commands."""

    def __init__(self, account: int, inventory_target: Callable[[str], int]) -> None:
        self.account = account
        self.inventory_target = inventory_target

    def _side(self, exchange: Exchange, symbol: str, rng: random.Random) -> Side:
        deviation = inventory_deviation(
            exchange, self.account, symbol, self.inventory_target(symbol)
        )
        return BUY if rng.random() < 0.5 - 0.3 * deviation else SELL

    def take(self, exchange: Exchange, quote: Quote, rng: random.Random, flow: Flow) -> None:
        instrument = quote.instrument
        side = self._side(exchange, instrument.symbol, rng)
        quantity = lots(quote.base_quantity * rng.uniform(0.2, 1.6), instrument.lot_size)
        reach = 0 if rng.random() < 0.8 else rng.randint(1, 3) * quote.step
        price = marketable_price(instrument, exchange, side, reach)
        if price and affordable(exchange, self.account, instrument, side, price, quantity):
            flow.add(
                PlaceOrder(
                    self.account,
                    instrument.symbol,
                    side,
                    quantity,
                    OrderType.LIMIT,
                    price,
                    tif=TimeInForce.IOC,
                )
            )

    def rest(
        self, exchange: Exchange, quote: Quote, lifetime_ns: int, rng: random.Random, flow: Flow
    ) -> None:
        instrument = quote.instrument
        step = quote.step
        side = self._side(exchange, instrument.symbol, rng)
        quantity = lots(quote.base_quantity * rng.uniform(0.3, 2.0), instrument.lot_size)
        away = rng.randint(0, 8) * step
        if side == BUY:
            price = math.floor(quote.fair / step) * step - away
        else:
            price = math.ceil(quote.fair / step) * step + away
        expire_at = exchange.now + int(lifetime_ns * rng.uniform(0.2, 1.0))
        if in_band(instrument, price) and affordable(
            exchange, self.account, instrument, side, price, quantity
        ):
            flow.add(
                PlaceOrder(
                    self.account,
                    instrument.symbol,
                    side,
                    quantity,
                    OrderType.LIMIT,
                    price,
                    tif=TimeInForce.GTD,
                    expire_at=expire_at,
                )
            )


class MomentumTrader:
    """Chases the recent trend of traded prices: the stronger the move over its look-back
    window, the more often it sends marketable orders in that direction."""

    def __init__(self, account: int, window_ticks: int = 30, threshold: float = 0.002) -> None:
        self.account = account
        self.window_ticks = window_ticks
        self.threshold = threshold
        self.history: dict[str, deque[int]] = {}

    def observe(self, exchange: Exchange, symbol: str) -> float:
        """Record the last price; return the trend signal (-1..1)."""
        last = exchange.last_price.get(symbol, 0)
        history = self.history.setdefault(symbol, deque(maxlen=self.window_ticks))
        history.append(last)
        first = history[0]
        if not first or not last or len(history) < self.window_ticks:
            return 0.0
        move = (last - first) / first
        return max(-1.0, min(1.0, move / self.threshold))

    def chase(
        self, exchange: Exchange, quote: Quote, signal: float, rng: random.Random, flow: Flow
    ) -> None:
        instrument = quote.instrument
        side = BUY if signal > 0 else SELL
        quantity = lots(quote.base_quantity * rng.uniform(0.5, 2.0), instrument.lot_size)
        price = marketable_price(instrument, exchange, side, rng.randint(0, 2) * quote.step)
        if price and affordable(exchange, self.account, instrument, side, price, quantity):
            flow.add(
                PlaceOrder(
                    self.account,
                    instrument.symbol,
                    side,
                    quantity,
                    OrderType.LIMIT,
                    price,
                    tif=TimeInForce.IOC,
                )
            )
