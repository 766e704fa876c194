"""The limit order book of one instrument: strict price-time priority.

Price levels live in a dict keyed by price (O(1) lookup) with a binary heap of prices per
side for the best price (O(log n) insert, amortised O(log n) removal). Each level is a FIFO
deque; cancelling marks the order dead in O(1) and the dead entry is skipped (and dropped)
when it reaches the front, or swept out when a level holds more dead than live entries.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from heapq import heappop, heappush
from typing import Final

from exchange_server.domain.enums import BUY, SELL, SelfTradePrevention, Side
from exchange_server.domain.orders import Order

# A fill as the book reports it: (maker order, quantity, price).
Fill = tuple[Order, int, int]

STOP_NONE: Final = 0
STOP_SELF_TRADE: Final = 1  # self-trade prevention cancelled the taker
STOP_BAND: Final = 2  # the next match would print outside the price band: circuit breaker


class PriceLevel:
    __slots__ = ("count", "orders", "price", "quantity")

    def __init__(self, price: int) -> None:
        self.price = price
        self.quantity = 0  # live quantity at this price
        self.count = 0  # live orders at this price
        self.orders: deque[Order] = deque()

    def live_orders(self) -> Iterator[Order]:
        return (o for o in self.orders if o.remaining)


class MatchResult:
    """What one aggressive order did to the book."""

    __slots__ = ("fills", "stop", "stp_makers", "taker_decrement")

    def __init__(self) -> None:
        self.fills: list[Fill] = []
        # Resting orders cancelled (remaining 0) or reduced by self-trade prevention.
        self.stp_makers: list[Order] = []
        self.taker_decrement = 0  # taker quantity removed by decrement-and-cancel
        self.stop = STOP_NONE


class OrderBook:
    __slots__ = (
        "_ask_heap",
        "_bid_heap",
        "ask_levels",
        "best_ask",
        "best_bid",
        "bid_levels",
        "changed",
        "symbol",
    )

    def __init__(self, symbol: str) -> None:
        self.symbol = symbol
        self.bid_levels: dict[int, PriceLevel] = {}
        self.ask_levels: dict[int, PriceLevel] = {}
        self._bid_heap: list[int] = []  # negated prices; may hold prices of removed levels
        self._ask_heap: list[int] = []
        self.best_bid = 0  # 0: no bids
        self.best_ask = 0  # 0: no asks
        # Levels whose quantity changed since the owner last cleared this: (side, price).
        self.changed: dict[tuple[Side, int], None] = {}

    # -- resting orders ---------------------------------------------------------------
    def add(self, order: Order) -> None:
        """Rest ``order`` at the back of the queue at ``order.limit``."""
        price = order.limit
        if order.side == BUY:
            level = self.bid_levels.get(price)
            if level is None:
                level = self.bid_levels[price] = PriceLevel(price)
                heappush(self._bid_heap, -price)
                if price > self.best_bid:
                    self.best_bid = price
            self.changed[BUY, price] = None
        else:
            level = self.ask_levels.get(price)
            if level is None:
                level = self.ask_levels[price] = PriceLevel(price)
                heappush(self._ask_heap, price)
                if not self.best_ask or price < self.best_ask:
                    self.best_ask = price
            self.changed[SELL, price] = None
        level.orders.append(order)
        level.quantity += order.remaining
        level.count += 1

    def remove(self, order: Order) -> None:
        """Take a resting order out of the book in O(1); its ``remaining`` becomes 0."""
        price = order.limit
        is_buy = order.side == BUY
        levels = self.bid_levels if is_buy else self.ask_levels
        level = levels[price]
        level.quantity -= order.remaining
        level.count -= 1
        order.remaining = 0
        self.changed[order.side, price] = None
        if level.count == 0:
            self._drop_level(levels, price, is_buy)
        elif len(level.orders) > 2 * level.count + 16:
            level.orders = deque(level.live_orders())

    def reduce(self, order: Order, new_remaining: int) -> None:
        """Lower a resting order's open quantity in place, keeping its time priority."""
        levels = self.bid_levels if order.side == BUY else self.ask_levels
        levels[order.limit].quantity -= order.remaining - new_remaining
        order.remaining = new_remaining
        self.changed[order.side, order.limit] = None

    def _drop_level(self, levels: dict[int, PriceLevel], price: int, is_buy: bool) -> None:
        del levels[price]
        if is_buy:
            if price == self.best_bid:
                heap = self._bid_heap
                while heap and -heap[0] not in levels:
                    heappop(heap)
                self.best_bid = -heap[0] if heap else 0
        elif price == self.best_ask:
            heap = self._ask_heap
            while heap and heap[0] not in levels:
                heappop(heap)
            self.best_ask = heap[0] if heap else 0

    # -- matching ---------------------------------------------------------------------
    def would_cross(self, side: Side, limit: int) -> bool:
        if side == BUY:
            return bool(self.best_ask) and self.best_ask <= limit
        return bool(self.best_bid) and self.best_bid >= limit

    def fillable(
        self,
        taker: Order,
        stp: SelfTradePrevention = SelfTradePrevention.CANCEL_NEWEST,
        band_low: int = 0,
        band_high: int = 0,
    ) -> int:
        """Quantity ``match`` would give ``taker`` up to its limit: not its own account's
        orders (self-trade prevention never lets those trade) and nothing past the price
        band, where matching stops. Used for fill-or-kill.

        Only cancel-oldest lets the taker match past its own order; with any other mode
        matching would stop (or shrink the taker) there, so nothing behind it counts."""
        skip_own = stp == SelfTradePrevention.CANCEL_OLDEST
        need = taker.remaining
        if taker.side == BUY:
            prices = sorted(p for p in self.ask_levels if p <= taker.limit)
            levels = self.ask_levels
        else:
            prices = sorted((p for p in self.bid_levels if p >= taker.limit), reverse=True)
            levels = self.bid_levels
        total = 0
        for price in prices:
            if band_high and not band_low <= price <= band_high:
                return total
            for maker in levels[price].live_orders():
                if maker.account != taker.account:
                    total += maker.remaining
                    if total >= need:
                        return total
                elif not skip_own:
                    return total
        return total

    def match(
        self,
        taker: Order,
        stp: SelfTradePrevention = SelfTradePrevention.CANCEL_NEWEST,
        band_low: int = 0,
        band_high: int = 0,
    ) -> MatchResult:
        """Match ``taker`` against the opposite side up to ``taker.limit``.

        Makers are filled in price-time order and taken out of the book when done; the
        taker's ``remaining`` is reduced. Nothing rests here: the caller decides what happens
        to a remainder. A maker price outside [band_low, band_high] (when a band is set)
        stops matching before anything prints there.
        """
        result = MatchResult()
        fills = result.fills
        is_buy = taker.side == BUY
        if is_buy:
            levels = self.ask_levels
            maker_side = SELL
        else:
            levels = self.bid_levels
            maker_side = BUY
        limit = taker.limit
        account = taker.account
        changed = self.changed
        while taker.remaining:
            best = self.best_ask if is_buy else self.best_bid
            if not best or (best > limit if is_buy else best < limit):
                break
            if band_high and not band_low <= best <= band_high:
                result.stop = STOP_BAND
                break
            level = levels[best]
            queue = level.orders
            changed[maker_side, best] = None
            while queue and taker.remaining:
                maker = queue[0]
                if not maker.remaining:
                    queue.popleft()  # dead entry left by a cancel or a requeue
                    continue
                if maker.account == account:
                    if self._prevent_self_trade(taker, maker, level, stp, result):
                        break
                    continue
                quantity = maker.remaining if maker.remaining < taker.remaining else taker.remaining
                maker.remaining -= quantity
                taker.remaining -= quantity
                level.quantity -= quantity
                fills.append((maker, quantity, best))
                if not maker.remaining:
                    queue.popleft()
                    level.count -= 1
            if result.stop:
                if not level.count:
                    self._drop_level(levels, best, not is_buy)
                break
            if not level.count:
                self._drop_level(levels, best, not is_buy)
        return result

    def _prevent_self_trade(
        self,
        taker: Order,
        maker: Order,
        level: PriceLevel,
        mode: SelfTradePrevention,
        result: MatchResult,
    ) -> bool:
        """Apply the taker's self-trade prevention mode; True stops matching the taker."""
        if mode == SelfTradePrevention.DECREMENT_AND_CANCEL:
            smaller = min(maker.remaining, taker.remaining)
            taker.remaining -= smaller
            result.taker_decrement += smaller
            if smaller == maker.remaining:
                self._pull_front(maker, level, result)
            else:
                maker.remaining -= smaller
                level.quantity -= smaller
                result.stp_makers.append(maker)  # reduced, stays live
            if not taker.remaining:
                result.stop = STOP_SELF_TRADE
                return True
            return False
        if mode in (SelfTradePrevention.CANCEL_OLDEST, SelfTradePrevention.CANCEL_BOTH):
            self._pull_front(maker, level, result)
        if mode in (SelfTradePrevention.CANCEL_NEWEST, SelfTradePrevention.CANCEL_BOTH):
            taker.remaining = 0
            result.stop = STOP_SELF_TRADE
            return True
        return False

    def _pull_front(self, maker: Order, level: PriceLevel, result: MatchResult) -> None:
        level.orders.popleft()
        level.count -= 1
        level.quantity -= maker.remaining
        maker.remaining = 0
        result.stp_makers.append(maker)

    # -- views ------------------------------------------------------------------------
    def depth(
        self, levels: int = 10
    ) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int]]]:
        """Aggregated depth: ([(price, quantity, orders)] bids best first, asks best first)."""
        bid_prices = sorted(self.bid_levels, reverse=True)[:levels]
        ask_prices = sorted(self.ask_levels)[:levels]
        bids = [(p, self.bid_levels[p].quantity, self.bid_levels[p].count) for p in bid_prices]
        asks = [(p, self.ask_levels[p].quantity, self.ask_levels[p].count) for p in ask_prices]
        return bids, asks

    def orders_at(self, side: Side, price: int) -> list[Order]:
        """Per-order (L3) view of one level in queue order."""
        levels = self.bid_levels if side == BUY else self.ask_levels
        level = levels.get(price)
        return list(level.live_orders()) if level else []

    def iter_orders(self, side: Side) -> Iterator[Order]:
        """Every resting order on one side, best price first, then time priority."""
        if side == BUY:
            for price in sorted(self.bid_levels, reverse=True):
                yield from self.bid_levels[price].live_orders()
        else:
            for price in sorted(self.ask_levels):
                yield from self.ask_levels[price].live_orders()

    def is_crossed(self) -> bool:
        return bool(self.best_bid and self.best_ask and self.best_bid >= self.best_ask)
