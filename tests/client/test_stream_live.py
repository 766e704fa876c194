"""The stream against the real server: a trader's order shows up on the orders channel,
market data follows the book, and after the server drops the connection (or a message is
lost) the client comes back by itself with fresh snapshots and a fresh token."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest

from exchange_server.protocol import Depth, OrderOut, TokenPair
from tests.api.conftest import LiveServer
from tests.client.conftest import Trader
from workstation.client import (
    ApiError,
    Backoff,
    ConnectionState,
    ExchangeClient,
    StreamMessage,
    Subscription,
)

FAST = Backoff(initial=0.05, cap=0.2)


async def next_matching(
    subscription: Subscription, matches: Callable[[StreamMessage], bool], timeout: float = 10
) -> StreamMessage:
    """The first message for which ``matches`` holds (others are skipped)."""
    while True:
        message = await subscription.get(timeout=timeout)
        if matches(message):
            return message


def is_order(order: OrderOut, status: str) -> Callable[[StreamMessage], bool]:
    def matches(message: StreamMessage) -> bool:
        if message.kind == "snapshot":
            return any(o.order_id == order.order_id for o in message.parsed())
        update = message.parsed()
        return bool(update.order_id == order.order_id and update.status == status)

    return matches


async def test_an_order_placed_over_rest_arrives_on_the_orders_channel(
    client: ExchangeClient,
) -> None:
    async with client.stream(backoff=FAST) as stream:
        orders = stream.subscribe("orders")
        snapshot = await orders.get(timeout=10)
        assert (snapshot.kind, snapshot.parsed()) == ("snapshot", [])
        assert client.user is not None and stream.user is not None
        assert stream.user["user_id"] == client.user.user_id

        placed = await client.place_order("RELIANCE", "buy", 5, "1310.00")
        update = await next_matching(orders, is_order(placed, "new"))
        order = update.parsed()
        assert isinstance(order, OrderOut)
        assert (order.client_order_id, order.price) == (placed.client_order_id, Decimal("1310.00"))


async def test_depth_follows_the_book(client: ExchangeClient) -> None:
    async with client.stream(backoff=FAST) as stream:
        depth = stream.subscribe("depth", "RELIANCE", 5)
        first = (await depth.get(timeout=10)).parsed()
        assert isinstance(first, Depth) and first.bids == []
        await client.place_order("RELIANCE", "buy", 7, "1315.00")
        message = await next_matching(depth, lambda m: bool(m.parsed().bids))
        assert [(b.price, b.quantity) for b in message.parsed().bids] == [
            (Decimal("1315.00"), Decimal(7))
        ]


async def test_after_the_server_drops_the_connection_everything_comes_back(
    live_server: LiveServer, trader: Trader
) -> None:
    now = [1000.0]
    issued: list[TokenPair | None] = []
    async with ExchangeClient(
        live_server.base_url, on_tokens=issued.append, clock=lambda: now[0]
    ) as client:
        first_tokens = await client.login(trader.email, trader.password)
        async with client.stream(backoff=FAST) as stream:
            orders = stream.subscribe("orders")
            quote = stream.subscribe("quote", "RELIANCE")
            assert (await orders.get(timeout=10)).kind == "snapshot"
            assert (await quote.get(timeout=10)).kind == "snapshot"
            resting = await client.place_order("RELIANCE", "buy", 2, "1300.00")
            await next_matching(orders, is_order(resting, "new"))

            # The token is near expiry when the connection goes: the new connection must
            # authenticate with a refreshed one, not the one it started with.
            now[0] += first_tokens.expires_in - 1
            hub = live_server.context.hub
            for connection in list(hub.connections):
                hub.cut_off(connection)  # the server drops us ("slow consumer")
            await stream.wait_for_state(ConnectionState.RECONNECTING, timeout=10)
            await stream.wait_connected(timeout=10)

            # Resubscribed: each channel starts over from the server's current state.
            snapshot = await next_matching(orders, lambda m: m.kind == "snapshot")
            assert [o.order_id for o in snapshot.parsed()] == [resting.order_id]
            assert (await next_matching(quote, lambda m: m.kind == "snapshot")).seq == 1
            assert stream.connections == 2
            assert len(issued) == 2 and client.tokens != first_tokens

            # And it is live: an order over the socket itself, its update on the channel.
            placed = await stream.place_order("RELIANCE", "buy", 1, "1299.00")
            await next_matching(orders, is_order(placed, "new"))


async def test_a_lost_message_brings_a_fresh_snapshot_of_that_channel(
    live_server: LiveServer, client: ExchangeClient
) -> None:
    async with client.stream(backoff=FAST) as stream:
        orders = stream.subscribe("orders")
        await orders.get(timeout=10)
        # Lose a message on the server's side: its counter jumps as if one was dropped.
        (connection,) = live_server.context.hub.connections
        connection.seqs["orders"] += 1
        placed = await client.place_order("RELIANCE", "buy", 3, "1305.00")
        resync = await next_matching(orders, lambda m: m.kind == "snapshot")
        assert [o.order_id for o in resync.parsed()] == [placed.order_id]
        assert stream.resyncs == 1 and stream.connections == 1


async def test_socket_order_entry_refusals_are_api_errors(client: ExchangeClient) -> None:
    async with client.stream(backoff=FAST) as stream:
        await stream.wait_connected(timeout=10)
        with pytest.raises(ApiError) as refused:
            await stream.place_order("NOSUCH", "buy", 1, "10.00")
        assert refused.value.code == "unknown_instrument"
        order = await stream.place_order("RELIANCE", "buy", 1, "1301.00")
        cancelled = await stream.cancel_order(order.order_id)
        assert cancelled.status == "cancelled"
        assert (await stream.cancel_all()).cancelled == []


async def test_a_private_channel_without_credentials_is_refused(
    live_server: LiveServer,
) -> None:
    anonymous = ExchangeClient(live_server.base_url)
    async with anonymous, anonymous.stream(backoff=FAST) as stream:
        quotes = stream.subscribe("quote", "TCS")
        assert (await quotes.get(timeout=10)).parsed().symbol == "TCS"
        orders = stream.subscribe("orders")
        with pytest.raises(ApiError) as refused:
            await orders.get(timeout=10)
        assert refused.value.code == "unauthorized"
