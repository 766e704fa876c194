"""Watchlist under load: 200 symbols updating 2,000 times a second in total.

The model (which sorts and filters itself), the dock's delegate and view run offscreen as in
the app, sorted by change per cent (so rows move), fed by a
stand-in session that changes 20 random quotes every 10 ms and signals each batch (harsher
than the real session, which coalesces to 25 signals a second). Reported: the share of one
core the whole GUI side used, the time per coalesced flush, dataChanged per second, and
repaints per second and the time per repaint of the viewport (every visible cell).

    python -m tests.benchmarks.bench_watchlist [--seconds 5]
"""

from __future__ import annotations

import argparse
import os
import random
import time
from decimal import Decimal
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication

from exchange_server.protocol import InstrumentOut, Quote
from tests.benchmarks.report import report
from tests.workstation.factories import instrument

SYMBOLS = 200
UPDATES_PER_SECOND = 2000
TICK_MS = 10


class LoadSession(QObject):
    """Just what the watchlist model reads from a session."""

    quotes_changed = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        self.instruments: dict[str, InstrumentOut] = {}
        self.quotes: dict[str, Quote] = {}
        for number in range(SYMBOLS):
            symbol = f"SYM{number:03d}"
            self.instruments[symbol] = instrument(
                symbol=symbol,
                name=f"Company {number}",
                sector=f"Sector {number % 12}",
                reference_price=Decimal(1000),
                band_low=Decimal(500),
                band_high=Decimal(1500),
            )
            self.quotes[symbol] = self._quote(symbol, Decimal(1000), Decimal(0))

    @staticmethod
    def _quote(symbol: str, last: Decimal, volume: Decimal) -> Quote:
        tick = Decimal("0.05")
        return Quote(
            symbol=symbol,
            status="open",
            bid=last - tick,
            ask=last + tick,
            last=last,
            high=max(last, Decimal(1000)),
            low=min(last, Decimal(1000)),
            previous_close=Decimal(1000),
            change=last - 1000,
            change_percent=(last - 1000) / 10,
            volume=volume,
        )

    def tick(self, count: int) -> None:
        changed = set(random.sample(list(self.quotes), count))
        for symbol in changed:
            old = self.quotes[symbol]
            assert old.last is not None
            step = Decimal("0.05") * random.choice((-2, -1, 1, 2))
            self.quotes[symbol] = self._quote(symbol, old.last + step, old.volume + 10)
        self.quotes_changed.emit(changed)


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def _repaint_ms(widget: Any, rounds: int = 5, count: int = 10) -> float:
    """The best of ``rounds`` mean times of a synchronous repaint (the machine is shared)."""
    means = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(count):
            widget.repaint()
        means.append((time.perf_counter() - started) / count * 1000)
    return min(means)


def run(seconds: float = 5.0) -> None:
    from workstation.docks.flash_cells import FlashPump
    from workstation.docks.watchlist import WatchlistDelegate, WatchlistView
    from workstation.docks.watchlist_model import Column, WatchlistModel

    app = QApplication.instance() or QApplication([])
    random.seed(7)
    session = LoadSession()
    model = WatchlistModel(session)  # type: ignore[arg-type]
    model.set_symbols(session.instruments)
    view = WatchlistView()
    view.setModel(model)
    view.setItemDelegate(WatchlistDelegate(model, view))
    view.resize(900, 1200)  # ~55 rows visible, as on a tall monitor
    view.sortByColumn(Column.CHANGE_PERCENT, view.horizontalHeader().sortIndicatorOrder())
    pump = FlashPump(view, model.is_fading)
    model.quotes_applied.connect(pump.kick)
    counter = PaintCounter()
    view.viewport().installEventFilter(counter)
    view.show()

    flush_times: list[float] = []
    original_flush = model.flush

    def timed_flush() -> None:
        started = time.perf_counter()
        original_flush()
        flush_times.append(time.perf_counter() - started)

    model._timer.timeout.disconnect()
    model._timer.timeout.connect(timed_flush)

    feed_seconds = 0.0
    per_tick = UPDATES_PER_SECOND * TICK_MS // 1000

    def feed() -> None:
        nonlocal feed_seconds
        started = time.perf_counter()
        session.tick(per_tick)
        feed_seconds += time.perf_counter() - started

    feeder = QTimer()
    feeder.setInterval(TICK_MS)
    feeder.timeout.connect(feed)
    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    cpu_before = time.process_time()
    wall_before = time.perf_counter()
    feeder.start()
    loop.exec()
    feeder.stop()
    wall = time.perf_counter() - wall_before
    cpu = time.process_time() - cpu_before
    extra: dict[str, Any] = {"symbols": SYMBOLS, "updates_per_second": UPDATES_PER_SECOND}
    # The feed (building Quote objects) is the stand-in session's cost, not the panel's.
    report("watchlist", "gui_core_share", round((cpu - feed_seconds) / wall, 3), "cores", **extra)
    flush_times.sort()
    if flush_times:
        p50 = flush_times[len(flush_times) // 2] * 1000
        p99 = flush_times[min(len(flush_times) - 1, int(len(flush_times) * 0.99))] * 1000
        report("watchlist", "flush_p50", round(p50, 3), "ms", **extra)
        report("watchlist", "flush_p99", round(p99, 3), "ms", **extra)
        report("watchlist", "flushes_per_second", round(len(flush_times) / wall, 1), "1/s")
    report("watchlist", "row_updates_per_second", round(model.updates / wall), "1/s", **extra)
    report("watchlist", "repaints_per_second", round(counter.paints / wall, 1), "1/s", **extra)
    report("watchlist", "relayouts_per_second", round(model.relayouts / wall, 1), "1/s", **extra)
    report("watchlist", "viewport_repaint", round(_repaint_ms(view.viewport()), 3), "ms", **extra)
    view.close()
    del app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bench_watchlist")
    parser.add_argument("--seconds", type=float, default=5.0)
    run(parser.parse_args().seconds)


if __name__ == "__main__":
    main()
