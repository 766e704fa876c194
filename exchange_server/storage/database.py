"""Opening the database and bringing its schema up to date.

Embedded mode uses a SQLite file in the user's data directory; self-hosted deployments point
``EXCHANGE_DATABASE_URL`` at PostgreSQL. Both get the same schema through Alembic.
"""

from __future__ import annotations

import os
import sqlite3
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError

from exchange_server.paths import default_data_dir

if TYPE_CHECKING:
    from alembic.config import Config

DATABASE_URL_ENV = "EXCHANGE_DATABASE_URL"
MIGRATIONS_PATH = Path(__file__).resolve().parent / "migrations"
# The newest migration's revision (a test keeps it in step with the scripts): a database
# already there starts without loading Alembic and its scripts, a fifth of a second.
HEAD_REVISION = "0003"

# Pass as ``connection.execution_options(**WRITE_TRANSACTION)`` to take SQLite's write lock
# when the transaction begins (BEGIN IMMEDIATE) rather than at the first write. A deferred
# transaction that reads and then writes while another connection commits fails at once with
# SQLITE_BUSY instead of waiting for busy_timeout. No effect on PostgreSQL.
SQLITE_BEGIN_IMMEDIATE = "sqlite_begin_immediate"
WRITE_TRANSACTION: dict[str, Any] = {SQLITE_BEGIN_IMMEDIATE: True}

SQLITE_BUSY_TIMEOUT_MS = 10_000

# Key of the PostgreSQL advisory lock that serialises concurrent migrations.
_MIGRATION_LOCK_KEY = zlib.crc32(b"exchange_server.storage.migrate")


def default_database_url() -> str:
    """``EXCHANGE_DATABASE_URL`` if set, else ``exchange.db`` in the data directory."""
    configured = os.environ.get(DATABASE_URL_ENV, "").strip()
    if configured:
        return configured
    data_dir = default_data_dir()
    return URL.create("sqlite+pysqlite", database=str(data_dir / "exchange.db")).render_as_string()


def normalise_database_url(url: str | URL) -> URL:
    """Select psycopg 3 for PostgreSQL URLs that name no driver (``postgresql://``)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_database_engine(url: str | URL) -> Engine:
    """An engine for ``url``; SQLite connections are set up for durability and concurrency."""
    parsed = normalise_database_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed)
        _configure_sqlite(engine)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    return create_engine(parsed)


def is_sqlite(engine: Engine | Connection) -> bool:
    return engine.dialect.name == "sqlite"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Hand transaction control to SQLAlchemy (below): the sqlite3 module otherwise
        # begins transactions only before DML, so DDL (migrations) would not be atomic.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            # WAL: readers never block the writer. FULL: a commit survives power loss, which
            # the journal's "acknowledged means durable" promise needs.
            _enable_wal(cursor)
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Connection) -> None:
        if connection.get_execution_options().get(SQLITE_BEGIN_IMMEDIATE):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def _enable_wal(cursor: sqlite3.Cursor) -> None:
    """Switch the database file to WAL (a lasting property of the file, so usually a no-op).

    When several processes open a new database at once, the switch can fail with "database is
    locked" straight away: SQLite does not wait on the busy handler there. Retry it until the
    busy timeout instead, as the busy handler would.
    """
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= deadline:
                raise
            time.sleep(0.005)


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configuration for the packaged migrations, optionally bound to ``connection``
    (the migration environment then runs on it, inside its transaction)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_PATH))
    # Lists of paths (version_locations) are separated by os.pathsep, not spaces (Alembic 1.16+).
    config.set_main_option("path_separator", "os")
    if connection is not None:
        config.attributes["connection"] = connection
    return config


@contextmanager
def migration_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in a transaction that holds the migration lock until it commits, so that
    processes starting together take turns: a PostgreSQL advisory lock, or SQLite's write lock
    (other writers wait for it, up to busy_timeout)."""
    with engine.connect() as connection:
        if is_sqlite(connection):
            connection.execution_options(**WRITE_TRANSACTION)
        with connection.begin():
            if connection.dialect.name == "postgresql":
                connection.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
            yield connection


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision`` in one transaction; a no-op when already there.

    Safe to call on every start, also from several processes at once: the later ones wait
    for the first and then find nothing to do.
    """
    if revision == "head" and schema_revision(engine) == HEAD_REVISION:
        return
    from alembic import command

    with migration_transaction(engine) as connection:
        command.upgrade(alembic_config(connection), revision)


def schema_revision(engine: Engine) -> str | None:
    """The revision the database's schema is at; None for a new (or foreign) database."""
    try:
        with engine.connect() as connection:
            row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
    except DBAPIError:  # no alembic_version table yet
        return None
    return None if row is None else str(row[0])
