"""The reference feed client: JSON messages over a WebSocket.

It connects, sends the configured subscription, and reads until told to stop. A silent feed
(no message, not even a heartbeat, for ``heartbeat_timeout_seconds``) is treated as dead and
reconnected; every failure is retried after an exponential, capped, jittered delay. Each
message passes sequence-number tracking, field mapping and validation; refusals are counted
by reason, never raised, because one bad tick must not cost the whole feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect

from exchange_server.backoff import Backoff
from exchange_server.engine.clock import Clock, SystemClock
from exchange_server.marketdata.feeds.adapter import (
    FeedHealth,
    FeedState,
    InstrumentLookup,
    Tick,
    TickSink,
)
from exchange_server.marketdata.feeds.mapping import FieldMapping
from exchange_server.marketdata.feeds.metrics import FeedMetrics
from exchange_server.marketdata.feeds.validation import (
    BadTick,
    Gap,
    Reason,
    SequenceTracker,
    TickLimits,
    validate,
)

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class WebSocketFeedConfig:
    url: str
    name: str = "external"
    mapping: FieldMapping = field(default_factory=FieldMapping)
    subscribe: tuple[Any, ...] = ()  # JSON messages sent after each connect
    resync: Any = None  # JSON message sent after a sequence gap (a snapshot request)
    heartbeat_timeout_seconds: float = 15.0
    open_timeout_seconds: float = 10.0
    backoff: Backoff = field(default_factory=Backoff)
    limits: TickLimits = field(default_factory=TickLimits)
    max_message_bytes: int = 1 << 20


class _Silent(Exception):
    """The feed sent nothing within the heartbeat timeout."""


class WebSocketJsonFeed:
    def __init__(
        self,
        config: WebSocketFeedConfig,
        instruments: InstrumentLookup,
        metrics: FeedMetrics,
        clock: Clock | None = None,
        sleep: Sleep = asyncio.sleep,
        uniform: Callable[[], float] = random.random,
    ) -> None:
        self.config = config
        self.name = config.name
        self._instruments = instruments
        self._metrics = metrics
        self._clock = clock or SystemClock()
        self._sleep = sleep  # injected: tests check the backoff schedule without waiting
        self._uniform = uniform
        self._health = FeedHealth()
        self._sequence = SequenceTracker()
        self._last: dict[str, Tick] = {}  # last accepted tick per symbol
        self._socket: ClientConnection | None = None
        self._stopped = asyncio.Event()
        self._received = False  # anything received on the current connection

    @property
    def health(self) -> FeedHealth:
        return self._health

    # -- lifecycle ----------------------------------------------------------------------
    async def run(self, sink: TickSink) -> None:
        """Once per instance: after ``stop`` (even one that came first) it returns at once."""
        attempt = 0
        labels = self._metrics
        name = self.name
        try:
            while not self._stopped.is_set():
                if self._health.connects or attempt:
                    labels.reconnects.labels(name).inc()
                self._set_state(FeedState.CONNECTING if attempt == 0 else FeedState.RECONNECTING)
                self._received = False
                try:
                    await self._connect_and_read(sink)
                except asyncio.CancelledError:
                    raise
                except _Silent:
                    labels.heartbeat_timeouts.labels(name).inc()
                    self._failed(f"no message for {self.config.heartbeat_timeout_seconds}s")
                except (OSError, TimeoutError, websockets.WebSocketException) as error:
                    self._failed(repr(error))
                except Exception as error:
                    log.exception("feed %s failed unexpectedly", name)
                    self._failed(repr(error))
                finally:
                    labels.connected.labels(name).set(0)
                if self._stopped.is_set():
                    break
                if self._received:
                    attempt = 0  # the connection worked: a new outage starts short again
                self._set_state(FeedState.RECONNECTING)
                await self._pause(self.config.backoff.delay(attempt, self._uniform))
                attempt += 1
        finally:
            self._set_state(FeedState.STOPPED)

    async def stop(self) -> None:
        """End ``run``: wake it from a backoff pause or close the live connection."""
        self._stopped.set()
        socket = self._socket
        if socket is not None:
            await socket.close()

    def _set_state(self, state: FeedState) -> None:
        self._health.state = state

    def _failed(self, problem: str) -> None:
        if self._stopped.is_set():
            return  # our own stop closed the connection: not a problem to report
        self._health.last_error = problem
        log.warning("feed %s: %s; reconnecting", self.name, problem)

    async def _pause(self, delay: float) -> None:
        sleeper = asyncio.ensure_future(self._sleep(delay))
        stopper = asyncio.ensure_future(self._stopped.wait())
        try:
            await asyncio.wait((sleeper, stopper), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, stopper):
                task.cancel()
            for task in (sleeper, stopper):
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # -- one connection -----------------------------------------------------------------
    async def _connect_and_read(self, sink: TickSink) -> None:
        config = self.config
        async with connect(
            config.url,
            open_timeout=config.open_timeout_seconds,
            ping_interval=None,  # liveness is the feed's own traffic, checked below
            close_timeout=2,
            max_size=config.max_message_bytes,
        ) as socket:
            self._socket = socket
            try:
                if self._stopped.is_set():
                    return
                self._health.connects += 1
                self._set_state(FeedState.LIVE)
                self._metrics.connected.labels(self.name).set(1)
                # Sequence numbers are per connection: a new session starts afresh.
                self._sequence.reset()
                for message in config.subscribe:
                    await socket.send(json.dumps(message))
                await self._read(socket, sink)
            finally:
                self._socket = None

    async def _read(self, socket: ClientConnection, sink: TickSink) -> None:
        timeout = self.config.heartbeat_timeout_seconds
        while True:
            try:
                async with asyncio.timeout(timeout):
                    raw = await socket.recv()
            except TimeoutError:
                raise _Silent from None
            self._received = True
            ticks, gaps = self.process_frame(raw)
            if gaps and self.config.resync is not None:
                await socket.send(json.dumps(self.config.resync))
            for tick in ticks:
                try:
                    await sink(tick)
                except Exception:
                    # The sink's trouble is not the feed's: keep reading.
                    log.exception("feed %s: the tick sink failed on %s", self.name, tick)

    # -- messages -----------------------------------------------------------------------
    def process_frame(self, raw: str | bytes) -> tuple[list[Tick], list[Gap]]:
        """The accepted ticks and the sequence gaps in one frame (an object, or an array of
        objects). Public so a replay tool can feed recorded frames through the same rules."""
        now = self._clock.now_ns()
        try:
            # Decimals, never floats: 0.1 must stay exactly 0.1; NaN and Infinity become
            # Decimal values that validation refuses by name.
            frame = json.loads(raw, parse_float=Decimal, parse_constant=Decimal)
        except ValueError:
            self._metrics.messages.labels(self.name).inc()
            self._reject(BadTick(Reason.MALFORMED, f"not JSON: {raw!r:.60}"))
            return [], []
        messages = frame if isinstance(frame, list) else [frame]
        ticks: list[Tick] = []
        gaps: list[Gap] = []
        for message in messages:
            self._metrics.messages.labels(self.name).inc()
            self._health.last_message_ns = now
            try:
                tick = self._process(message, now, gaps)
            except BadTick as bad:
                self._reject(bad)
                continue
            if tick is not None:
                self._last[tick.symbol] = tick
                self._health.last_tick_ns = now
                self._metrics.ticks_accepted.labels(self.name).inc()
                ticks.append(tick)
        return ticks, gaps

    def _process(self, message: Any, now: int, gaps: list[Gap]) -> Tick | None:
        if not isinstance(message, dict):
            raise BadTick(Reason.MALFORMED, f"not an object: {message!r:.60}")
        mapping = self.config.mapping
        seq = mapping.sequence(message)
        if seq is not None:
            gap = self._sequence.observe(seq)
            if gap is not None:
                self._on_gap(gap)
                gaps.append(gap)
        if not mapping.is_tick(message):
            return None  # a heartbeat or status message: it only proves the feed is alive
        raw = mapping.extract(message, seq)
        return validate(
            raw,
            self._instruments(raw.symbol),
            self._last.get(raw.symbol),
            now,
            self.config.limits,
        )

    def _on_gap(self, gap: Gap) -> None:
        self._metrics.sequence_gaps.labels(self.name).inc()
        self._metrics.messages_missed.labels(self.name).inc(gap.missing)
        log.warning(
            "feed %s: sequence gap, expected %d got %d (%d missed)%s",
            self.name,
            gap.expected,
            gap.received,
            gap.missing,
            "; requesting a resync" if self.config.resync is not None else "",
        )

    def _reject(self, bad: BadTick) -> None:
        self._metrics.ticks_rejected.labels(self.name, bad.reason.value).inc()
        log.debug("feed %s refused a message: %s", self.name, bad)
