"""An external feed wired into a running exchange: the feed client, mirror mode and their
background tasks, built from the operator's settings and started and stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry

from exchange_server.backoff import Backoff
from exchange_server.engine.clock import Clock
from exchange_server.marketdata.feeds.adapter import ExternalPrices, FeedHealth, InstrumentLookup
from exchange_server.marketdata.feeds.mapping import FieldMapping
from exchange_server.marketdata.feeds.metrics import FeedMetrics
from exchange_server.marketdata.feeds.mirror import Execute, MirrorMode, MirrorSettings
from exchange_server.marketdata.feeds.validation import TickLimits
from exchange_server.marketdata.feeds.websocket_json import WebSocketFeedConfig, WebSocketJsonFeed


class FeedMode(enum.StrEnum):
    OFF = "off"
    MIRROR = "mirror"  # external prices drive reference prices and the simulator


@dataclass(frozen=True, slots=True)
class FeedSettings:
    """What an operator configures (``feed_*`` server settings)."""

    mode: FeedMode = FeedMode.OFF
    url: str = ""
    name: str = "external"
    mapping: Mapping[str, Any] = field(default_factory=dict)  # see ``FieldMapping``
    subscribe: Any = None  # a JSON message, or a list of them, sent after connecting
    resync: Any = None  # a JSON message sent after a sequence gap (a snapshot request)
    heartbeat_seconds: float = 15.0
    max_age_seconds: float = 10.0
    max_jump_ppm: int = 0
    check_band: bool = True
    reference_interval_seconds: float = 1.0
    backoff_cap_seconds: float = 30.0

    def feed_config(self) -> WebSocketFeedConfig:
        """The client's configuration; ``ValueError`` for a setting that cannot work."""
        if not self.url.startswith(("ws://", "wss://")):
            raise ValueError(f"feed_url must be a ws:// or wss:// URL, not {self.url!r}")
        # An empty table (a setting's default) means no message, as None does.
        subscribe = self.subscribe
        messages = (
            ()
            if not subscribe
            else tuple(subscribe if isinstance(subscribe, list) else [subscribe])
        )
        return WebSocketFeedConfig(
            url=self.url,
            name=self.name,
            mapping=FieldMapping.from_table(self.mapping),
            subscribe=messages,
            resync=self.resync or None,
            heartbeat_timeout_seconds=self.heartbeat_seconds,
            backoff=Backoff(initial=0.5, cap=max(self.backoff_cap_seconds, 0.5)),
            limits=TickLimits(
                max_age_seconds=self.max_age_seconds,
                max_jump_ppm=self.max_jump_ppm,
                check_band=self.check_band,
            ),
        )


class MarketFeed:
    """The feed and mirror mode of one server. ``prices`` is what the market simulator
    anchors to."""

    def __init__(
        self,
        settings: FeedSettings,
        instruments: InstrumentLookup,
        execute: Execute,
        registry: CollectorRegistry,
        clock: Clock | None = None,
    ) -> None:
        metrics = FeedMetrics(registry)
        self.feed = WebSocketJsonFeed(settings.feed_config(), instruments, metrics, clock)
        self.mirror = MirrorMode(
            execute,
            instruments,
            metrics,
            settings.name,
            MirrorSettings(interval_seconds=settings.reference_interval_seconds),
            clock,
        )
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def prices(self) -> ExternalPrices:
        return self.mirror.prices

    @property
    def health(self) -> FeedHealth:
        return self.feed.health

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self.feed.run(self.mirror.on_tick), name="feed"),
            asyncio.create_task(self.mirror.run(), name="feed-mirror"),
        ]

    async def stop(self) -> None:
        await self.feed.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
