"""Composition: the database, recovery, the sequencer and the projections, started and
stopped together. Everything that serves the exchange (the API, the demo market) builds on
an ``ExchangeService``."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from exchange_server.domain import native_build
from exchange_server.domain.commands import Command
from exchange_server.engine.clock import Clock
from exchange_server.engine.journal import Durability
from exchange_server.engine.projections import ProjectionProcess
from exchange_server.engine.recovery import recover
from exchange_server.engine.sequencer import Ack, Sequencer
from exchange_server.storage.database import (
    create_database_engine,
    migrate,
    normalise_database_url,
)

log = logging.getLogger(__name__)

JOURNAL_FRIENDLY_SWITCH_INTERVAL = 0.0002  # seconds


def sibling_database_url(url: str, role: str) -> str:
    """The database for ``role`` next to the journal's: the same PostgreSQL database, or for
    SQLite a sibling file (``exchange.db`` -> ``exchange-<role>.db``), because SQLite has one
    write lock per file and the journal's commits must never wait behind other writers."""
    parsed = normalise_database_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return url
    path = Path(parsed.database)
    sibling = path.with_name(f"{path.stem}-{role}{path.suffix or '.db'}")
    return parsed.set(database=str(sibling)).render_as_string(hide_password=False)


def read_database_url_for(url: str) -> str:
    """The read models' database for a journal database URL (see ``EngineSettings``)."""
    return sibling_database_url(url, "read")


@dataclass(slots=True)
class EngineSettings:
    database_url: str
    # Where the read models live; by default the same PostgreSQL database, or for SQLite a
    # sibling file (``exchange.db`` -> ``exchange-read.db``) so projections never hold the
    # journal's write lock.
    read_database_url: str | None = None
    durability: Durability = Durability.FSYNC
    snapshot_every: int = 200_000
    snapshot_interval_seconds: float = 300.0
    projections: bool = True
    # Whether ``start`` waits until the projection process runs (tests and tools that read
    # the read models at once); the API server does not, its reads wait for the checkpoint.
    wait_for_projections: bool = True


class ExchangeService:
    def __init__(self, settings: EngineSettings, clock: Clock | None = None) -> None:
        self.settings = settings
        self._clock = clock
        self.engine: Engine | None = None
        self.read_engine: Engine | None = None
        self._sequencer: Sequencer | None = None
        self.projections: ProjectionProcess | None = None
        self._collector: asyncio.Task[None] | None = None
        self._projections_starting: asyncio.Task[None] | None = None

    @property
    def sequencer(self) -> Sequencer:
        if self._sequencer is None:
            raise RuntimeError("the exchange service is not started")
        return self._sequencer

    async def start(self) -> None:
        settings = self.settings
        if native_build.stale_modules():
            log.warning("compiled engine modules are older than their sources: run `make native`")
        elif not native_build.is_compiled():
            log.info("the engine runs as plain Python (not compiled with mypyc): slower")
        engine = self.engine = create_database_engine(settings.database_url)
        await asyncio.to_thread(migrate, engine)
        recovered = await asyncio.to_thread(recover, engine)
        log.info(
            "recovered to seq %d (snapshot %d + %d replayed)",
            recovered.last_seq,
            recovered.snapshot_seq,
            recovered.replayed,
        )
        _tune_garbage_collector()
        # The journal thread needs the GIL back after every fsync and statement; while the
        # event loop is busy it waits a whole switch interval (5 ms by default) each time,
        # which made a busy server's commits take 10 ms and more. 0.2 ms keeps them near
        # the disk's own latency at a small cost to the loop.
        sys.setswitchinterval(JOURNAL_FRIENDLY_SWITCH_INTERVAL)
        sequencer = self._sequencer = Sequencer(
            recovered.exchange,
            engine,
            last_seq=recovered.last_seq,
            last_ts_ns=recovered.last_ts_ns,
            clock=self._clock,
            durability=settings.durability,
            snapshot_every=settings.snapshot_every,
            snapshot_interval_seconds=settings.snapshot_interval_seconds,
        )
        await sequencer.start()
        self._collector = asyncio.create_task(collect_young_garbage(), name="gc-young")
        if settings.projections:
            try:
                await self._start_projections()
            except BaseException:
                await self.stop()
                raise

    async def _start_projections(self) -> None:
        settings = self.settings
        read_url = settings.read_database_url or read_database_url_for(settings.database_url)
        if read_url != settings.database_url:
            self.read_engine = create_database_engine(read_url)
            await asyncio.to_thread(migrate, self.read_engine)
        else:
            self.read_engine = self.engine
        self.projections = ProjectionProcess(read_url, settings.database_url)
        if settings.wait_for_projections:
            await asyncio.to_thread(self.projections.start)
        else:
            # Started behind the server's back: readers wait for the checkpoint anyway, and
            # starting the fork server takes a second the user would otherwise wait for.
            self._projections_starting = asyncio.create_task(
                asyncio.to_thread(self.projections.start, wait=False)
            )

    async def stop(self) -> None:
        """Finish queued commands, commit them, stop the projections, close the database."""
        if self._collector is not None:
            self._collector.cancel()
            self._collector = None
        if self._sequencer is not None:
            await self._sequencer.stop()
            self._sequencer = None
        if self._projections_starting is not None:
            with contextlib.suppress(Exception):
                await self._projections_starting
            self._projections_starting = None
        if self.projections is not None:
            await asyncio.to_thread(self.projections.stop)
            self.projections = None
        for engine in {self.engine, self.read_engine}:
            if engine is not None:
                engine.dispose()
        self.engine = self.read_engine = None

    async def execute(self, command: Command) -> Ack:
        return await self.sequencer.submit(command)

    async def wait_for_projections(self, seq: int | None = None, timeout: float = 30.0) -> bool:
        if self.projections is None:
            return True
        target = self.sequencer.seq if seq is None else seq
        return await asyncio.to_thread(self.projections.wait_for, target, timeout)


def _tune_garbage_collector() -> None:
    """Take the cycle collector off the acknowledgement path.

    The engine's state (resting orders, books, balances) is large, long-lived and free of
    reference cycles; an automatic full collection walks all of it and stalls the event loop
    for hundreds of milliseconds. So automatic collection is off, what recovery built is
    frozen, and ``collect_young_garbage`` collects only recent objects, where cycles (mostly
    exceptions with their tracebacks) die. Acyclic garbage is freed by reference counting
    as always."""
    gc.collect()
    gc.freeze()
    gc.disable()


async def collect_young_garbage(interval: float = 1.0) -> None:
    """Collect cycles among objects created since the last pass (generations 0 and 1); the
    survivors join the old generation, which is never walked."""
    while True:
        await asyncio.sleep(interval)
        gc.collect(1)
