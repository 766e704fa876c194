"""Through the sequencer with the durable journal (fsync group commit).

Targets on SQLite: >= 50,000 commands/s sustained with 64 concurrent submitters, and p99
acknowledgement latency under 10 ms at 5,000 commands/s. The same is reported on
PostgreSQL. Read-model projections run in their own process and are switched off here, so
this measures the sequencer and the journal; `with_projections` repeats the throughput run
with them on.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from exchange_server import event_loop
from exchange_server.engine.journal import Durability
from exchange_server.engine.projections import Projector
from exchange_server.server import EngineSettings, ExchangeService, read_database_url_for
from exchange_server.storage.database import create_database_engine, migrate
from tests.benchmarks.bench_engine import CommandStream, setup_commands
from tests.benchmarks.report import percentile, report
from tests.benchmarks.workload import Workload

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as directory:
        yield f"sqlite:///{Path(directory) / 'bench.db'}"


@contextmanager
def postgres_url() -> Iterator[str]:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"bench_{uuid.uuid4().hex}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def postgres_available() -> bool:
    try:
        engine = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


async def start_service(url: str, projections: bool) -> ExchangeService:
    # Flush what earlier runs left in the page cache, so their write-back does not land in
    # this run's fsyncs.
    os.sync()
    service = ExchangeService(
        EngineSettings(url, durability=Durability.FSYNC, projections=projections)
    )
    await service.start()
    for command in setup_commands():
        await service.execute(command)  # type: ignore[arg-type]
    return service


async def throughput(
    url: str, workload: Workload, submitters: int, projections: bool, window: int = 1
) -> float:
    """Commands acknowledged per second with ``submitters`` concurrent clients, each keeping
    up to ``window`` commands in flight (1: send, wait for the acknowledgement, send again;
    more: a client that pipelines, as order-entry sessions do)."""
    service = await start_service(url, projections)
    commands = CommandStream(service.sequencer.exchange).commands(workload)
    sequencer = service.sequencer
    done = 0

    async def submitter() -> None:
        nonlocal done
        in_flight: deque[asyncio.Future[object]] = deque()
        for command in commands:
            in_flight.append(sequencer.submit(command))  # type: ignore[arg-type]
            if len(in_flight) >= window:
                await in_flight.popleft()
                done += 1
        for future in in_flight:
            await future
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(submitter() for _ in range(submitters)))
    elapsed = time.perf_counter() - started
    await service.stop()
    return done / elapsed


async def latency_at_rate(url: str, workload: Workload, rate: int, seconds: float) -> list[float]:
    """Open loop: commands go in on a fixed schedule whatever the acknowledgements do;
    latency is acknowledgement time minus scheduled time."""
    service = await start_service(url, projections=False)
    commands = CommandStream(service.sequencer.exchange).commands(workload)
    sequencer = service.sequencer
    latencies: list[float] = []
    # Futures are not kept: holding every acknowledgement (and its events) alive would make
    # the measurement about the benchmark's memory, not the exchange's.
    outstanding = 0
    drained = asyncio.Event()

    def acknowledged(scheduled: float) -> None:
        nonlocal outstanding
        latencies.append(time.perf_counter() - scheduled)
        outstanding -= 1
        if not outstanding:
            drained.set()

    started = time.perf_counter()
    sent = 0
    exhausted = False
    while not exhausted and (elapsed := time.perf_counter() - started) < seconds:
        while sent < int(elapsed * rate):  # every command whose time has come
            command = next(commands, None)
            if command is None:
                exhausted = True
                break
            scheduled = started + sent / rate
            sequencer.submit(command).add_done_callback(lambda _, t=scheduled: acknowledged(t))
            outstanding += 1
            sent += 1
        await asyncio.sleep(0.002)
    if outstanding:
        await drained.wait()
    await service.stop()
    return latencies


def projection_catch_up(url: str) -> tuple[int, float]:
    """Project a whole journal into the read models from scratch: (commands, seconds)."""
    read_engine = create_database_engine(read_database_url_for(url))
    journal_engine = create_database_engine(url)
    try:
        migrate(read_engine)
        projector = Projector(read_engine, journal_engine)
        projector.load()
        started = time.perf_counter()
        projected = projector.catch_up()
        return projected, time.perf_counter() - started
    finally:
        read_engine.dispose()
        journal_engine.dispose()


def run(workload: Workload, database: str = "sqlite", count: int = 200_000) -> None:
    bench = f"journal_{database}"
    source = sqlite_url if database == "sqlite" else postgres_url
    ops = Workload(
        *(
            column[:count]
            for column in (  # a prefix of the shared workload
                workload.kinds,
                workload.buys,
                workload.prices,
                workload.quantities,
                workload.accounts,
                workload.picks,
            )
        )
    )
    target = 50_000 if database == "sqlite" else None
    for window, metric in ((1, "waiting"), (16, "pipelining")):
        with source() as url:
            rate = event_loop.run(throughput(url, ops, 64, projections=False, window=window))
            if window == 1:
                projected, seconds = projection_catch_up(url)
                report(bench, "projection_catch_up", projected / seconds, "commands/s",
                       commands=projected)  # fmt: skip
        report(
            bench,
            f"throughput_64_submitters_{metric}",
            rate,
            "commands/s",
            target=target,
            durability="fsync",
            in_flight_per_submitter=window,
        )
    with source() as url:
        latencies = event_loop.run(latency_at_rate(url, ops, 5_000, 10.0))
    report(bench, "ack_latency_p50_at_5000_per_s", percentile(latencies, 0.5) * 1000, "ms")
    report(
        bench,
        "ack_latency_p99_at_5000_per_s",
        percentile(latencies, 0.99) * 1000,
        "ms",
        target=10 if database == "sqlite" else None,
        samples=len(latencies),
    )
    with source() as url:
        rate = event_loop.run(throughput(url, ops, 64, projections=True))
    report(bench, "throughput_64_submitters_with_projections", rate, "commands/s")
