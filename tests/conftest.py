"""Fixtures shared by the whole suite: databases (SQLite and PostgreSQL) and engines."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import URL, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError

from exchange_server.domain import native_build
from exchange_server.storage.database import (
    create_database_engine,
    migrate,
    normalise_database_url,
)

# Pytest imports this before any test module, so before anything imports Qt: GUI tests run
# without a display.
os.environ["QT_QPA_PLATFORM"] = "offscreen"


def pytest_configure(config: pytest.Config) -> None:
    stale = native_build.stale_modules()
    if stale:  # the tests would exercise old compiled code, not the sources
        pytest.exit(
            f"compiled domain modules are older than their sources: {', '.join(stale)}; "
            "run `make native` (or `make test`)",
            returncode=2,
        )


def pytest_report_header(config: pytest.Config) -> str:
    compiled = native_build.is_compiled()
    return f"exchange engine: {'compiled with mypyc' if compiled else 'plain Python'}"


TEST_POSTGRES_URL_ENV = "TEST_POSTGRES_URL"
DEFAULT_POSTGRES_URLS = (
    "postgresql://postgres@127.0.0.1:5432/test",
    "postgresql://root@127.0.0.1:5432/test",
)


class PostgresServer:
    """An administrative connection to a PostgreSQL server that hands out throwaway databases.

    A database per test keeps tests independent (creating one takes tens of milliseconds);
    they are created from ``template0`` so that nothing connected to ``template1`` can block
    them, and dropped even if a test left connections open.
    """

    def __init__(self, admin_engine: Engine) -> None:
        self.admin_engine = admin_engine
        with admin_engine.connect() as connection:
            self.server_version = int(
                connection.execute(text("SHOW server_version_num")).scalar_one()
            )

    def create_database(self) -> str:
        name = f"test_{uuid.uuid4().hex}"
        with self.admin_engine.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.admin_engine.url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        name = normalise_database_url(url).database
        assert name is not None and name.startswith("test_"), name
        with self.admin_engine.connect() as connection:
            if self.server_version >= 130000:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                return
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')


def _connect_admin(url: str) -> Engine:
    engine = create_engine(
        normalise_database_url(url),
        isolation_level="AUTOCOMMIT",  # CREATE/DROP DATABASE cannot run in a transaction
        connect_args={"connect_timeout": 5},
    )
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except BaseException:
        engine.dispose()
        raise
    return engine


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The PostgreSQL server named by ``TEST_POSTGRES_URL`` or found on 127.0.0.1:5432.

    Unreachable: the requesting tests are skipped, except in CI (``CI=true``), where a missing
    database must not pass silently and they fail instead.
    """
    configured = os.environ.get(TEST_POSTGRES_URL_ENV, "").strip()
    candidates = (configured,) if configured else DEFAULT_POSTGRES_URLS
    problems = []
    for url in candidates:
        try:
            admin_engine = _connect_admin(url)
        except DBAPIError as error:
            shown = normalise_database_url(url).render_as_string(hide_password=True)
            problems.append(f"{shown}: {str(error.orig).strip() or error}")
            continue
        try:
            yield PostgresServer(admin_engine)
        finally:
            admin_engine.dispose()
        return
    message = f"PostgreSQL not reachable at {'; '.join(problems)}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} (CI=true requires PostgreSQL)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for the whole session, dropped at the end."""
    url = postgres_server.create_database()
    try:
        yield url
    finally:
        postgres_server.drop_database(url)


@pytest.fixture(
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of a fresh, empty database of each kind, one per test."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("sqlite") / "exchange.db"
        yield URL.create("sqlite+pysqlite", database=str(path)).render_as_string()
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database()
    try:
        yield url
    finally:
        server.drop_database(url)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a fresh database with the schema migrated to head."""
    engine = create_database_engine(database_url)
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()
