"""Graphics items that draw bars straight from numpy arrays.

No Python object per bar: each paint takes the visible slice of the arrays, folds bars
narrower than a pixel into one per pixel column (high = max, low = min, so no spike is
lost), maps the result to device pixels with numpy, and hands Qt whole arrays of line
segments at once (numpy memory passed as QLineF[] to QPainter.drawLines: no path is built).
The fold reads precomputed per-block minima and maxima (``levels``), so the cost of a paint
depends on the width of the window, not on how many bars are loaded or visible.

Items paint in device coordinates (the painter's view transform is applied by hand, then
reset), so bar bodies are whole pixels wide and lines stay one pixel wide at any zoom.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import shiboken6
from numpy.typing import NDArray
from PySide6.QtCore import QLineF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen

from workstation.charts.axes import PriceAxis, TimeAxis
from workstation.charts.levels import Levels, bin_size

Array = NDArray[np.float64]


XRange = tuple[float, float]


def _visible_slice(
    item: pg.GraphicsObject,
    first_x: float,
    count: int,
    x_range: XRange | None = None,
    painter: QPainter | None = None,
) -> tuple[int, int]:
    """Indices of the bars in view (``x_range``: the x span to use instead of the item's
    own view, which a linked pane may not have caught up with yet). While painting, the
    painter's clip (the view box clips its items) gives the span without mapping the view."""
    if x_range is None and painter is not None and painter.hasClipping():
        clip = painter.clipBoundingRect()
        if clip.isValid():
            x_range = (clip.left(), clip.right())
    if x_range is None:
        view = item.viewRect()
        if view is None:
            return 0, 0
        x_range = (view.left(), view.right())
    if count == 0:
        return 0, 0
    start = max(0, math.floor(x_range[0] - first_x) - 1)
    stop = min(count, math.ceil(x_range[1] - first_x) + 2)
    return start, max(start, stop)


def _group(sx: float, densest: float = 1.0) -> int:
    """Bars folded into each drawn column at ``sx`` pixels per bar (1: none); bars are
    folded once they are narrower than ``densest`` pixels."""
    return bin_size(1.0 / sx) if 0 < sx < densest else 1


def draw_lines(painter: QPainter, x0: Array, y0: Array, x1: Array, y1: Array) -> None:
    """Line segments (x0, y0)-(x1, y1) in one call, from numpy memory laid out as QLineF[]."""
    count = x0.size
    if not count:
        return
    lines = np.empty((count, 4))
    lines[:, 0], lines[:, 1], lines[:, 2], lines[:, 3] = x0, y0, x1, y1
    painter.drawLines(shiboken6.wrapInstance(lines.ctypes.data, QLineF), count)  # type: ignore[call-overload]


def draw_polyline(painter: QPainter, x: Array, y: Array) -> None:
    """A polyline through the points, broken where a value is NaN."""
    finite = np.isfinite(y)
    if not finite.any():
        return
    edges = np.flatnonzero(np.diff(np.r_[False, finite, False].astype(np.int8)))
    for begin, end in zip(edges[0::2], edges[1::2], strict=True):
        if end - begin > 1:
            painter.drawPolyline(pg.functions.arrayToQPolygonF(x[begin:end], y[begin:end]))


def _draw_columns(painter: QPainter, x: Array, low: Array, high: Array) -> None:
    """A dense line as one vertical stroke per pixel column, each stretched to reach the
    previous column's range so the strokes join up. (One long zig-zag polyline instead costs
    Qt's stroker many times more.)"""
    reach_low = low.copy()
    reach_high = high.copy()
    np.fmin(low[1:], high[:-1], out=reach_low[1:])
    np.fmax(high[1:], low[:-1], out=reach_high[1:])
    keep = np.isfinite(reach_low) & np.isfinite(reach_high)
    if not keep.all():
        x, reach_low, reach_high = x[keep], reach_low[keep], reach_high[keep]
    draw_lines(painter, x, reach_low, x, reach_high)


class _ArrayItem(pg.GraphicsObject):
    """Bounds, view slicing and device mapping shared by the array items."""

    def __init__(self) -> None:
        super().__init__()
        self.first_x = 0.0
        self._bounds = QRectF()

    def boundingRect(self) -> QRectF:
        return self._bounds

    def _set_bounds(self, count: int, low: float, high: float) -> None:
        self.prepareGeometryChange()
        if count == 0 or not (math.isfinite(low) and math.isfinite(high)):
            self._bounds = QRectF()
        else:
            self._bounds = QRectF(self.first_x - 0.5, low, count, max(high - low, 1e-9))
        self.update()

    def dataBounds(self, axis: int, frac: float = 1.0, orthoRange: object = None) -> object:
        rect = self._bounds
        if rect.isNull():
            return None
        return (rect.left(), rect.right()) if axis == 0 else (rect.top(), rect.bottom())

    @staticmethod
    def _device(painter: QPainter) -> tuple[float, float, float, float]:
        """(sx, dx, sy, dy): device = s * data + d (no rotation in a chart view)."""
        transform = painter.transform()
        return transform.m11(), transform.m31(), transform.m22(), transform.m32()


class CandleItem(_ArrayItem):
    """OHLC candles (or a close line with ``style = "line"``)."""

    def __init__(self, up: str, down: str) -> None:
        super().__init__()
        self.up = QColor(up)
        self.down = QColor(down)
        self.line_colour = QColor("#4c8dff")
        self.style = "candle"  # "candle" or "line"
        empty = np.zeros(0)
        self.open = self.high = self.low = self.close = empty
        self._highs = Levels(low=False)
        self._lows = Levels(high=False)
        self._closes = Levels()

    def set_data(
        self,
        first_x: int,
        open_: Array,
        high: Array,
        low: Array,
        close: Array,
        since: int | None = None,
    ) -> None:
        """``since``: bars before this index are unchanged since the last call."""
        if first_x != self.first_x:
            since = None
        self.first_x = first_x
        self.open, self.high, self.low, self.close = open_, high, low, close
        self._highs.set(high, since)
        self._lows.set(low, since)
        self._closes.set(close, since)
        lowest, highest = self._lows.range(0, low.size)[0], self._highs.range(0, high.size)[1]
        self._set_bounds(close.size, lowest, highest)

    def set_style(self, style: str) -> None:
        self.style = style
        self.update()

    def visible_range(self, x_range: XRange | None = None) -> tuple[float, float] | None:
        """Lowest low and highest high of the bars in view (for fitting the price axis)."""
        start, stop = _visible_slice(self, self.first_x, self.close.size, x_range)
        if stop <= start:
            return None
        if self.style == "line":
            return self._closes.range(start, stop)
        return self._lows.range(start, stop)[0], self._highs.range(start, stop)[1]

    def paint(self, painter: QPainter, *args: object) -> None:
        start, stop = _visible_slice(self, self.first_x, self.close.size, painter=painter)
        if stop <= start:
            return
        sx, dx, sy, dy = self._device(painter)
        if sx <= 0:
            return
        group = _group(sx)
        start -= start % group  # whole bins, wherever the clip starts
        if group > 1:
            if self.style == "line":
                starts, low, high = self._closes.fold(start, stop, group)
            else:
                starts, _, high = self._highs.fold(start, stop, group)
                low = self._lows.fold(start, stop, group)[1]
            ends = np.r_[starts[1:], stop] - 1
            open_ = self.open[starts]
            close = self.close[ends]
            centre = (starts + ends) * 0.5
        else:
            open_ = self.open[start:stop]
            close = self.close[start:stop]
            high = self.high[start:stop]
            low = self.low[start:stop]
            centre = np.arange(start, stop, dtype=np.float64)
        x = np.floor((centre + self.first_x) * sx + dx) + 0.5  # pixel centres: crisp lines
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, self.style == "line")
        if self.style == "line":
            self._paint_line(painter, x, close, high, low, sy, dy, group > 1)
        else:
            self._paint_candles(painter, x, open_, high, low, close, sx * group, sy, dy)
        painter.restore()

    def _paint_line(
        self,
        painter: QPainter,
        x: Array,
        close: Array,
        high: Array,
        low: Array,
        sy: float,
        dy: float,
        grouped: bool,
    ) -> None:
        if grouped:  # a vertical stroke per pixel column covers the group's whole range
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setPen(QPen(self.line_colour, 0))
            _draw_columns(painter, x, low * sy + dy, high * sy + dy)
            return
        painter.setPen(QPen(self.line_colour, 2.0))
        draw_polyline(painter, x, close * sy + dy)

    def _paint_candles(
        self,
        painter: QPainter,
        x: Array,
        open_: Array,
        high: Array,
        low: Array,
        close: Array,
        pixels_per_bar: float,
        sy: float,
        dy: float,
    ) -> None:
        rising = close >= open_
        y_open = open_ * sy + dy
        y_close = close * sy + dy
        # A flat candle (open == close) still shows a one-pixel body.
        flat = np.abs(y_close - y_open) < 1.0
        y_close = np.where(flat, y_open - 1.0, y_close)
        y_high = high * sy + dy
        y_low = low * sy + dy
        body = max(1.0, math.floor(pixels_per_bar * 0.7))
        if body > 2 and int(body) % 2 == 0:
            body -= 1  # odd widths centre on the wick's pixel
        for mask, colour in ((rising, self.up), (~rising, self.down)):
            if not mask.any():
                continue
            xs = x[mask]
            pen = QPen(colour, 0)
            painter.setPen(pen)
            draw_lines(painter, xs, y_high[mask], xs, y_low[mask])
            if body > 1:
                pen = QPen(colour, body)
                pen.setCapStyle(Qt.PenCapStyle.FlatCap)
                painter.setPen(pen)
                draw_lines(painter, xs, y_open[mask], xs, y_close[mask])


class LineItem(_ArrayItem):
    """One indicator line; NaN leaves a gap. Dense stretches are drawn as per-pixel ranges."""

    def __init__(self, colour: str, width: float = 1.2, style: Qt.PenStyle | None = None) -> None:
        super().__init__()
        # Cosmetic one-pixel pens take Qt's fast line rasteriser, antialiased or not; wider
        # ones go through the general stroker at several times the cost.
        self.pen = QPen(QColor(colour), 0 if width <= 1.5 else width)
        self.pen.setCosmetic(True)
        if style is not None:
            self.pen.setStyle(style)
        self.values: Array = np.zeros(0)
        self._levels = Levels()

    def set_data(self, first_x: int, values: Array, since: int | None = None) -> None:
        """``since``: values before this index are unchanged since the last call."""
        if first_x != self.first_x:
            since = None
        self.first_x = first_x
        self.values = values
        self._levels.set(values, since)
        low, high = self._levels.range(0, values.size)
        self._set_bounds(values.size, low, high)

    def visible_range(self, x_range: XRange | None = None) -> tuple[float, float] | None:
        start, stop = _visible_slice(self, self.first_x, self.values.size, x_range)
        low, high = self._levels.range(start, stop)
        if math.isnan(low):
            return None
        return low, high

    def paint(self, painter: QPainter, *args: object) -> None:
        start, stop = _visible_slice(self, self.first_x, self.values.size, painter=painter)
        if stop <= start:
            return
        sx, dx, sy, dy = self._device(painter)
        group = _group(sx, densest=0.5)
        start -= start % group  # whole bins, wherever the clip starts
        painter.save()
        painter.resetTransform()
        painter.setPen(self.pen)
        if group > 1:
            starts, low, high = self._levels.fold(start, stop, group)
            centre = starts + group * 0.5
            x = np.floor((centre + self.first_x) * sx + dx) + 0.5
            _draw_columns(painter, x, low * sy + dy, high * sy + dy)
        else:
            xs = np.arange(start, stop, dtype=np.float64)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            draw_polyline(painter, (xs + self.first_x) * sx + dx, self.values[start:stop] * sy + dy)
        painter.restore()


class HistogramItem(_ArrayItem):
    """Bars from a baseline: volume (``overlay``: scaled into the bottom ``fraction`` of the
    view whatever the price scale) or an indicator histogram from zero (MACD)."""

    def __init__(self, up: str, down: str, overlay: bool = False, fraction: float = 0.18) -> None:
        super().__init__()
        self.up = QColor(up)
        self.down = QColor(down)
        self.overlay = overlay
        self.fraction = fraction
        self.values: Array = np.zeros(0)
        self.rising: NDArray[np.bool_] = np.zeros(0, dtype=bool)
        self._levels = Levels()

    def set_data(
        self,
        first_x: int,
        values: Array,
        rising: NDArray[np.bool_],
        price_range: tuple[float, float] | None = None,
        since: int | None = None,
    ) -> None:
        """``price_range`` (overlay only): the prices the view may show; the bars are drawn
        relative to the view, so their bounds must cover wherever the view is. ``since``:
        values before this index are unchanged since the last call."""
        if first_x != self.first_x:
            since = None
        self.first_x = first_x
        self.values, self.rising = values, rising
        self._levels.set(values, since)
        if self.overlay:
            low, high = price_range or (math.nan, math.nan)
            span = high - low
            self._set_bounds(values.size, low - span, high + span)
            return
        low, high = self._levels.range(0, values.size)
        self._set_bounds(values.size, min(0.0, low), max(0.0, high))

    def dataBounds(self, axis: int, frac: float = 1.0, orthoRange: object = None) -> object:
        if self.overlay and axis == 1:
            return None
        return super().dataBounds(axis, frac, orthoRange)

    def visible_range(self, x_range: XRange | None = None) -> tuple[float, float] | None:
        start, stop = _visible_slice(self, self.first_x, self.values.size, x_range)
        low, high = self._levels.range(start, stop)
        if math.isnan(low):
            return None
        return min(0.0, low), max(0.0, high)

    def paint(self, painter: QPainter, *args: object) -> None:
        start, stop = _visible_slice(self, self.first_x, self.values.size, painter=painter)
        if stop <= start:
            return
        sx, dx, sy, dy = self._device(painter)
        group = _group(sx)
        start -= start % group  # whole bins, wherever the clip starts
        if group > 1:
            starts, lowest, highest = self._levels.fold(start, stop, group)
            # The bar of largest magnitude stands for its pixel column (MACD goes negative).
            values = np.where(np.abs(lowest) > np.abs(highest), lowest, highest)
            rising = self.rising[np.r_[starts[1:], stop] - 1]
            centre = starts + (group - 1) * 0.5
        else:
            values = self.values[start:stop]
            rising = self.rising[start:stop]
            centre = np.arange(start, stop, dtype=np.float64)
        values = np.nan_to_num(values)
        x = np.floor((centre + self.first_x) * sx + dx) + 0.5
        if self.overlay:
            view = self.viewRect()
            bottom = view.top() * sy + dy  # view.top() is the lowest price (y grows upwards)
            height = abs(view.height() * sy) * self.fraction
            peak = float(values.max()) if values.size else 0.0
            scale = height / peak if peak > 0 else 0.0
            base = np.full(values.size, bottom)
            tops = bottom - values * scale
        else:
            base = np.full(values.size, dy)
            tops = values * sy + dy
        width = max(1.0, math.floor(sx * group * 0.7))
        painter.save()
        painter.resetTransform()
        for mask, colour in ((rising, self.up), (~rising, self.down)):
            if not mask.any():
                continue
            pen = QPen(colour, 0 if width <= 1 else width)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            painter.setPen(pen)
            xs = x[mask]
            draw_lines(painter, xs, base[mask], xs, tops[mask])
        painter.restore()


class GridItem(pg.GraphicsObject):
    """Background grid at the axes' tick positions: opaque one-pixel lines in one call."""

    def __init__(self, time_axis: TimeAxis, price_axis: PriceAxis, colour: str) -> None:
        super().__init__()
        self.time_axis = time_axis
        self.price_axis = price_axis
        self.colour = QColor(colour)
        self.setZValue(-100)

    def boundingRect(self) -> QRectF:
        view = self.viewRect()
        return view if view is not None else QRectF()

    def viewRangeChanged(self) -> None:
        self.prepareGeometryChange()
        super().viewRangeChanged()

    def dataBounds(self, axis: int, frac: float = 1.0, orthoRange: object = None) -> object:
        return None

    def paint(self, painter: QPainter, *args: object) -> None:
        view = self.viewRect()
        if view is None:
            return
        sx, dx, sy, dy = _ArrayItem._device(painter)
        xs = [value for _spacing, values in self.time_axis.tick_levels() for value in values]
        ys = [value for _spacing, values in self.price_axis.tick_levels()[:2] for value in values]
        left, right = view.left() * sx + dx, view.right() * sx + dx
        top, bottom = view.bottom() * sy + dy, view.top() * sy + dy
        px = np.floor(np.asarray(xs, dtype=np.float64) * sx + dx) + 0.5
        py = np.floor(np.asarray(ys, dtype=np.float64) * sy + dy) + 0.5
        if not px.size and not py.size:
            return
        # One-pixel rectangles rather than lines: Qt fills long axis-aligned rectangles by
        # whole spans but strokes a cosmetic line pixel by pixel (several times slower here).
        rects = np.empty((px.size + py.size, 4))
        rects[: px.size] = np.column_stack(
            (
                px - 0.5,
                np.full(px.size, min(top, bottom)),
                np.ones(px.size),
                np.full(px.size, abs(bottom - top)),
            )
        )
        rects[px.size :] = np.column_stack(
            (
                np.full(py.size, min(left, right)),
                py - 0.5,
                np.full(py.size, abs(right - left)),
                np.ones(py.size),
            )
        )
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.colour)
        painter.drawRects(shiboken6.wrapInstance(rects.ctypes.data, QRectF), len(rects))  # type: ignore[call-overload]
        painter.restore()
