"""Async client of the exchange server: typed REST calls and a self-healing stream.

No Qt here: the workstation's session layer and plain scripts use it alike.

    async with ExchangeClient("http://127.0.0.1:8000") as client:
        await client.login("trader@example.com", "correct horse battery")
        order = await client.place_order("RELIANCE", "buy", 10, "2450.05")
        async with client.stream() as stream:
            async for message in stream.subscribe("orders"):
                ...
"""

from exchange_server.backoff import Backoff
from workstation.client.channels import channel_name
from workstation.client.errors import (
    ApiError,
    ClientError,
    ConnectionLost,
    NotAuthenticated,
    NotConnected,
    StreamClosed,
    StreamError,
    TransportError,
)
from workstation.client.rest import ExchangeClient
from workstation.client.stream import (
    ConnectionState,
    MarketStream,
    StreamClient,
    StreamMessage,
    Subscription,
)
from workstation.client.wire import new_client_order_id, websocket_url

__all__ = [
    "ApiError",
    "Backoff",
    "ClientError",
    "ConnectionLost",
    "ConnectionState",
    "ExchangeClient",
    "MarketStream",
    "NotAuthenticated",
    "NotConnected",
    "StreamClient",
    "StreamClosed",
    "StreamError",
    "StreamMessage",
    "Subscription",
    "TransportError",
    "channel_name",
    "new_client_order_id",
    "websocket_url",
]
