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
from PySide6.QtGui import QColor, QFont, QPainter

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


class TimeAxis(pg.AxisItem):
    def __init__(self, series: BarSeries) -> None:
        super().__init__("bottom")
        self.series = series
        self.offset_ns = 0  # exchange time zone offset from UTC (labels are exchange time)
        self._labels: dict[float, str] = {}
        self.setHeight(24)

    # Every pane's axis and grid asks for the same ticks on each repaint: compute them once.
    _shared: ClassVar[dict[int, tuple[tuple[Any, ...], list[Any], dict[float, str]]]] = {}

    def tickValues(
        self,
        minVal: float,
        maxVal: float,
        size: float,
    ) -> list[tuple[float, list[float]]]:
        s = self.series
        key = (s.version, s.first_x, minVal, maxVal, int(size), self.offset_ns)
        cached = self._shared.get(id(s))
        if cached is not None and cached[0] == key:
            self._labels = cached[2]
            return list(cached[1])
        ticks = self._tick_values(minVal, maxVal, size)
        self._shared[id(s)] = (key, ticks, self._labels)
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


class PriceAxis(pg.AxisItem):
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
