from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from prometheus_client import CollectorRegistry

from exchange_server.domain.instruments import Instrument
from exchange_server.engine.clock import ManualClock
from exchange_server.marketdata.feeds.local_feed_server import LocalFeedServer
from tests.marketdata.feeds.support import NOW_NS, reliance, tcs


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW_NS)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def instruments() -> dict[str, Instrument]:
    return {"RELIANCE": reliance(), "TCS": tcs()}


@pytest.fixture
async def feed_server(clock: ManualClock) -> AsyncIterator[LocalFeedServer]:
    # Ticks are stamped by the tests' clock so the staleness rules see them as fresh.
    server = LocalFeedServer(heartbeat_seconds=0.05, now_ms=lambda: clock.now_ns() // 1_000_000)
    async with server.running():
        yield server
