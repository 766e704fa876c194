"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from sqlalchemy import Engine, func, insert, inspect, select

from exchange_server.storage.database import (
    HEAD_REVISION,
    MIGRATIONS_PATH,
    alembic_config,
    create_database_engine,
    migrate,
    migration_transaction,
    schema_revision,
)
from exchange_server.storage.models import Base, JournalEntry

HEAD = ScriptDirectory.from_config(alembic_config()).get_current_head()
MODEL_TABLES = set(Base.metadata.tables)


def schema_differences(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return compare_metadata(context, Base.metadata)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        migrate(engine)
        assert set(inspect(engine).get_table_names()) == MODEL_TABLES | {"alembic_version"}
        assert schema_differences(engine) == []
        assert current_revision(engine) == HEAD
    finally:
        engine.dispose()


def test_the_quick_start_check_knows_the_newest_migration(engine: Engine) -> None:
    # ``migrate`` skips Alembic when the database says it is at HEAD_REVISION: a new
    # migration must move the constant, or databases would start without it.
    assert HEAD_REVISION == HEAD
    migrate(engine)
    assert schema_revision(engine) == HEAD


def test_drift_is_detected(engine: Engine) -> None:
    # Proves the comparison above can fail: a schema missing an index is reported.
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP INDEX ix_fills_symbol_ts_ns")
    differences = schema_differences(engine)
    assert [difference[0] for difference in differences] == ["add_index"]
    assert differences[0][1].name == "ix_fills_symbol_ts_ns"


def test_migrating_again_keeps_schema_and_data(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(
            insert(JournalEntry),
            {"seq": 1, "ts_ns": 5, "kind": "deposit", "command": b"c", "events": b"e"},
        )
    migrate(engine)
    migrate(engine)
    assert current_revision(engine) == HEAD
    assert schema_differences(engine) == []
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(JournalEntry)).scalar() == 1


def test_downgrade_to_base_then_upgrade_again(engine: Engine) -> None:
    with migration_transaction(engine) as connection:
        command.downgrade(alembic_config(connection), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert current_revision(engine) is None

    migrate(engine)
    assert current_revision(engine) == HEAD
    assert schema_differences(engine) == []


def test_autogenerate_finds_nothing_to_do(engine: Engine, tmp_path: Path) -> None:
    # What a developer gets from ``alembic revision --autogenerate`` with no model change:
    # exercises env.py's comparison settings and the revision template.
    with migration_transaction(engine) as connection:
        config = alembic_config(connection)
        config.set_main_option(
            "version_locations", os.pathsep.join([str(MIGRATIONS_PATH / "versions"), str(tmp_path)])
        )
        script = command.revision(
            config, "nothing changed", autogenerate=True, version_path=str(tmp_path)
        )
    assert isinstance(script, Script)
    source = Path(script.path).read_text()
    compile(source, script.path, "exec")
    assert f"down_revision: str | None = {HEAD!r}" in source
    operations = source.split("def upgrade() -> None:")[1]
    assert "op." not in operations, operations


MIGRATE_WHEN_TOLD = textwrap.dedent(
    """
    import sys
    from exchange_server.storage.database import create_database_engine, migrate

    engine = create_database_engine(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    migrate(engine)
    engine.dispose()
    """
)


def test_processes_starting_together_both_migrate(database_url: str) -> None:
    # Each process imports everything first and reports ready; both are then told to go at
    # once, so their migrations overlap as when several servers start against one database.
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", MIGRATE_WHEN_TOLD, database_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        outcomes = [process.communicate(timeout=60) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    for process, (_, stderr) in zip(processes, outcomes, strict=True):
        assert process.returncode == 0, stderr

    engine = create_database_engine(database_url)
    try:
        assert current_revision(engine) == HEAD
        assert schema_differences(engine) == []
    finally:
        engine.dispose()
