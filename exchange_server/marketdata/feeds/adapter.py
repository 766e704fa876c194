"""The interface between external market data feeds and the exchange.

A feed adapter turns whatever a third-party feed sends into validated ``Tick``s in the
instrument's exact integer price units and hands them to a sink. Everything downstream
(mirror mode, the market simulator) sees only ticks that passed validation, so a feed's bad
data never reaches the engine.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from exchange_server.domain.instruments import Instrument


@dataclass(frozen=True, slots=True)
class Tick:
    """One validated observation of a symbol. Prices are integers in units of
    ``10**-price_decimals`` of the instrument, volume in its quantity units. A quote-only
    update has no ``last``; a trade-only update has no ``bid``/``ask`` (never just one side)."""

    symbol: str
    ts_ns: int  # the feed's own timestamp, UTC epoch nanoseconds
    bid: int | None
    ask: int | None
    last: int | None
    volume: int | None = None

    @property
    def mid(self) -> int | None:
        """The quote's mid rounded half up to a price unit, else the last trade price."""
        if self.bid is not None and self.ask is not None:
            return (self.bid + self.ask + 1) // 2
        return self.last


TickSink = Callable[[Tick], Awaitable[None]]
InstrumentLookup = Callable[[str], Instrument | None]


class FeedState(enum.StrEnum):
    IDLE = "idle"
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


@dataclass(slots=True)
class FeedHealth:
    """What an operator (and the readiness probe) wants to know about a feed."""

    state: FeedState = FeedState.IDLE
    connects: int = 0  # successful connections, the first included
    last_message_ns: int = 0  # by the exchange's clock; 0: nothing received yet
    last_tick_ns: int = 0  # when the last tick was accepted, by the exchange's clock
    last_error: str = ""


class FeedAdapter(Protocol):
    name: str

    @property
    def health(self) -> FeedHealth: ...

    async def run(self, sink: TickSink) -> None:
        """Deliver ticks to ``sink`` until ``stop``; connection trouble is retried here, never
        raised."""
        ...

    async def stop(self) -> None: ...


class ExternalPrices(Protocol):
    """The latest external price of each symbol, for whatever anchors to it (the market
    simulator's fair value)."""

    def latest(self, symbol: str) -> int | None:
        """The external mid in price units, or None when there is none or it is stale (the
        feed is down or the symbol stopped updating): callers then fall back to their own
        model rather than anchor to an old price."""
        ...
