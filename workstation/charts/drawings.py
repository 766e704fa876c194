"""Drawing tools on the price pane: trend lines (two clicks) and horizontal lines (one).

Drawings are anchored to time and price, not to bar positions, so they stay where they were
drawn when history is prepended and are saved with the workspace as (time, price) points.
A click on a drawing selects it (drawn thicker); the selected one can be deleted alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF

from workstation.charts.series import BarSeries
from workstation.charts.style import DRAWING

MODES = ("trend", "hline")
PEN_WIDTH = 1.5
SELECTED_WIDTH = 3.0
HIT_PIXELS = 6.0  # a click this close to a drawing picks it


class Drawings:
    def __init__(
        self,
        plot: pg.PlotItem,
        series: BarSeries,
        finished: Callable[[], None] | None = None,
        selected: Callable[[int | None], None] | None = None,
    ) -> None:
        self.plot = plot
        self.finished = finished  # called when a drawing is complete (the tool is put down)
        self.selection_changed = selected  # called with the selected index (None: none)
        self.series = series
        self.decimals = 2
        self.mode: str | None = None  # the tool picked: the next click(s) draw
        self._anchor: QPointF | None = None
        self._preview: pg.PlotDataItem | None = None
        # Each drawing: (kind, [(ts, price), ...], graphics item)
        self._items: list[tuple[str, list[tuple[int, float]], Any]] = []
        self.selected: int | None = None  # index of the selected drawing

    def __len__(self) -> int:
        return len(self._items)

    def set_mode(self, mode: str | None) -> None:
        if mode is not None and mode not in MODES:
            raise ValueError(mode)
        self.mode = mode
        self._anchor = None
        self._drop_preview()

    # -- mouse ----------------------------------------------------------------------------
    def click(self, point: QPointF) -> None:
        if self.mode == "hline":
            self.add("hline", [(0, point.y())])
            self._done()
        elif self.mode == "trend":
            if self._anchor is None:
                self._anchor = QPointF(point)
                return
            anchor = self._anchor
            self.add("trend", [self._anchor_point(anchor), self._anchor_point(point)])
            self._done()

    def _done(self) -> None:
        self.set_mode(None)
        if self.finished is not None:
            self.finished()

    def mouse_moved(self, point: QPointF) -> None:
        if self.mode != "trend" or self._anchor is None:
            return
        if self._preview is None:
            self._preview = pg.PlotDataItem(pen=pg.mkPen(DRAWING, width=1.5))
            self.plot.addItem(self._preview, ignoreBounds=True)
        self._preview.setData([self._anchor.x(), point.x()], [self._anchor.y(), point.y()])

    def _drop_preview(self) -> None:
        if self._preview is not None:
            self.plot.removeItem(self._preview)
            self._preview = None

    # -- anchoring ------------------------------------------------------------------------
    def _anchor_point(self, point: QPointF) -> tuple[int, float]:
        """(time, price) of a point: time of the bar under it, or extrapolated past the ends
        at the bar spacing (a trend line may be drawn into the future)."""
        s = self.series
        if not len(s):
            return 0, point.y()
        x = round(point.x())
        index = x - s.first_x
        if 0 <= index < len(s):
            return int(s.ts[index]), point.y()
        step = int(np.median(np.diff(s.ts[-50:]))) if len(s) > 1 else 60 * 10**9
        edge = 0 if index < 0 else len(s) - 1
        return int(s.ts[edge]) + (index - edge) * step, point.y()

    def _x_of(self, ts: int) -> float:
        s = self.series
        if not len(s):
            return 0.0
        if ts > s.ts[-1] and len(s) > 1:
            step = int(np.median(np.diff(s.ts[-50:]))) or 1
            return float(s.last_x + (ts - int(s.ts[-1])) / step)
        if ts < s.ts[0] and len(s) > 1:
            step = int(np.median(np.diff(s.ts[:50]))) or 1
            return float(s.first_x - (int(s.ts[0]) - ts) / step)
        return float(s.x_of_time([ts])[0])

    # -- drawings -------------------------------------------------------------------------
    def add(self, kind: str, points: list[tuple[int, float]]) -> None:
        pen = pg.mkPen(DRAWING, width=PEN_WIDTH)
        item: Any
        if kind == "hline":
            item = pg.InfiniteLine(
                pos=points[0][1],
                angle=0,
                movable=True,
                pen=pen,
                label=f"{{value:,.{self.decimals}f}}",
                labelOpts={"position": 0.95, "color": DRAWING},
            )
            item.sigPositionChangeFinished.connect(self._moved)
        else:
            positions = [(self._x_of(ts), price) for ts, price in points]
            item = pg.LineSegmentROI(positions, pen=pen)
            item.sigRegionChangeFinished.connect(self._moved)
        item.setZValue(25)
        self.plot.addItem(item, ignoreBounds=True)
        self._items.append((kind, points, item))

    def _moved(self, item: Any) -> None:
        for index, (kind, _points, each) in enumerate(self._items):
            if each is not item:
                continue
            if kind == "hline":
                points = [(0, float(item.value()))]
            else:
                handles = item.getSceneHandlePositions()
                view = self.plot.getViewBox()
                points = [
                    self._anchor_point(view.mapSceneToView(position)) for _name, position in handles
                ]
            self._items[index] = (kind, points, each)

    def clear(self) -> None:
        for _kind, _points, item in self._items:
            self.plot.removeItem(item)
        self._items.clear()
        self.select(None)
        self.set_mode(None)

    # -- selection ------------------------------------------------------------------------
    def kinds(self) -> list[str]:
        return [kind for kind, _points, _item in self._items]

    def hit(self, point: QPointF, pixel: tuple[float, float]) -> int | None:
        """The drawing within HIT_PIXELS of ``point`` (view coordinates; ``pixel``: the size
        of a pixel in them), the nearest if several."""
        px, py = abs(pixel[0]) or 1.0, abs(pixel[1]) or 1.0
        best: tuple[float, int] | None = None
        for index, (kind, points, item) in enumerate(self._items):
            if kind == "hline":
                distance = abs(float(item.value()) - point.y()) / py
            else:
                (ts0, y0), (ts1, y1) = points
                x0, x1 = self._x_of(ts0), self._x_of(ts1)
                distance = _segment_distance(
                    (point.x() / px, point.y() / py), (x0 / px, y0 / py), (x1 / px, y1 / py)
                )
            if distance <= HIT_PIXELS and (best is None or distance < best[0]):
                best = (distance, index)
        return None if best is None else best[1]

    def select(self, index: int | None) -> None:
        if index is not None and not 0 <= index < len(self._items):
            index = None
        changed = index != self.selected
        self.selected = index
        for position, (_kind, _points, item) in enumerate(self._items):
            width = SELECTED_WIDTH if position == index else PEN_WIDTH
            item.setPen(pg.mkPen(DRAWING, width=width))
        if changed and self.selection_changed is not None:
            self.selection_changed(index)

    def remove(self, index: int) -> None:
        _kind, _points, item = self._items.pop(index)
        self.plot.removeItem(item)
        if self.selected == index:
            self.selected = None
            if self.selection_changed is not None:
                self.selection_changed(None)
        elif self.selected is not None and self.selected > index:
            self.selected -= 1

    def delete_selected(self) -> bool:
        """Delete the selected drawing; whether there was one."""
        if self.selected is None:
            return False
        self.remove(self.selected)
        return True

    def series_changed(self) -> None:
        """Bars were added or replaced: put trend lines back at their times."""
        for kind, points, item in self._items:
            if kind == "trend":
                for handle, (ts, price) in zip(item.getHandles(), points, strict=True):
                    item.movePoint(handle, QPointF(self._x_of(ts), price), finish=False)

    def save(self) -> list[dict[str, Any]]:
        return [
            {"kind": kind, "points": [list(p) for p in points]} for kind, points, _ in self._items
        ]

    def restore(self, saved: list[Any]) -> None:
        self.clear()
        for entry in saved:
            try:
                kind = entry["kind"]
                points = [(int(ts), float(price)) for ts, price in entry["points"]]
            except (KeyError, TypeError, ValueError):
                continue  # a hand-edited or older workspace: skip what cannot be read
            if kind in MODES and len(points) == (1 if kind == "hline" else 2):
                self.add(kind, points)


def _segment_distance(
    point: tuple[float, float], start: tuple[float, float], end: tuple[float, float]
) -> float:
    """Distance from ``point`` to the segment start-end (all in pixels)."""
    dx, dy = end[0] - start[0], end[1] - start[1]
    length2 = dx * dx + dy * dy
    t = 0.0
    if length2 > 0:
        t = ((point[0] - start[0]) * dx + (point[1] - start[1]) * dy) / length2
        t = min(1.0, max(0.0, t))
    return math.hypot(point[0] - (start[0] + t * dx), point[1] - (start[1] + t * dy))
