"""The order: the one mutable record the book, the matcher and the ledger share."""

from __future__ import annotations

from typing import Any

from exchange_server.domain.enums import (
    GTC,
    LIMIT,
    MARKET,
    NEW,
    STOP_LIMIT,
    STOP_MARKET,
    TERMINAL_STATUSES,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)


class Order:
    """A live order. ``limit`` is the worst price it may trade at: the user's price for limit
    orders, and the price-band edge captured at acceptance for market orders (protection)."""

    __slots__ = (
        "account",
        "client_order_id",
        "created_at",
        "expire_at",
        "fees",
        "filled",
        "filled_notional",
        "limit",
        "order_id",
        "order_type",
        "post_only",
        "price",
        "quantity",
        "reason",
        "remaining",
        "reserved",
        "side",
        "status",
        "symbol",
        "tif",
        "trigger_price",
        "updated_at",
    )

    def __init__(
        self,
        order_id: int,
        account: int,
        symbol: str,
        side: Side,
        quantity: int,
        limit: int,
        order_type: OrderType = LIMIT,
        tif: TimeInForce = GTC,
        price: int = 0,
        trigger_price: int = 0,
        client_order_id: str = "",
        post_only: bool = False,
        expire_at: int = 0,
        created_at: int = 0,
    ) -> None:
        self.order_id = order_id
        self.account = account
        self.symbol = symbol
        self.side = side
        self.quantity = quantity
        self.remaining = quantity
        self.limit = limit
        self.order_type = order_type
        self.tif = tif
        self.price = price
        self.trigger_price = trigger_price
        self.client_order_id = client_order_id
        self.post_only = post_only
        self.expire_at = expire_at
        self.created_at = created_at
        self.updated_at = created_at
        self.filled = 0
        self.filled_notional = 0
        self.fees = 0
        self.reserved = 0
        self.status = NEW
        self.reason = ""

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def is_stop(self) -> bool:
        return self.order_type in (STOP_MARKET, STOP_LIMIT)

    @property
    def is_market(self) -> bool:
        return self.order_type in (MARKET, STOP_MARKET)

    def requeued(self) -> Order:
        """A copy that joins the back of a queue (a modify that loses time priority); the
        original object stays behind in its old queue as a dead entry."""
        return Order.from_state(self.to_state())

    def to_state(self) -> list[object]:
        """Every field as plain data, in ``STATE_FIELDS`` order (snapshots)."""
        return [
            self.order_id,
            self.account,
            self.symbol,
            self.side.value,
            self.quantity,
            self.limit,
            self.order_type.value,
            self.tif.value,
            self.price,
            self.trigger_price,
            self.client_order_id,
            self.post_only,
            self.expire_at,
            self.created_at,
            self.updated_at,
            self.remaining,
            self.filled,
            self.filled_notional,
            self.fees,
            self.reserved,
            self.status.value,
            self.reason,
        ]

    @staticmethod
    def from_state(values: list[Any]) -> Order:
        (
            order_id, account, symbol, side, quantity, limit, order_type, tif, price,
            trigger_price, client_order_id, post_only, expire_at, created_at, updated_at,
            remaining, filled, filled_notional, fees, reserved, status, reason,
        ) = values  # fmt: skip
        order = Order(
            order_id,
            account,
            symbol,
            Side(side),
            quantity,
            limit,
            OrderType(order_type),
            TimeInForce(tif),
            price,
            trigger_price,
            client_order_id,
            post_only,
            expire_at,
            created_at,
        )
        order.updated_at = updated_at
        order.remaining = remaining
        order.filled = filled
        order.filled_notional = filled_notional
        order.fees = fees
        order.reserved = reserved
        order.status = OrderStatus(status)
        order.reason = reason
        return order

    def __repr__(self) -> str:
        return (
            f"Order({self.order_id} {self.side} {self.remaining}/{self.quantity} "
            f"{self.symbol}@{self.limit} {self.status})"
        )
