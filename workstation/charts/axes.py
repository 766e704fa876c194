"""Chart axes: bar-indexed time labels on calendar boundaries, and a price axis with tags.

The x axis counts bars, not seconds, so nights, weekends and holidays take no space. Time
labels are therefore placed where the calendar turns over between two bars (a new year,
month, day, hour...), choosing the finest unit that leaves room for each label, and a label
where a coarser unit also turns over names that unit ("2024", "Mar", "12 Mar").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter

from workstation.charts.series import BarSeries

NS_PER_MINUTE = 60 * 10**9
MIN_LABEL_SPACING = 80  # pixels

# (name, bucket of a local time in ns); coarse to fine.
_UNITS: list[tuple[str, Callable[[NDArray[np.int64]], NDArray[np.int64]]]] = [
    ("year", lambda t: t.astype("datetime64[ns]").astype("datetime64[Y]").astype(np.int64)),
    ("quarter", lambda t: t.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64) // 3),
    ("month", lambda t: t.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64)),
    (
        "week",
        lambda t: (t.astype("datetime64[ns]").astype("datetime64[D]").astype(np.int64) + 3) // 7,
    ),
    ("day", lambda t: t.astype("datetime64[ns]").astype("datetime64[D]").astype(np.int64)),
    ("4hour", lambda t: t // (240 * NS_PER_MINUTE)),
    ("hour", lambda t: t // (60 * NS_PER_MINUTE)),
    ("30min", lambda t: t // (30 * NS_PER_MINUTE)),
    ("15min", lambda t: t // (15 * NS_PER_MINUTE)),
    ("5min", lambda t: t // (5 * NS_PER_MINUTE)),
    ("minute", lambda t: t // NS_PER_MINUTE),
]
_UNIT_NAMES = [name for name, _ in _UNITS]


def local_ns(ts: NDArray[np.int64], offset_ns: int) -> NDArray[np.int64]:
    return ts + np.int64(offset_ns)


def format_time(local: int, unit: str) -> str:
    moment = np.datetime64(int(local), "ns").astype("datetime64[s]").item()
    if unit == "year":
        return f"{moment.year}"
    if unit in ("quarter", "month"):
        return moment.strftime("%b")
    if unit in ("week", "day"):
        return f"{moment.day} {moment:%b}"
    return moment.strftime("%H:%M")


TickLevels = list[tuple[float, list[float]]]


class _DirectAxis(pg.AxisItem):
    """An axis that paints its line and labels directly.

    pyqtgraph's AxisItem measures every candidate label with QPainter.boundingRect and records
    the result in a QPicture whenever the range changes, which on a chart is every pan: about
    2 ms an axis. Labels here are drawn straight from the tick values; the grid asks the axis
    for the same values (``tick_levels``), computed once per range.
    """

    LABEL_PAD = 6  # pixels between the axis line and a label

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.setStyle(maxTickLevel=1)
        # No unit label: without this pyqtgraph re-renders the (hidden) label as HTML on
        # every range change, a third of what a range change cost.
        self.enableAutoSIPrefix(False)
        self._tick_cache: dict[tuple[Any, ...], tuple[TickLevels, Any]] = {}

    def tick_levels(self) -> TickLevels:
        """(spacing, values) per level for the current range and length, cached."""
        low, high = sorted(float(value) for value in self.range)
        view = self.linkedView()
        area = view.boundingRect() if view is not None else self.boundingRect()
        size = area.height() if self.orientation in ("left", "right") else area.width()
        span = max(high - low, 1e-300)
        # Linked panes arrive at the same range through different arithmetic: a key rounded
        # far below a pixel lets them share one computation.
        key = (round(low / span, 7), round(high / span, 7), int(size), *self._tick_key())
        cached = self._tick_cache.get(key)
        if cached is None:
            if len(self._tick_cache) > 8:
                self._tick_cache.clear()
            levels = self.tickValues(low, high, size) if size > 0 else []
            cached = (levels, self._tick_labels())
            self._tick_cache[key] = cached
        self._use_tick_labels(cached[1])
        return cached[0]

    def _tick_key(self) -> tuple[Any, ...]:
        """What the ticks depend on besides the range and the length."""
        return ()

    def _tick_labels(self) -> Any:
        """What tickStrings needs besides the values, kept with cached ticks."""
        return None

    def _use_tick_labels(self, labels: Any) -> None:
        pass

    def _label_levels(self, levels: TickLevels, size: float, room: float) -> TickLevels:
        """The levels to label: the major one, and finer ones while labels keep ``room``
        pixels apart."""
        low, high = sorted(float(value) for value in self.range)
        span = high - low
        chosen: TickLevels = []
        for index, (spacing, values) in enumerate(levels):
            if index and (span <= 0 or spacing / span * size < room):
                break
            chosen.append((spacing, values))
        return chosen

    def paint(self, painter: QPainter, *args: object) -> None:
        bounds = self.mapRectFromParent(self.geometry())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        painter.setPen(self.pen())
        if self.orientation == "right":
            painter.drawLine(QPointF(bounds.left() + 0.5, bounds.top()), bounds.bottomLeft())
        elif self.orientation == "bottom":
            painter.drawLine(QPointF(bounds.left(), bounds.top() + 0.5), bounds.topRight())
        if not self.style["showValues"]:
            return
        low, high = (float(value) for value in self.range)
        if high == low:
            return
        font = self.style["tickFont"] or self.font()
        painter.setFont(font)
        metrics = QFontMetricsF(font)
        painter.setPen(self.textPen())
        vertical = self.orientation in ("left", "right")
        length = bounds.height() if vertical else bounds.width()
        room = metrics.height() * 1.8 if vertical else 0.0
        for spacing, values in self._label_levels(self.tick_levels(), length, room):
            if not values:
                continue
            texts = self.tickStrings(values, self.autoSIPrefixScale * self.scale, spacing)
            for value, text in zip(values, texts, strict=False):
                if not text:
                    continue
                if vertical:
                    # self.range runs bottom-up: the first value is at the bottom.
                    y = bounds.bottom() - (value - low) / (high - low) * bounds.height()
                    half = metrics.height() / 2
                    if y - half < bounds.top() or y + half > bounds.bottom():
                        continue
                    baseline = y + (metrics.ascent() - metrics.descent()) / 2
                    painter.drawText(QPointF(bounds.left() + self.LABEL_PAD, baseline), text)
                else:
                    x = bounds.left() + (value - low) / (high - low) * bounds.width()
                    width = metrics.horizontalAdvance(text)
                    if x - width / 2 < bounds.left() or x + width / 2 > bounds.right():
                        continue
                    baseline = bounds.top() + 3 + metrics.ascent()
                    painter.drawText(QPointF(x - width / 2, baseline), text)


class TimeAxis(_DirectAxis):
    def __init__(self, series: BarSeries) -> None:
        super().__init__("bottom")
        self.series = series
        self.offset_ns = 0  # exchange time zone offset from UTC (labels are exchange time)
        self._labels: dict[float, str] = {}
        self.setHeight(24)

    # Every pane's grid asks for the same ticks on each repaint: compute them once.
    _shared: ClassVar[dict[tuple[Any, ...], tuple[list[Any], dict[float, str]]]] = {}

    def _tick_key(self) -> tuple[Any, ...]:
        return (id(self.series), self.series.version, self.series.first_x, self.offset_ns)

    def _tick_labels(self) -> Any:
        return self._labels

    def _use_tick_labels(self, labels: Any) -> None:
        self._labels = labels

    def tickValues(
        self,
        minVal: float,
        maxVal: float,
        size: float,
    ) -> list[tuple[float, list[float]]]:
        s = self.series
        span = max(maxVal - minVal, 1e-9)
        key = (
            id(s),
            s.version,
            s.first_x,
            round(minVal / span, 7),
            round(maxVal / span, 7),
            int(size),
            self.offset_ns,
        )
        cached = self._shared.get(key)
        if cached is not None:
            self._labels = cached[1]
            return list(cached[0])
        if len(self._shared) > 16:
            self._shared.clear()
        ticks = self._tick_values(minVal, maxVal, size)
        self._shared[key] = (ticks, self._labels)
        return list(ticks)

    def _tick_values(self, low: float, high: float, size: float) -> list[tuple[float, list[float]]]:
        self._labels = {}
        minVal, maxVal = low, high
        start = max(0, math.floor(minVal) - self.series.first_x)
        stop = min(len(self.series), math.ceil(maxVal) - self.series.first_x + 1)
        if stop - start < 2 or size <= 0:
            return []
        # Far more bars than pixels: look at every step-th bar only. A turnover is then placed
        # up to step bars late, which is less than a pixel, and the cost stays per pixel.
        step = max(1, int((stop - start) // (2 * size)))
        first = max(0, start - step)
        local = local_ns(self.series.ts[first:stop:step], self.offset_ns)
        shift = 1 if start > 0 else 0  # local[0] is the bar before the view, if any
        budget = max(1, int(size / MIN_LABEL_SPACING))
        chosen: list[tuple[str, NDArray[np.intp]]] = []
        turns: dict[str, NDArray[np.intp]] = {}
        for name, bucket in _UNITS:
            keys = bucket(local)
            changes = np.flatnonzero(keys[1:] != keys[:-1]) + 1
            changes = changes[changes >= shift]
            turns[name] = changes
            if changes.size > budget:
                break
            chosen.append((name, changes))
        if not chosen:
            return []
        finest, positions = chosen[-1]
        if positions.size == 0:
            return []
        # Thin to one label per MIN_LABEL_SPACING pixels: turnovers need not be evenly spread
        # (a new chart's first few one-minute bars each start a new minute).
        pixels_per_bar = size / max(maxVal - minVal, 1e-9)
        thinned: list[int] = []
        for position in positions.tolist():
            bar = first + position * step
            if not thinned or (bar - (first + thinned[-1] * step)) * pixels_per_bar >= (
                MIN_LABEL_SPACING
            ):
                thinned.append(position)
        for position in thinned:
            unit = finest
            for name, changes in chosen[:-1]:  # coarsest first: name the largest turnover
                index = np.searchsorted(changes, position)
                if index < changes.size and changes[index] == position:
                    unit = name
                    break
            if unit == "quarter":
                unit = "month"
            if unit == "week":
                unit = "day"
            x = float(first + position * step + self.series.first_x)
            self._labels[x] = format_time(int(local[position]), unit)
        return [(1.0, sorted(self._labels))]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        return [self._labels.get(value, "") for value in values]


@dataclass
class PriceTag:
    price: float
    text: str
    background: str
    foreground: str = "#ffffff"


class PriceAxis(_DirectAxis):
    """Right-hand price axis; tags (last price, crosshair price) are painted on it."""

    def __init__(self, decimals: int = 2) -> None:
        super().__init__("right")
        self.decimals = decimals
        self.tags: dict[str, PriceTag] = {}
        self.setWidth(72)

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        decimals = self.decimals if spacing < 10 else 0
        return [f"{value * scale:,.{decimals}f}" for value in values]

    def set_tag(self, key: str, tag: PriceTag | None) -> None:
        if tag is None:
            if self.tags.pop(key, None) is not None:
                self.update()
            return
        self.tags[key] = tag
        self.update()

    def paint(self, painter: QPainter, *args: object) -> None:
        super().paint(painter, *args)
        view = self.linkedView()
        if view is None or not self.tags:
            return
        width = self.geometry().width()  # boundingRect also spans the grid lines
        font = QFont(self.font())
        font.setPointSizeF(max(7.0, font.pointSizeF() - 0.5))
        painter.setFont(font)
        height = painter.fontMetrics().height() + 4
        top, bottom = view.viewRange()[1]
        for tag in self.tags.values():
            if not (bottom >= tag.price >= top):
                continue
            y = self.mapFromScene(view.mapViewToScene(QPointF(0, tag.price))).y()
            rect = QRectF(1, y - height / 2, width - 1, height)
            painter.fillRect(rect, QColor(tag.background))
            painter.setPen(QColor(tag.foreground))
            painter.drawText(
                rect.adjusted(6, 0, 0, 0),
                int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                tag.text,
            )
