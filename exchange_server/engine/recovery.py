"""Rebuilding the exchange from storage, and proving the journal tells one consistent story.

Recovery loads the newest snapshot (checking its hash) and replays the journal after it.
Verification replays the whole journal from empty, checks that every command yields exactly
the events that were journaled, that the state at each snapshot has that snapshot's hash,
and that the replayed end state equals what recovery produces.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from sqlalchemy import Engine

from exchange_server.domain import snapshot
from exchange_server.domain.exchange import Exchange
from exchange_server.engine.codec import decode_command, encode_events
from exchange_server.engine.journal import (
    latest_snapshot,
    read_journal,
    snapshot_hashes,
)


class RecoveryError(RuntimeError):
    """Storage is inconsistent: a snapshot does not match its hash, or the journal has gaps."""


@dataclass(slots=True)
class Recovered:
    exchange: Exchange
    last_seq: int
    last_ts_ns: int
    snapshot_seq: int
    replayed: int


def recover(engine: Engine) -> Recovered:
    """The exchange as of the last committed command. Everything, fees included, comes from
    the journal: configuration reaches the engine only as journaled commands."""
    stored = latest_snapshot(engine)
    if stored is None:
        exchange = Exchange()
        seq = ts = 0
    else:
        exchange = snapshot.restore(orjson.loads(stored.state))
        if snapshot.state_hash(exchange) != stored.state_hash:
            raise RecoveryError(f"snapshot at seq {stored.seq} does not match its hash")
        seq, ts = stored.seq, stored.ts_ns
    snapshot_seq = seq
    replayed = 0
    for entry in read_journal(engine, seq):
        if entry.seq != seq + 1:
            raise RecoveryError(f"journal gap: seq {entry.seq} follows {seq}")
        exchange.apply(decode_command(entry.kind, entry.command), entry.ts_ns)
        seq, ts = entry.seq, entry.ts_ns
        replayed += 1
    return Recovered(exchange, seq, ts, snapshot_seq, replayed)


@dataclass(slots=True)
class Verification:
    commands: int = 0
    state_hash: str = ""
    recovered_hash: str = ""
    snapshots_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_journal(engine: Engine, max_problems: int = 20) -> Verification:
    result = Verification()
    hashes = snapshot_hashes(engine)
    exchange = Exchange()
    seq = 0
    if 0 in hashes:
        result.problems.append("a snapshot claims seq 0")
    for entry in read_journal(engine):
        if entry.seq != seq + 1:
            result.problems.append(f"journal gap: seq {entry.seq} follows {seq}")
        seq = entry.seq
        events = exchange.apply(decode_command(entry.kind, entry.command), entry.ts_ns)
        if encode_events(events) != entry.events:
            result.problems.append(f"seq {seq}: replayed events differ from the journal")
        expected = hashes.get(seq)
        if expected is not None:
            result.snapshots_checked += 1
            if snapshot.state_hash(exchange) != expected:
                result.problems.append(f"seq {seq}: state differs from the snapshot's hash")
        if len(result.problems) >= max_problems:
            break
        result.commands += 1
    unreached = [s for s in hashes if s > seq]
    if unreached:
        result.problems.append(f"snapshots beyond the journal's end: {unreached}")
    result.state_hash = snapshot.state_hash(exchange)
    try:
        result.recovered_hash = snapshot.state_hash(recover(engine).exchange)
    except RecoveryError as problem:
        result.problems.append(str(problem))
    if result.recovered_hash and result.recovered_hash != result.state_hash:
        result.problems.append("snapshot + journal tail differs from a replay from empty")
    return result
