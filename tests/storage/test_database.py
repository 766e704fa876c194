"""Opening databases: URLs, SQLite durability settings, and values that survive storage."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import platformdirs
import pytest
from sqlalchemy import Engine, inspect, make_url, select
from sqlalchemy.exc import OperationalError, StatementError
from sqlalchemy.orm import Session

from exchange_server.storage.database import (
    DATABASE_URL_ENV,
    WRITE_TRANSACTION,
    create_database_engine,
    default_database_url,
    is_sqlite,
    normalise_database_url,
)
from exchange_server.storage.models import JournalEntry, LedgerEntryRow, Snapshot


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'exchange.db'}")
    try:
        yield engine
    finally:
        engine.dispose()


def test_sqlite_connections_are_durable_and_concurrent(sqlite_engine: Engine) -> None:
    assert is_sqlite(sqlite_engine)
    # Two connections at once: every new connection is set up, not just the first.
    with sqlite_engine.connect() as first, sqlite_engine.connect() as second:
        for connection in (first, second):
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000


def test_write_transaction_takes_the_sqlite_write_lock_at_begin(sqlite_engine: Engine) -> None:
    with sqlite_engine.connect() as writer, sqlite_engine.connect() as other:
        other.exec_driver_sql("PRAGMA busy_timeout=0")  # fail at once instead of waiting
        other.commit()
        writer.execution_options(**WRITE_TRANSACTION)
        with writer.begin():
            # The writer has not written anything yet, but already holds the write lock...
            other.execution_options(**WRITE_TRANSACTION)
            with pytest.raises(OperationalError, match="locked"):
                other.begin()
            other.rollback()
            # ...while readers carry on (WAL).
            other.execution_options(sqlite_begin_immediate=False)
            assert other.exec_driver_sql("SELECT 1").scalar() == 1
            other.rollback()


def test_ddl_rolls_back_with_its_transaction(engine: Engine) -> None:
    # Migrations rely on this on SQLite too, where the driver would otherwise autocommit DDL.
    with pytest.raises(RuntimeError), engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE scratch (x INTEGER)")
        raise RuntimeError("abandon the transaction")
    assert "scratch" not in inspect(engine).get_table_names()


def test_default_url_honours_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    url = "postgresql://exchange@db.example.com/exchange"
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    assert default_database_url() == url


def test_default_url_is_sqlite_in_user_data_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, "  ")  # blank counts as unset
    monkeypatch.setattr(platformdirs, "user_data_dir", lambda app: str(tmp_path / "data" / app))
    url = default_database_url()
    data_dir = tmp_path / "data" / "trading-workstation"
    assert data_dir.is_dir()
    assert normalise_database_url(url).get_backend_name() == "sqlite"
    assert normalise_database_url(url).database == str(data_dir / "exchange.db")


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_plain_postgresql_url_uses_psycopg(scheme: str) -> None:
    engine = create_database_engine(f"{scheme}://trader:s3cret@db.example.com:6543/exchange")
    try:
        assert engine.url.drivername == "postgresql+psycopg"
        assert engine.url.password == "s3cret"
        assert (engine.url.host, engine.url.port, engine.url.database) == (
            "db.example.com",
            6543,
            "exchange",
        )
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_plain_postgresql_url_connects(postgres_url: str) -> None:
    plain = make_url(postgres_url).set(drivername="postgresql")  # as an administrator writes it
    engine = create_database_engine(plain.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            assert connection.dialect.driver == "psycopg"
            assert (
                connection.exec_driver_sql("SELECT current_database()").scalar() == plain.database
            )
    finally:
        engine.dispose()


def test_explicit_driver_is_kept() -> None:
    url = "postgresql+psycopg2://trader@db.example.com/exchange"
    assert normalise_database_url(url).drivername == "postgresql+psycopg2"


def test_journal_entry_round_trips(engine: Engine) -> None:
    command = bytes(range(256)) * 4
    events = b"\x00\xff" + "événement".encode()
    with Session(engine) as session, session.begin():
        session.add(
            JournalEntry(
                seq=2**62, ts_ns=2**63 - 1, kind="place_order", command=command, events=events
            )
        )
    with Session(engine) as session:
        entry = session.scalars(select(JournalEntry)).one()
        assert (entry.seq, entry.ts_ns, entry.kind) == (2**62, 2**63 - 1, "place_order")
        assert entry.command == command
        assert entry.events == events
        assert isinstance(entry.command, bytes)


def test_snapshot_time_comes_back_as_aware_utc(engine: Engine) -> None:
    taken = datetime(2025, 3, 14, 9, 15, 0, 123456, tzinfo=timezone(timedelta(hours=5, minutes=30)))
    with Session(engine) as session, session.begin():
        session.add(Snapshot(seq=7, ts_ns=1, state_hash="ab" * 32, state=b"s", created_at=taken))
    with Session(engine) as session:
        created_at = session.scalars(select(Snapshot.created_at)).one()
    assert created_at == taken
    assert created_at.utcoffset() == timedelta(0)


def test_naive_snapshot_time_is_refused(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(
            Snapshot(
                seq=1, ts_ns=1, state_hash="0" * 64, state=b"", created_at=datetime(2025, 1, 1)
            )
        )
        with pytest.raises(StatementError, match="naive datetime"):
            session.flush()


def test_ledger_entries_are_numbered_by_the_database(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        entries = [
            LedgerEntryRow(seq=1, account=1, asset="INR", delta=delta, balance=2**62, ts_ns=1)
            for delta in (100, -40)
        ]
        session.add_all(entries)
        session.flush()
        ids = [entry.entry_id for entry in entries]
    assert ids[0] > 0
    assert ids[1] > ids[0]
