"""Graphics items that draw bars straight from numpy arrays.

No Python object per bar: each paint takes the visible slice of the arrays, folds bars
narrower than a pixel into one per pixel column (high = max, low = min, so no spike is
lost), maps the result to device pixels with numpy, and strokes a handful of QPainterPaths
built by pyqtgraph's array-to-path conversion. The cost of a paint therefore depends on the
width of the window, not on how many bars are loaded or visible.

Items paint in device coordinates (the painter's view transform is applied by hand, then
reset), so bar bodies are whole pixels wide and lines stay one pixel wide at any zoom.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen

Array = NDArray[np.float64]


XRange = tuple[float, float]


def _visible_slice(
    item: pg.GraphicsObject, first_x: float, count: int, x_range: XRange | None = None
) -> tuple[int, int]:
    """Indices of the bars in view (``x_range``: the x span to use instead of the item's
    own view, which a linked pane may not have caught up with yet)."""
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


def _bin_starts(start: int, stop: int, group: int) -> NDArray[np.intp]:
    """Start of each group of ``group`` bars in [start, stop), aligned to multiples of
    ``group`` so the grouping does not shimmer as the chart pans."""
    first = start - start % group
    starts = np.arange(first, stop, group)
    starts[0] = start
    return starts


def _column_path(x: Array, low: Array, high: Array) -> QPainterPath:
    """A dense line as one vertical stroke per pixel column, each stretched to reach the
    previous column's range so the strokes join up. (One long zig-zag polyline instead costs
    Qt's stroker hundreds of milliseconds.)"""
    reach_low = np.fmin(low, np.r_[high[:1], high[:-1]])
    reach_high = np.fmax(high, np.r_[low[:1], low[:-1]])
    keep = np.isfinite(reach_low) & np.isfinite(reach_high)
    xs = np.repeat(x[keep], 2)
    ys = np.column_stack((reach_low[keep], reach_high[keep])).reshape(-1)
    return pg.arrayToQPath(xs, ys, connect="pairs")


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

    def set_data(self, first_x: int, open_: Array, high: Array, low: Array, close: Array) -> None:
        self.first_x = first_x
        self.open, self.high, self.low, self.close = open_, high, low, close
        low_bound = float(np.nanmin(low)) if low.size else math.nan
        high_bound = float(np.nanmax(high)) if high.size else math.nan
        self._set_bounds(close.size, low_bound, high_bound)

    def set_style(self, style: str) -> None:
        self.style = style
        self.update()

    def visible_range(self, x_range: XRange | None = None) -> tuple[float, float] | None:
        """Lowest low and highest high of the bars in view (for fitting the price axis)."""
        start, stop = _visible_slice(self, self.first_x, self.close.size, x_range)
        if stop <= start:
            return None
        if self.style == "line":
            values = self.close[start:stop]
            return float(np.nanmin(values)), float(np.nanmax(values))
        return float(np.nanmin(self.low[start:stop])), float(np.nanmax(self.high[start:stop]))

    def paint(self, painter: QPainter, *args: object) -> None:
        start, stop = _visible_slice(self, self.first_x, self.close.size)
        if stop <= start:
            return
        sx, dx, sy, dy = self._device(painter)
        if sx <= 0:
            return
        group = max(1, math.floor(1.0 / sx)) if sx < 1.0 else 1
        if group > 1:
            starts = _bin_starts(start, stop, group)
            ends = np.r_[starts[1:], stop] - 1
            open_ = self.open[starts]
            close = self.close[ends]
            high = np.fmax.reduceat(self.high[start:stop], starts - start)
            low = np.fmin.reduceat(self.low[start:stop], starts - start)
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
            painter.drawPath(_column_path(x, low * sy + dy, high * sy + dy))
            return
        painter.setPen(QPen(self.line_colour, 2.0))
        painter.drawPath(pg.arrayToQPath(x, close * sy + dy, connect="finite"))

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
        body = max(1.0, math.floor(pixels_per_bar * 0.7))
        if body > 2 and int(body) % 2 == 0:
            body -= 1  # odd widths centre on the wick's pixel
        for mask, colour in ((rising, self.up), (~rising, self.down)):
            if not mask.any():
                continue
            xs = np.repeat(x[mask], 2)
            wick = np.column_stack((high[mask] * sy + dy, low[mask] * sy + dy)).reshape(-1)
            pen = QPen(colour, 1.0)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            painter.setPen(pen)
            painter.drawPath(pg.arrayToQPath(xs, wick, connect="pairs"))
            if body > 1:
                bodies = np.column_stack((y_open[mask], y_close[mask])).reshape(-1)
                pen.setWidthF(body)
                painter.setPen(pen)
                painter.drawPath(pg.arrayToQPath(xs, bodies, connect="pairs"))


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

    def set_data(self, first_x: int, values: Array) -> None:
        self.first_x = first_x
        self.values = values
        finite = values[np.isfinite(values)]
        if finite.size:
            self._set_bounds(values.size, float(finite.min()), float(finite.max()))
        else:
            self._set_bounds(0, math.nan, math.nan)

    def visible_range(self, x_range: XRange | None = None) -> tuple[float, float] | None:
        start, stop = _visible_slice(self, self.first_x, self.values.size, x_range)
        values = self.values[start:stop]
        if not np.isfinite(values).any():
            return None
        return float(np.nanmin(values)), float(np.nanmax(values))

    def paint(self, painter: QPainter, *args: object) -> None:
        start, stop = _visible_slice(self, self.first_x, self.values.size)
        if stop <= start:
            return
        sx, dx, sy, dy = self._device(painter)
        values = self.values[start:stop]
        painter.save()
        painter.resetTransform()
        if sx < 0.5:
            group = math.floor(1.0 / sx)
            starts = _bin_starts(start, stop, group) - start
            with np.errstate(invalid="ignore"):
                low = np.fmin.reduceat(values, starts)
                high = np.fmax.reduceat(values, starts)
            centre = starts + start + group * 0.5
            x = np.floor((centre + self.first_x) * sx + dx) + 0.5
            painter.setPen(self.pen)
            painter.drawPath(_column_path(x, low * sy + dy, high * sy + dy))
        else:
            xs = np.arange(start, stop, dtype=np.float64)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(self.pen)
            path = pg.arrayToQPath(
                (xs + self.first_x) * sx + dx, values * sy + dy, connect="finite"
            )
            painter.drawPath(path)
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

    def set_data(
        self,
        first_x: int,
        values: Array,
        rising: NDArray[np.bool_],
        price_range: tuple[float, float] | None = None,
    ) -> None:
        """``price_range`` (overlay only): the prices the view may show; the bars are drawn
        relative to the view, so their bounds must cover wherever the view is."""
        self.first_x = first_x
        self.values, self.rising = values, rising
        if self.overlay:
            low, high = price_range or (math.nan, math.nan)
            span = high - low
            self._set_bounds(values.size, low - span, high + span)
            return
        finite = values[np.isfinite(values)]
        low = min(0.0, float(finite.min())) if finite.size else math.nan
        high = max(0.0, float(finite.max())) if finite.size else math.nan
        self._set_bounds(values.size, low, high)

    def dataBounds(self, axis: int, frac: float = 1.0, orthoRange: object = None) -> object:
        if self.overlay and axis == 1:
            return None
        return super().dataBounds(axis, frac, orthoRange)

    def visible_range(self, x_range: XRange | None = None) -> tuple[float, float] | None:
        start, stop = _visible_slice(self, self.first_x, self.values.size, x_range)
        values = self.values[start:stop]
        if not np.isfinite(values).any():
            return None
        return min(0.0, float(np.nanmin(values))), max(0.0, float(np.nanmax(values)))

    def paint(self, painter: QPainter, *args: object) -> None:
        start, stop = _visible_slice(self, self.first_x, self.values.size)
        if stop <= start:
            return
        sx, dx, sy, dy = self._device(painter)
        values = self.values[start:stop]
        rising = self.rising[start:stop]
        group = max(1, math.floor(1.0 / sx)) if sx < 1.0 else 1
        if group > 1:
            starts = _bin_starts(start, stop, group) - start
            # The bar of largest magnitude stands for its pixel column (MACD goes negative).
            with np.errstate(invalid="ignore"):
                highest = np.fmax.reduceat(values, starts)
                lowest = np.fmin.reduceat(values, starts)
            values = np.where(np.abs(lowest) > np.abs(highest), lowest, highest)
            rising = rising[np.r_[starts[1:], stop - start] - 1]
            centre = starts + start + (group - 1) * 0.5
        else:
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
            pen = QPen(colour, width)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            painter.setPen(pen)
            ys = np.column_stack((base[mask], tops[mask])).reshape(-1)
            painter.drawPath(pg.arrayToQPath(np.repeat(x[mask], 2), ys, connect="pairs"))
        painter.restore()


class GridItem(pg.GraphicsObject):
    """Background grid at the axes' labelled positions: opaque one-pixel lines, one path."""

    def __init__(self, time_axis: pg.AxisItem, price_axis: pg.AxisItem, colour: str) -> None:
        super().__init__()
        self.time_axis = time_axis
        self.price_axis = price_axis
        self.pen = QPen(QColor(colour), 1.0)
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
        height = self.price_axis.geometry().height()
        width = self.time_axis.geometry().width()
        xs = [
            value
            for _spacing, values in self.time_axis.tickValues(view.left(), view.right(), width)
            for value in values
        ]
        ys = [
            value
            for _spacing, values in self.price_axis.tickValues(view.top(), view.bottom(), height)[
                :2
            ]
            for value in values
        ]
        left, right = view.left() * sx + dx, view.right() * sx + dx
        top, bottom = view.bottom() * sy + dy, view.top() * sy + dy
        px = np.floor(np.asarray(xs, dtype=np.float64) * sx + dx) + 0.5
        py = np.floor(np.asarray(ys, dtype=np.float64) * sy + dy) + 0.5
        line_x = np.r_[np.repeat(px, 2), np.tile([left, right], py.size)]
        line_y = np.r_[np.tile([top, bottom], px.size), np.repeat(py, 2)]
        if not line_x.size:
            return
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(self.pen)
        painter.drawPath(pg.arrayToQPath(line_x, line_y, connect="pairs"))
        painter.restore()
