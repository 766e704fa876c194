"""The stream's recovery against a protocol-speaking server on 127.0.0.1 that can drop
connections, lose messages and go silent on demand: what a trader sees is a panel that
comes back by itself, with the exchange's current state, never a stale or patched one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.client.fake_exchange import FakeExchange
from workstation.client import (
    ApiError,
    Backoff,
    ConnectionLost,
    ConnectionState,
    ExchangeClient,
    NotConnected,
    StreamClient,
    StreamMessage,
)

FAST = Backoff(initial=0.01, cap=0.05, jitter=0.5)


@pytest.fixture
async def fake() -> AsyncIterator[FakeExchange]:
    async with FakeExchange().running() as fake:
        yield fake


def subscribes(fake: FakeExchange, channel: str) -> int:
    return sum(
        1
        for session in fake.sessions
        for message in session.received
        if message.get("op") == "subscribe" and message.get("channel") == channel
    )


async def test_a_subscription_starts_with_a_snapshot_then_gets_updates(
    fake: FakeExchange,
) -> None:
    async with StreamClient(url=fake.url, backoff=FAST) as stream:
        await stream.wait_connected(timeout=5)
        quotes = stream.subscribe("quote", "TCS")
        first = await quotes.get(timeout=5)
        assert (first.channel, first.kind, first.seq) == ("quote:TCS", "snapshot", 1)
        await fake.publish("quote:TCS", {"n": 1})
        second = await quotes.get(timeout=5)
        assert (second.kind, second.seq, second.data) == ("update", 2, {"n": 1})


async def test_after_a_drop_it_reconnects_resubscribes_and_starts_from_a_snapshot(
    fake: FakeExchange,
) -> None:
    states: list[ConnectionState] = []
    async with StreamClient(url=fake.url, backoff=FAST) as stream:
        stream.add_state_listener(states.append)
        depth = stream.subscribe("depth", "TCS")  # wanted before the first connection
        await stream.wait_connected(timeout=5)
        assert (await depth.get(timeout=5)).kind == "snapshot"

        await fake.drop()
        await stream.wait_for_state(ConnectionState.RECONNECTING, timeout=5)
        again = await depth.get(timeout=5)
        assert again.kind == "snapshot"  # the new connection's, not a patched old state
        assert stream.state is ConnectionState.CONNECTED
        assert len(fake.sessions) == 2 and "depth:TCS:5" in fake.current.channels

        await fake.publish("depth:TCS:5", {"n": 2})
        assert (await depth.get(timeout=5)).data == {"n": 2}
        assert stream.connections == 2
    assert states == [
        ConnectionState.CONNECTED,
        ConnectionState.RECONNECTING,
        ConnectionState.CONNECTED,
        ConnectionState.CLOSED,
    ]


async def test_a_gap_resubscribes_that_channel_alone_for_a_fresh_snapshot(
    fake: FakeExchange,
) -> None:
    async with StreamClient(url=fake.url, backoff=FAST) as stream:
        tcs = stream.subscribe("quote", "TCS")
        infy = stream.subscribe("quote", "INFY")
        await tcs.get(timeout=5)
        await infy.get(timeout=5)

        await fake.publish("quote:TCS", {"lost": "after this"}, skip=1)
        resync = await tcs.get(timeout=5)
        assert resync.kind == "snapshot"  # the out-of-order update never reached us
        assert stream.resyncs == 1
        await fake.publish("quote:TCS", {"n": 3})
        assert (await tcs.get(timeout=5)).data == {"n": 3}

        await fake.publish("quote:INFY", {"n": 1})
        assert (await infy.get(timeout=5)).kind == "update"
        assert subscribes(fake, "quote") == 3  # TCS twice, INFY once
        assert len(fake.sessions) == 1  # no reconnect for a gap


async def test_a_silent_connection_is_declared_dead_and_replaced(fake: FakeExchange) -> None:
    async with StreamClient(url=fake.url, backoff=FAST, dead_after=0.3) as stream:
        trades = stream.subscribe("trades", "TCS")
        await trades.get(timeout=5)
        fake.silent = True  # the socket stays open but nothing comes through
        await stream.wait_for_state(ConnectionState.RECONNECTING, timeout=5)
        fake.silent = False
        assert (await trades.get(timeout=5)).kind == "snapshot"
        assert len(fake.sessions) == 2


async def test_heartbeats_keep_a_quiet_connection_alive(fake: FakeExchange) -> None:
    async with StreamClient(url=fake.url, backoff=FAST, dead_after=0.5) as stream:
        await stream.wait_connected(timeout=5)
        for _ in range(4):  # traffic more often than dead_after, for longer than it
            wait = asyncio.create_task(stream.wait_for_state(ConnectionState.RECONNECTING))
            done, _ = await asyncio.wait({wait}, timeout=0.2)
            wait.cancel()
            assert not done
            await fake.heartbeat()
        assert len(fake.sessions) == 1


async def test_credentials_are_presented_on_every_connection(fake: FakeExchange) -> None:
    client = ExchangeClient(fake.url.replace("ws://", "http://").removesuffix("/ws"))
    client.use_api_key("key1.secret")
    async with client, client.stream(backoff=FAST) as stream:
        orders = stream.subscribe("orders")
        await orders.get(timeout=5)
        assert fake.current.credentials == {"api_key": "key1.secret"}
        assert stream.user is not None and stream.user["user_id"] == 7
        await fake.drop()
        assert (await orders.get(timeout=5)).kind == "snapshot"
        assert [s.credentials for s in fake.sessions] == [{"api_key": "key1.secret"}] * 2


async def test_refused_credentials_close_the_stream_for_good(fake: FakeExchange) -> None:
    fake.refuse_auth = "invalid_token"
    client = ExchangeClient(fake.url.replace("ws://", "http://").removesuffix("/ws"))
    client.use_api_key("revoked.key")
    async with client, client.stream(backoff=FAST) as stream:
        orders = stream.subscribe("orders")
        with pytest.raises(ApiError) as refused:
            await stream.wait_connected(timeout=5)
        assert refused.value.code == "invalid_token"
        assert stream.state is ConnectionState.CLOSED
        with pytest.raises(ApiError):
            await orders.get(timeout=5)
        assert len(fake.sessions) == 1  # no hammering with credentials that cannot work


async def test_a_subscription_the_server_refuses_raises_its_error(fake: FakeExchange) -> None:
    async with StreamClient(url=fake.url, backoff=FAST) as stream:
        nope = stream.subscribe("quote", "NOPE")
        with pytest.raises(ApiError) as refused:
            await nope.get(timeout=5)
        assert (refused.value.code, refused.value.field) == ("unknown_symbol", "symbol")
        assert stream.channels == []  # not resubscribed on the next reconnect either


async def test_orders_over_the_socket_answer_with_the_order_or_the_refusal(
    fake: FakeExchange,
) -> None:
    async with StreamClient(url=fake.url, backoff=FAST) as stream:
        await stream.wait_connected(timeout=5)
        order = await stream.place_order("TCS", "buy", 10, "3500.05", client_order_id="mine-1")
        assert order.client_order_id == "mine-1"
        place = next(m for m in fake.current.received if m.get("op") == "place")
        assert place["order"]["price"] == "3500.05"  # exact, as a string

        with pytest.raises(ApiError) as refused:
            await stream.place_order("NOPE", "buy", 1)
        assert refused.value.code == "unknown_symbol"

        fake.hold_orders = True
        pending = asyncio.create_task(stream.cancel_order(1))
        await fake.wait_for(lambda: any(m.get("op") == "cancel" for m in fake.current.received))
        await fake.drop()
        with pytest.raises(ConnectionLost):
            await asyncio.wait_for(pending, 5)


async def test_order_entry_while_disconnected_fails_at_once() -> None:
    stream = StreamClient(url="ws://127.0.0.1:9/ws")
    with pytest.raises(NotConnected):
        await stream.place_order("TCS", "buy", 1)


async def test_a_consumer_that_falls_behind_gets_a_fresh_snapshot(fake: FakeExchange) -> None:
    async with StreamClient(url=fake.url, backoff=FAST, max_pending=3) as stream:
        quotes = stream.subscribe("quote", "TCS")
        await quotes.get(timeout=5)
        for n in range(5):
            await fake.publish("quote:TCS", {"n": n})
        await fake.wait_for(lambda: subscribes(fake, "quote") == 2)
        assert (await quotes.get(timeout=5)).kind == "snapshot"


async def test_a_second_consumer_of_a_channel_gets_a_snapshot_too(fake: FakeExchange) -> None:
    seen: list[StreamMessage] = []
    arrived = asyncio.Event()

    def on_message(message: StreamMessage) -> None:
        seen.append(message)
        arrived.set()

    async with StreamClient(url=fake.url, backoff=FAST) as stream:
        first = stream.subscribe("ticker", "TCS")
        await first.get(timeout=5)
        stream.subscribe("ticker", "TCS", callback=on_message)
        async with asyncio.timeout(5):
            await arrived.wait()
        assert seen[0].kind == "snapshot"
        assert (await first.get(timeout=5)).kind == "snapshot"  # harmless for the first


async def test_closing_ends_iteration_and_unsubscribing_stops_the_channel(
    fake: FakeExchange,
) -> None:
    stream = StreamClient(url=fake.url, backoff=FAST)
    stream.start()
    tcs = stream.subscribe("quote", "TCS")
    infy = stream.subscribe("quote", "INFY")
    await tcs.get(timeout=5)
    await infy.get(timeout=5)
    await infy.close()
    await fake.wait_for(lambda: any(m.get("op") == "unsubscribe" for m in fake.current.received))
    assert stream.channels == ["quote:TCS"]

    await stream.close()
    assert stream.state is ConnectionState.CLOSED
    assert [message async for message in tcs] == []
