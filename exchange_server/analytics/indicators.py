"""Technical indicators over float64 numpy arrays, oldest first.

Each result has the length of its input; positions without enough history are NaN. Leading
NaNs in an input (an indicator of an indicator, such as the MACD signal line) are skipped:
the computation starts at the first finite value. Recursive smoothing (EMA, Wilder, the
Heikin-Ashi open) runs block-wise in numpy instead of a Python loop per bar, because charts
recompute them over hundreds of thousands of candles.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

# Largest growth of decay**-j accepted inside one block: keeps the scaled cumulative sums
# within ~8 significant digits of headroom so the result stays exact to ~1e-12 relative.
_MAX_BLOCK_GROWTH = 1e8
_MAX_BLOCK = 512


def _as_float(values: ArrayLike) -> Array:
    return np.ascontiguousarray(values, dtype=np.float64)


def _first_finite(values: Array) -> int:
    finite = np.flatnonzero(np.isfinite(values))
    return int(finite[0]) if finite.size else values.size


def smooth(values: Array, decay: float, initial: float) -> Array:
    """y[t] = decay * y[t-1] + (1 - decay) * x[t] with y[-1] = ``initial``.

    Within a block of B values the recursion has the closed form
    y[j] = decay**(j+1) * y[-1] + (1 - decay) * decay**j * cumsum(x[k] * decay**-k), so each
    block is a few vectorised operations; only the carry between blocks is sequential.
    """
    x = _as_float(values)
    n = x.size
    if n == 0:
        return x.copy()
    if decay <= 0.0:
        return x.copy()
    block = int(math.log(_MAX_BLOCK_GROWTH) / -math.log(decay)) if decay < 1.0 else _MAX_BLOCK
    block = max(1, min(_MAX_BLOCK, block, n))
    blocks = -(-n // block)
    padded = np.zeros(blocks * block)
    padded[:n] = x
    grid = padded.reshape(blocks, block)
    powers = decay ** np.arange(block, dtype=np.float64)  # decay**j
    local = np.cumsum(grid / powers, axis=1)
    local *= powers * (1.0 - decay)
    carry_weights = powers * decay  # decay**(j+1)
    ends = local[:, -1].tolist()
    decay_block = float(carry_weights[-1])
    carries = [0.0] * blocks
    previous = float(initial)
    for index in range(blocks):
        carries[index] = previous
        previous = ends[index] + decay_block * previous
    local += np.outer(np.asarray(carries), carry_weights)
    return local.reshape(-1)[:n]


def sma(values: ArrayLike, period: int) -> Array:
    """Simple moving average over ``period`` values."""
    if period < 1:
        raise ValueError("period must be at least 1")
    x = _as_float(values)
    out = np.full(x.size, np.nan)
    start = _first_finite(x)
    data = x[start:]
    if data.size < period:
        return out
    # Cumulative sums of the offsets from the first value keep the subtraction well
    # conditioned even for large prices over long series.
    csum = np.cumsum(data - data[0])
    window = csum[period - 1 :].copy()
    window[1:] -= csum[:-period]
    out[start + period - 1 :] = window / period + data[0]
    return out


def ema(values: ArrayLike, period: int) -> Array:
    """Exponential moving average, alpha = 2 / (period + 1), seeded with the SMA of the first
    ``period`` values (the usual charting convention, so the first value is defined)."""
    if period < 1:
        raise ValueError("period must be at least 1")
    return _seeded_smoothing(_as_float(values), period, 1.0 - 2.0 / (period + 1))


def wilder(values: ArrayLike, period: int) -> Array:
    """Wilder's smoothing (alpha = 1 / period), seeded with the SMA: RSI and ATR use it."""
    if period < 1:
        raise ValueError("period must be at least 1")
    return _seeded_smoothing(_as_float(values), period, 1.0 - 1.0 / period)


def _seeded_smoothing(x: Array, period: int, decay: float) -> Array:
    out = np.full(x.size, np.nan)
    start = _first_finite(x)
    if x.size - start < period:
        return out
    seed_at = start + period - 1
    seed = float(np.mean(x[start : seed_at + 1]))
    out[seed_at] = seed
    out[seed_at + 1 :] = smooth(x[seed_at + 1 :], decay, seed)
    return out


def bollinger_bands(
    close: ArrayLike, period: int = 20, width: float = 2.0
) -> tuple[Array, Array, Array]:
    """(middle, upper, lower): the SMA and ``width`` population standard deviations around it."""
    x = _as_float(close)
    middle = sma(x, period)
    deviation = np.full(x.size, np.nan)
    start = _first_finite(x)
    if x.size - start >= period:
        # Two-pass variance (squared distances from each window's own mean): exact, unlike
        # sums of squares, and one vectorised pass per window offset rather than a strided
        # reduction over every window.
        data = x[start:]
        count = data.size - period + 1
        mean = middle[start + period - 1 :]
        squares = np.zeros(count)
        for offset in range(period):
            distance = data[offset : offset + count] - mean
            squares += distance * distance
        deviation[start + period - 1 :] = np.sqrt(squares / period)
    return middle, middle + width * deviation, middle - width * deviation


def vwap(
    high: ArrayLike,
    low: ArrayLike,
    close: ArrayLike,
    volume: ArrayLike,
    session: ArrayLike | None = None,
) -> Array:
    """Volume-weighted average of the typical price (h + l + c) / 3, cumulative within each
    session (``session`` holds a key per bar, e.g. the trading day; None: one session).
    NaN until a session has traded."""
    h, lo, c, v = _as_float(high), _as_float(low), _as_float(close), _as_float(volume)
    n = c.size
    if n == 0:
        return c.copy()
    traded = np.cumsum((h + lo + c) / 3.0 * v)
    volumes = np.cumsum(v)
    if session is not None:
        keys = np.asarray(session)
        starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        lengths = np.diff(np.r_[starts, n])
        # Subtract what the sums held before each session started.
        traded_before = np.r_[0.0, traded][starts]
        volumes_before = np.r_[0.0, volumes][starts]
        traded = traded - np.repeat(traded_before, lengths)
        volumes = volumes - np.repeat(volumes_before, lengths)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(volumes > 0, traded / volumes, np.nan)


def rsi(close: ArrayLike, period: int = 14) -> Array:
    """Wilder's relative strength index, 0..100; 50 while the price has not moved at all."""
    x = _as_float(close)
    out = np.full(x.size, np.nan)
    start = _first_finite(x)
    if x.size - start <= period:
        return out
    change = np.diff(x[start:])
    gains = wilder(np.maximum(change, 0.0), period)
    losses = wilder(np.maximum(-change, 0.0), period)
    with np.errstate(invalid="ignore", divide="ignore"):
        value = 100.0 - 100.0 / (1.0 + gains / losses)
    value = np.where(losses == 0.0, np.where(gains == 0.0, 50.0, 100.0), value)
    value[np.isnan(gains)] = np.nan
    out[start + 1 :] = value
    return out


def macd(
    close: ArrayLike, fast: int = 12, slow: int = 26, signal: int = 9
) -> tuple[Array, Array, Array]:
    """(MACD line, signal line, histogram): EMA(fast) - EMA(slow), its EMA(signal), and the
    difference between the two."""
    x = _as_float(close)
    line = ema(x, fast) - ema(x, slow)
    signal_line = ema(line, signal)
    return line, signal_line, line - signal_line


def heikin_ashi(
    open_: ArrayLike, high: ArrayLike, low: ArrayLike, close: ArrayLike
) -> tuple[Array, Array, Array, Array]:
    """Heikin-Ashi (open, high, low, close): close = mean of OHLC, open = midpoint of the
    previous Heikin-Ashi candle's body (the first: midpoint of the real body)."""
    o, h, lo, c = _as_float(open_), _as_float(high), _as_float(low), _as_float(close)
    ha_close = (o + h + lo + c) / 4.0
    ha_open = np.empty_like(ha_close)
    if ha_close.size:
        first = (o[0] + c[0]) / 2.0
        ha_open[0] = first
        ha_open[1:] = smooth(ha_close[:-1], 0.5, first)
    ha_high = np.maximum(h, np.maximum(ha_open, ha_close))
    ha_low = np.minimum(lo, np.minimum(ha_open, ha_close))
    return ha_open, ha_high, ha_low, ha_close
