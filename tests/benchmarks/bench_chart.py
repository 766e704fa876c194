"""Chart repaint: 200,000 one-minute candles, pans and zooms, each followed by a synchronous
repaint of the whole chart widget (offscreen, 1600x900), as a user's drag or wheel step.

The issue's target: a pan or zoom repaints in under 16 ms. Measured at three zoom levels
(200 bars on screen, 5,000, and all 200,000) with volume, and again with the SMA, Bollinger
bands, RSI and MACD on.

Each repaint is timed twice: wall clock (``*_repaint_p50``/``p99``, what the target is about)
and the main thread's CPU time (``*_repaint_cpu_*``), which stays meaningful when other
processes share the cores; each line carries the load average when its case ran.
"""

from __future__ import annotations

import os
import time

import numpy as np

from tests.benchmarks.report import percentile, report

BARS = 200_000
STEPS = 60  # pans (or zooms) per measured case


def _series_values(count: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    close = 2500.0 * np.exp(np.cumsum(rng.normal(0, 0.0008, count)))
    open_ = np.r_[close[0], close[:-1]]
    spread = np.abs(rng.normal(0, 0.0006, count)) * close
    high = np.maximum(open_, close) + spread
    low = np.minimum(open_, close) - spread
    volume = rng.integers(100, 5000, count).astype(np.float64)
    minute = 60 * 10**9
    ts = 1_700_000_000 * 10**9 + np.arange(count, dtype=np.int64) * minute
    return ts, np.vstack([open_, high, low, close, volume])


def run(bars: int = BARS) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from workstation.charts.chart_view import ChartView

    app = QApplication.instance() or QApplication([])
    view = ChartView()
    view.resize(1600, 900)
    view.set_instrument("BENCH", "1m", 2, int(5.5 * 3600) * 10**9)
    ts, values = _series_values(bars)
    view.series.prepend(ts, values)
    view.show()
    view.data_changed()
    app.processEvents()
    viewport = view.graphics.viewport()

    def repaint_after(change: object) -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.thread_time()
        change()  # type: ignore[operator]
        viewport.repaint()  # synchronous: layout, axes and items painted now
        return (time.perf_counter() - started) * 1000.0, (time.thread_time() - cpu) * 1000.0

    def measure(case: str, visible: int) -> None:
        last = view.series.last_x
        view.price.view.setXRange(last - visible, last, padding=0)
        app.processEvents()
        box = view.price.view
        pans, zooms = [], []
        for step in range(STEPS):
            left, right = box.viewRange()[0]
            shift = (right - left) * 0.02 * (1 if step % 20 < 10 else -1)
            pans.append(
                repaint_after(
                    lambda a=left - shift, b=right - shift: box.setXRange(a, b, padding=0)
                )
            )
        for step in range(STEPS):
            left, right = box.viewRange()[0]
            centre, half = (left + right) / 2, (right - left) / 2
            factor = 1.1 if step % 2 else 1 / 1.1
            zooms.append(
                repaint_after(
                    lambda c=centre, h=half * factor: box.setXRange(c - h, c + h, padding=0)
                )
            )
        load = round(os.getloadavg()[0], 2)
        for kind, samples in (("pan", pans), ("zoom", zooms)):
            for clock, index in (("", 0), ("cpu_", 1)):
                values = [sample[index] for sample in samples]
                for label, fraction in (("p50", 0.5), ("p99", 0.99)):
                    report(
                        "chart",
                        f"{kind}_repaint_{clock}{label}",
                        percentile(values, fraction),
                        "ms",
                        case=case,
                        bars=bars,
                        visible_bars=visible,
                        target_ms=16,
                        load_1min=load,
                    )

    for visible in (200, 5_000, bars):
        measure("candles+volume", visible)
    view.set_overlays({"sma", "bollinger"})
    view.set_panes(["rsi", "macd"])
    app.processEvents()
    for visible in (200, 5_000, bars):
        measure("candles+volume+sma+bollinger+rsi+macd", visible)
    view.close()


if __name__ == "__main__":
    run()
