"""The `exchange-server` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import time
from pathlib import Path

from exchange_server.api.settings import ServerSettings, load_settings
from exchange_server.engine.journal import Durability
from exchange_server.paths import default_data_dir
from exchange_server.protocol import CANDLE_INTERVALS
from exchange_server.storage.database import (
    create_database_engine,
    default_database_url,
    migrate,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="exchange-server", description=__doc__)
    parser.add_argument(
        "--database",
        default=None,
        help="database URL (default: EXCHANGE_DATABASE_URL, else SQLite in the data directory)",
    )
    parser.add_argument("--log-level", default="INFO")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("migrate", help="apply database migrations and exit")

    commands.add_parser(
        "verify-journal",
        help="replay the whole journal from empty and check events, snapshots and state hash",
    )

    demo = commands.add_parser(
        "demo", help="run the engine alone with the simulated market, printing a ticker"
    )
    demo.add_argument("--seconds", type=float, default=0, help="stop after this long (0: never)")
    demo.add_argument("--seed", type=int, default=7)
    demo.add_argument(
        "--rate", type=float, default=2.0, help="trades per second per instrument (aimed at)"
    )
    demo.add_argument(
        "--durability", choices=[d.value for d in Durability], default=Durability.FSYNC.value
    )

    serve = commands.add_parser("serve", help="run the exchange server (REST + WebSocket API)")
    serve.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8000; 0: any free)")
    serve.add_argument("--data-dir", type=Path, default=None, help="mail outbox and files")
    serve.add_argument("--config", type=Path, default=None, help="TOML settings file")
    serve.add_argument("--tls-cert", default=None, help="TLS certificate (PEM)")
    serve.add_argument("--tls-key", default=None, help="TLS private key (PEM)")
    serve.add_argument(
        "--cors-origin", action="append", default=None, help="allowed browser origin (repeat)"
    )
    serve.add_argument(
        "--demo-market", action="store_true", help="list the demo market and run its order flow"
    )
    serve.add_argument(
        "--embedded",
        action="store_true",
        help="child of a workstation: announce the address on stdout, exit when stdin closes",
    )

    admin = commands.add_parser("create-admin", help="create an administrator account")
    admin.add_argument("email")
    admin.add_argument(
        "--password-env",
        default="EXCHANGE_ADMIN_PASSWORD",
        help="environment variable holding the password (default EXCHANGE_ADMIN_PASSWORD; "
        "prompted for when unset)",
    )

    bars = commands.add_parser(
        "import-bars",
        help="import OHLCV candles from a CSV file (checked whole; re-importing is harmless)",
    )
    bars.add_argument("file", type=Path)
    bars.add_argument("--symbol", help="the instrument, when the file has no symbol column")
    bars.add_argument("--interval", choices=list(CANDLE_INTERVALS), help="default: inferred")
    bars.add_argument("--tz", help="time zone of times without an offset (default: exchange's)")
    bars.add_argument("--round", action="store_true", help="round prices finer than the tick units")
    bars.add_argument("--dry-run", action="store_true", help="check and report, store nothing")

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("alembic").setLevel(logging.WARNING)
    url = args.database or default_database_url()
    if args.command == "migrate":
        engine = create_database_engine(url)
        migrate(engine)
        engine.dispose()
        print(f"database is up to date: {url}")
        return 0
    if args.command == "verify-journal":
        return verify(url)
    if args.command == "serve":
        return serve_api(url, args)
    if args.command == "create-admin":
        return create_admin(url, args.email, args.password_env)
    if args.command == "import-bars":
        return import_bars(url, args)
    if args.command == "demo":
        return asyncio.run(demo_market(url, args.seconds, args.seed, args.rate, args.durability))
    parser.error(f"unknown command {args.command}")
    return 2


def server_settings(url: str, args: argparse.Namespace) -> ServerSettings:
    """Defaults, then the config file and ``EXCHANGE_*`` variables, then the arguments."""
    settings = load_settings(
        ServerSettings(database_url=url, data_dir=default_data_dir()),
        args.config if getattr(args, "config", None) else None,
    )
    settings.database_url = url
    explicit = {
        "host": getattr(args, "host", None),
        "port": getattr(args, "port", None),
        "data_dir": getattr(args, "data_dir", None),
        "tls_certfile": getattr(args, "tls_cert", None),
        "tls_keyfile": getattr(args, "tls_key", None),
        "cors_origins": getattr(args, "cors_origin", None),
    }
    for name, value in explicit.items():
        if value is not None:
            setattr(settings, name, value)
    if getattr(args, "demo_market", False):
        settings.demo_market = True
    return settings


def serve_api(url: str, args: argparse.Namespace) -> int:
    from exchange_server.serve import run_server

    try:
        settings = server_settings(url, args)
    except (OSError, ValueError, KeyError) as problem:
        print(f"exchange-server: bad settings: {problem}", file=sys.stderr)
        return 2
    if bool(settings.tls_certfile) != bool(settings.tls_keyfile):
        print("exchange-server: give both --tls-cert and --tls-key", file=sys.stderr)
        return 2
    if args.embedded and not settings.embedded_secret:
        print("exchange-server: --embedded needs EXCHANGE_EMBEDDED_SECRET", file=sys.stderr)
        return 2
    return run_server(settings, watch_stdin=args.embedded)


def create_admin(url: str, email: str, password_env: str) -> int:
    import getpass

    from exchange_server.api.context import ServerContext
    from exchange_server.api.errors import ApiError

    password = os.environ.get(password_env) or getpass.getpass(f"password for {email}: ")
    settings = server_settings(url, argparse.Namespace())

    async def create() -> int:
        context = ServerContext(settings)  # the server's parts, without HTTP
        await context.start()
        try:
            user = await context.auth.create_user(
                email, password, role="admin", verified=True, display_name="Administrator"
            )
        except ApiError as refused:
            print(f"exchange-server: {refused.message} ({refused.code})", file=sys.stderr)
            return 1
        finally:
            await context.stop()
        print(f"administrator {user.email} created (user {user.user_id})")
        return 0

    return asyncio.run(create())


def verify(url: str) -> int:
    from exchange_server.engine.recovery import verify_journal

    engine = create_database_engine(url)
    migrate(engine)
    started = time.perf_counter()
    result = verify_journal(engine)
    engine.dispose()
    elapsed = time.perf_counter() - started
    print(f"commands replayed:    {result.commands} in {elapsed:.1f} s")
    print(f"snapshots checked:    {result.snapshots_checked}")
    print(f"replayed state hash:  {result.state_hash}")
    print(f"recovered state hash: {result.recovered_hash}")
    for problem in result.problems:
        print(f"PROBLEM: {problem}")
    print("journal verified" if result.ok else "journal verification FAILED")
    return 0 if result.ok else 1


TICKER_SYMBOLS = ("NIFTY50", "RELIANCE", "TCS", "INFY", "HDFCBANK", "BTC-INR")


async def demo_market(url: str, seconds: float, seed: int, rate: float, durability: str) -> int:
    from exchange_server.marketdata.simulator import (
        Simulator,
        SimulatorConfig,
        set_up_demo_market,
    )
    from exchange_server.marketdata.universe import demo_universe
    from exchange_server.server import EngineSettings, ExchangeService

    service = ExchangeService(EngineSettings(url, durability=Durability(durability)))
    await service.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    listings = demo_universe()
    await set_up_demo_market(service, listings)
    simulator = Simulator(
        service,
        listings,
        SimulatorConfig(seed=seed, trades_per_second=rate, always_open=True),
    )
    flow = asyncio.create_task(simulator.run())
    print(f"exchange running on {url} (Ctrl-C to stop)", flush=True)
    deadline = time.monotonic() + seconds if seconds else None
    last_seq = service.sequencer.seq
    try:
        while not stop.is_set() and not flow.done():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            exchange = service.sequencer.exchange
            seq = service.sequencer.seq
            quotes = "  ".join(
                f"{symbol} {exchange.instruments[symbol].price_to_decimal(price)}"
                for symbol in TICKER_SYMBOLS
                if (
                    price := exchange.last_price.get(symbol)
                    or exchange.instruments[symbol].reference_price
                )
            )
            print(f"seq {seq:>8}  {seq - last_seq:>5} cmd/s  {quotes}", flush=True)
            last_seq = seq
            if deadline and time.monotonic() >= deadline:
                break
    finally:
        flow.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await flow
        await service.stop()
    if flow.done() and not flow.cancelled() and flow.exception() is not None:
        raise flow.exception()  # type: ignore[misc]
    return 0


def import_bars(url: str, args: argparse.Namespace) -> int:
    from zoneinfo import ZoneInfoNotFoundError

    from exchange_server.marketdata.history import HistoryStore, history_database_url
    from exchange_server.marketdata.importer import ImportFailed, ParseOptions, Scales, import_file
    from exchange_server.marketdata.universe import listing_by_symbol

    listings = listing_by_symbol()

    def scales(symbol: str) -> Scales:
        listing = listings.get(symbol)
        if listing is None:  # not a demo listing: paise and whole shares in India
            return Scales()
        return Scales(listing.price_decimals, listing.quantity_decimals, listing.timezone)

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty() or done == total:
            percent = 100 * done // total if total else 100
            print(f"\rchecking {args.file.name}: {percent:3d}% of {total:,} rows", end="",
                  file=sys.stderr, flush=True)  # fmt: skip
            if done == total:
                print(file=sys.stderr)

    if not args.file.is_file():
        print(f"import-bars: no such file {args.file}", file=sys.stderr)
        return 2
    engine = create_database_engine(history_database_url(url))
    try:
        migrate(engine)
        options = ParseOptions(args.symbol, args.interval, args.tz, args.round, scales)
        report = import_file(HistoryStore(engine), args.file, options, progress, args.dry_run)
    except ImportFailed as failure:
        print(
            f"import-bars: {args.file}: {len(failure.problems)} bad rows, nothing imported:\n"
            f"{failure}",
            file=sys.stderr,
        )
        return 1
    except ZoneInfoNotFoundError:
        print(f"import-bars: unknown time zone {args.tz!r}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()
    for symbol, candles in sorted(report.bars.items()):
        print(f"{symbol}: {len(candles):,} {report.interval} candles")
    verb = "would store" if args.dry_run else "stored"
    print(
        f"{verb} {report.rows:,} candles: {report.new:,} new, {report.replaced:,} replaced, "
        f"{report.unchanged:,} unchanged; {report.skipped:,} zero-volume rows skipped"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
