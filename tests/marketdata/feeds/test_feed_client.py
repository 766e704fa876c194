"""The WebSocket JSON feed client against the local feed server over real sockets: ticks
through the mapping, bad ticks refused and counted, sequence gaps, heartbeat timeouts and
reconnection with backoff."""

from __future__ import annotations

import asyncio
import json

from prometheus_client import CollectorRegistry

from exchange_server.domain.instruments import Instrument
from exchange_server.engine.clock import ManualClock
from exchange_server.marketdata.feeds.adapter import FeedState, Tick
from exchange_server.marketdata.feeds.local_feed_server import LocalFeedServer
from exchange_server.marketdata.feeds.validation import Reason, TickLimits
from tests.marketdata.feeds.support import (
    NOW_MS,
    NOW_NS,
    Collector,
    RecordingSleep,
    counter,
    make_feed,
    running,
)

MS = 1_000_000


async def test_ticks_flow_through_the_mapping_with_exact_values(
    feed_server: LocalFeedServer,
    registry: CollectorRegistry,
    clock: ManualClock,
    instruments: dict[str, Instrument],
) -> None:
    feed = make_feed(
        feed_server.url,
        registry,
        clock,
        instruments,
        subscribe=({"op": "subscribe", "symbols": ["RELIANCE"]},),
    )
    sink = Collector()
    async with running(feed, sink):
        await feed_server.wait_for(lambda: any(c.symbols for c in feed_server.connections))
        await feed_server.publish("RELIANCE", "1327.80", "1327.85", "1327.80", "25")
        await feed_server.publish("TCS", "2396.90", "2397.00")  # not subscribed
        # A JSON number, not a string: parsed as a Decimal, so 1327.85 stays exact.
        await feed_server.send_raw(
            f'{{"type": "tick", "s": "RELIANCE", "p": 1327.85, "t": {NOW_MS + 1}}}'
        )
        ticks = await sink.wait_for(2)
        assert feed.health.state is FeedState.LIVE
    assert ticks == [
        Tick("RELIANCE", NOW_NS, 132780, 132785, 132780, 25),
        Tick("RELIANCE", NOW_NS + MS, None, None, 132785, None),
    ]
    assert counter(registry, "ticks_accepted") == 2
    assert feed.health.state is FeedState.STOPPED


async def test_each_kind_of_bad_tick_is_refused_and_counted(
    feed_server: LocalFeedServer,
    registry: CollectorRegistry,
    clock: ManualClock,
    instruments: dict[str, Instrument],
) -> None:
    feed = make_feed(
        feed_server.url,
        registry,
        clock,
        instruments,
        limits=TickLimits(max_age_seconds=10, max_jump_ppm=20_000),
    )
    sink = Collector()
    good = {"type": "tick", "s": "RELIANCE", "b": "1327.80", "a": "1327.85", "t": NOW_MS}
    bad_ticks: list[tuple[Reason, dict[str, object]]] = [
        (Reason.CROSSED, {"b": "1328.00", "a": "1327.90"}),
        (Reason.NON_POSITIVE, {"b": "-1327.80"}),
        (Reason.NON_POSITIVE, {"b": "0", "a": "0"}),
        (Reason.NON_NUMERIC, {"b": float("nan")}),  # the JSON literal NaN
        (Reason.NON_NUMERIC, {"a": float("inf")}),  # the JSON literal Infinity
        (Reason.NON_NUMERIC, {"a": "NaN"}),
        (Reason.NON_NUMERIC, {"b": "abc"}),
        (Reason.PRECISION, {"b": "1327.801"}),
        (Reason.STALE, {"t": NOW_MS - 60_000}),  # a minute old
        (Reason.STALE, {"t": NOW_MS - 1}),  # older than the accepted tick before it
        (Reason.FUTURE, {"t": NOW_MS + 60_000}),
        (Reason.OUT_OF_BAND, {"b": "1100.00"}),
        (Reason.JUMP, {"b": "1360.00", "a": "1360.05"}),  # +2.4% > 2% from 1327.825
        (Reason.UNKNOWN_SYMBOL, {"s": "NOPE"}),
        (Reason.MALFORMED, {"s": None}),
        (Reason.MALFORMED, {"a": None}),  # a quote with one side
    ]
    async with running(feed, sink):
        await feed_server.wait_for(lambda: bool(feed_server.connections))
        await feed_server.send_numbered(good)
        await sink.wait_for(1)
        for _, change in bad_ticks:
            await feed_server.send_numbered({**good, **change})
        await feed_server.send_raw("this is not JSON")
        await feed_server.send_raw("[1, 2]")  # an array of non-objects
        await feed_server.send_raw(json.dumps({**good, "n": 1}))  # a replayed number
        await feed_server.send_numbered({**good, "b": "1327.85", "a": "1327.90"})
        ticks = await sink.wait_for(2)  # in order: every bad tick before it was handled
    assert [tick.bid for tick in ticks] == [132780, 132785]
    expected: dict[str, int] = {}
    for reason, _ in bad_ticks:
        expected[reason.value] = expected.get(reason.value, 0) + 1
    expected[Reason.MALFORMED.value] += 3  # not JSON, and two array items
    expected[Reason.DUPLICATE.value] = 1
    counted = {
        reason.value: counter(registry, "ticks_rejected", reason=reason) for reason in Reason
    }
    assert counted == {reason.value: expected.get(reason.value, 0) for reason in Reason}
    assert counter(registry, "ticks_accepted") == 2
    assert counter(registry, "sequence_gaps") == 0


async def test_a_sequence_gap_is_counted_and_a_resync_requested(
    feed_server: LocalFeedServer,
    registry: CollectorRegistry,
    clock: ManualClock,
    instruments: dict[str, Instrument],
) -> None:
    feed = make_feed(feed_server.url, registry, clock, instruments, resync={"op": "resync"})
    sink = Collector()
    async with running(feed, sink):
        await feed_server.wait_for(lambda: bool(feed_server.connections))
        await feed_server.publish("RELIANCE", "1327.80", "1327.85")
        await feed_server.publish("TCS", "2396.90", "2397.00")
        await sink.wait_for(2)
        feed_server.skip(3)  # messages 3, 4 and 5 are lost
        await feed_server.publish("RELIANCE", "1327.85", "1327.90")
        await feed_server.wait_for(lambda: {"op": "resync"} in feed_server.requests)
        # The resync resends the latest tick of each symbol, numbered onwards: no new gap.
        ticks = await sink.wait_for(5)
    assert counter(registry, "sequence_gaps") == 1
    assert counter(registry, "messages_missed") == 3
    assert [(tick.symbol, tick.bid) for tick in ticks[2:]] == [
        ("RELIANCE", 132785),
        ("RELIANCE", 132785),
        ("TCS", 239690),
    ]


async def test_a_silent_feed_times_out_and_is_reconnected(
    feed_server: LocalFeedServer,
    registry: CollectorRegistry,
    clock: ManualClock,
    instruments: dict[str, Instrument],
) -> None:
    sleep = RecordingSleep()
    # The server heartbeats every 50 ms, so only a real stall trips a 0.5 s timeout.
    feed = make_feed(
        feed_server.url, registry, clock, instruments, sleep, heartbeat_timeout_seconds=0.5
    )
    sink = Collector()
    async with running(feed, sink):
        await feed_server.wait_for(lambda: feed_server.accepted == 1)
        await feed_server.publish("RELIANCE", "1327.80", "1327.85")
        await sink.wait_for(1)
        feed_server.stalled = True  # connected, but nothing at all arrives any more
        await feed_server.wait_for(lambda: feed_server.accepted == 2)
        feed_server.stalled = False
        assert counter(registry, "heartbeat_timeouts") == 1
        await feed_server.publish("RELIANCE", "1327.85", "1327.90")
        await sink.wait_for(2)
        assert feed.health.connects == 2
    assert counter(registry, "reconnects") == 1
    assert sleep.delays == [0.375]  # the first retry's delay: 0.5 less a quarter of jitter
    assert "no message for 0.5s" in feed.health.last_error


async def test_a_dropped_feed_is_retried_on_the_backoff_schedule(
    feed_server: LocalFeedServer,
    registry: CollectorRegistry,
    clock: ManualClock,
    instruments: dict[str, Instrument],
) -> None:
    def lift_refusal(retries: int) -> None:
        if retries == 5:
            feed_server.refusing = False

    sleep = RecordingSleep(lift_refusal)
    subscribe = {"op": "subscribe", "symbols": ["*"]}
    feed = make_feed(feed_server.url, registry, clock, instruments, sleep, subscribe=(subscribe,))
    sink = Collector()
    async with running(feed, sink):
        await feed_server.wait_for(lambda: subscribe in feed_server.requests)
        feed_server.refusing = True  # the feed is down: handshakes get HTTP 503
        await feed_server.drop(abrupt=True)
        await feed_server.wait_for(lambda: feed_server.accepted == 2)
        assert feed_server.refused == 4
        await feed_server.publish("RELIANCE", "1327.80", "1327.85")
        await sink.wait_for(1)
        # A connection that worked resets the schedule: the next outage starts short.
        await feed_server.drop()
        # The client subscribes once it is connected: its third subscription says so.
        await feed_server.wait_for(lambda: feed_server.requests.count(subscribe) == 3)
    # Backoff(initial=0.5, factor=2, cap=3), each less a quarter for jitter.
    assert sleep.delays == [0.375, 0.75, 1.5, 2.25, 2.25, 0.375]
    assert counter(registry, "reconnects") == 6
    assert feed.health.connects == 3


async def test_stop_ends_a_backoff_pause_at_once(
    feed_server: LocalFeedServer,
    registry: CollectorRegistry,
    clock: ManualClock,
    instruments: dict[str, Instrument],
) -> None:
    pausing = asyncio.Event()

    async def sleep_for_ever(delay: float) -> None:
        pausing.set()
        await asyncio.Event().wait()

    feed_server.refusing = True
    feed = make_feed(feed_server.url, registry, clock, instruments, sleep_for_ever)
    async with running(feed, Collector()) as task:
        async with asyncio.timeout(10):
            await pausing.wait()
        assert feed.health.state is FeedState.RECONNECTING
        assert "503" in feed.health.last_error
    assert task.done()
    assert feed.health.state is FeedState.STOPPED
    assert feed.health.connects == 0
