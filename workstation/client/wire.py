"""Building request bodies and reading wire details, shared by the REST and stream halves:
exact numbers in, validated protocol requests out."""

from __future__ import annotations

import email.utils
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from urllib.parse import urlsplit, urlunsplit

from exchange_server.protocol import (
    ModifyOrderRequest,
    OrderType,
    PlaceOrderRequest,
    Side,
    TimeInForce,
)

# Exact numbers only: a float has already lost the value the user typed.
Number = Decimal | int | str


def to_decimal(value: Number, name: str = "value") -> Decimal:
    """``value`` as an exact Decimal; floats (and bools) are refused, not rounded."""
    if isinstance(value, bool | float):
        raise TypeError(f"{name} must be a Decimal, int or str, not {type(value).__name__}")
    if isinstance(value, Decimal):
        return value
    return Decimal(value)


def _optional_decimal(value: Number | None, name: str) -> Decimal | None:
    return None if value is None else to_decimal(value, name)


def new_client_order_id() -> str:
    """A unique client order id: lets the caller match the stream's order updates to the
    order it sent, and makes resending after a lost answer idempotent."""
    return f"c-{uuid.uuid4().hex}"


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC).timestamp() if now is None else now
    return max(0.0, when.timestamp() - current)


def websocket_url(base_url: str) -> str:
    """``http://host:port[/prefix]`` -> ``ws://host:port[/prefix]/ws`` (https -> wss)."""
    parts = urlsplit(base_url)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    path = parts.path.rstrip("/") + "/ws"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def order_request(
    symbol: str,
    side: Side,
    quantity: Number,
    price: Number | None = None,
    *,
    order_type: OrderType | None = None,
    trigger_price: Number | None = None,
    tif: TimeInForce = "day",
    client_order_id: str | None = None,
    post_only: bool = False,
    expire_at: int | None = None,
) -> PlaceOrderRequest:
    """A validated order request (shared by REST and the stream's order entry)."""
    if order_type is None:
        order_type = "limit" if price is not None else "market"
    return PlaceOrderRequest(
        symbol=symbol,
        side=side,
        quantity=to_decimal(quantity, "quantity"),
        order_type=order_type,
        price=_optional_decimal(price, "price"),
        trigger_price=_optional_decimal(trigger_price, "trigger_price"),
        tif=tif,
        client_order_id=client_order_id or new_client_order_id(),
        post_only=post_only,
        expire_at=expire_at,
    )


def modify_request(
    *,
    quantity: Number | None = None,
    price: Number | None = None,
    trigger_price: Number | None = None,
) -> ModifyOrderRequest:
    return ModifyOrderRequest(
        quantity=_optional_decimal(quantity, "quantity"),
        price=_optional_decimal(price, "price"),
        trigger_price=_optional_decimal(trigger_price, "trigger_price"),
    )
