"""Fair-value processes for the simulated market: pure, seeded and reproducible.

Each asset's log price moves by a factor model: a market shock shared by every asset, a
sector shock shared within a sector and an idiosyncratic shock, scaled by the asset's own
volatility. Volatility clusters (its log follows a mean-reverting process and jumps kick it
up), jumps arrive as a Poisson process, and a caller-supplied intensity carries intraday
seasonality (see ``seasonality``). No I/O, no clock: the caller says how much trading time
passed, so the same seed and the same steps give the same path on every machine.

Values are floats in the instrument's price units; orders are made from them by rounding to
ticks elsewhere. Floats never reach the engine.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

# Trading seconds in a year, the unit that turns an annual volatility into a per-second one.
NSE_SECONDS_PER_YEAR = 252 * 22_500  # 252 sessions of 6h15m
CONTINUOUS_SECONDS_PER_YEAR = 365 * 86_400


@dataclass(frozen=True, slots=True)
class AssetSpec:
    symbol: str
    price: float  # the starting value: the last close
    annual_vol: float = 0.25  # long-run volatility over a year of trading time
    sector: str = ""
    market_beta: float = 0.5  # loading on the market shock
    sector_beta: float = 0.4  # loading on the sector shock (ignored without a sector)
    seconds_per_year: float = NSE_SECONDS_PER_YEAR
    jumps_per_year: float = 20.0
    jump_sd: float = 0.01  # of the log price


@dataclass(frozen=True, slots=True)
class ModelParams:
    vol_half_life_seconds: float = 1_200.0  # how long a burst of volatility takes to halve
    vol_state_sd: float = 0.35  # stationary spread of log volatility: bursts of ~1.4x
    jump_vol_kick: float = 0.6  # a jump raises log volatility by this much (clustering)


def seasonality(fraction: float) -> float:
    """U-shaped intraday volatility: busy at the open and the close, quiet at midday.

    ``fraction`` is the part of the session elapsed (0..1); the multiplier averages 1 over
    the session, 1.8 at the edges and 0.6 in the middle."""
    centred = 2.0 * min(max(fraction, 0.0), 1.0) - 1.0
    return 0.6 * (1.0 + 2.0 * centred * centred)


class FairValueModel:
    """The joint process of a universe of assets."""

    def __init__(
        self, specs: Sequence[AssetSpec], seed: int, params: ModelParams | None = None
    ) -> None:
        self.specs = list(specs)
        self.params = params or ModelParams()
        self.index = {spec.symbol: i for i, spec in enumerate(self.specs)}
        self.values = [float(spec.price) for spec in self.specs]
        self.vol_state = [0.0] * len(self.specs)  # log volatility relative to the long run
        self._rng = random.Random(seed)
        sectors = sorted({spec.sector for spec in self.specs if spec.sector})
        self._sector_of = [sectors.index(spec.sector) if spec.sector else -1 for spec in self.specs]
        self._sector_count = len(sectors)
        # Per-second variance and the idiosyncratic weight that keeps each shock's variance 1.
        self._variance = [spec.annual_vol**2 / spec.seconds_per_year for spec in self.specs]
        self._idio = []
        for spec in self.specs:
            sector_beta = spec.sector_beta if spec.sector else 0.0
            rest = 1.0 - spec.market_beta**2 - sector_beta**2
            if rest < 0:
                raise ValueError(f"{spec.symbol}: factor loadings exceed a variance of 1")
            self._idio.append(math.sqrt(rest))

    def value(self, symbol: str) -> float:
        return self.values[self.index[symbol]]

    def set_value(self, symbol: str, value: float) -> None:
        """Move an asset (a replayed path, a bound); the process continues from there."""
        self.values[self.index[symbol]] = value

    def step(self, seconds: float, intensity: Sequence[float]) -> None:
        """Advance by ``seconds`` of wall-clock market time.

        ``intensity[i]`` scales asset i's volatility for this step: 0 freezes it (its market
        is closed), the ``seasonality`` multiplier shapes its trading day. Every asset
        draws its shocks whether frozen or not, so which markets are open never changes
        the random stream of the others."""
        if seconds <= 0:
            return
        rng = self._rng
        gauss = rng.gauss
        params = self.params
        decay = math.exp(-seconds * math.log(2) / params.vol_half_life_seconds)
        vol_noise = params.vol_state_sd * math.sqrt(1.0 - decay * decay)
        # E[exp(2x)] = exp(2 sd^2) for the stationary log-vol x: dividing it out keeps the
        # long-run variance at the asset's annual volatility.
        vol_bias = params.vol_state_sd**2
        market = gauss(0.0, 1.0)
        sectors = [gauss(0.0, 1.0) for _ in range(self._sector_count)]
        values, vol_state = self.values, self.vol_state
        for i, spec in enumerate(self.specs):
            own = gauss(0.0, 1.0)
            vol_shock = gauss(0.0, 1.0)
            jump_draw = rng.random()
            jump_size = gauss(0.0, spec.jump_sd)
            state = vol_state[i] * decay + vol_noise * vol_shock
            scale = intensity[i]
            if scale <= 0.0:
                vol_state[i] = state
                continue
            sector = self._sector_of[i]
            shock = spec.market_beta * market + self._idio[i] * own
            if sector >= 0:
                shock += spec.sector_beta * sectors[sector]
            variance = self._variance[i] * math.exp(2.0 * (state - vol_bias)) * scale * scale
            log_return = math.sqrt(variance * seconds) * shock - 0.5 * variance * seconds
            if jump_draw < spec.jumps_per_year / spec.seconds_per_year * seconds:
                log_return += jump_size
                state += params.jump_vol_kick
            vol_state[i] = state
            values[i] *= math.exp(log_return)

    def clamp(self, symbol: str, low: float, high: float) -> None:
        """Keep an asset inside ``[low, high]`` (its price band, less room for quotes)."""
        i = self.index[symbol]
        if low <= high:
            self.values[i] = min(max(self.values[i], low), high)
