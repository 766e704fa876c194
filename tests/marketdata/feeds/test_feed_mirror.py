"""Mirror mode against a real exchange service (SQLite journal): external prices set the
reference price through the engine, the committed band re-centres, and the latest external
price is served for the simulator."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from exchange_server.domain.commands import ListInstrument
from exchange_server.domain.enums import AssetClass
from exchange_server.domain.events import CommandRejected
from exchange_server.engine.clock import ManualClock
from exchange_server.engine.sequencer import Committed
from exchange_server.marketdata.feeds import FeedMode, FeedSettings, MarketFeed, Tick
from exchange_server.marketdata.feeds.local_feed_server import (
    LOCAL_FEED_MAPPING_TABLE,
    LocalFeedServer,
)
from exchange_server.marketdata.feeds.metrics import FeedMetrics
from exchange_server.marketdata.feeds.mirror import MirrorMode, MirrorSettings, reference_for
from exchange_server.marketdata.market_state import MarketState
from exchange_server.server import EngineSettings, ExchangeService
from tests.marketdata.feeds.support import FEED, NOW_NS, counter

SECOND = 1_000_000_000


class Exchange:
    """A started exchange service with its committed market view, and a way to wait until
    a commit makes something true."""

    def __init__(self, service: ExchangeService) -> None:
        self.service = service
        self.market = MarketState(service.sequencer.exchange)
        self._committed = asyncio.Condition()
        service.sequencer.add_listener(self._on_commit)

    def _on_commit(self, batch: list[Committed]) -> None:
        self.market.apply(batch)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._committed:
            self._committed.notify_all()

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        async with asyncio.timeout(timeout), self._committed:
            await self._committed.wait_for(condition)

    def reference(self, symbol: str = "RELIANCE") -> tuple[int, int, int]:
        instrument = self.market.instruments[symbol]
        return instrument.reference_price, instrument.band_low, instrument.band_high


@pytest.fixture
async def exchange(tmp_path: Path) -> AsyncIterator[Exchange]:
    service = ExchangeService(
        EngineSettings(f"sqlite+pysqlite:///{tmp_path / 'exchange.db'}", projections=False),
        clock=ManualClock(NOW_NS),
    )
    await service.start()
    try:
        for symbol, price in (("RELIANCE", 132780), ("TCS", 239690)):
            ack = await service.execute(
                ListInstrument(
                    symbol, symbol, AssetClass.EQUITY, "NSE", "INR", reference_price=price
                )
            )
            assert not any(isinstance(event, CommandRejected) for event in ack.events)
        yield Exchange(service)
    finally:
        await service.stop()


def mirror_of(exchange: Exchange, registry: CollectorRegistry, clock: ManualClock) -> MirrorMode:
    return MirrorMode(
        exchange.service.execute,
        exchange.market.instruments.get,
        FeedMetrics(registry),
        FEED,
        MirrorSettings(min_change_ppm=500),
        clock,
    )


def quote(bid: int, ask: int, symbol: str = "RELIANCE") -> Tick:
    return Tick(symbol, NOW_NS, bid, ask, None)


async def test_external_prices_set_the_reference_price_and_recentre_the_band(
    exchange: Exchange, registry: CollectorRegistry, clock: ManualClock
) -> None:
    mirror = mirror_of(exchange, registry, clock)
    assert exchange.reference() == (132780, 119505, 146055)
    await mirror.on_tick(quote(139995, 140005))
    await mirror.on_tick(quote(139995, 140010))  # only the latest counts
    assert await mirror.flush() == 1
    # Mid 1400.025 rounded half up to a unit (140003), then to the tick: 1400.05.
    assert exchange.reference() == (140005, 126005, 154005)
    recovered = exchange.service.sequencer.exchange.instruments["RELIANCE"]
    assert recovered.reference_price == 140005  # the engine itself, not just the view
    assert counter(registry, "reference_updates") == 1


async def test_reference_updates_are_limited_to_meaningful_moves(
    exchange: Exchange, registry: CollectorRegistry, clock: ManualClock
) -> None:
    mirror = mirror_of(exchange, registry, clock)
    await mirror.on_tick(quote(140000, 140010))
    assert await mirror.flush() == 1
    seq = exchange.service.sequencer.seq
    assert await mirror.flush() == 0  # nothing new
    await mirror.on_tick(quote(140030, 140040))  # +0.02%: under the 0.05% threshold
    assert await mirror.flush() == 0
    await mirror.on_tick(quote(141000, 141010))  # +0.7%
    await mirror.on_tick(quote(239000, 239010, "TCS"))
    assert await mirror.flush() == 2  # submitted together, one per symbol
    assert exchange.service.sequencer.seq == seq + 2
    assert exchange.reference()[0] == 141005
    assert exchange.reference("TCS")[0] == 239005


async def test_latest_external_price_goes_stale_when_the_feed_stops(
    registry: CollectorRegistry, clock: ManualClock
) -> None:
    async def execute(command: object) -> None:
        raise AssertionError("not used")

    mirror = MirrorMode(
        execute,  # type: ignore[arg-type]
        {}.get,
        FeedMetrics(registry),
        FEED,
        MirrorSettings(stale_after_seconds=30),
        clock,
    )
    assert mirror.prices.latest("RELIANCE") is None
    await mirror.on_tick(Tick("RELIANCE", NOW_NS, None, None, 132785))
    assert mirror.prices.latest("RELIANCE") == 132785
    clock.advance(30 * SECOND)
    assert mirror.prices.latest("RELIANCE") == 132785
    clock.advance(1)
    assert mirror.prices.latest("RELIANCE") is None  # the simulator falls back to its model


def test_reference_prices_round_half_up_to_the_tick() -> None:
    assert [reference_for(mid, 5) for mid in (140000, 140002, 140003, 1, 0)] == [
        140000,
        140000,
        140005,
        5,
        5,
    ]


async def test_a_live_feed_drives_the_exchange_in_mirror_mode(
    exchange: Exchange,
    feed_server: LocalFeedServer,
    registry: CollectorRegistry,
    clock: ManualClock,
) -> None:
    settings = FeedSettings(
        mode=FeedMode.MIRROR,
        url=feed_server.url,
        name=FEED,
        mapping=LOCAL_FEED_MAPPING_TABLE,
        subscribe={"op": "subscribe", "symbols": ["RELIANCE"]},
        reference_interval_seconds=0.02,
    )
    market = exchange.market
    feed = MarketFeed(settings, market.instruments.get, exchange.service.execute, registry, clock)
    feed.start()
    try:
        await feed_server.wait_for(lambda: bool(feed_server.requests))
        await feed_server.publish("RELIANCE", "1400.00", "1400.05")
        await exchange.wait_for(lambda: exchange.reference()[0] == 140005)
        assert feed.prices.latest("RELIANCE") == 140003
        # 1500 was outside the old band [1195.05, 1460.55]; the band followed the market.
        await feed_server.publish("RELIANCE", "1499.95", "1500.00")
        await exchange.wait_for(lambda: exchange.reference()[0] == 150000)
        assert exchange.reference() == (150000, 135000, 165000)
        assert exchange.reference("TCS")[0] == 239690  # not subscribed: untouched
    finally:
        await feed.stop()
    assert counter(registry, "ticks_accepted") == 2
    assert counter(registry, "reference_updates") == 2


def test_feed_settings_refuse_what_cannot_work() -> None:
    with pytest.raises(ValueError, match="ws://"):
        FeedSettings(url="http://example.com").feed_config()
    with pytest.raises(ValueError, match="unknown feed mapping keys"):
        FeedSettings(url="ws://127.0.0.1:1", mapping={"sym": "s"}).feed_config()
    # Settings default to empty tables: no subscription and no resync request.
    config = FeedSettings(url="wss://feed.example", subscribe={}, resync={}).feed_config()
    assert (config.subscribe, config.resync) == ((), None)
    listed = FeedSettings(url="ws://h", subscribe=[{"op": "a"}, {"op": "b"}]).feed_config()
    assert listed.subscribe == ({"op": "a"}, {"op": "b"})
