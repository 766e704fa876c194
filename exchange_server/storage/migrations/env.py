"""Alembic environment for the exchange schema.

Normally run through :func:`exchange_server.storage.database.migrate`, which passes an open
connection in ``config.attributes["connection"]``. Without one (the ``alembic`` command line),
it connects to ``sqlalchemy.url`` from the configuration, else to the default database.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from exchange_server.storage.database import (
    create_database_engine,
    default_database_url,
    is_sqlite,
    migration_transaction,
)
from exchange_server.storage.models import Base

config = context.config
target_metadata = Base.metadata


def _database_url() -> str:
    return config.get_main_option("sqlalchemy.url") or default_database_url()


def run_migrations_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things; batch mode recreates the table instead.
        render_as_batch=is_sqlite(connection),
        compare_type=True,
        compare_server_default=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_migrations_on(connection)
        return
    engine = create_database_engine(_database_url())
    try:
        with migration_transaction(engine) as new_connection:
            run_migrations_on(new_connection)
    finally:
        engine.dispose()


def run_migrations_offline() -> None:
    """Write the SQL to standard output instead of running it (``alembic upgrade --sql``)."""
    url = _database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
