"""The running server's parts, built and started together and reached by every route as
``request.app.state.context``: the exchange service (sequencer, journal, projections), the
committed market state, the back office (users and credentials), the stream hub and the
metrics."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from sqlalchemy import Engine

from exchange_server.api.errors import ApiError
from exchange_server.api.metrics import Metrics
from exchange_server.api.ratelimit import TokenBuckets
from exchange_server.api.settings import ServerSettings
from exchange_server.api.stream import StreamHub
from exchange_server.backoffice.auth import AuthService
from exchange_server.domain.commands import Command, Deposit, OpenAccount
from exchange_server.domain.events import CommandRejected
from exchange_server.domain.instruments import cash_from_decimal
from exchange_server.engine.clock import Clock
from exchange_server.engine.sequencer import (
    Ack,
    Committed,
    InvalidCommand,
    SequencerFailure,
    SequencerStopped,
)
from exchange_server.marketdata.feeds import FeedMode, FeedSettings, MarketFeed
from exchange_server.marketdata.history import (
    CandleRecorder,
    HistoryStore,
    history_database_url,
    restore_candles,
    seed_history,
)
from exchange_server.marketdata.market_state import MarketState
from exchange_server.marketdata.replay import load_replays
from exchange_server.marketdata.simulator import (
    SimulatedClock,
    Simulator,
    SimulatorConfig,
    set_up_demo_market,
)
from exchange_server.marketdata.universe import demo_universe
from exchange_server.server import EngineSettings, ExchangeService, sibling_database_url
from exchange_server.storage.database import create_database_engine, migrate

log = logging.getLogger(__name__)

PAPER_CURRENCY = "INR"


class ServerContext:
    def __init__(self, settings: ServerSettings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.service = ExchangeService(
            EngineSettings(
                settings.database_url, durability=settings.durability, wait_for_projections=False
            ),
            clock=clock,
        )
        self.metrics = Metrics()
        self.user_buckets = TokenBuckets(settings.user_rate)
        self.backoffice_engine: Engine | None = None
        self._market: MarketState | None = None
        self._auth: AuthService | None = None
        self._hub: StreamHub | None = None
        self._background: list[asyncio.Task[None]] = []
        self.history: HistoryStore | None = None  # stored candles (the candles route reads it)
        self.history_engine: Engine | None = None
        self._seeding: asyncio.Task[int] | None = None
        self.simulator: Simulator | None = None
        self.feed: MarketFeed | None = None
        self.ready = False
        self.draining = False
        self.committed_seq = 0  # the last journal sequence committed and published

    # -- parts (available once started) -----------------------------------------------
    @property
    def market(self) -> MarketState:
        if self._market is None:
            raise ApiError(503, "starting", "the exchange is starting")
        return self._market

    @property
    def auth(self) -> AuthService:
        if self._auth is None:
            raise ApiError(503, "starting", "the exchange is starting")
        return self._auth

    @property
    def hub(self) -> StreamHub:
        if self._hub is None:
            raise ApiError(503, "starting", "the exchange is starting")
        return self._hub

    # -- lifecycle ----------------------------------------------------------------------
    async def start(self) -> None:
        settings = self.settings
        Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
        await self.service.start()
        try:
            sequencer = self.service.sequencer
            self._market = MarketState(sequencer.exchange)
            self.committed_seq = sequencer.seq
            self._hub = StreamHub(self._market, settings, self.metrics)
            sequencer.add_listener(self._on_commit)
            backoffice_url = sibling_database_url(settings.database_url, "backoffice")
            engine = self.backoffice_engine = create_database_engine(backoffice_url)
            await asyncio.to_thread(migrate, engine)
            self._auth = AuthService(engine, settings, self.open_account)
            await self._hub.start()
            await self._start_history()
            await self._start_market()
            if settings.embedded_secret:
                await self._auth.provision_paper_user()
        except BaseException:
            await self.stop()
            raise
        self.ready = True

    async def _start_history(self) -> None:
        """Candles: the shipped daily history, imported bars and live candles saved as they
        form, in their own database (a sibling SQLite file, so candle writes never hold the
        journal's lock)."""
        engine = self.history_engine = create_database_engine(
            history_database_url(self.settings.database_url)
        )
        await asyncio.to_thread(migrate, engine)
        store = self.history = HistoryStore(engine)
        if self.settings.seed_history:
            # In the background: a second at most, and the charts' first request comes later.
            # Awaited, not cancelled, at stop (a thread cannot be cancelled).
            self._seeding = asyncio.create_task(
                asyncio.to_thread(seed_history, store), name="seed-history"
            )
        restore_candles(self.market.candles, store, time.time_ns())
        recorder = CandleRecorder(self.market.candles, store)
        self._background.append(asyncio.create_task(recorder.run(), name="candle-recorder"))

    async def history_seeded(self) -> None:
        """Wait until the shipped history is in the store (at most the first second or two
        after start); a failed seeding was logged and serves what the store has."""
        seeding = self._seeding
        if seeding is not None and not seeding.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(seeding)

    async def _start_market(self) -> None:
        """The demo universe, the simulated market and the external feed, as configured."""
        settings = self.settings
        listings = demo_universe()
        if settings.demo_market or settings.embedded_secret:
            # The embedded exchange is always the demo market (its paper cash is in the
            # market's currency); the bots trade in it when ``demo_market`` is on.
            await set_up_demo_market(self.service, listings)
        if settings.feed_mode == FeedMode.MIRROR:
            self.feed = MarketFeed(
                FeedSettings(
                    mode=FeedMode.MIRROR,
                    url=settings.feed_url,
                    name=settings.feed_name,
                    mapping=settings.feed_mapping,
                    subscribe=settings.feed_subscribe,
                    resync=settings.feed_resync,
                    heartbeat_seconds=settings.feed_heartbeat_seconds,
                    max_age_seconds=settings.feed_max_age_seconds,
                    max_jump_ppm=settings.feed_max_jump_ppm,
                    check_band=settings.feed_check_band,
                    reference_interval_seconds=settings.feed_reference_interval_seconds,
                ),
                instruments=lambda symbol: self.market.instruments.get(symbol),
                execute=self.service.execute,
                registry=self.metrics.registry,
            )
            self.feed.start()
        if settings.demo_market:
            replays = load_replays(settings.replay) if settings.replay else []
            # The engine keeps real time (its journal never runs backwards); a faster or
            # replayed clock drives only the simulated fair values.
            clock = (
                SimulatedClock(settings.speed, replays[0].start_ns if replays else None)
                if replays or settings.speed != 1
                else None
            )
            self.simulator = Simulator(
                self.service,
                listings,
                SimulatorConfig(
                    seed=settings.seed,
                    trades_per_second=settings.demo_trades_per_second,
                    speed=settings.speed,
                    always_open=settings.always_open,
                ),
                clock=clock,
                replays=replays,
                external=self.feed.prices if self.feed is not None else None,
            )
            self._background.append(asyncio.create_task(self.simulator.run(), name="demo-market"))

    async def begin_drain(self, reason: str) -> None:
        """Refuse new commands at once and close every stream with ``reason``; commands in
        flight still finish and commit (in ``stop``)."""
        self.ready = False
        self.draining = True
        if self._hub is not None:
            await self._hub.stop(reason)

    async def stop(self) -> None:
        """Drain: refuse new work, stop background flows, close streams, then finish and
        commit what is in flight."""
        await self.begin_drain("server shutting down")
        if self.feed is not None:
            await self.feed.stop()
            self.feed = None
        if self.simulator is not None:
            await self.simulator.stop()
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._background = []
        if self._seeding is not None:
            with contextlib.suppress(Exception):
                await self._seeding
            self._seeding = None
        await self.service.stop()
        for engine in (self.backoffice_engine, self.history_engine):
            if engine is not None:
                engine.dispose()
        self.backoffice_engine = self.history_engine = None

    def _on_commit(self, batch: list[Committed]) -> None:
        self.committed_seq = batch[-1].seq
        changes = self.market.apply(batch)
        self.metrics.observe_commit(batch)
        self.metrics.journal_commit.observe(self.service.sequencer.stats.last_commit_seconds)
        if self._hub is not None:
            self._hub.publish(batch, changes)

    # -- commands -----------------------------------------------------------------------
    async def submit(self, command: Command) -> Ack:
        """Run ``command`` through the sequencer; engine trouble becomes a 503 for the caller."""
        if self.draining:
            raise ApiError(503, "shutting_down", "the exchange is shutting down")
        started = time.perf_counter()
        try:
            ack = await self.service.execute(command)
        except InvalidCommand as problem:
            raise ApiError(422, "invalid_command", str(problem)) from None
        except SequencerStopped:
            raise ApiError(503, "unavailable", "the exchange is not accepting orders") from None
        except SequencerFailure:
            raise ApiError(503, "unavailable", "the exchange failed; it will recover") from None
        self.metrics.command_latency.observe(time.perf_counter() - started)
        return ack

    async def open_account(self, account_id: int, paper_cash: bool) -> None:
        """Open ``account_id`` in the engine; a paper account also gets the virtual cash."""
        ack = await self.submit(OpenAccount(account_id))
        rejected = [e for e in ack.events if isinstance(e, CommandRejected)]
        if rejected and rejected[0].reason != "account_exists":
            raise ApiError(503, "account_not_opened", rejected[0].message)
        if paper_cash and not rejected:
            amount = cash_from_decimal(self.settings.paper_cash)
            ack = await self.submit(Deposit(account_id, PAPER_CURRENCY, amount, "paper cash"))
            for event in ack.events:
                if isinstance(event, CommandRejected):
                    raise ApiError(503, "paper_cash_not_deposited", event.message)
