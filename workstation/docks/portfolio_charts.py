"""The portfolio's two pictures: allocation by sector (a QPainter donut with a legend) and
the equity curve (pyqtgraph, drawn from numpy arrays of samples)."""

from __future__ import annotations

import time
from decimal import Decimal

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from workstation.docks.watchlist_format import DOWN, UP, compact_text

# Distinct, calm colours for sectors (cash is always grey).
SLICE_COLOURS = (
    "#3e63dd", "#30a46c", "#f5a524", "#8e4ec6", "#12a594", "#e54666",
    "#0090ff", "#ad7f58", "#d6409f", "#7ce2fe", "#bdee63", "#ffc53d",
)  # fmt: skip
CASH_COLOUR = "#6f7079"
CASH_LABEL = "Cash"


class AllocationChart(QWidget):
    """A donut of (label, value) slices, largest first, with a legend of shares."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("allocationChart")
        self.setMinimumSize(220, 140)
        self._slices: list[tuple[str, float]] = []

    def sizeHint(self) -> QSize:
        return QSize(360, 200)

    def set_slices(self, slices: list[tuple[str, float]]) -> None:
        cash = [s for s in slices if s[0] == CASH_LABEL]
        rest = sorted((s for s in slices if s[0] != CASH_LABEL and s[1] > 0), key=lambda s: -s[1])
        self._slices = rest + [s for s in cash if s[1] > 0]
        self.update()

    def slices(self) -> list[tuple[str, float]]:
        return list(self._slices)

    def colour(self, index: int, label: str) -> QColor:
        return QColor(CASH_COLOUR if label == CASH_LABEL else SLICE_COLOURS[index % 12])

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        total = sum(value for _, value in self._slices)
        text = self.palette().text().color()
        if total <= 0:
            painter.setPen(text)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No holdings yet")
            return
        side = min(self.height() - 12, self.width() * 0.45)
        ring = QRectF(8, (self.height() - side) / 2, side, side)
        start = 90 * 16  # twelve o'clock, clockwise
        for index, (label, value) in enumerate(self._slices):
            span = -round(value / total * 360 * 16)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self.colour(index, label))
            painter.drawPie(ring, start, span)
            start += span
        hole = side * 0.58
        painter.setBrush(self.palette().base())
        painter.drawEllipse(ring.center(), hole / 2, hole / 2)
        painter.setPen(text)
        painter.drawText(ring, Qt.AlignmentFlag.AlignCenter, compact_text_float(total))

        metrics = painter.fontMetrics()
        line = metrics.height() + 2
        x = ring.right() + 14
        top = max(4.0, (self.height() - line * len(self._slices)) / 2)
        for index, (label, value) in enumerate(self._slices):
            y = top + index * line
            if y + line > self.height():
                break
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self.colour(index, label))
            painter.drawRect(QRectF(x, y + line / 2 - 4, 8, 8))
            painter.setPen(text)
            share = f"{value / total * 100:5.1f}%"
            width = self.width() - x - 16
            name_rect = QRectF(x + 14, y, width - 60, line)
            painter.drawText(
                name_rect,
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                metrics.elidedText(label, Qt.TextElideMode.ElideRight, int(name_rect.width())),
            )
            painter.drawText(
                QRectF(x + width - 46, y, 56, line),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                share,
            )


def compact_text_float(value: float) -> str:
    return compact_text(Decimal(str(round(value, 2))))


class MoneyAxis(pg.AxisItem):
    """Plain amounts with separators (pyqtgraph would write 1e+07)."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.enableAutoSIPrefix(False)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        decimals = 0 if spacing >= 1 else 2
        return [f"{value:,.{decimals}f}" for value in values]


class EquityCurve(pg.PlotWidget):
    """Account value over time: a sample at most every ``min_interval`` seconds."""

    def __init__(self, parent: QWidget | None = None, min_interval: float = 1.0) -> None:
        super().__init__(
            parent,
            axisItems={"bottom": pg.DateAxisItem(orientation="bottom"), "left": MoneyAxis("left")},
        )
        self.setObjectName("equityCurve")
        self.min_interval = min_interval
        self._times = np.empty(0, dtype=np.float64)
        self._values = np.empty(0, dtype=np.float64)
        self._count = 0
        background = self.palette().base().color()
        self.setBackground(background)
        self.showGrid(x=True, y=True, alpha=0.15)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.getPlotItem().setTitle("Account value", size="9pt")
        self._curve = self.plot(pen=pg.mkPen(UP, width=1.6))
        self._start_line = pg.InfiniteLine(
            angle=0, pen=pg.mkPen(QPen(QColor("#6f7079"), 1, Qt.PenStyle.DashLine))
        )
        self.addItem(self._start_line)
        self._start_line.hide()

    def sample(self, value: float, at: float | None = None) -> bool:
        """Record ``value`` (now, unless ``at``, in epoch seconds); False if too soon."""
        at = time.time() if at is None else at
        if self._count and at - self._times[self._count - 1] < self.min_interval:
            return False
        if self._count == len(self._times):  # grow by doubling: amortised O(1) appends
            size = max(64, 2 * len(self._times))
            self._times = np.resize(self._times, size)
            self._values = np.resize(self._values, size)
        self._times[self._count] = at
        self._values[self._count] = value
        self._count += 1
        self._redraw()
        return True

    def samples(self) -> tuple[np.ndarray, np.ndarray]:
        return self._times[: self._count], self._values[: self._count]

    def _redraw(self) -> None:
        times, values = self.samples()
        first = values[0]
        colour = UP if values[-1] >= first else DOWN
        self._curve.setData(times, values, pen=pg.mkPen(colour, width=1.6))
        self._start_line.setValue(first)  # the starting point: above it is a gain
        self._start_line.show()
