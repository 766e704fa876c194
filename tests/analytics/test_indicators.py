"""Indicators against straightforward per-bar reference implementations and known values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from exchange_server.analytics import (
    bollinger_bands,
    ema,
    heikin_ashi,
    macd,
    rsi,
    sma,
    vwap,
)
from exchange_server.analytics.indicators import smooth


def prices(n: int, seed: int = 7, start: float = 2500.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return start * np.exp(np.cumsum(rng.normal(0, 0.01, n)))


def reference_ema(values: list[float], period: int, alpha: float | None = None) -> list[float]:
    alpha = 2 / (period + 1) if alpha is None else alpha
    out = [math.nan] * len(values)
    if len(values) < period:
        return out
    value = sum(values[:period]) / period
    out[period - 1] = value
    for index in range(period, len(values)):
        value = alpha * values[index] + (1 - alpha) * value
        out[index] = value
    return out


def test_sma_matches_window_means_and_is_nan_before_the_first_full_window() -> None:
    x = prices(1000)
    result = sma(x, 20)
    assert np.isnan(result[:19]).all()
    expected = [x[i - 19 : i + 1].mean() for i in range(19, 1000)]
    np.testing.assert_allclose(result[19:], expected, rtol=1e-12)
    np.testing.assert_allclose(sma([1, 2, 3, 4], 2), [math.nan, 1.5, 2.5, 3.5])


@pytest.mark.parametrize("period", [1, 2, 9, 12, 26, 200])
def test_ema_matches_the_recursive_definition(period: int) -> None:
    x = prices(5000, seed=period)
    np.testing.assert_allclose(ema(x, period), reference_ema(list(x), period), rtol=1e-11)


def test_smoothing_stays_exact_over_long_series_with_slow_and_fast_decay() -> None:
    x = prices(200_000)
    for decay in (0.5, 0.9, 0.999):
        fast = smooth(x, decay, x[0])
        value, expected = x[0], np.empty_like(x)
        for index, item in enumerate(x[:3000]):
            value = decay * value + (1 - decay) * item
            expected[index] = value
        np.testing.assert_allclose(fast[:3000], expected[:3000], rtol=1e-11)
        assert np.isfinite(fast).all()


def test_ema_skips_leading_nans() -> None:
    x = np.r_[[math.nan] * 5, prices(50)]
    result = ema(x, 10)
    assert np.isnan(result[:14]).all()
    np.testing.assert_allclose(result[5:], reference_ema(list(x[5:]), 10), rtol=1e-12)


def test_bollinger_bands_are_the_sma_plus_and_minus_two_population_deviations() -> None:
    x = prices(500)
    middle, upper, lower = bollinger_bands(x, 20, 2.0)
    for index in (19, 100, 499):
        window = x[index - 19 : index + 1]
        assert middle[index] == pytest.approx(window.mean(), rel=1e-12)
        assert upper[index] == pytest.approx(window.mean() + 2 * window.std(), rel=1e-12)
        assert lower[index] == pytest.approx(window.mean() - 2 * window.std(), rel=1e-12)
    assert np.isnan(upper[:19]).all()


def test_rsi_known_values() -> None:
    # Wilder's own worked example (New Concepts in Technical Trading Systems, 1978) as
    # reproduced by StockCharts: closes and the RSI(14) of the 15th and later closes.
    closes = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89,
              46.03, 45.61, 46.28, 46.28, 46.00, 46.03, 46.41, 46.22, 45.64]  # fmt: skip
    result = rsi(closes, 14)
    assert np.isnan(result[:14]).all()
    np.testing.assert_allclose(result[14:], [70.46, 66.25, 66.48, 69.35, 66.29, 57.92], atol=0.01)


def test_rsi_extremes() -> None:
    assert rsi(np.arange(1.0, 40.0), 14)[-1] == 100.0
    assert rsi(np.arange(40.0, 1.0, -1), 14)[-1] == 0.0
    assert rsi(np.full(30, 5.0), 14)[-1] == 50.0


def test_macd_is_the_fast_minus_slow_ema_with_an_ema_signal() -> None:
    x = prices(400)
    line, signal, histogram = macd(x)
    expected_line = np.asarray(reference_ema(list(x), 12)) - np.asarray(reference_ema(list(x), 26))
    np.testing.assert_allclose(line, expected_line, rtol=1e-10, atol=1e-9)
    assert np.isnan(signal[: 25 + 8]).all() and np.isfinite(signal[33:]).all()
    np.testing.assert_allclose(
        signal[25:], reference_ema(list(expected_line[25:]), 9), rtol=1e-9, atol=1e-9
    )
    np.testing.assert_allclose(histogram, line - signal)


def test_vwap_resets_each_session_and_waits_for_volume() -> None:
    high = np.array([11.0, 12, 13, 21, 22])
    low = np.array([9.0, 10, 11, 19, 20])
    close = np.array([10.0, 11, 12, 20, 21])
    volume = np.array([0.0, 100, 300, 50, 150])
    result = vwap(high, low, close, volume, session=[1, 1, 1, 2, 2])
    assert math.isnan(result[0])
    assert result[1] == pytest.approx(11.0)
    assert result[2] == pytest.approx((11 * 100 + 12 * 300) / 400)
    assert result[3] == pytest.approx(20.0)  # a new session forgets the old one
    assert result[4] == pytest.approx((20 * 50 + 21 * 150) / 200)
    assert vwap(high, low, close, volume)[3] == pytest.approx((11 * 100 + 12 * 300 + 20 * 50) / 450)


def test_heikin_ashi() -> None:
    o = np.array([10.0, 11, 12, 11])
    h = np.array([12.0, 13, 13, 12])
    lo = np.array([9.0, 10, 11, 9])
    c = np.array([11.0, 12, 11, 10])
    ha_o, ha_h, ha_l, ha_c = heikin_ashi(o, h, lo, c)
    expected_close = (o + h + lo + c) / 4
    expected_open = [10.5]
    for index in range(1, 4):
        expected_open.append((expected_open[-1] + expected_close[index - 1]) / 2)
    np.testing.assert_allclose(ha_c, expected_close)
    np.testing.assert_allclose(ha_o, expected_open)
    np.testing.assert_allclose(ha_h, np.maximum.reduce([h, ha_o, ha_c]))
    np.testing.assert_allclose(ha_l, np.minimum.reduce([lo, ha_o, ha_c]))


def test_short_and_empty_inputs_give_nan_or_empty() -> None:
    assert np.isnan(sma([1.0, 2.0], 5)).all()
    assert np.isnan(rsi([1.0, 2.0], 14)).all()
    assert ema([], 5).size == 0
    assert heikin_ashi([], [], [], [])[0].size == 0
    assert vwap([], [], [], []).size == 0
    with pytest.raises(ValueError):
        sma([1.0], 0)
