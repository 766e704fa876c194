"""Helpers for feed tests: a tick collector that tests wait on, a client running against the
local feed server, and reading counters back from a registry."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from typing import Any

from prometheus_client import CollectorRegistry

from exchange_server.backoff import Backoff
from exchange_server.domain.enums import AssetClass
from exchange_server.domain.instruments import Instrument
from exchange_server.engine.clock import ManualClock
from exchange_server.marketdata.feeds.adapter import Tick
from exchange_server.marketdata.feeds.local_feed_server import LOCAL_FEED_MAPPING
from exchange_server.marketdata.feeds.metrics import FeedMetrics
from exchange_server.marketdata.feeds.websocket_json import WebSocketFeedConfig, WebSocketJsonFeed

FEED = "test"
NOW_NS = 1_777_000_000_000_000_000  # the tests' fixed "now"
NOW_MS = NOW_NS // 1_000_000


def reliance() -> Instrument:
    # Reference 1327.80, band +/-10%: [1195.05, 1460.55].
    return Instrument(
        "RELIANCE", "Reliance", AssetClass.EQUITY, "NSE", "INR", reference_price=132780
    )


def tcs() -> Instrument:
    return Instrument("TCS", "TCS", AssetClass.EQUITY, "NSE", "INR", reference_price=239690)


class Collector:
    """A tick sink that tests can wait on."""

    def __init__(self) -> None:
        self.ticks: list[Tick] = []
        self._changed = asyncio.Condition()

    async def __call__(self, tick: Tick) -> None:
        self.ticks.append(tick)
        async with self._changed:
            self._changed.notify_all()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Tick]:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: len(self.ticks) >= count)
        return self.ticks


class RecordingSleep:
    """An injected sleep: records each backoff delay and returns at once, after running
    ``on_sleep`` (so a test can change the world at a chosen retry)."""

    def __init__(self, on_sleep: Callable[[int], None] = lambda n: None) -> None:
        self.delays: list[float] = []
        self._on_sleep = on_sleep

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        self._on_sleep(len(self.delays))
        await asyncio.sleep(0)


def counter(registry: CollectorRegistry, name: str, **labels: str) -> float:
    value = registry.get_sample_value(f"exchange_feed_{name}_total", {"feed": FEED, **labels})
    return value or 0.0


def make_feed(
    url: str,
    registry: CollectorRegistry,
    clock: ManualClock,
    instruments: dict[str, Instrument],
    sleep: Callable[[float], Any] | None = None,
    **options: Any,
) -> WebSocketJsonFeed:
    config = WebSocketFeedConfig(
        url=url,
        name=FEED,
        mapping=options.pop("mapping", LOCAL_FEED_MAPPING),
        heartbeat_timeout_seconds=options.pop("heartbeat_timeout_seconds", 10.0),
        backoff=options.pop("backoff", Backoff(initial=0.5, factor=2.0, cap=3.0, jitter=0.5)),
        **options,
    )
    return WebSocketJsonFeed(
        config,
        instruments.get,
        FeedMetrics(registry),
        clock,
        sleep=sleep or RecordingSleep(),
        uniform=lambda: 0.5,  # jitter takes a quarter off each delay: predictable
    )


@contextlib.asynccontextmanager
async def running(feed: WebSocketJsonFeed, sink: Collector) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(feed.run(sink))
    try:
        yield task
    finally:
        await feed.stop()
        async with asyncio.timeout(10):
            await task
