"""Cumulative depth chart: how much could be bought or sold out to each price.

Bids accumulate from the best bid down, asks from the best ask up, drawn as filled steps
from numpy arrays (floats: drawing only; the ladder shows exact sizes).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QWidget

from exchange_server.protocol import Depth
from workstation.docks.table_format import DOWN, UP


def cumulative(depth: Depth) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(bid prices descending, cumulative bid sizes, ask prices ascending, cumulative ask
    sizes)."""
    bids = sorted(depth.bids, key=lambda level: level.price, reverse=True)
    asks = sorted(depth.asks, key=lambda level: level.price)
    bid_prices = np.array([float(level.price) for level in bids], dtype=float)
    bid_sizes = np.cumsum([float(level.quantity) for level in bids], dtype=float)
    ask_prices = np.array([float(level.price) for level in asks], dtype=float)
    ask_sizes = np.cumsum([float(level.quantity) for level in asks], dtype=float)
    return bid_prices, bid_sizes, ask_prices, ask_sizes


def _gap(prices: np.ndarray) -> float:
    """Typical distance between levels (a tick, usually)."""
    return (
        float(np.median(np.diff(prices))) if len(prices) > 1 else max(abs(prices[0]) * 1e-4, 1e-9)
    )


def _brush(colour: str, alpha: int) -> QColor:
    fill = QColor(colour)
    fill.setAlpha(alpha)
    return fill


class DepthChart(pg.PlotWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMenuEnabled(False)
        self.setMouseEnabled(x=False, y=False)
        self.hideButtons()
        self.showGrid(x=True, y=True, alpha=0.15)
        self.getPlotItem().getAxis("left").setWidth(48)
        self.bids = pg.PlotDataItem(
            stepMode="center", pen=pg.mkPen(UP, width=1.5), fillLevel=0, brush=_brush(UP, 70)
        )
        self.asks = pg.PlotDataItem(
            stepMode="center", pen=pg.mkPen(DOWN, width=1.5), fillLevel=0, brush=_brush(DOWN, 70)
        )
        self.addItem(self.bids)
        self.addItem(self.asks)
        self.mid = pg.InfiniteLine(
            angle=90, pen=pg.mkPen("#888888", style=pg.QtCore.Qt.PenStyle.DashLine)
        )
        self.addItem(self.mid)
        self.mid.hide()
        self._follow_palette()

    def changeEvent(self, event: QEvent) -> None:
        # The theme (light or dark) changes the palette; the plot follows it.
        if event.type() == QEvent.Type.PaletteChange and self.getPlotItem() is not None:
            self._follow_palette()
        super().changeEvent(event)

    def _follow_palette(self) -> None:
        palette = self.palette()
        self.setBackground(palette.color(QPalette.ColorRole.Base))
        text = palette.color(QPalette.ColorRole.Text)
        for name in ("left", "bottom"):
            axis = self.getPlotItem().getAxis(name)
            axis.setPen(pg.mkPen(palette.color(QPalette.ColorRole.Mid)))
            axis.setTextPen(pg.mkPen(text))

    def show_depth(self, depth: Depth | None) -> None:
        if depth is None or not (depth.bids or depth.asks):
            self.bids.setData([], [])
            self.asks.setData([], [])
            self.mid.hide()
            return
        bid_prices, bid_sizes, ask_prices, ask_sizes = cumulative(depth)
        # Each step spans the prices at which its size is available: a bid's total holds
        # from the next lower level up to its price, an ask's from its price up to the next.
        # The outermost level gets one more gap so that it has a width too.
        bid_x = bid_prices[::-1]
        if len(bid_x):
            edges = np.concatenate(([bid_x[0] - _gap(bid_x)], bid_x))
            self.bids.setData(edges, bid_sizes[::-1])
        else:
            self.bids.setData([], [])
        if len(ask_prices):
            edges = np.concatenate((ask_prices, [ask_prices[-1] + _gap(ask_prices)]))
            self.asks.setData(edges, ask_sizes)
        else:
            self.asks.setData([], [])
        if len(bid_prices) and len(ask_prices):
            self.mid.setValue((bid_prices[0] + ask_prices[0]) / 2)
            self.mid.show()
        else:
            self.mid.hide()
