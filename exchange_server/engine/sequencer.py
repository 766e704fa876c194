"""The sequencer: the single writer of exchange state.

Submitters hand commands in from any coroutine; one loop takes whatever has queued up,
stamps each command with the next sequence number and the time, applies it to the
exchange, and passes the batch to the journal writer thread as one transaction (group
commit). A command is acknowledged, and its events published, only after its batch is
durable. While one batch is being committed the loop already applies the next one; commits
and acknowledgements stay in sequence order.

If the journal cannot be written the in-memory state is ahead of what is durable, so the
sequencer fails every unacknowledged command and refuses new ones: the process must restart
and recover from the journal.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import Engine

from exchange_server.domain import snapshot
from exchange_server.domain.commands import Command
from exchange_server.domain.events import Event
from exchange_server.domain.exchange import Exchange
from exchange_server.engine.clock import Clock, SystemClock
from exchange_server.engine.codec import encode_command, encode_events
from exchange_server.engine.journal import Durability, JournalRow, JournalWriter

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Ack:
    """A durable command: its place in the sequence and what it did."""

    seq: int
    ts_ns: int
    events: list[Event]


@dataclass(frozen=True, slots=True)
class Committed:
    """One command as the sequencer publishes it after its commit."""

    seq: int
    ts_ns: int
    command: Command
    events: list[Event]


CommitListener = Callable[[list[Committed]], None]


class SequencerStopped(RuntimeError):
    """The sequencer is not accepting commands (stopping, stopped or failed)."""


class JournalFailure(RuntimeError):
    """The journal write failed; the command may or may not have been applied in memory,
    and certainly was not acknowledged."""


@dataclass(slots=True)
class SequencerStats:
    commands: int = 0
    batches: int = 0
    snapshots: int = 0
    largest_batch: int = 0
    last_commit_seconds: float = 0.0


class Sequencer:
    def __init__(
        self,
        exchange: Exchange,
        engine: Engine,
        *,
        last_seq: int = 0,
        last_ts_ns: int = 0,
        clock: Clock | None = None,
        durability: Durability = Durability.FSYNC,
        max_batch: int = 4096,
        max_in_flight: int = 3,
        snapshot_every: int = 200_000,
        snapshot_interval_seconds: float = 300.0,
    ) -> None:
        self.exchange = exchange
        self.seq = last_seq
        self._last_ts = last_ts_ns
        self._clock = clock or SystemClock()
        self._writer = JournalWriter(engine, durability)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._max_batch = max_batch
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._snapshot_every = snapshot_every
        self._snapshot_interval = snapshot_interval_seconds
        self._last_snapshot_seq = last_seq
        self._last_snapshot_time = time.monotonic()
        self._incoming: deque[tuple[Command, asyncio.Future[Ack]]] = deque()
        self._wakeup = asyncio.Event()
        self._commits: asyncio.Queue[
            tuple[asyncio.Future[None], list[Committed], list[asyncio.Future[Ack]]] | None
        ] = asyncio.Queue()
        self._listeners: list[CommitListener] = []
        self._accepting = False
        self._failure: BaseException | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.stats = SequencerStats()

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._writer.open)
        self._accepting = True
        self._tasks = [
            asyncio.create_task(self._sequence(), name="sequencer"),
            asyncio.create_task(self._acknowledge(), name="sequencer-acks"),
        ]

    async def stop(self) -> None:
        """Stop accepting, finish every queued command, commit, and close the journal."""
        if not self._tasks:
            return
        self._accepting = False
        self._wakeup.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._writer.close)
        self._thread.shutdown(wait=True)

    def add_listener(self, listener: CommitListener) -> None:
        """Called in sequence order with every committed batch (on the event loop)."""
        self._listeners.append(listener)

    @property
    def failure(self) -> BaseException | None:
        return self._failure

    @property
    def queue_depth(self) -> int:
        return len(self._incoming)

    # -- submitting ----------------------------------------------------------------------
    def submit(self, command: Command) -> asyncio.Future[Ack]:
        """Queue ``command``; the future resolves once it is durable."""
        if not self._accepting:
            raise SequencerStopped("the sequencer is not accepting commands") from self._failure
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._incoming.append((command, future))
        self._wakeup.set()
        return future

    async def execute(self, command: Command) -> Ack:
        return await self.submit(command)

    # -- the single writer ---------------------------------------------------------------
    async def _sequence(self) -> None:
        loop = asyncio.get_running_loop()
        incoming = self._incoming
        exchange = self.exchange
        clock = self._clock
        try:
            while True:
                if not incoming:
                    if not self._accepting:
                        break
                    self._wakeup.clear()
                    await self._wakeup.wait()
                    continue
                await self._in_flight.acquire()
                count = min(len(incoming), self._max_batch)
                rows: list[JournalRow] = []
                committed: list[Committed] = []
                futures: list[asyncio.Future[Ack]] = []
                now = clock.now_ns()
                if now < self._last_ts:
                    now = self._last_ts  # journaled time never runs backwards
                self._last_ts = now
                seq = self.seq
                for _ in range(count):
                    command, future = incoming.popleft()
                    seq += 1
                    events = exchange.apply(command, now)
                    rows.append(
                        (seq, now, command.kind, encode_command(command), encode_events(events))
                    )
                    committed.append(Committed(seq, now, command, events))
                    futures.append(future)
                self.seq = seq
                commit = loop.run_in_executor(self._thread, self._writer.append, rows)
                self._commits.put_nowait((commit, committed, futures))
                self.stats.largest_batch = max(self.stats.largest_batch, count)
                if self._snapshot_due():
                    self._take_snapshot(loop)
                await asyncio.sleep(0)  # let acknowledgements and submitters run
        finally:
            self._commits.put_nowait(None)

    async def _acknowledge(self) -> None:
        while True:
            item = await self._commits.get()
            if item is None:
                return
            commit, committed, futures = item
            started = time.perf_counter()
            try:
                await commit
            except BaseException as problem:  # the journal is broken: fail loudly
                self._fail(problem, futures)
                continue
            finally:
                self._in_flight.release()
            self.stats.last_commit_seconds = time.perf_counter() - started
            self.stats.commands += len(committed)
            self.stats.batches += 1
            for future, entry in zip(futures, committed, strict=True):
                if not future.done():
                    future.set_result(Ack(entry.seq, entry.ts_ns, entry.events))
            for listener in self._listeners:
                try:
                    listener(committed)
                except Exception:
                    log.exception("commit listener failed")

    def _fail(self, problem: BaseException, futures: list[asyncio.Future[Ack]]) -> None:
        if self._failure is None:
            log.critical("journal write failed; refusing further commands: %r", problem)
            self._failure = problem
        self._accepting = False
        error = JournalFailure(f"journal write failed: {problem!r}")
        for future in futures:
            if not future.done():
                future.set_exception(error)
        while self._incoming:
            _, future = self._incoming.popleft()
            if not future.done():
                future.set_exception(error)

    # -- snapshots -----------------------------------------------------------------------
    def _snapshot_due(self) -> bool:
        since = self.seq - self._last_snapshot_seq
        if since >= self._snapshot_every:
            return True
        return since > 0 and time.monotonic() - self._last_snapshot_time >= self._snapshot_interval

    def _take_snapshot(self, loop: asyncio.AbstractEventLoop) -> None:
        """Capture the state at the current seq; the writer thread stores it after the
        journal batches before it, so a snapshot never runs ahead of the journal."""
        state = snapshot.encode(snapshot.capture(self.exchange))
        state_hash = snapshot.hash_of(state)
        stored = loop.run_in_executor(
            self._thread, self._writer.write_snapshot, self.seq, self._last_ts, state_hash, state
        )
        stored.add_done_callback(_log_snapshot_failure)
        self._last_snapshot_seq = self.seq
        self._last_snapshot_time = time.monotonic()
        self.stats.snapshots += 1

    async def snapshot_now(self) -> int:
        """Take a snapshot at the current sequence number (e.g. before a shutdown)."""
        loop = asyncio.get_running_loop()
        state = snapshot.encode(snapshot.capture(self.exchange))
        seq, ts = self.seq, self._last_ts
        await loop.run_in_executor(
            self._thread, self._writer.write_snapshot, seq, ts, snapshot.hash_of(state), state
        )
        self._last_snapshot_seq = seq
        self._last_snapshot_time = time.monotonic()
        self.stats.snapshots += 1
        return seq


def _log_snapshot_failure(stored: asyncio.Future[None]) -> None:
    if not stored.cancelled() and stored.exception() is not None:
        log.error("snapshot not stored: %r", stored.exception())
