"""The sequencer: the single writer of exchange state.

Submitters hand commands in from any coroutine. The sequencing task stamps each command with
the next sequence number and the time and applies it to the exchange at once; the commit
task writes everything applied but not yet durable as one transaction on the journal writer
thread (group commit), then acknowledges those commands and publishes their events. So a
group is whatever arrived while the previous commit was on disk: one command when the
exchange is quiet, hundreds under load, and applying the next group overlaps the disk wait
of the current one. Commits and acknowledgements stay in sequence order.

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
from exchange_server.domain.commands import Command, Tick
from exchange_server.domain.events import Event
from exchange_server.domain.exchange import Exchange
from exchange_server.engine.clock import Clock, SystemClock
from exchange_server.engine.codec import encode_command, encode_events
from exchange_server.engine.journal import Durability, JournalRow, JournalWriter, WalCheckpointer

log = logging.getLogger(__name__)

EXPIRY_CHECK_SECONDS = 0.25  # how late a GTD order may expire on an idle exchange


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


class SequencerFailure(RuntimeError):
    """The journal could not be written, or the engine hit a defect: the command may have
    been applied in memory but was not made durable, and was not acknowledged."""


class InvalidCommand(ValueError):
    """A command that cannot be journaled (a value JSON cannot hold); nothing was applied."""


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
        snapshot_every: int = 200_000,
        snapshot_interval_seconds: float = 300.0,
    ) -> None:
        self.exchange = exchange
        self.seq = last_seq
        self._last_ts = last_ts_ns
        self._clock = clock or SystemClock()
        self._writer = JournalWriter(engine, durability)
        self._checkpointer = WalCheckpointer(engine) if engine.dialect.name == "sqlite" else None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="journal")
        self._max_batch = max_batch
        self._snapshot_every = snapshot_every
        self._snapshot_interval = snapshot_interval_seconds
        self._last_snapshot_seq = last_seq
        self._last_snapshot_time = time.monotonic()
        self._pending_snapshot: tuple[int, int, bytes] | None = None
        self._incoming: deque[tuple[Command, bytes, asyncio.Future[Ack]]] = deque()
        self._incoming_ready = asyncio.Event()
        # Applied, not yet durable: journal rows, what to publish, whom to acknowledge.
        self._rows: list[JournalRow] = []
        self._applied: list[Committed] = []
        self._waiting: list[asyncio.Future[Ack]] = []
        self._applied_ready = asyncio.Event()
        self._listeners: list[CommitListener] = []
        self._accepting = False
        self._sequencing_done = False
        self._failure: BaseException | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._expiry_watch: asyncio.Task[None] | None = None
        self.stats = SequencerStats()

    # -- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._writer.open)
        if self._writer.last_written_seq != self.seq:
            await loop.run_in_executor(self._thread, self._writer.close)
            raise RuntimeError(
                f"the exchange state is at seq {self.seq} but the journal ends at "
                f"{self._writer.last_written_seq}: recover before starting"
            )
        if self._checkpointer is not None:
            self._checkpointer.start()
        self._accepting = True
        self._tasks = [
            asyncio.create_task(self._sequence(), name="sequencer"),
            asyncio.create_task(self._commit(), name="sequencer-commit"),
        ]
        self._expiry_watch = asyncio.create_task(self._expire_on_time(), name="gtd-expiry")

    async def stop(self) -> None:
        """Stop accepting, finish every queued command, commit, snapshot the final state and
        close the journal."""
        if not self._tasks:
            return
        self._accepting = False
        if self._expiry_watch is not None:
            self._expiry_watch.cancel()
            self._expiry_watch = None
        self._incoming_ready.set()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        if self._failure is None and self.seq > self._last_snapshot_seq:
            # Everything is committed: a snapshot now makes the next start a quick one.
            self._capture_snapshot()
            final, self._pending_snapshot = self._pending_snapshot, None
            if final is not None:
                await self._store_snapshot(*final)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._thread, self._writer.close)
        self._thread.shutdown(wait=True)
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.stop)

    def add_listener(self, listener: CommitListener) -> None:
        """Called in sequence order with every committed batch (on the event loop)."""
        self._listeners.append(listener)

    @property
    def failure(self) -> BaseException | None:
        return self._failure

    # -- submitting ----------------------------------------------------------------------
    def submit(self, command: Command) -> asyncio.Future[Ack]:
        """Queue ``command``; the future resolves once it is durable."""
        if not self._accepting:
            raise SequencerStopped("the sequencer is not accepting commands") from self._failure
        try:
            encoded = encode_command(command)
        except TypeError as problem:
            raise InvalidCommand(f"cannot journal {command!r}: {problem}") from None
        future: asyncio.Future[Ack] = asyncio.get_running_loop().create_future()
        self._incoming.append((command, encoded, future))
        self._incoming_ready.set()
        return future

    async def execute(self, command: Command) -> Ack:
        return await self.submit(command)

    async def _expire_on_time(self) -> None:
        """GTD orders expire when a command runs at or after their time; on a quiet exchange
        none may come for a long while, so a ``Tick`` goes in once the earliest is due."""
        while True:
            await asyncio.sleep(EXPIRY_CHECK_SECONDS)
            expiries = self.exchange.expiries
            if expiries and expiries[0][0] <= self._clock.now_ns() and not self._incoming:
                try:
                    await self.submit(Tick())
                except (SequencerStopped, SequencerFailure):
                    return

    # -- the single writer ---------------------------------------------------------------
    async def _sequence(self) -> None:
        incoming = self._incoming
        exchange = self.exchange
        try:
            while True:
                if not incoming:
                    if not self._accepting:
                        return
                    self._incoming_ready.clear()
                    await self._incoming_ready.wait()
                    continue
                if self._failure is not None:
                    return
                now = self._clock.now_ns()
                if now < self._last_ts:
                    now = self._last_ts  # journaled time never runs backwards
                self._last_ts = now
                seq = self.seq
                rows, applied, waiting = self._rows, self._applied, self._waiting
                for _ in range(min(len(incoming), self._max_batch)):
                    command, encoded, future = incoming.popleft()
                    try:
                        events = exchange.apply(command, now)
                        row = (seq + 1, now, command.kind, encoded, encode_events(events))
                    except Exception as problem:
                        # A defect, not a refusal: the state may be half-changed. Stop, so
                        # nothing built on it is acknowledged; a restart recovers.
                        log.critical("engine failed on command %r", command, exc_info=True)
                        self._fail(problem, [future])
                        return
                    seq += 1
                    rows.append(row)
                    applied.append(Committed(seq, now, command, events))
                    waiting.append(future)
                self.seq = seq
                self._applied_ready.set()
                if self._pending_snapshot is None and self._snapshot_due():
                    self._capture_snapshot()
                await asyncio.sleep(0)  # let commits, acknowledgements and submitters run
        finally:
            self._sequencing_done = True
            self._applied_ready.set()

    async def _commit(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if not self._rows:
                if self._sequencing_done:
                    return
                self._applied_ready.clear()
                await self._applied_ready.wait()
                continue
            rows, applied, waiting = self._rows, self._applied, self._waiting
            self._rows, self._applied, self._waiting = [], [], []
            started = time.perf_counter()
            try:
                await loop.run_in_executor(self._thread, self._writer.append, rows)
            except asyncio.CancelledError:  # the loop is being torn down, not the journal
                self._fail(SequencerStopped("the sequencer was cancelled"), waiting)
                raise
            except Exception as problem:  # the journal is broken: fail loudly
                self._fail(problem, waiting)
                return
            stats = self.stats
            stats.last_commit_seconds = time.perf_counter() - started
            stats.commands += len(applied)
            stats.batches += 1
            stats.largest_batch = max(stats.largest_batch, len(applied))
            for future, entry in zip(waiting, applied, strict=True):
                if not future.done():
                    future.set_result(Ack(entry.seq, entry.ts_ns, entry.events))
            for listener in self._listeners:
                try:
                    listener(applied)
                except Exception:
                    log.exception("commit listener failed")
            pending = self._pending_snapshot
            if pending is not None and pending[0] <= rows[-1][0]:
                self._pending_snapshot = None
                await self._store_snapshot(*pending)

    def _fail(self, problem: Exception, waiting: list[asyncio.Future[Ack]]) -> None:
        """Nothing after the last good commit is durable, though it was applied in memory:
        refuse everything from now on, so no state that may vanish is ever acknowledged."""
        if not isinstance(problem, SequencerStopped):
            log.critical("sequencer failed; refusing further commands: %r", problem)
        self._failure = problem
        self._accepting = False
        error = SequencerFailure(f"the sequencer failed: {problem!r}")
        waiting = waiting + self._waiting + [future for _, _, future in self._incoming]
        self._rows, self._applied, self._waiting = [], [], []
        self._incoming.clear()
        self._incoming_ready.set()
        for future in waiting:
            if not future.done():
                future.set_exception(error)

    # -- snapshots -----------------------------------------------------------------------
    def _snapshot_due(self) -> bool:
        since = self.seq - self._last_snapshot_seq
        if since >= self._snapshot_every:
            return True
        return since > 0 and time.monotonic() - self._last_snapshot_time >= self._snapshot_interval

    def _capture_snapshot(self) -> None:
        """Capture the state at the current seq now (between commands); it is stored once
        the journal has committed up to that seq, never ahead of it."""
        self._pending_snapshot = (
            self.seq,
            self._last_ts,
            snapshot.encode(snapshot.capture(self.exchange)),
        )
        self._last_snapshot_seq = self.seq
        self._last_snapshot_time = time.monotonic()

    async def _store_snapshot(self, seq: int, ts_ns: int, state: bytes) -> None:
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(
                self._thread,
                self._writer.write_snapshot,
                seq,
                ts_ns,
                snapshot.hash_of(state),
                state,
            )
        except Exception:
            log.exception("snapshot at seq %d not stored", seq)
            return
        self.stats.snapshots += 1
