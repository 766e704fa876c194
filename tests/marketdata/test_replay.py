"""Replay: a real day's 1-minute bars drive the fair value, and the engine's trades follow."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from exchange_server.domain.events import TradeExecuted
from exchange_server.engine.clock import ManualClock
from exchange_server.marketdata.replay import (
    BAR_NS,
    Bar,
    ReplayPath,
    load_replays,
    parse_replay_setting,
    read_bars,
)
from exchange_server.marketdata.simulator import Simulator, SimulatorConfig
from tests.marketdata.sim_support import LISTINGS, MONDAY_1000_IST, TICK_NS, engine_on

SBIN_CSV = """Symbol,Date,Time,Open,High,Low,Close,Volume
SBIN,2017-09-26,09:16:00,258.40,258.50,257.40,257.60,107820.0
SBIN,2017-09-26,09:17:00,257.50,257.50,256.80,257.10,121262.0
SBIN,2017-09-26,09:18:00,257.10,257.55,257.00,257.55,91547.0
SBIN,2017-09-27,09:16:00,251.00,252.00,250.00,251.50,1000.0
"""
YFINANCE_CSV = """Price,Close,High,Low,Open,Volume
Ticker,^NSEI,^NSEI,^NSEI,^NSEI,^NSEI
Datetime,,,,,
2025-09-04 03:45:00+00:00,24876.5,24970.25,24867.0,24970.25,0
2025-09-04 03:46:00+00:00,24876.75,24892.5,24875.75,24876.75,0
"""


@pytest.fixture
def sbin_file(tmp_path: Path) -> Path:
    path = tmp_path / "SBIN_1min_2017-09-26_2017-10-10.csv"
    path.write_text(SBIN_CSV)
    return path


def test_nse_bars_are_read_in_ist_and_yfinance_bars_in_utc(sbin_file: Path, tmp_path: Path) -> None:
    bars = read_bars(sbin_file)
    assert bars[0] == Bar(
        int(datetime(2017, 9, 26, 3, 46, tzinfo=UTC).timestamp()) * 10**9,
        258.40,
        258.50,
        257.40,
        257.60,
    )
    yahoo = tmp_path / "NSEI.csv"
    yahoo.write_text(YFINANCE_CSV)
    first = read_bars(yahoo)[0]
    assert first.start_ns == int(datetime(2025, 9, 4, 3, 45, tzinfo=UTC).timestamp()) * 10**9
    assert (first.open, first.high, first.low, first.close) == (
        24970.25,
        24970.25,
        24867.0,
        24876.5,
    )


def test_a_bar_is_walked_through_open_extremes_and_close(sbin_file: Path) -> None:
    bars = read_bars(sbin_file)[:1]  # falling bar: high first, then low
    path = ReplayPath.of_bars("SBIN", bars)
    start = bars[0].start_ns
    samples = [path.price_at(start + i * BAR_NS // 600) for i in range(600)]
    assert samples[0] == pytest.approx(258.40)
    assert max(s for s in samples if s is not None) == pytest.approx(258.50, abs=0.01)
    assert min(s for s in samples if s is not None) == pytest.approx(257.40, abs=0.01)
    assert samples.index(max(samples)) < samples.index(min(samples))  # type: ignore[type-var]
    assert path.price_at(start + BAR_NS - 1) == pytest.approx(257.60)
    assert path.price_at(start - 1) is None
    assert path.price_at(start + BAR_NS) is None


def test_shifted_and_scaled_paths_keep_the_shape(sbin_file: Path) -> None:
    path = ReplayPath.of_bars("SBIN", read_bars(sbin_file)[:3])
    moved = path.shifted(10**18).scaled(1101.10)
    assert moved.start_ns == 10**18 and moved.first_price == pytest.approx(1101.10)
    for offset in (0, BAR_NS // 2, 2 * BAR_NS + 5):
        original = path.price_at(path.start_ns + offset)
        assert moved.price_at(10**18 + offset) == pytest.approx(original * 1101.10 / 258.40)  # type: ignore[operator]


def test_the_replay_setting_names_symbol_file_and_day(sbin_file: Path) -> None:
    folder = sbin_file.parent
    assert parse_replay_setting(f"SBIN={folder}@2017-09-27, TCS={sbin_file}") == [
        ("SBIN", sbin_file, datetime(2017, 9, 27).date()),
        ("TCS", sbin_file, None),
    ]
    (day_two,) = load_replays(f"SBIN={sbin_file}@2017-09-27")
    assert day_two.first_price == 251.0
    (day_one,) = load_replays(f"SBIN={sbin_file}")
    assert day_one.first_price == 258.40
    for bad in ("SBIN", f"SBIN={folder / 'missing.csv'}", f"SBIN={sbin_file}@2017-09-30"):
        with pytest.raises(ValueError):
            load_replays(bad)


async def test_replaying_a_real_day_trades_along_the_real_prices(sbin_file: Path) -> None:
    (replay,) = load_replays(f"SBIN={sbin_file}@2017-09-26")
    clock = ManualClock(replay.start_ns)  # the clock on the replayed day: real prices
    async with engine_on(sbin_file.parent, clock) as service:
        trades: list[TradeExecuted] = []
        service.sequencer.add_listener(
            lambda batch: trades.extend(
                e
                for c in batch
                for e in c.events
                if type(e) is TradeExecuted and e.symbol == "SBIN"
            )
        )
        simulator = Simulator(service, LISTINGS, SimulatorConfig(seed=5), clock, [replay])
        for _ in range(1_800):  # the three replayed minutes
            clock.advance(TICK_NS)
            await simulator.step()
        instrument = service.sequencer.exchange.instruments["SBIN"]
        assert instrument.band_low <= 25_840 <= instrument.band_high  # band moved to 2017
        by_minute: dict[int, list[int]] = {}
        for trade in trades:
            by_minute.setdefault((trade.ts - replay.start_ns) // BAR_NS, []).append(trade.price)
        for minute, bar in enumerate(read_bars(sbin_file)[:3]):
            prices = by_minute[minute]
            assert bar.low * 100 - 30 <= min(prices) and max(prices) <= bar.high * 100 + 30
            assert prices[-1] == pytest.approx(bar.close * 100, abs=30)


async def test_replaying_the_shape_continues_from_todays_price(sbin_file: Path) -> None:
    (replay,) = load_replays(f"SBIN={sbin_file}@2017-09-26")
    clock = ManualClock(MONDAY_1000_IST)  # today, in session: the path starts now, rescaled
    async with engine_on(sbin_file.parent, clock) as service:
        simulator = Simulator(service, LISTINGS, SimulatorConfig(seed=5), clock, [replay])
        await simulator.prepare()
        moved = simulator.replays["SBIN"]
        assert moved.start_ns == MONDAY_1000_IST
        assert moved.first_price == pytest.approx(110_110)
        for _ in range(600):
            clock.advance(TICK_NS)
            await simulator.step()
        expected = 110_110 * 257.60 / 258.40
        assert simulator.fair_value("SBIN") == pytest.approx(expected, rel=1e-3)
