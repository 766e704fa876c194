"""Cumulative depth chart: how much could be bought or sold out to each price.

Bids accumulate from the best bid down, asks from the best ask up, drawn as filled steps
(floats: drawing only; the ladder shows exact sizes). A plain QWidget painted with QPainter:
two filled polygons, a dashed mid line, a few grid lines and axis labels, well under a
millisecond a paint. (A pyqtgraph plot spent ~10 ms a paint on its axes, a depth update
being ~20 a second, and its size axis crowded "4000" onto "2000" in a short panel.) Labels
are spaced by their own size, so they cannot overlap whatever the panel's height.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from exchange_server.protocol import Depth
from workstation.docks.table_format import DOWN, UP

AXIS_GAP = 4  # pixels between an axis label and the plot
LABEL_SPACING = 2.0  # y labels at least this many text heights apart
X_LABEL_PADDING = 24  # pixels between x labels, beyond their width
FILL_OPACITY = 0.28  # of the side's colour over the background


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


def nice_step(span: float, count: int) -> float:
    """A round step (1, 2 or 5 times a power of ten) giving at most ``count`` steps over
    ``span``."""
    if span <= 0 or count < 1:
        return 1.0
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power  # pragma: no cover - the loop always returns


def ticks(low: float, high: float, step: float) -> list[float]:
    """Multiples of ``step`` within [low, high]."""
    first = math.ceil(low / step - 1e-9)
    last = math.floor(high / step + 1e-9)
    return [n * step for n in range(first, last + 1)]


def size_label(value: float) -> str:
    """Sizes on the axis: 950, 12.5K, 1.25M (as short as the step allows)."""
    magnitude = abs(value)
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if magnitude >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.4g}"


def price_label(value: float, step: float) -> str:
    decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step > 0 else 2
    return f"{value:,.{decimals}f}"


def step_outline(edges: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The corners of a step line: ``sizes[i]`` holds from ``edges[i]`` to ``edges[i+1]``.
    Returns an (n, 2) array of (x, y), starting and ending on the zero line."""
    count = len(sizes)
    points = np.empty((2 * count + 2, 2))
    points[0] = (edges[0], 0.0)
    points[1:-1:2, 0] = edges[:-1]
    points[2:-1:2, 0] = edges[1:]
    points[1:-1:2, 1] = sizes
    points[2:-1:2, 1] = sizes
    points[-1] = (edges[-1], 0.0)
    return points


def _mix(under: QColor, over: QColor, amount: float) -> QColor:
    """``over`` laid on ``under`` at ``amount`` opacity, as one opaque colour."""
    return QColor.fromRgbF(
        under.redF() + (over.redF() - under.redF()) * amount,
        under.greenF() + (over.greenF() - under.greenF()) * amount,
        under.blueF() + (over.blueF() - under.blueF()) * amount,
    )


class DepthChart(QWidget):
    """The cumulative book of one symbol: bids green on the left, asks red on the right."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("depthChart")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # we fill every pixel
        self.bid_steps: np.ndarray | None = None  # step outlines in data units (x, y)
        self.ask_steps: np.ndarray | None = None
        self.mid: float | None = None
        self._bid_pen = QPen(QColor(UP), 2)
        self._ask_pen = QPen(QColor(DOWN), 2)
        self._mid_pen = QPen(QColor("#888888"), 0, Qt.PenStyle.DashLine)

    def sizeHint(self) -> QSize:
        return QSize(300, 160)

    def minimumSizeHint(self) -> QSize:
        return QSize(120, 60)

    def show_depth(self, depth: Depth | None) -> None:
        self.bid_steps = self.ask_steps = None
        self.mid = None
        if depth is not None and (depth.bids or depth.asks):
            bid_prices, bid_sizes, ask_prices, ask_sizes = cumulative(depth)
            # Each step spans the prices at which its size is available: a bid's total holds
            # from the next lower level up to its price, an ask's from its price up to the
            # next. The outermost level gets one more gap so that it has a width too.
            if len(bid_prices):
                bid_x = bid_prices[::-1]
                edges = np.concatenate(([bid_x[0] - _gap(bid_x)], bid_x))
                self.bid_steps = step_outline(edges, bid_sizes[::-1])
            if len(ask_prices):
                edges = np.concatenate((ask_prices, [ask_prices[-1] + _gap(ask_prices)]))
                self.ask_steps = step_outline(edges, ask_sizes)
            if len(bid_prices) and len(ask_prices):
                self.mid = float(bid_prices[0] + ask_prices[0]) / 2
        self.update()

    # -- painting -------------------------------------------------------------------------
    def data_range(self) -> tuple[float, float, float] | None:
        """(lowest price, highest price, largest cumulative size) shown, or None if empty."""
        shown = [s for s in (self.bid_steps, self.ask_steps) if s is not None]
        if not shown:
            return None
        points = np.concatenate(shown)
        low, high = float(points[:, 0].min()), float(points[:, 0].max())
        if high <= low:
            high = low + 1.0
        margin = (high - low) * 0.02  # the outermost steps clear of the axes
        return low - margin, high + margin, max(float(points[:, 1].max()), 1.0)

    def y_ticks(self, top: float, plot_height: float, text_height: int) -> list[float]:
        """Size labels no closer than LABEL_SPACING text heights (never overlapping)."""
        room = max(1, int(plot_height / (text_height * LABEL_SPACING)))
        return ticks(0.0, top, nice_step(top, room))

    def x_ticks(
        self, low: float, high: float, width: float, advance: Callable[[str], int]
    ) -> tuple[list[float], float]:
        """Price labels no closer than their own width plus X_LABEL_PADDING."""
        room = max(1, int(width / 60))
        while True:
            step = nice_step(high - low, room)
            values = ticks(low, high, step)
            widest = max((advance(price_label(v, step)) for v in values), default=0)
            if room == 1 or step * width / (high - low) >= widest + X_LABEL_PADDING:
                return values, step
            room -= 1

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.color(QPalette.ColorRole.Base))
        extent = self.data_range()
        if extent is None:
            painter.end()
            return
        low, high, biggest = extent
        top = biggest * 1.08  # headroom above the deepest level
        metrics = painter.fontMetrics()
        text_height = metrics.height()
        bottom_axis = text_height + AXIS_GAP
        plot_top = text_height // 2 + 2  # the top label's upper half must fit
        plot_height = self.height() - bottom_axis - plot_top
        if plot_height < text_height or self.width() < 40:
            painter.end()
            return
        y_values = self.y_ticks(top, plot_height, text_height)
        y_labels = [size_label(v) for v in y_values]
        left_axis = max(metrics.horizontalAdvance(t) for t in y_labels) + 2 * AXIS_GAP
        plot = QRectF(left_axis, plot_top, self.width() - left_axis - 4, plot_height)
        x_scale = plot.width() / (high - low)
        y_scale = plot.height() / top

        def px(x: float) -> float:
            return plot.left() + (x - low) * x_scale

        def py(y: float) -> float:
            return plot.bottom() - y * y_scale

        # Colours pre-blended over the background: opaque fills and lines are several
        # times cheaper for the raster engine than translucent ones (~0.75 ms a side).
        base = palette.color(QPalette.ColorRole.Base)
        grid = _mix(base, palette.color(QPalette.ColorRole.Mid), 0.3)
        text = palette.color(QPalette.ColorRole.Text)
        x_values, x_step = self.x_ticks(low, high, plot.width(), metrics.horizontalAdvance)

        # Steps are all horizontal and vertical edges: nothing to antialias.
        outlines: list[QPolygonF] = []
        outline_pens: list[QPen] = []
        for steps, pen in ((self.bid_steps, self._bid_pen), (self.ask_steps, self._ask_pen)):
            if steps is None:
                continue
            xs = (plot.left() + (steps[:, 0] - low) * x_scale).round()
            ys = (plot.bottom() - steps[:, 1] * y_scale).round()
            # Filled as rectangles, one per level (the raster engine's fastest fill; a
            # polygon fill cost ~0.5 ms), outlined by one polyline.
            bottom = plot.bottom()
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(_mix(base, pen.color(), FILL_OPACITY))
            painter.drawRects(
                [
                    QRectF(left, level, right - left, bottom - level)
                    for left, right, level in zip(xs[1:-1:2], xs[2:-1:2], ys[1:-1:2], strict=True)
                ]
            )
            outline_pens.append(pen)
            outlines.append(QPolygonF([QPointF(x, y) for x, y in zip(xs, ys, strict=True)]))
        # The grid over the fills, the outlines over the grid.
        lines = [QLineF(plot.left(), py(v), plot.right(), py(v)) for v in y_values]
        lines += [QLineF(px(v), plot.top(), px(v), plot.bottom()) for v in x_values]
        painter.setPen(QPen(grid, 0))
        painter.drawLines(lines)
        for outline, pen in zip(outlines, outline_pens, strict=True):
            painter.setPen(pen)
            painter.drawPolyline(outline)
        if self.mid is not None:
            painter.setPen(self._mid_pen)
            x = px(self.mid)
            painter.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))

        axis = palette.color(QPalette.ColorRole.Mid)
        painter.setPen(QPen(axis, 0))
        painter.drawLine(plot.bottomLeft(), plot.bottomRight())
        painter.drawLine(plot.bottomLeft(), plot.topLeft())
        painter.setPen(text)
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        for value, label in zip(y_values, y_labels, strict=True):
            box = QRectF(0, py(value) - text_height / 2, left_axis - AXIS_GAP, text_height)
            painter.drawText(box, right, label)
        centre = Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
        for value in x_values:
            label = price_label(value, x_step)
            width = metrics.horizontalAdvance(label) + 8
            x = min(max(px(value) - width / 2, plot.left()), self.width() - width)
            box = QRectF(x, plot.bottom() + AXIS_GAP / 2, width, text_height)
            painter.drawText(box, centre, label)
        painter.end()
