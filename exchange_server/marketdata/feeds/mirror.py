"""Mirror mode: the exchange follows an external market.

Accepted external prices re-centre each instrument's price band through ``SetReferencePrice``
commands, submitted through the engine like any other command (so they are journaled and
replayed), and are served as ``ExternalPrices`` for the market simulator to anchor its fair
value to. Reference updates are batched per interval: at most one per symbol per interval,
and only when the price moved meaningfully, so a busy feed cannot flood the journal.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from exchange_server.domain.commands import Command, SetReferencePrice
from exchange_server.domain.events import CommandRejected
from exchange_server.domain.instruments import PPM
from exchange_server.engine.clock import Clock, SystemClock
from exchange_server.engine.sequencer import Ack
from exchange_server.marketdata.feeds.adapter import InstrumentLookup, Tick
from exchange_server.marketdata.feeds.metrics import FeedMetrics
from exchange_server.marketdata.feeds.validation import NS_PER_SECOND

log = logging.getLogger(__name__)

Execute = Callable[[Command], Awaitable[Ack]]
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class MirrorSettings:
    interval_seconds: float = 1.0  # at most one reference update per symbol per interval
    min_change_ticks: int = 1  # smaller moves are not worth a journal entry...
    min_change_ppm: int = 500  # ...and neither are moves under 0.05%
    stale_after_seconds: float = 30.0  # older external prices are not served as current


class LatestPrices:
    """The latest external mid per symbol and when it arrived (by the exchange's clock, so
    a feed with a skewed clock cannot make an old price look fresh)."""

    def __init__(self, clock: Clock, stale_after_seconds: float) -> None:
        self._clock = clock
        self._stale_after_ns = int(stale_after_seconds * NS_PER_SECOND)
        self._prices: dict[str, tuple[int, int]] = {}  # symbol -> (mid, received_ns)

    def update(self, tick: Tick) -> None:
        mid = tick.mid
        if mid is not None:
            self._prices[tick.symbol] = (mid, self._clock.now_ns())

    def latest(self, symbol: str) -> int | None:
        entry = self._prices.get(symbol)
        if entry is None:
            return None
        mid, received_ns = entry
        if self._clock.now_ns() - received_ns > self._stale_after_ns:
            return None
        return mid


def reference_for(mid: int, tick_size: int) -> int:
    """``mid`` rounded half up to the tick grid (the engine refuses an off-tick reference),
    never below one tick."""
    return max(tick_size, (mid + tick_size // 2) // tick_size * tick_size)


class MirrorMode:
    def __init__(
        self,
        execute: Execute,
        instruments: InstrumentLookup,
        metrics: FeedMetrics,
        feed_name: str,
        settings: MirrorSettings | None = None,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._execute = execute
        self._instruments = instruments
        self._metrics = metrics
        self._feed_name = feed_name
        self.settings = settings or MirrorSettings()
        self.prices = LatestPrices(clock or SystemClock(), self.settings.stale_after_seconds)
        self._sleep = sleep
        self._pending: set[str] = set()  # symbols with prices since the last flush
        self._submitted: dict[str, int] = {}  # symbol -> last reference price we set

    async def on_tick(self, tick: Tick) -> None:
        """The feed's sink: remember the price; the engine hears of it at the next flush, so
        the feed never waits on a journal commit."""
        self.prices.update(tick)
        self._pending.add(tick.symbol)

    async def run(self) -> None:
        while True:
            await self._sleep(self.settings.interval_seconds)
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("mirror: reference price update failed")

    async def flush(self) -> int:
        """Submit a reference price for every symbol whose external price moved
        meaningfully since the last one; the number submitted and accepted."""
        pending, self._pending = self._pending, set()
        commands: list[SetReferencePrice] = []
        for symbol in sorted(pending):
            command = self._reference_update(symbol)
            if command is not None:
                commands.append(command)
        if not commands:
            return 0
        # Concurrently, so they share a group commit instead of one fsync each.
        results = await asyncio.gather(
            *(self._execute(command) for command in commands), return_exceptions=True
        )
        accepted = 0
        for command, result in zip(commands, results, strict=True):
            if isinstance(result, BaseException):
                log.warning("mirror: %s %d failed: %r", command.symbol, command.price, result)
                continue
            refused = [e for e in result.events if isinstance(e, CommandRejected)]
            if refused:
                log.warning("mirror: %s %d refused: %s", command.symbol, command.price, refused)
                continue
            self._submitted[command.symbol] = command.price
            self._metrics.reference_updates.labels(self._feed_name).inc()
            accepted += 1
        return accepted

    def _reference_update(self, symbol: str) -> SetReferencePrice | None:
        instrument = self._instruments(symbol)
        mid = self.prices.latest(symbol)
        if instrument is None or mid is None:
            return None
        target = reference_for(mid, instrument.tick_size)
        current = self._submitted.get(symbol, instrument.reference_price)
        change = abs(target - current)
        threshold = max(
            self.settings.min_change_ticks * instrument.tick_size,
            current * self.settings.min_change_ppm // PPM,
        )
        if current and (change == 0 or change < threshold):
            return None
        return SetReferencePrice(symbol, target)
