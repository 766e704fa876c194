"""Read models: the journal's events projected into SQL tables for queries.

Instruments, accounts, orders (latest state of each), fills, balances, ledger entries (every
balance movement with the balance after it) and positions (quantity, cost basis and realised
P&L by average cost) are written in one transaction per batch together with a checkpoint, so
a projection is always exactly "the journal up to seq N" and restarts where it stopped.
Projections lag the engine slightly (a child process tails the committed journal) and can be
rebuilt from the journal at any time.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from exchange_server.domain.commands import Adjust, Command, Deposit, Withdraw
from exchange_server.domain.events import (
    AccountUpdated,
    BalanceChanged,
    CommandRejected,
    Event,
    InstrumentListed,
    InstrumentStatusChanged,
    OrderUpdated,
    TradeExecuted,
)
from exchange_server.engine.codec import decode_command, decode_events
from exchange_server.engine.journal import read_journal
from exchange_server.engine.sequencer import Committed
from exchange_server.storage import models

log = logging.getLogger(__name__)

CHECKPOINT = "read_models"

_INSTRUMENTS: Table = models.InstrumentRow.__table__  # type: ignore[assignment]
_ACCOUNTS: Table = models.AccountRow.__table__  # type: ignore[assignment]
_ORDERS: Table = models.OrderRow.__table__  # type: ignore[assignment]
_FILLS: Table = models.FillRow.__table__  # type: ignore[assignment]
_BALANCES: Table = models.BalanceRow.__table__  # type: ignore[assignment]
_LEDGER: Table = models.LedgerEntryRow.__table__  # type: ignore[assignment]
_POSITIONS: Table = models.PositionRow.__table__  # type: ignore[assignment]
_CHECKPOINTS: Table = models.ProjectionCheckpoint.__table__  # type: ignore[assignment]
_INSTRUMENT_COLUMNS = {c.name for c in _INSTRUMENTS.columns}


class Position:
    """Average-cost position: quantity, cost basis of that quantity, realised P&L."""

    __slots__ = ("cost", "quantity", "realised")

    def __init__(self, quantity: int = 0, cost: int = 0, realised: int = 0) -> None:
        self.quantity, self.cost, self.realised = quantity, cost, realised

    def bought(self, quantity: int, cost: int) -> None:
        self.quantity += quantity
        self.cost += cost

    def sold(self, quantity: int, proceeds: int) -> None:
        """Realise ``proceeds`` against the average cost of what leaves the position."""
        if self.quantity <= 0:
            self.realised += proceeds
            self.quantity -= quantity
            return
        leaving = min(quantity, self.quantity)
        cost_out = self.cost if leaving == self.quantity else self.cost * leaving // self.quantity
        self.cost -= cost_out
        self.quantity -= quantity
        self.realised += proceeds - cost_out


class Projector:
    """Applies committed batches to the read-model tables. One thread uses it at a time.

    ``engine`` holds the read models, ``journal_engine`` the journal to catch up from; they
    are the same PostgreSQL database, but separate SQLite files, because SQLite has one
    write lock per file and the journal's commits must never wait behind a projection."""

    def __init__(self, engine: Engine, journal_engine: Engine | None = None) -> None:
        self._engine = engine
        self._journal_engine = journal_engine or engine
        dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
        self._insert = dialect.insert
        self.checkpoint = 0
        self._balances: dict[tuple[int, str], int] = {}
        self._positions: dict[tuple[int, str], Position] = {}
        self._instruments: set[str] = set()

    def load(self) -> int:
        """Read the checkpoint and the running totals the projection continues from."""
        with self._engine.connect() as connection:
            seq = connection.execute(
                select(_CHECKPOINTS.c.seq).where(_CHECKPOINTS.c.name == CHECKPOINT)
            ).scalar()
            self.checkpoint = int(seq or 0)
            self._balances = {
                (row.account, row.asset): row.balance
                for row in connection.execute(select(_BALANCES))
            }
            self._positions = {
                (row.account, row.symbol): Position(row.quantity, row.cost, row.realised_pnl)
                for row in connection.execute(select(_POSITIONS))
            }
            self._instruments = set(connection.execute(select(_INSTRUMENTS.c.symbol)).scalars())
        return self.checkpoint

    def catch_up(self, batch: int = 5_000) -> int:
        """Project every journal entry after the checkpoint; returns how many."""
        done = 0
        pending: list[Committed] = []
        for entry in read_journal(self._journal_engine, self.checkpoint):
            command = decode_command(entry.kind, entry.command)
            pending.append(Committed(entry.seq, entry.ts_ns, command, decode_events(entry.events)))
            if len(pending) >= batch:
                self.project(pending)
                done += len(pending)
                pending = []
        if pending:
            self.project(pending)
            done += len(pending)
        return done

    def project(self, batch: Sequence[Committed]) -> None:
        """Apply ``batch`` (consecutive, in order) in one transaction with the checkpoint."""
        batch = [entry for entry in batch if entry.seq > self.checkpoint]
        if not batch:
            return
        instruments: dict[str, dict[str, Any]] = {}
        accounts: dict[int, dict[str, Any]] = {}
        orders: dict[int, dict[str, Any]] = {}
        fills: list[dict[str, Any]] = []
        balances: dict[tuple[int, str], dict[str, Any]] = {}
        ledger: list[dict[str, Any]] = []
        touched: dict[tuple[int, str], int] = {}
        for entry in batch:
            seq, ts = entry.seq, entry.ts_ns
            self._transfer_positions(entry.command, entry.events, seq, touched)
            for event in entry.events:
                if isinstance(event, OrderUpdated):
                    row = dict(event.__dict__)  # shallow: every field is a plain value
                    row["updated_seq"] = seq
                    orders[event.order_id] = row
                elif isinstance(event, BalanceChanged):
                    key = (event.account, event.asset)
                    previous = self._balances.get(key, 0)
                    if event.balance != previous:
                        ledger.append(
                            {
                                "seq": seq,
                                "account": event.account,
                                "asset": event.asset,
                                "delta": event.balance - previous,
                                "balance": event.balance,
                                "ts_ns": ts,
                            }
                        )
                        self._balances[key] = event.balance
                    balances[key] = {
                        "account": event.account,
                        "asset": event.asset,
                        "balance": event.balance,
                        "reserved": event.reserved,
                        "updated_seq": seq,
                    }
                elif isinstance(event, TradeExecuted):
                    row = dict(event.__dict__)  # shallow: every field is a plain value
                    row["seq"] = seq
                    row["ts_ns"] = row.pop("ts")
                    fills.append(row)
                    self._trade_positions(event, seq, touched)
                elif isinstance(event, InstrumentListed):
                    row = {k: v for k, v in event.__dict__.items() if k in _INSTRUMENT_COLUMNS}
                    row["updated_seq"] = seq
                    instruments[event.symbol] = row
                    self._instruments.add(event.symbol)
                elif isinstance(event, InstrumentStatusChanged):
                    row = instruments.get(event.symbol) or {"symbol": event.symbol}
                    row.update(
                        status=event.status,
                        reference_price=event.reference_price,
                        band_low=event.band_low,
                        band_high=event.band_high,
                        updated_seq=seq,
                    )
                    instruments[event.symbol] = row
                elif isinstance(event, AccountUpdated):
                    accounts[event.account] = {
                        "account_id": event.account,
                        "self_trade_prevention": event.self_trade_prevention,
                        "updated_seq": seq,
                    }
        positions = [
            {
                "account": account,
                "symbol": symbol,
                "quantity": self._positions[account, symbol].quantity,
                "cost": self._positions[account, symbol].cost,
                "realised_pnl": self._positions[account, symbol].realised,
                "updated_seq": seq,
            }
            for (account, symbol), seq in touched.items()
        ]
        last = batch[-1].seq
        with self._engine.begin() as connection:
            for row in instruments.values():
                if len(row) == len(_INSTRUMENT_COLUMNS):
                    self._upsert(connection, _INSTRUMENTS, [row], ["symbol"])
                else:  # a status change only
                    connection.execute(
                        _INSTRUMENTS.update()
                        .where(_INSTRUMENTS.c.symbol == row["symbol"])
                        .values({k: v for k, v in row.items() if k != "symbol"})
                    )
            self._upsert(connection, _ACCOUNTS, list(accounts.values()), ["account_id"])
            self._upsert(connection, _ORDERS, list(orders.values()), ["order_id"])
            self._insert_rows(connection, _FILLS, fills)
            self._upsert(connection, _BALANCES, list(balances.values()), ["account", "asset"])
            self._insert_rows(connection, _LEDGER, ledger)
            self._upsert(connection, _POSITIONS, positions, ["account", "symbol"])
            self._upsert(connection, _CHECKPOINTS, [{"name": CHECKPOINT, "seq": last}], ["name"])
        self.checkpoint = last

    # -- positions -----------------------------------------------------------------------
    def _position(self, account: int, symbol: str) -> Position:
        position = self._positions.get((account, symbol))
        if position is None:
            position = self._positions[account, symbol] = Position()
        return position

    def _trade_positions(
        self, trade: TradeExecuted, seq: int, touched: dict[tuple[int, str], int]
    ) -> None:
        self._position(trade.buyer, trade.symbol).bought(
            trade.quantity, trade.notional + trade.buyer_fee
        )
        self._position(trade.seller, trade.symbol).sold(
            trade.quantity, trade.notional - trade.seller_fee
        )
        touched[trade.buyer, trade.symbol] = seq
        touched[trade.seller, trade.symbol] = seq

    def _transfer_positions(
        self,
        command: Command,
        events: Iterable[Event],
        seq: int,
        touched: dict[tuple[int, str], int],
    ) -> None:
        """Holdings moved in or out without a trade. Transfers in carry no price, so they
        enter at zero cost; transfers out leave at average cost and realise nothing."""
        if not isinstance(command, Deposit | Withdraw | Adjust):
            return
        if command.asset not in self._instruments:
            return
        if any(isinstance(event, CommandRejected) for event in events):
            return
        amount = -command.amount if isinstance(command, Withdraw) else command.amount
        position = self._position(command.account, command.asset)
        if amount > 0:
            position.bought(amount, 0)
        else:
            realised = position.realised
            position.sold(-amount, 0)
            position.realised = realised
        touched[command.account, command.asset] = seq

    # -- SQL helpers ---------------------------------------------------------------------
    def _upsert(
        self, connection: Connection, table: Table, rows: list[dict[str, Any]], keys: list[str]
    ) -> None:
        if not rows:
            return
        # One statement executed for many parameter sets: SQLAlchemy compiles it once (and
        # caches it) and batches the rows itself, instead of compiling a fresh multi-row
        # VALUES statement for every chunk.
        statement = self._insert(table)
        updates = {name: statement.excluded[name] for name in rows[0] if name not in keys}
        connection.execute(statement.on_conflict_do_update(index_elements=keys, set_=updates), rows)

    @staticmethod
    def _insert_rows(connection: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
        if rows:
            connection.execute(table.insert(), rows)


def _process_context() -> Any:
    """Fork from a small, single-threaded fork server where there is one (a fresh child in
    milliseconds, and never a fork of this multi-threaded process); spawn elsewhere."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


class ProjectionProcess:
    """Keeps the read models current from a separate process that tails the journal.

    A process rather than a thread: projecting is CPU work in Python, and on a thread it
    would hold the GIL while the sequencer waits to acknowledge commits. The child reads the
    committed journal itself, so nothing is sent to it; it exits with its parent."""

    def __init__(self, read_url: str, journal_url: str, poll_interval: float = 0.05) -> None:
        context = _process_context()
        self._checkpoint = context.Value("q", 0, lock=False)
        self._ready = context.Event()
        # A plain shared flag, not an Event: setting an Event waits for its sleepers to wake,
        # and hangs for good if the child died while sleeping on it.
        self._stop = context.Value("b", 0, lock=False)
        self._process = context.Process(
            target=_run_projections,
            args=(
                read_url,
                journal_url,
                poll_interval,
                self._checkpoint,
                self._ready,
                self._stop,
                os.getpid(),
            ),
            name="projections",
            daemon=True,
        )

    def start(self, timeout: float = 60.0, wait: bool = True) -> None:
        """Start the child; with ``wait``, until it has loaded its checkpoint."""
        self._process.start()
        if wait and not self._ready.wait(timeout):
            raise RuntimeError("the projection process did not start")

    @property
    def checkpoint(self) -> int:
        return int(self._checkpoint.value)

    @property
    def alive(self) -> bool:
        """Not exited (a process still starting counts as alive)."""
        return self._process.exitcode is None

    def wait_for(self, seq: int, timeout: float = 30.0) -> bool:
        """Block until the read models include ``seq`` (polls the shared checkpoint)."""
        deadline = time.monotonic() + timeout
        while self.checkpoint < seq:
            if not self._process.is_alive() or time.monotonic() > deadline:
                return False
            time.sleep(0.005)
        return True

    def stop(self, timeout: float = 30.0) -> None:
        """Project what is committed, then exit."""
        self._stop.value = 1
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join()


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs. Not our parent's pid: a fork-server child's parent is the
    fork server, which itself lives until every child it made has exited."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _run_projections(
    read_url: str,
    journal_url: str,
    poll_interval: float,
    checkpoint: Any,
    ready: Any,
    stop: Any,
    server_pid: int,
) -> None:
    from exchange_server.storage.database import create_database_engine

    # Ctrl-C in a terminal reaches the whole process group: the parent decides when the
    # projections stop. A SIGTERM sent to this process alone ends it after the current batch.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: setattr(stop, "value", 1))

    read_engine = create_database_engine(read_url)
    journal_engine = read_engine if journal_url == read_url else create_database_engine(journal_url)
    projector = Projector(read_engine, journal_engine)
    checkpoint.value = projector.load()
    ready.set()
    while True:
        # A server killed outright (SIGKILL, a crash) cannot tell us to stop: notice it.
        stopping = bool(stop.value) or not _alive(server_pid)
        try:
            done = projector.catch_up()
        except Exception:
            # Derived data: reload what the database holds and try again after a pause.
            log.exception("projection failed after seq %s", projector.checkpoint)
            projector.load()
            done = 0
        checkpoint.value = projector.checkpoint
        if stopping:
            break
        if not done:
            time.sleep(poll_interval)
    read_engine.dispose()
    journal_engine.dispose()
