import math
import statistics

import pytest

from exchange_server.marketdata.fair_value import (
    AssetSpec,
    FairValueModel,
    seasonality,
)

SPECS = [
    AssetSpec("BANK1", 1000.0, sector="Banks"),
    AssetSpec("BANK2", 500.0, sector="Banks"),
    AssetSpec("SOFT1", 2000.0, sector="IT"),
    AssetSpec(
        "COIN",
        80_000.0,
        annual_vol=0.6,
        market_beta=0.0,
        sector="Crypto",
        sector_beta=0.0,
        seconds_per_year=365 * 86_400,
    ),
]


def log_returns(model: FairValueModel, steps: int, seconds: float) -> list[list[float]]:
    series: list[list[float]] = [[] for _ in model.specs]
    for _ in range(steps):
        before = list(model.values)
        model.step(seconds, [1.0] * len(model.specs))
        for i, value in enumerate(model.values):
            series[i].append(math.log(value / before[i]))
    return series


def test_the_same_seed_gives_the_same_path_and_another_seed_another() -> None:
    first, second, other = (FairValueModel(SPECS, seed) for seed in (42, 42, 43))
    for model in (first, second, other):
        for _ in range(500):
            model.step(1.0, [1.0, 1.0, 1.0, 1.0])
    assert first.values == second.values
    assert first.values != other.values


def test_a_closed_market_does_not_move_and_does_not_disturb_the_others() -> None:
    open_all = FairValueModel(SPECS, 7)
    coin_only = FairValueModel(SPECS, 7)
    for _ in range(100):
        open_all.step(1.0, [1.0, 1.0, 1.0, 1.0])
        coin_only.step(1.0, [0.0, 0.0, 0.0, 1.0])
    assert coin_only.values[:3] == [1000.0, 500.0, 2000.0]
    assert coin_only.values[3] == open_all.values[3]


def test_volatility_matches_the_annual_figure_over_a_long_run() -> None:
    spec = AssetSpec("X", 100.0, annual_vol=0.25, market_beta=0.0, jumps_per_year=0.0)
    model = FairValueModel([spec], 1)
    returns = log_returns(model, 40_000, 60.0)[0]
    annual = statistics.pstdev(returns) * math.sqrt(spec.seconds_per_year / 60.0)
    assert annual == pytest.approx(0.25, rel=0.1)


def test_assets_in_one_sector_move_together_more_than_across_sectors() -> None:
    model = FairValueModel(SPECS, 3)
    bank1, bank2, soft, coin = log_returns(model, 5_000, 10.0)
    same_sector = statistics.correlation(bank1, bank2)
    other_sector = statistics.correlation(bank1, soft)
    assert same_sector > other_sector + 0.1
    assert other_sector > 0.1  # the market factor
    assert abs(statistics.correlation(bank1, coin)) < 0.1


def test_volatility_clusters() -> None:
    """Large moves follow large moves: squared returns are autocorrelated."""
    spec = AssetSpec("X", 100.0, market_beta=0.0, jumps_per_year=0.0)
    model = FairValueModel([spec], 5)
    squared = [r * r for r in log_returns(model, 20_000, 30.0)[0]]
    assert statistics.correlation(squared[:-1], squared[1:]) > 0.05


def test_jumps_arrive_and_fatten_the_tails() -> None:
    spec = AssetSpec("X", 100.0, market_beta=0.0, jumps_per_year=2_000.0, jump_sd=0.02)
    returns = log_returns(FairValueModel([spec], 9), 20_000, 60.0)[0]
    sd = statistics.pstdev(returns)
    kurtosis = sum(r**4 for r in returns) / len(returns) / sd**4
    assert kurtosis > 4.0  # a normal distribution has 3


def test_intraday_seasonality_is_u_shaped_and_averages_one() -> None:
    assert seasonality(0.0) == pytest.approx(1.8)
    assert seasonality(1.0) == pytest.approx(1.8)
    assert seasonality(0.5) == pytest.approx(0.6)
    average = sum(seasonality(i / 1000) for i in range(1001)) / 1001
    assert average == pytest.approx(1.0, abs=0.01)


def test_clamp_keeps_a_value_inside_its_bounds() -> None:
    model = FairValueModel(SPECS, 1)
    model.clamp("BANK1", 1100.0, 1200.0)
    assert model.value("BANK1") == 1100.0


def test_factor_loadings_beyond_unit_variance_are_refused() -> None:
    with pytest.raises(ValueError, match="loadings"):
        FairValueModel([AssetSpec("X", 1.0, sector="S", market_beta=0.9, sector_beta=0.9)], 1)
