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
from exchange_server.marketdata.market_state import MarketState
from exchange_server.marketdata.random_flow import run_random_flow, set_up_demo_market
from exchange_server.server import EngineSettings, ExchangeService, sibling_database_url
from exchange_server.storage.database import create_database_engine, migrate

log = logging.getLogger(__name__)

PAPER_CURRENCY = "INR"


class ServerContext:
    def __init__(self, settings: ServerSettings, clock: Clock | None = None) -> None:
        self.settings = settings
        self.service = ExchangeService(
            EngineSettings(settings.database_url, durability=settings.durability), clock=clock
        )
        self.metrics = Metrics()
        self.user_buckets = TokenBuckets(settings.user_rate)
        self.backoffice_engine: Engine | None = None
        self._market: MarketState | None = None
        self._auth: AuthService | None = None
        self._hub: StreamHub | None = None
        self._background: list[asyncio.Task[None]] = []
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
            if settings.demo_market or settings.embedded_secret:
                # The embedded exchange is always the demo market (its paper cash is in the
                # market's currency); the bots trade in it when ``demo_market`` is on.
                await set_up_demo_market(self.service)
            if settings.embedded_secret:
                await self._auth.provision_paper_user()
            if settings.demo_market:
                self._background.append(
                    asyncio.create_task(
                        run_random_flow(self.service, 7, settings.demo_rate), name="demo-market"
                    )
                )
        except BaseException:
            await self.stop()
            raise
        self.ready = True

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
        for task in self._background:
            task.cancel()
        for task in self._background:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._background = []
        await self.service.stop()
        if self.backoffice_engine is not None:
            self.backoffice_engine.dispose()
            self.backoffice_engine = None

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
