"""The durable journal: every command with its events, appended in sequence order, and the
snapshots recovery starts from.

Writes go through one dedicated driver connection (sqlite3 or psycopg) used by one writer
thread: a batch of commands is one transaction (group commit). Durability ``fsync`` makes
the commit wait for the disk (SQLite ``synchronous=FULL``, PostgreSQL ``synchronous_commit
on``); ``buffered`` lets the operating system decide (survives a process crash, not a power
cut).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)

# A journal row as the writer receives it: (seq, ts_ns, kind, command bytes, events bytes).
JournalRow = tuple[int, int, str, bytes, bytes]


class Durability(StrEnum):
    FSYNC = "fsync"
    BUFFERED = "buffered"


@dataclass(frozen=True, slots=True)
class JournalEntry:
    seq: int
    ts_ns: int
    kind: str
    command: bytes
    events: bytes


@dataclass(frozen=True, slots=True)
class StoredSnapshot:
    seq: int
    ts_ns: int
    state_hash: str
    state: bytes


# Rows per SQLite INSERT statement: 5 parameters each stays far below SQLite's limit of
# 32,766 bound parameters.
SQLITE_ROWS_PER_INSERT = 256


class JournalWriter:
    """Appends to the journal over its own connection. Not thread-safe: one writer thread."""

    def __init__(self, engine: Engine, durability: Durability = Durability.FSYNC) -> None:
        self._engine = engine
        self._durability = Durability(durability)
        self._sqlite = engine.dialect.name == "sqlite"
        mark = "?" if self._sqlite else "%s"
        self._insert_journal = (
            f"INSERT INTO journal (seq, ts_ns, kind, command, events) "
            f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})"
        )
        self._insert_snapshot = (
            f"INSERT INTO snapshots (seq, ts_ns, state_hash, state, created_at) "
            f"VALUES ({mark}, {mark}, {mark}, {mark}, {mark})"
        )
        self._sqlite_inserts: dict[int, str] = {}  # rows -> multi-row INSERT
        self._proxy: Any = None
        self._connection: Any = None
        self.last_written_seq = 0

    def open(self) -> None:
        self._proxy = self._engine.raw_connection()
        self._connection = self._proxy.driver_connection
        cursor = self._connection.cursor()
        if self._sqlite:
            level = "FULL" if self._durability == Durability.FSYNC else "NORMAL"
            cursor.execute(f"PRAGMA synchronous={level}")
            # Checkpoints copy the WAL into the database file and fsync it: tens of
            # milliseconds that would land on whichever commit crossed the threshold.
            # ``WalCheckpointer`` does them on its own connection instead.
            cursor.execute("PRAGMA wal_autocheckpoint=0")
        else:
            level = "on" if self._durability == Durability.FSYNC else "off"
            cursor.execute(f"SET synchronous_commit TO {level}")
        cursor = self._connection.cursor()
        cursor.execute("SELECT COALESCE(MAX(seq), 0) FROM journal")
        self.last_written_seq = int(cursor.fetchone()[0])
        cursor.close()
        self._connection.commit()

    def append(self, rows: list[JournalRow]) -> None:
        """Commit ``rows`` as one transaction; returns only once they are durable."""
        connection = self._connection
        try:
            cursor = connection.cursor()
            if self._sqlite:  # the engine runs sqlite3 in autocommit mode: open one transaction
                cursor.execute("BEGIN IMMEDIATE")
                # Many rows per statement: sqlite3 releases and retakes the GIL around every
                # statement step, and while the event loop is busy each retake waits up to a
                # switch interval (5 ms), so a row per step made busy commits crawl.
                start, left = 0, len(rows)
                while left:
                    # Power-of-two chunks: at most nine statement shapes ever, so they all
                    # stay in sqlite3's prepared-statement cache.
                    count = min(SQLITE_ROWS_PER_INSERT, 1 << (left.bit_length() - 1))
                    chunk = rows[start : start + count]
                    cursor.execute(self._sqlite_insert(count), [v for row in chunk for v in row])
                    start, left = start + count, left - count
            else:
                cursor.executemany(self._insert_journal, rows)
            cursor.close()
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        self.last_written_seq = rows[-1][0]

    def _sqlite_insert(self, count: int) -> str:
        statement = self._sqlite_inserts.get(count)
        if statement is None:
            values = ",".join(["(?, ?, ?, ?, ?)"] * count)
            statement = f"INSERT INTO journal (seq, ts_ns, kind, command, events) VALUES {values}"
            self._sqlite_inserts[count] = statement
        return statement

    def write_snapshot(self, seq: int, ts_ns: int, state_hash: str, state: bytes) -> None:
        """Store a snapshot of the state after ``seq``; refused if the journal has not
        durably reached ``seq`` (a snapshot must never run ahead of the journal)."""
        if seq > self.last_written_seq:
            raise RuntimeError(
                f"snapshot at {seq} is ahead of the journal ({self.last_written_seq})"
            )
        connection = self._connection
        try:
            cursor = connection.cursor()
            created = datetime.now(UTC)
            if self._sqlite:  # stored the way SQLAlchemy stores DateTime on SQLite
                cursor.execute("BEGIN IMMEDIATE")
                created_value: Any = created.replace(tzinfo=None).isoformat(sep=" ")
            else:
                created_value = created
            cursor.execute(self._insert_snapshot, (seq, ts_ns, state_hash, state, created_value))
            cursor.close()
            connection.commit()
        except BaseException:
            connection.rollback()
            raise

    def close(self) -> None:
        if self._proxy is not None:
            self._proxy.close()
            self._proxy = self._connection = None


class WalCheckpointer:
    """Checkpoints a SQLite WAL from a background thread, off the commit path. Passive
    checkpoints never block the journal writer; they copy what they can."""

    def __init__(self, engine: Engine, interval: float = 1.0) -> None:
        self._engine = engine
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.checkpoint("PASSIVE")
        self.checkpoint("TRUNCATE")

    def checkpoint(self, mode: str) -> None:
        try:
            with self._engine.connect() as connection:
                connection.exec_driver_sql(f"PRAGMA wal_checkpoint({mode})")
        except Exception:  # a busy database or a closing engine: try again next time
            log.debug("WAL checkpoint (%s) skipped", mode, exc_info=True)


def last_seq(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(text("SELECT COALESCE(MAX(seq), 0) FROM journal")).scalar_one()
        )


def read_journal(engine: Engine, after_seq: int = 0, batch: int = 20_000) -> Iterator[JournalEntry]:
    """Entries with seq > ``after_seq`` in order, fetched in pages so memory stays flat."""
    query = text(
        "SELECT seq, ts_ns, kind, command, events FROM journal "
        "WHERE seq > :after ORDER BY seq LIMIT :limit"
    )
    while True:
        with engine.connect() as connection:
            rows = connection.execute(query, {"after": after_seq, "limit": batch}).all()
        for seq, ts_ns, kind, command, events in rows:
            yield JournalEntry(seq, ts_ns, kind, bytes(command), bytes(events))
        if len(rows) < batch:
            return
        after_seq = rows[-1][0]


def latest_snapshot(engine: Engine, at_most_seq: int | None = None) -> StoredSnapshot | None:
    query = "SELECT seq, ts_ns, state_hash, state FROM snapshots"
    params: dict[str, int] = {}
    if at_most_seq is not None:
        query += " WHERE seq <= :seq"
        params["seq"] = at_most_seq
    query += " ORDER BY seq DESC LIMIT 1"
    with engine.connect() as connection:
        row = connection.execute(text(query), params).first()
    if row is None:
        return None
    return StoredSnapshot(row[0], row[1], row[2], bytes(row[3]))


def snapshot_hashes(engine: Engine) -> dict[int, str]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT seq, state_hash FROM snapshots ORDER BY seq"))
        return {seq: state_hash for seq, state_hash in rows}
