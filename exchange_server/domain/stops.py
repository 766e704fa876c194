"""Stop orders waiting for their trigger, released in trigger order.

Buy stops fire when the last trade reaches or passes their trigger from below (lowest
trigger first), sell stops when it reaches or passes from above (highest first); equal
triggers fire in the order they were accepted.
"""

from __future__ import annotations

from heapq import heappop, heappush

from exchange_server.domain.enums import (
    BUY,
)
from exchange_server.domain.orders import Order


class StopBook:
    __slots__ = ("_buys", "_sells", "pending")

    def __init__(self) -> None:
        self.pending: dict[int, Order] = {}
        # Heaps of (key, order id, trigger); entries whose order left ``pending`` or whose
        # trigger changed are skipped when they surface.
        self._buys: list[tuple[int, int, int]] = []
        self._sells: list[tuple[int, int, int]] = []

    def add(self, order: Order) -> None:
        self.pending[order.order_id] = order
        if order.side == BUY:
            heappush(self._buys, (order.trigger_price, order.order_id, order.trigger_price))
        else:
            heappush(self._sells, (-order.trigger_price, order.order_id, order.trigger_price))

    def remove(self, order: Order) -> None:
        del self.pending[order.order_id]

    def pop_triggered(self, last_price: int) -> Order | None:
        """The next stop the last price has crossed, taken out of the pending set."""
        pending = self.pending
        buys, sells = self._buys, self._sells
        while buys:
            trigger, order_id, original = buys[0]
            order = pending.get(order_id)
            if order is None or order.trigger_price != original:
                heappop(buys)
                continue
            if trigger > last_price:
                break
            heappop(buys)
            del pending[order_id]
            return order
        while sells:
            _, order_id, original = sells[0]
            order = pending.get(order_id)
            if order is None or order.trigger_price != original:
                heappop(sells)
                continue
            if original < last_price:
                break
            heappop(sells)
            del pending[order_id]
            return order
        return None
