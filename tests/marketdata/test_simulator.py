"""The simulator against the real engine on a ManualClock: reproducible and sane."""

import asyncio
from dataclasses import replace
from pathlib import Path

from exchange_server.domain.enums import AssetClass
from exchange_server.engine.clock import ManualClock
from exchange_server.marketdata.simulator import (
    BOT_ACCOUNTS,
    Simulator,
    SimulatorConfig,
    set_up_demo_market,
)
from tests.marketdata.sim_support import (
    LISTINGS,
    MONDAY_1000_IST,
    TICK_NS,
    engine_on,
    record_trades,
)

TRADED = [listing.symbol for listing in LISTINGS if listing.asset_class != AssetClass.INDEX]


async def simulate(path: Path, seed: int, ticks: int) -> list[tuple[object, ...]]:
    clock = ManualClock(MONDAY_1000_IST)
    async with engine_on(path, clock) as service:
        trades = record_trades(service)
        simulator = Simulator(service, LISTINGS, SimulatorConfig(seed=seed), clock=clock)
        for _ in range(ticks):
            clock.advance(TICK_NS)
            await simulator.step()
    return trades


async def test_the_same_seed_makes_the_same_trades(tmp_path: Path) -> None:
    first = await simulate(tmp_path / "a", seed=11, ticks=300)
    second = await simulate(tmp_path / "b", seed=11, ticks=300)
    other = await simulate(tmp_path / "c", seed=12, ticks=300)
    assert len(first) > 100
    assert first == second
    assert first != other


async def test_an_hour_of_market_keeps_books_two_sided_spreads_tight_and_prices_in_band(
    tmp_path: Path,
) -> None:
    clock = ManualClock(MONDAY_1000_IST)
    async with engine_on(tmp_path, clock) as service:
        trades = record_trades(service)
        config = SimulatorConfig(seed=3, tick_seconds=1.0)  # an hour in 3,600 ticks
        simulator = Simulator(service, LISTINGS, config, clock=clock)
        exchange = service.sequencer.exchange
        samples = two_sided = 0
        widest: dict[str, int] = dict.fromkeys(TRADED, 0)
        for _ in range(3_600):
            clock.advance(10 * TICK_NS)
            await simulator.step()
            for symbol in TRADED:
                book = exchange.books[symbol]
                samples += 1
                if book.best_bid and book.best_ask:
                    two_sided += 1
                    spread = (book.best_ask - book.best_bid) / exchange.instruments[
                        symbol
                    ].tick_size
                    widest[symbol] = max(widest[symbol], int(spread))
        assert two_sided / samples > 0.95
        for symbol in TRADED:
            instrument = exchange.instruments[symbol]
            step_ticks = max(1, round(instrument.reference_price * 0.00005 / instrument.tick_size))
            assert widest[symbol] <= 20 * step_ticks, symbol
        by_symbol: dict[str, list[int]] = {}
        for trade in trades:
            by_symbol.setdefault(str(trade[1]), []).append(int(trade[2]))  # type: ignore[call-overload]
        for symbol in TRADED:
            instrument = exchange.instruments[symbol]
            prices = by_symbol[symbol]
            assert len(prices) > 1_800, symbol  # about 2 a second by default
            assert all(instrument.band_low <= p <= instrument.band_high for p in prices)
        # Bots stay long-only and keep their inventories.
        for account in BOT_ACCOUNTS:
            for symbol in TRADED:
                assert exchange.ledger.balance(account, symbol) > 0


async def test_nse_instruments_do_not_trade_after_the_close_but_crypto_does(
    tmp_path: Path,
) -> None:
    before_close = MONDAY_1000_IST + (5 * 3600 + 29 * 60) * 10**9  # 15:29 IST
    clock = ManualClock(before_close)
    async with engine_on(tmp_path, clock) as service:
        trades = record_trades(service)
        simulator = Simulator(service, LISTINGS, clock=clock)
        for _ in range(1_200):  # two minutes, across the close
            clock.advance(TICK_NS)
            await simulator.step()
        close = before_close + 60 * 10**9
        late = {trade[1] for trade in trades if int(trade[-1]) >= close}  # type: ignore[call-overload]
        assert late == {"BTC-INR"}
        assert {trade[1] for trade in trades} >= {"SBIN", "TCS", "HDFCBANK"}


async def test_the_index_level_is_published_and_follows_the_market(tmp_path: Path) -> None:
    clock = ManualClock(MONDAY_1000_IST)
    async with engine_on(tmp_path, clock) as service:
        simulator = Simulator(service, LISTINGS, clock=clock)
        levels = set()
        for _ in range(300):
            clock.advance(TICK_NS)
            await simulator.step()
            levels.add(service.sequencer.exchange.instruments["NIFTY50"].reference_price)
        assert len(levels) > 5


async def test_every_index_is_published_not_only_the_first(tmp_path: Path) -> None:
    nifty = next(listing for listing in LISTINGS if listing.symbol == "NIFTY50")
    bank = replace(nifty, symbol="BANKNIFTY", name="NIFTY BANK")
    clock = ManualClock(MONDAY_1000_IST)
    async with engine_on(tmp_path, clock) as service:
        simulator = Simulator(service, [*LISTINGS, bank], clock=clock)
        instruments = service.sequencer.exchange.instruments
        levels: dict[str, set[int]] = {"NIFTY50": set(), "BANKNIFTY": set()}
        for _ in range(300):
            clock.advance(TICK_NS)
            await simulator.step()
            for symbol, seen in levels.items():
                seen.add(instruments[symbol].reference_price)
        assert all(len(seen) > 5 for seen in levels.values()), levels


async def test_setting_up_twice_changes_nothing_the_second_time(tmp_path: Path) -> None:
    async with engine_on(tmp_path, ManualClock(MONDAY_1000_IST)) as service:
        await set_up_demo_market(service, LISTINGS)
        seq = service.sequencer.seq
        await set_up_demo_market(service, LISTINGS)
        assert service.sequencer.seq == seq


async def test_run_ticks_in_real_time_until_stopped(tmp_path: Path) -> None:
    async with engine_on(tmp_path, ManualClock(MONDAY_1000_IST)) as service:
        config = SimulatorConfig(tick_seconds=0.01, always_open=True)
        simulator = Simulator(service, LISTINGS, config)  # the system clock
        five_ticks = asyncio.Event()
        step = simulator.step

        async def counted_step() -> None:
            await step()
            if simulator.ticks >= 5:
                five_ticks.set()

        simulator.step = counted_step  # type: ignore[method-assign]
        task = asyncio.create_task(simulator.run())
        await asyncio.wait_for(five_ticks.wait(), 10)
        await simulator.stop()
        await asyncio.wait_for(task, 5)
        assert task.done() and task.exception() is None
