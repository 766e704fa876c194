"""The WebSocket stream through a real server: snapshots then ordered updates, private
channels that never leak, order entry, heartbeats, bad input, and slow consumers."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import uvicorn
import websockets

from exchange_server.api.app import create_app
from exchange_server.api.settings import ServerSettings
from exchange_server.domain.commands import PlaceOrder
from exchange_server.domain.enums import OrderType, Side, TimeInForce
from tests.api.conftest import (
    LiveServer,
    SignedInUser,
    list_demo_instruments,
    serve,
    server_settings,
)
from tests.api.ws_support import WsClient, wait_for

ORDER = {"symbol": "RELIANCE", "side": "buy", "quantity": "10", "price": "1300.00"}


async def signed_in(live: LiveServer, user: SignedInUser) -> WsClient:
    client = await WsClient.open(f"{live.ws_url}?token={user.tokens.access_token}")
    await wait_for(lambda: client.of_type("authenticated"))
    return client


def seqs(messages: list[dict]) -> list[int]:
    return [m["seq"] for m in messages]


async def test_depth_snapshot_then_updates_in_seq_order(live_server: LiveServer) -> None:
    trader = await live_server.user()
    client = await WsClient.open(live_server.ws_url)
    welcome = await wait_for(lambda: client.of_type("welcome"))
    assert welcome[0]["heartbeat_seconds"] == live_server.settings.ws_heartbeat_seconds
    reply = await client.request("subscribe", channel="depth", symbol="RELIANCE", levels=5)
    assert reply == {"type": "subscribed", "id": 1, "channel": "depth:RELIANCE:5"}
    snapshot = await wait_for(lambda: client.on("depth:RELIANCE:5"))
    assert snapshot[0]["type"] == "snapshot" and snapshot[0]["data"]["bids"] == []
    for price in ("1300.00", "1301.00", "1299.00"):
        response = await trader.client.post("/api/v1/orders", json={**ORDER, "price": price})
        assert response.status_code == 201, response.text
    await wait_for(lambda: len(client.on("depth:RELIANCE:5")[-1]["data"]["bids"]) == 3)
    messages = client.on("depth:RELIANCE:5")
    assert seqs(messages) == list(range(1, len(messages) + 1))
    assert all(m["type"] == "update" for m in messages[1:])
    bids = messages[-1]["data"]["bids"]
    assert [(b["price"], b["quantity"]) for b in bids] == [
        ("1301.00", "10"),
        ("1300.00", "10"),
        ("1299.00", "10"),
    ]
    await client.close()


async def test_private_channels_show_only_the_users_own_updates(live_server: LiveServer) -> None:
    alice, bob = await live_server.user(), await live_server.user()
    alice_ws, bob_ws = await signed_in(live_server, alice), await signed_in(live_server, bob)
    for client in (alice_ws, bob_ws):
        for channel in ("orders", "balances", "fills"):
            assert (await client.request("subscribe", channel=channel))["type"] == "subscribed"
    await wait_for(lambda: all(len(c.of_type("snapshot")) == 3 for c in (alice_ws, bob_ws)))
    balances = alice_ws.on("balances")[0]["data"]
    assert [(b["asset"], b["balance"]) for b in balances] == [("INR", "1000000.0000")]

    placed = await alice_ws.request("place", order={**ORDER, "client_order_id": "a-1"})
    assert placed["type"] == "result" and placed["data"]["status"] == "new"
    response = await bob.client.post("/api/v1/orders", json={**ORDER, "price": "1290.00"})
    bob_order = response.json()["order_id"]

    await wait_for(lambda: len(bob_ws.on("orders")) == 2 and len(alice_ws.on("orders")) == 2)
    await wait_for(lambda: len(alice_ws.on("balances")) == 2)
    alice_orders = [m["data"]["order_id"] for m in alice_ws.on("orders")[1:]]
    assert alice_orders == [placed["data"]["order_id"]]
    assert [m["data"]["order_id"] for m in bob_ws.on("orders")[1:]] == [bob_order]
    reserved = alice_ws.on("balances")[-1]["data"]
    assert (reserved["asset"], reserved["reserved"]) == ("INR", "13000.0000")
    # The same client order id again is the same order (idempotent, as over REST).
    again = await alice_ws.request("place", order={**ORDER, "client_order_id": "a-1"})
    assert again["data"]["order_id"] == placed["data"]["order_id"]
    cancelled = await alice_ws.request("cancel", order_id=placed["data"]["order_id"])
    assert cancelled["data"]["status"] == "cancelled"
    refused = await alice_ws.request("cancel", order_id=bob_order)
    assert refused["type"] == "error"
    await wait_for(lambda: alice_ws.on("orders")[-1]["data"]["status"] == "cancelled")
    assert all(m["data"]["order_id"] != bob_order for m in alice_ws.on("orders")[1:])
    others = bob_ws.on("orders")[1:]
    assert all(m["data"]["order_id"] != placed["data"]["order_id"] for m in others)
    await alice_ws.close()
    await bob_ws.close()


async def test_positions_stream_follows_trades(live_server: LiveServer) -> None:
    buyer, seller = await live_server.user(), await live_server.user(cash="0")
    await live_server.fund(seller.account_id, "RELIANCE", "100")
    sell = {**ORDER, "side": "sell", "quantity": "10"}
    assert (await seller.client.post("/api/v1/orders", json=sell)).status_code == 201
    assert (
        await buyer.client.post("/api/v1/orders", json={**ORDER, "quantity": "4"})
    ).status_code == 201
    client = await signed_in(live_server, buyer)
    await client.request("subscribe", channel="positions")
    snapshot = await wait_for(lambda: client.on("positions"))
    assert [(p["symbol"], p["quantity"]) for p in snapshot[0]["data"]] == [("RELIANCE", "4")]
    assert (await client.request("place", order={**ORDER, "quantity": "6"}))["type"] == "result"
    await wait_for(lambda: client.on("positions")[-1]["data"].get("quantity") == "10")
    latest = client.on("positions")[-1]
    assert latest["type"] == "update" and latest["data"]["average_price"] == "1300.0000"
    await client.close()


async def test_bad_messages_get_error_replies_and_the_connection_stays(
    live_server: LiveServer,
) -> None:
    client = await WsClient.open(live_server.ws_url)
    await client.send("{not json")
    await wait_for(lambda: client.of_type("error"))
    assert client.of_type("error")[0]["error"]["code"] == "malformed_json"
    cases = [
        ({"op": "dance"}, "unknown_op"),
        ({"op": "subscribe", "channel": "weather", "symbol": "RELIANCE"}, "unknown_channel"),
        ({"op": "subscribe", "channel": "quote", "symbol": "NOSUCH"}, "unknown_symbol"),
        (
            {"op": "subscribe", "channel": "depth", "symbol": "RELIANCE", "levels": 7},
            "invalid_levels",
        ),
        ({"op": "subscribe", "channel": "candles.7m:RELIANCE"}, "unknown_interval"),
        ({"op": "subscribe", "channel": "orders"}, "unauthorized"),
        ({"op": "place", "order": ORDER}, "unauthorized"),
        (
            {"op": "subscribe", "channel": "quote", "symbol": "RELIANCE", "extra": 1},
            "unknown_field",
        ),
        ({"op": "auth", "token": "forged"}, "invalid_token"),
    ]
    for number, (message, code) in enumerate(cases, start=100):
        await client.send({**message, "id": number})
        reply = await wait_for(lambda n=number: client.reply(n))
        assert (reply["type"], reply["error"]["code"]) == ("error", code), (message, reply)
    assert (await client.request("ping"))["type"] == "pong"
    await client.request("subscribe", channel="candles.1m:RELIANCE")
    assert client.on("candles.1m:RELIANCE")[0]["data"] == []
    await client.send("x" * (live_server.settings.max_body_bytes + 1))
    assert await client.closed() == (1009, "message too big")


async def test_heartbeats_and_idle_timeout(tmp_path: Path) -> None:
    settings = server_settings(tmp_path, ws_heartbeat_seconds=0.1, ws_idle_timeout_seconds=0.6)
    async with serve(settings, instruments=False) as live:
        talker, sleeper = await WsClient.open(live.ws_url), await WsClient.open(live.ws_url)
        for _ in range(3):  # the talker's pings keep it alive past the idle timeout
            beats = len(talker.of_type("heartbeat"))
            await wait_for(lambda n=beats: len(talker.of_type("heartbeat")) > n + 1)
            await talker.request("ping")
        assert await sleeper.closed() == (1008, "idle timeout")
        assert talker.close_code is None
        await talker.close()


@contextlib.asynccontextmanager
async def serve_with_small_send_buffers(settings: ServerSettings) -> AsyncIterator[LiveServer]:
    """Like ``serve``, on a listening socket whose accepted sockets keep small send buffers,
    so a peer that stops reading holds up the server's sends after kilobytes, not after
    the megabytes that Linux would otherwise buffer on loopback."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    listener.bind(("127.0.0.1", 0))
    app = create_app(settings)
    config = uvicorn.Config(app, log_level="warning", lifespan="on", ws="websockets-sansio")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[listener]))
    await wait_for(lambda: server.started or task.done(), timeout=30)
    port = listener.getsockname()[1]
    live = LiveServer(
        f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/ws", settings, app.state.context
    )
    try:
        await list_demo_instruments(live.context)
        yield live
    finally:
        for client in live.clients:
            await client.aclose()
        server.should_exit = True
        await task


async def trade_once(live: LiveServer, maker: int, taker: int, price: int) -> None:
    sell = PlaceOrder(maker, "RELIANCE", Side.SELL, 1, OrderType.LIMIT, price)
    buy = PlaceOrder(taker, "RELIANCE", Side.BUY, 1, OrderType.LIMIT, price, tif=TimeInForce.IOC)
    await asyncio.gather(live.context.submit(sell), live.context.submit(buy))


async def test_a_client_that_stops_reading_is_cut_off_while_others_keep_receiving(
    tmp_path: Path,
) -> None:
    settings = server_settings(tmp_path, ws_queue_messages=20)
    async with serve_with_small_send_buffers(settings) as live:
        maker, taker = await live.user(cash="100000000"), await live.user(cash="100000000")
        await live.fund(maker.account_id, "RELIANCE", "1000000")
        # The slow reader: a small receive buffer, and a client that stops reading the
        # socket once one frame waits unread (websockets' flow control).
        raw = socket.socket()
        raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        raw.connect(("127.0.0.1", int(live.ws_url.split(":")[2].split("/")[0])))
        slow = await websockets.connect(live.ws_url, sock=raw, max_queue=1, compression=None)
        healthy = await WsClient.open(live.ws_url)
        for connection in (slow, healthy.connection):
            for channel in ("trades:RELIANCE", "depth:RELIANCE:20", "quote:RELIANCE"):
                request = {"op": "subscribe", "channel": channel}
                await connection.send(orjson.dumps(request).decode())
        await wait_for(lambda: healthy.on("trades:RELIANCE"))
        price, sent = 132780, 0
        while live.context.metrics.ws_dropped._value.get() < 1:
            assert sent < 5_000, "the slow reader was never cut off"
            await trade_once(live, maker.account_id, taker.account_id, price)
            sent += 1
        await trade_once(live, maker.account_id, taker.account_id, price)
        sent += 1
        await wait_for(lambda: len(healthy.on("trades:RELIANCE")) == 1 + sent)
        trades = healthy.on("trades:RELIANCE")
        assert seqs(trades) == list(range(1, len(trades) + 1))
        # The slow reader, reading again, drains what was already in flight, then the reason.
        with contextlib.suppress(websockets.ConnectionClosed):
            async for _ in slow:
                pass
        assert (slow.close_code, slow.close_reason) == (1008, "slow consumer")
        assert healthy.close_code is None
        await healthy.close()
