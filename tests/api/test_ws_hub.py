"""The stream hub with fake sockets: snapshots, seq order, conflation, private routing,
slow consumers, heartbeats and idle connections."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson

from exchange_server.api.deps import Principal
from exchange_server.domain.enums import Side
from exchange_server.engine.projections import Position
from tests.api.ws_support import ALICE, BOB, Exchanged, FakeSocket, wait_for

BUY, SELL = Side.BUY, Side.SELL


def seqs(messages: list[dict]) -> list[int]:
    return [m["seq"] for m in messages]


async def test_depth_snapshot_then_updates_in_seq_order(tmp_path: Path) -> None:
    ex = Exchanged(tmp_path)
    socket = FakeSocket()
    connection = ex.connect(socket)
    ex.hub.subscribe_public(connection, "depth:ACME:5")
    await wait_for(lambda: socket.on("depth:ACME:5"))
    for price in (9_900, 9_950, 9_800):
        ex.place(ALICE, BUY, 10, price)
        seen = len(socket.on("depth:ACME:5"))
        await wait_for(lambda n=seen: len(socket.on("depth:ACME:5")) > n)
    messages = socket.on("depth:ACME:5")
    assert [m["type"] for m in messages] == ["snapshot", "update", "update", "update"]
    assert seqs(messages) == [1, 2, 3, 4]
    assert messages[0]["data"]["bids"] == []
    assert [level["price"] for level in messages[-1]["data"]["bids"]] == ["99.50", "99.00", "98.00"]


async def test_a_slow_reader_gets_the_latest_state_without_gaps(tmp_path: Path) -> None:
    ex = Exchanged(tmp_path)
    slow, fast = FakeSocket(), FakeSocket()
    slow_connection = ex.connect(slow)
    fast_connection = ex.connect(fast)
    slow.stall()
    for connection in (slow_connection, fast_connection):
        ex.hub.subscribe_public(connection, "quote:ACME")
    await wait_for(lambda: fast.on("quote:ACME"))
    for step in range(20):
        ex.place(ALICE, BUY, 1, 9_000 + 5 * step)
        await wait_for(
            lambda n=step: fast.on("quote:ACME")[-1]["data"]["bid"] == f"{90 + 0.05 * n:.2f}"
        )
    slow.resume()
    await wait_for(
        lambda: slow.on("quote:ACME") and slow.on("quote:ACME")[-1]["data"]["bid"] == "90.95"
    )
    received = slow.on("quote:ACME")
    # Conflated: far fewer messages than changes, numbered without gaps, snapshot first.
    assert len(received) < 5
    assert seqs(received) == list(range(1, len(received) + 1))
    assert received[0]["type"] == "snapshot"
    assert seqs(fast.on("quote:ACME")) == list(range(1, 22))


async def test_a_reader_that_stays_behind_is_cut_off_while_others_keep_receiving(
    tmp_path: Path,
) -> None:
    ex = Exchanged(tmp_path, ws_queue_messages=10)
    slow, fast = FakeSocket(), FakeSocket()
    slow_connection, fast_connection = ex.connect(slow), ex.connect(fast)
    for connection in (slow_connection, fast_connection):
        ex.hub.subscribe_public(connection, "trades:ACME")
    await wait_for(lambda: slow.on("trades:ACME") and fast.on("trades:ACME"))
    slow.stall()
    ex.place(ALICE, SELL, 100, 10_000)
    ex.place(BOB, BUY, 1, 10_000)
    await wait_for(lambda: slow_connection.sending_since)  # its peer holds up a send
    for _ in range(15):  # each a trade: events are never conflated
        ex.place(BOB, BUY, 1, 10_000)
    await wait_for(lambda: slow_connection.closing == (1008, "slow consumer"))
    assert ex.metrics.ws_dropped._value.get() == 1
    assert not slow_connection.pending  # what it could not take is released at once
    slow.resume()  # the peer reads again: it finds the close reason
    await wait_for(lambda: slow.closed == (1008, "slow consumer"))
    ex.place(BOB, BUY, 1, 10_000)
    await wait_for(lambda: len(fast.on("trades:ACME")) == 1 + 17)
    assert seqs(fast.on("trades:ACME")) == list(range(1, 19))
    assert fast.closed is None


async def test_private_orders_reach_only_their_account(tmp_path: Path) -> None:
    ex = Exchanged(tmp_path)
    alice, bob = FakeSocket(), FakeSocket()
    alice_connection, bob_connection = ex.connect(alice), ex.connect(bob)
    alice_connection.principal = Principal(1, ALICE, "trader")
    bob_connection.principal = Principal(2, BOB, "trader")
    for connection in (alice_connection, bob_connection):
        assert ex.hub.subscribe_private(connection, "orders")
    # An update while the snapshot loads is buffered and follows the snapshot.
    ex.place(ALICE, BUY, 5, 9_900)
    ex.hub.snapshot_loaded(alice_connection, "orders", [])
    ex.hub.snapshot_loaded(bob_connection, "orders", [])
    ex.place(BOB, SELL, 3, 10_100)
    await wait_for(lambda: len(alice.on("orders")) == 2 and len(bob.on("orders")) == 2)
    assert [m["type"] for m in alice.on("orders")] == ["snapshot", "update"]
    assert alice.on("orders")[1]["data"]["price"] == "99.00"
    assert bob.on("orders")[1]["data"]["price"] == "101.00"
    assert seqs(alice.on("orders")) == [1, 2]


async def test_live_positions_seeded_from_rows_skip_updates_the_rows_include(
    tmp_path: Path,
) -> None:
    ex = Exchanged(tmp_path)
    socket = FakeSocket()
    connection = ex.connect(socket)
    connection.principal = Principal(1, BOB, "trader")
    assert ex.hub.subscribe_private(connection, "positions")
    ex.place(ALICE, SELL, 10, 10_000)
    first = ex.place(BOB, BUY, 4, 10_000)  # the rows include this one...
    ex.place(BOB, BUY, 6, 10_000)  # ...but not this one
    ex.hub.seed_positions(BOB, {"ACME": (Position(1_004, 4 * 1_000_000, 0), first.seq)})
    await wait_for(lambda: socket.on("positions"))
    snapshot = socket.on("positions")[0]
    assert snapshot["type"] == "snapshot"
    assert snapshot["data"][0]["quantity"] == "1010"
    assert snapshot["data"][0]["cost"] == "1000.0000"
    ex.place(ALICE, SELL, 5, 10_000)
    ex.place(BOB, BUY, 5, 10_000)
    await wait_for(lambda: len(socket.on("positions")) == 2)
    assert socket.on("positions")[1]["data"]["quantity"] == "1015"


async def test_a_change_after_a_quiet_spell_goes_out_at_once_and_the_next_waits_its_turn(
    tmp_path: Path,
) -> None:
    ex = Exchanged(tmp_path)
    ex.hub.flush_seconds = 30.0  # the cadence bound: at most one flush per 30 s here
    socket = FakeSocket()
    connection = ex.connect(socket)
    ex.hub.subscribe_public(connection, "quote:ACME")
    await wait_for(lambda: len(socket.on("quote:ACME")) == 1)  # the snapshot
    ex.place(ALICE, BUY, 1, 9_000)
    await wait_for(lambda: len(socket.on("quote:ACME")) == 2)  # not 30 s later
    ex.place(ALICE, BUY, 1, 9_100)
    ex.place(ALICE, BUY, 1, 9_200)
    await asyncio.sleep(0.1)
    assert len(socket.on("quote:ACME")) == 2  # held for the next flush, conflated there
    assert list(connection.pending) == []  # nothing queued before the flush encodes it


async def test_resubscribing_starts_the_channel_again_from_a_snapshot(tmp_path: Path) -> None:
    ex = Exchanged(tmp_path)
    socket = FakeSocket()
    connection = ex.connect(socket)
    ex.hub.subscribe_public(connection, "quote:ACME")
    ex.place(ALICE, BUY, 1, 9_000)
    await wait_for(lambda: len(socket.on("quote:ACME")) == 2)
    ex.hub.subscribe_public(connection, "quote:ACME")
    await wait_for(lambda: len(socket.on("quote:ACME")) == 3)
    latest = socket.on("quote:ACME")[-1]
    assert (latest["type"], latest["seq"]) == ("snapshot", 1)


async def test_heartbeats_and_idle_connections(tmp_path: Path) -> None:
    ex = Exchanged(tmp_path, ws_idle_timeout_seconds=30.0)
    quiet, chatty = FakeSocket(), FakeSocket()
    quiet_connection, chatty_connection = ex.connect(quiet), ex.connect(chatty)
    now = time.monotonic()
    quiet_connection.last_received = now - 31
    heartbeat = orjson.dumps({"type": "heartbeat", "ts": 1})
    ex.hub.sweep(now, heartbeat)
    await wait_for(lambda: quiet.closed == (1008, "idle timeout"))
    await wait_for(lambda: chatty.messages == [{"type": "heartbeat", "ts": 1}])
    # The writer forgets its connection a step after the close frame went out.
    await wait_for(lambda: ex.hub.connections == {chatty_connection})


async def test_a_reader_stalled_mid_frame_is_cut_off(tmp_path: Path) -> None:
    ex = Exchanged(tmp_path, ws_heartbeat_seconds=1.0)
    socket = FakeSocket()
    connection = ex.connect(socket)
    socket.stall()
    ex.hub.subscribe_public(connection, "quote:ACME")
    await wait_for(lambda: connection.sending_since)
    ex.hub.sweep(time.monotonic() + 2.5, None)
    assert connection.closing == (1008, "slow consumer")
    socket.resume()
    await wait_for(lambda: socket.closed == (1008, "slow consumer"))
    await wait_for(lambda: not ex.hub.connections)


async def test_stop_closes_every_stream_with_the_reason(tmp_path: Path) -> None:
    ex = Exchanged(tmp_path)
    await ex.hub.start()
    sockets = [FakeSocket() for _ in range(3)]
    for socket in sockets:
        ex.connect(socket)
    await ex.hub.stop("server shutting down")
    assert [s.closed for s in sockets] == [(1001, "server shutting down")] * 3
    assert not ex.hub.connections
