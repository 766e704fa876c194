"""The sequencer, journal, snapshots and recovery against real SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, text

from exchange_server.cli import main as cli_main
from exchange_server.domain import snapshot
from exchange_server.domain.commands import (
    Command,
    Deposit,
    ListInstrument,
    OpenAccount,
    PlaceOrder,
)
from exchange_server.domain.enums import AssetClass, OrderType, Side, TimeInForce
from exchange_server.domain.events import CommandRejected, OrderUpdated, TradeExecuted
from exchange_server.engine.clock import ManualClock
from exchange_server.engine.codec import decode_command, decode_events
from exchange_server.engine.journal import read_journal
from exchange_server.engine.recovery import RecoveryError, recover, verify_journal
from exchange_server.engine.sequencer import (
    EXPIRY_CHECK_SECONDS,
    Committed,
    InvalidCommand,
    Sequencer,
    SequencerFailure,
    SequencerStopped,
)

SETUP: list[Command] = [
    ListInstrument("ACME", "Acme Ltd.", AssetClass.EQUITY, "NSE", "INR", reference_price=10_000),
    OpenAccount(10),
    OpenAccount(11),
    Deposit(10, "INR", 10**12),
    Deposit(11, "ACME", 10_000),
]


def order(account: int, side: Side, quantity: int, price: int, coid: str = "") -> PlaceOrder:
    return PlaceOrder(account, "ACME", side, quantity, price=price, client_order_id=coid)


async def started(engine: Engine, **options: object) -> Sequencer:
    recovered = recover(engine)
    sequencer = Sequencer(
        recovered.exchange,
        engine,
        last_seq=recovered.last_seq,
        last_ts_ns=recovered.last_ts_ns,
        **options,  # type: ignore[arg-type]
    )
    await sequencer.start()
    return sequencer


def run(coroutine_factory: Callable[[], object]) -> None:
    asyncio.run(coroutine_factory())  # type: ignore[arg-type]


def test_acknowledged_commands_are_journaled_with_their_events(engine: Engine) -> None:
    async def scenario() -> None:
        sequencer = await started(engine, clock=ManualClock())
        acks = [await sequencer.submit(command) for command in SETUP]
        sell = await sequencer.submit(order(11, Side.SELL, 5, 10_000))
        buy = await sequencer.submit(order(10, Side.BUY, 5, 10_000))
        await sequencer.stop()
        assert [ack.seq for ack in acks] == [1, 2, 3, 4, 5]
        assert (sell.seq, buy.seq) == (6, 7)
        assert any(isinstance(event, TradeExecuted) for event in buy.events)
        entries = list(read_journal(engine))
        assert [entry.seq for entry in entries] == list(range(1, 8))
        assert decode_command(entries[-1].kind, entries[-1].command) == order(
            10, Side.BUY, 5, 10_000
        )
        assert decode_events(entries[-1].events) == buy.events

    run(scenario)


def test_concurrent_commands_share_commits(engine: Engine) -> None:
    async def scenario() -> None:
        sequencer = await started(engine)
        for command in SETUP:
            await sequencer.submit(command)
        before = sequencer.stats.batches
        acks = await asyncio.gather(
            *(sequencer.submit(order(10, Side.BUY, 1, 9_000 + i * 5)) for i in range(200))
        )
        batches = sequencer.stats.batches - before
        await sequencer.stop()
        assert sorted(ack.seq for ack in acks) == list(range(6, 206))
        assert [ack.seq for ack in acks] == sorted(ack.seq for ack in acks)  # in order
        assert batches < 50, f"200 concurrent commands took {batches} commits"

    run(scenario)


def test_stop_drains_queued_commands(engine: Engine) -> None:
    async def scenario() -> None:
        sequencer = await started(engine)
        futures = [sequencer.submit(command) for command in SETUP]
        futures += [sequencer.submit(order(10, Side.BUY, 1, 9_000)) for _ in range(50)]
        await sequencer.stop()
        assert all(future.done() and not future.exception() for future in futures)
        with pytest.raises(SequencerStopped):
            sequencer.submit(order(10, Side.BUY, 1, 9_000))
        recovered = recover(engine)
        assert recovered.last_seq == 55
        assert recovered.snapshot_seq == 55  # a clean stop leaves a snapshot to start from
        assert recovered.replayed == 0

    run(scenario)


def test_journal_failure_fails_unacknowledged_commands_and_refuses_more(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def scenario() -> None:
        sequencer = await started(engine)
        for command in SETUP:
            await sequencer.submit(command)

        def broken(rows: object) -> None:
            raise OSError("disk full")

        monkeypatch.setattr(sequencer._writer, "append", broken)
        with pytest.raises(SequencerFailure):
            await sequencer.submit(order(10, Side.BUY, 1, 9_000))
        assert isinstance(sequencer.failure, OSError)
        with pytest.raises(SequencerStopped):
            sequencer.submit(order(10, Side.BUY, 1, 9_000))
        await sequencer.stop()
        # Nothing unacknowledged reached the journal; recovery is the last good state.
        assert recover(engine).last_seq == len(SETUP)

    run(scenario)


def test_recovery_from_snapshot_and_tail_equals_the_live_state(engine: Engine) -> None:
    async def scenario() -> None:
        sequencer = await started(engine, snapshot_every=10)
        for command in SETUP:
            await sequencer.submit(command)
        for i in range(40):
            side = Side.BUY if i % 2 else Side.SELL
            await sequencer.submit(order(10 if i % 2 else 11, side, 3, 10_000 + (i % 5) * 5))
        live_hash = snapshot.state_hash(sequencer.exchange)
        await sequencer.stop()
        recovered = recover(engine)
        assert recovered.snapshot_seq >= 10
        assert recovered.replayed == recovered.last_seq - recovered.snapshot_seq
        assert snapshot.state_hash(recovered.exchange) == live_hash
        result = verify_journal(engine)
        assert result.ok, result.problems
        assert result.snapshots_checked >= 3
        assert result.state_hash == live_hash

    run(scenario)


def test_restarted_sequencer_continues_the_sequence_and_idempotency(engine: Engine) -> None:
    async def scenario() -> None:
        first = await started(engine)
        for command in SETUP:
            await first.submit(command)
        placed = await first.submit(order(10, Side.BUY, 2, 9_500, coid="abc"))
        await first.stop()
        second = await started(engine)
        again = await second.submit(order(10, Side.BUY, 2, 9_500, coid="abc"))
        clash = await second.submit(order(10, Side.BUY, 3, 9_500, coid="abc"))
        await second.stop()
        assert again.seq == placed.seq + 1
        original_id = placed.events[0].order_id  # type: ignore[attr-defined]
        assert [getattr(e, "order_id", None) for e in again.events][:1] == [original_id]
        assert len(second.exchange.orders) == 1  # the resubmission placed nothing new
        assert isinstance(clash.events[0], CommandRejected)
        assert clash.events[0].reason == "duplicate_client_order_id"

    run(scenario)


def test_verification_detects_a_tampered_journal_and_a_bad_snapshot(engine: Engine) -> None:
    async def scenario() -> None:
        sequencer = await started(engine, snapshot_every=3)
        for command in SETUP:
            await sequencer.submit(command)
        await sequencer.submit(order(11, Side.SELL, 5, 10_000))
        await sequencer.submit(order(10, Side.BUY, 5, 10_000))
        await sequencer.stop()

    run(scenario)
    assert verify_journal(engine).ok
    with engine.begin() as connection:
        connection.execute(text("UPDATE journal SET events = :e WHERE seq = 7"), {"e": b"[]"})
    problems = verify_journal(engine).problems
    assert any("seq 7" in problem for problem in problems)
    with engine.begin() as connection:
        connection.execute(text("UPDATE snapshots SET state_hash = :h"), {"h": "0" * 64})
    with pytest.raises(RecoveryError):
        recover(engine)


def test_market_order_is_journaled_and_replayed_identically(engine: Engine) -> None:
    async def scenario() -> None:
        sequencer = await started(engine)
        for command in SETUP:
            await sequencer.submit(command)
        await sequencer.submit(order(11, Side.SELL, 5, 10_050))
        ack = await sequencer.submit(
            PlaceOrder(10, "ACME", Side.BUY, 3, OrderType.MARKET, tif=TimeInForce.IOC)
        )
        await sequencer.stop()
        assert any(isinstance(event, TradeExecuted) for event in ack.events)

    run(scenario)
    assert verify_journal(engine).ok


def test_verify_journal_command_reports_success_and_failure(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    async def scenario() -> None:
        sequencer = await started(engine)
        for command in SETUP:
            await sequencer.submit(command)
        await sequencer.stop()

    run(scenario)
    assert cli_main(["--database", database_url, "verify-journal"]) == 0
    assert "journal verified" in capsys.readouterr().out
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM journal WHERE seq = 3"))
    assert cli_main(["--database", database_url, "verify-journal"]) == 1
    assert "journal gap" in capsys.readouterr().out


def test_a_command_that_cannot_be_journaled_is_refused_at_submission(engine: Engine) -> None:
    async def scenario() -> None:
        sequencer = await started(engine)
        for command in SETUP:
            await sequencer.submit(command)
        with pytest.raises(InvalidCommand):
            sequencer.submit(order(10, Side.BUY, 2**70, 9_000))  # beyond 64-bit JSON
        ack = await sequencer.submit(order(10, Side.BUY, 1, 9_000))
        await sequencer.stop()
        assert ack.seq == len(SETUP) + 1

    run(scenario)


def test_malformed_values_are_refused_the_same_way_on_replay(engine: Engine) -> None:
    async def scenario() -> None:
        sequencer = await started(engine)
        for command in SETUP:
            await sequencer.submit(command)
        for bad in (
            PlaceOrder(10, "ACME", "BUY", 1, price=9_000),  # type: ignore[arg-type]
            PlaceOrder(10, "ACME", Side.BUY, 1, price=float("nan")),  # type: ignore[arg-type]
            PlaceOrder(10, "ACME", Side.BUY, 1.5, price=9_000),  # type: ignore[arg-type]
        ):
            ack = await sequencer.submit(bad)
            assert isinstance(ack.events[0], CommandRejected)
        await sequencer.stop()

    run(scenario)
    result = verify_journal(engine)
    assert result.ok, result.problems
    assert result.commands == len(SETUP) + 3


class _DefectiveExchange:
    """Delegates to a real exchange but fails on one marked command, like a bug would."""

    def __init__(self, real: object) -> None:
        self.real = real

    def apply(self, command: Command, now: int) -> list[object]:
        if isinstance(command, PlaceOrder) and command.client_order_id == "boom":
            raise ZeroDivisionError("a defect")
        return self.real.apply(command, now)  # type: ignore[attr-defined, no-any-return]


def test_an_engine_defect_stops_the_sequencer_before_anything_unsafe_is_acknowledged(
    engine: Engine,
) -> None:
    async def scenario() -> None:
        recovered = recover(engine)
        sequencer = Sequencer(_DefectiveExchange(recovered.exchange), engine)  # type: ignore[arg-type]
        await sequencer.start()
        for command in SETUP:
            await sequencer.submit(command)
        with pytest.raises(SequencerFailure):
            await sequencer.submit(order(10, Side.BUY, 1, 9_000, coid="boom"))
        with pytest.raises(SequencerStopped):
            sequencer.submit(order(10, Side.BUY, 1, 9_000))
        await sequencer.stop()

    run(scenario)
    assert recover(engine).last_seq == len(SETUP)


def test_a_sequencer_refuses_to_start_on_state_that_is_not_the_journal_end(engine: Engine) -> None:
    async def scenario() -> None:
        first = await started(engine)
        for command in SETUP:
            await first.submit(command)
        await first.stop()
        stale = Sequencer(recover(engine).exchange, engine)  # forgot last_seq
        with pytest.raises(RuntimeError, match="recover before starting"):
            await stale.start()

    run(scenario)


def test_listeners_see_every_committed_command_in_order_after_its_commit(engine: Engine) -> None:
    async def scenario() -> None:
        sequencer = await started(engine)
        seen: list[tuple[int, int]] = []  # (seq, journal rows durable when it was published)

        def publish(batch: list[Committed]) -> None:
            durable = sequencer._writer.last_written_seq
            seen.extend((entry.seq, durable) for entry in batch)

        sequencer.add_listener(publish)
        await asyncio.gather(*(sequencer.submit(command) for command in SETUP))
        await sequencer.stop()
        assert [seq for seq, _ in seen] == list(range(1, len(SETUP) + 1))
        assert all(durable >= seq for seq, durable in seen)

    run(scenario)


def test_a_gtd_order_expires_on_time_on_an_idle_exchange(engine: Engine) -> None:
    async def scenario() -> None:
        clock = ManualClock()
        sequencer = await started(engine, clock=clock)
        for command in SETUP:
            await sequencer.submit(command)
        updates: list[OrderUpdated] = []
        sequencer.add_listener(
            lambda batch: updates.extend(
                e for entry in batch for e in entry.events if isinstance(e, OrderUpdated)
            )
        )
        gtd = PlaceOrder(
            10, "ACME", Side.BUY, 1, price=9_000, tif=TimeInForce.GTD,
            expire_at=clock.now_ns() + 60 * 10**9,
        )  # fmt: skip
        await sequencer.submit(gtd)
        await asyncio.sleep(3 * EXPIRY_CHECK_SECONDS)
        assert [u.status for u in updates] == ["new"]  # not due: nothing happens
        clock.advance(61 * 10**9)  # the expiry passes; nobody sends a command
        deadline = asyncio.get_running_loop().time() + 5
        while updates[-1].status != "expired":
            assert asyncio.get_running_loop().time() < deadline, updates
            await asyncio.sleep(0.02)
        seq = sequencer.seq
        await asyncio.sleep(3 * EXPIRY_CHECK_SECONDS)
        assert sequencer.seq == seq  # one tick did it; an idle exchange stays idle
        await sequencer.stop()

    run(scenario)
