"""Kill a loaded server with SIGKILL; every acknowledged command must survive, nothing else
may be half there, and recovery must equal a clean replay of the journal."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from sqlalchemy import text

from exchange_server.domain import snapshot
from exchange_server.domain.commands import PlaceOrder
from exchange_server.domain.exchange import Exchange
from exchange_server.engine.codec import decode_command, decode_events
from exchange_server.engine.journal import read_journal
from exchange_server.engine.recovery import recover, verify_journal
from exchange_server.server import EngineSettings, ExchangeService, read_database_url_for
from exchange_server.storage.database import create_database_engine

WORKER = Path(__file__).with_name("crash_worker.py")
ACKS_BEFORE_KILL = 1500


def run_until_killed(url: str) -> dict[str, int]:
    """Start the worker, read acknowledgements, SIGKILL it mid-stream; client id -> seq."""
    worker = subprocess.Popen(
        [sys.executable, str(WORKER), url, "16"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])},
    )
    assert worker.stdout is not None
    acked: dict[str, int] = {}
    children: list[psutil.Process] = []
    try:
        for line in worker.stdout:
            if line.startswith("READY"):
                children = psutil.Process(worker.pid).children(recursive=True)
            elif line.startswith("ACK "):
                _, seq, client_order_id = line.split()
                acked[client_order_id] = int(seq)
                if len(acked) >= ACKS_BEFORE_KILL:
                    break
    finally:
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    # The projection child notices its parent is gone and exits by itself.
    _, alive = psutil.wait_procs(children, timeout=30)
    assert not alive, f"children outlived the killed server: {alive}"
    assert len(acked) >= ACKS_BEFORE_KILL, "the worker stopped before the kill"
    return acked


@pytest.mark.slow
def test_acknowledged_commands_survive_sigkill(database_url: str) -> None:
    acked = run_until_killed(database_url)
    engine = create_database_engine(database_url)
    try:
        journaled: dict[str, int] = {}
        for entry in read_journal(engine):
            command = decode_command(entry.kind, entry.command)
            decode_events(entry.events)  # every row is whole: command and events
            if isinstance(command, PlaceOrder) and command.client_order_id:
                journaled[command.client_order_id] = entry.seq
        missing = {coid for coid in acked if journaled.get(coid) != acked[coid]}
        assert not missing, f"acknowledged but not journaled at their seq: {sorted(missing)[:5]}"

        verification = verify_journal(engine)
        assert verification.ok, verification.problems
        assert verification.snapshots_checked > 0  # recovery really started from a snapshot
        recovered = recover(engine)
        assert recovered.snapshot_seq > 0
        assert snapshot.state_hash(recovered.exchange) == verification.state_hash
        last_seq = recovered.last_seq
        assert last_seq >= max(acked.values())
    finally:
        engine.dispose()

    asyncio.run(restart_and_check_read_models(database_url, recovered.exchange, last_seq))


async def restart_and_check_read_models(url: str, expected: Exchange, last_seq: int) -> None:
    """A restarted server continues the sequence and its read models match the engine."""
    service = ExchangeService(EngineSettings(url))
    await service.start()
    try:
        assert service.sequencer.seq == last_seq
        assert snapshot.state_hash(service.sequencer.exchange) == snapshot.state_hash(expected)
        assert await service.wait_for_projections(last_seq)
        read_engine = create_database_engine(read_database_url_for(url))
        try:
            with read_engine.connect() as connection:
                balances = {
                    (account, asset): (balance, reserved)
                    for account, asset, balance, reserved in connection.execute(
                        text("SELECT account, asset, balance, reserved FROM balances")
                    )
                }
                open_orders = set(
                    connection.execute(
                        text(
                            "SELECT order_id FROM orders"
                            " WHERE status IN ('new', 'partially_filled')"
                        )
                    ).scalars()
                )
        finally:
            read_engine.dispose()
        ledger = expected.ledger
        engine_balances = {
            (account, asset): (amount, ledger.reserved[account].get(asset, 0))
            for account, assets in ledger.balances.items()
            for asset, amount in assets.items()
        }
        assert balances == engine_balances
        assert open_orders == set(expected.orders)
    finally:
        await service.stop()
