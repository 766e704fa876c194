"""The chart itself: price pane with volume, indicator panes, crosshair, orders and fills.

ChartView knows nothing about the session: it draws a BarSeries and what it is told
(orders, fills), and says what the user did (scrolled to the oldest bar, dragged an order
line). ChartDock connects it to the session. Everything is drawn from numpy arrays by the
items in ``items``; indicators come from ``exchange_server.analytics``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from numpy.typing import NDArray
from PySide6.QtCore import QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence, QResizeEvent
from PySide6.QtWidgets import QGraphicsView, QLabel, QMenu, QVBoxLayout, QWidget

from exchange_server import analytics
from workstation.charts.axes import PriceAxis, PriceTag, TimeAxis, format_time, local_ns
from workstation.charts.drawings import Drawings
from workstation.charts.indicator_settings import IndicatorParams
from workstation.charts.items import CandleItem, GridItem, HistogramItem, LineItem
from workstation.charts.series import BarSeries
from workstation.charts.style import (
    BACKGROUND,
    BUY,
    CROSSHAIR,
    DOWN,
    GRID,
    GRID_LINES,
    OVERLAY_COLOURS,
    SELL,
    TEXT,
    TEXT_DIM,
    UP,
)

Array = NDArray[np.float64]

STYLES = ("candle", "line", "heikin_ashi")
OVERLAYS = ("sma", "ema", "bollinger", "vwap")
PANES = ("rsi", "macd")
INITIAL_BARS = 120  # bars in view when a chart opens
# Empty room right of the last bar when a chart opens: a few bars (room for the next candle
# and the last-price tag), not a gap that leaves the latest bars short of the edge.
RIGHT_MARGIN_FRACTION = 0.025
RIGHT_MARGIN_MIN = 2
TAIL = 2000  # live updates recompute indicators over this many trailing bars only


@dataclass
class OrderMark:
    order_id: int
    side: str  # "buy" | "sell"
    price: float
    text: str


@dataclass
class FillMark:
    ts: int
    side: str
    price: float


class OrderLine(pg.InfiniteLine):
    """A working order at its price; dragging it asks to move the order."""

    def __init__(self, mark: OrderMark) -> None:
        colour = BUY if mark.side == "buy" else SELL
        pen = pg.mkPen(colour, width=1.2, style=Qt.PenStyle.DashLine)
        hover = pg.mkPen(colour, width=2.5)
        super().__init__(
            pos=mark.price,
            angle=0,
            movable=True,
            pen=pen,
            hoverPen=hover,
            label=mark.text,
            labelOpts={
                "position": 0.06,
                "color": "#ffffff",
                "fill": pg.mkBrush(colour),
                "anchors": [(0, 0.5), (0, 0.5)],
            },
        )
        self.mark = mark
        self.setZValue(20)


class Pane:
    """One plot row sharing the x axis: the price pane or an indicator pane."""

    def __init__(self, series: BarSeries, decimals: int) -> None:
        self.time_axis = TimeAxis(series)
        self.price_axis = PriceAxis(decimals)
        self.plot = pg.PlotItem(axisItems={"bottom": self.time_axis, "right": self.price_axis})
        self.plot.hideAxis("left")
        for hidden in ("left", "top"):
            # Hidden, but still linked: without this each re-renders its unit label as HTML
            # on every range change.
            self.plot.getAxis(hidden).enableAutoSIPrefix(False)
        self.plot.showAxis("right")
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        # Our own grid: pyqtgraph's translucent axis grid costs ~12 ms a paint at this size.
        self.grid = GridItem(self.time_axis, self.price_axis, GRID_LINES)
        self.plot.addItem(self.grid, ignoreBounds=True)
        for axis in (self.time_axis, self.price_axis):
            axis.setPen(pg.mkPen(GRID))
            axis.setTextPen(pg.mkPen(TEXT_DIM))
        self.view: pg.ViewBox = self.plot.getViewBox()
        self.view.setMouseEnabled(x=True, y=False)
        self.view.disableAutoRange()
        self.vline = pg.InfiniteLine(angle=90, pen=pg.mkPen(CROSSHAIR, style=Qt.PenStyle.DashLine))
        self.hline = pg.InfiniteLine(angle=0, pen=pg.mkPen(CROSSHAIR, style=Qt.PenStyle.DashLine))
        for line in (self.vline, self.hline):
            line.setZValue(50)
            line.hide()
            self.plot.addItem(line, ignoreBounds=True)
        self.lines: dict[str, LineItem] = {}
        self.histogram: HistogramItem | None = None  # MACD's

    def line(self, key: str, colour: str, width: float = 1.2, dashed: bool = False) -> LineItem:
        item = self.lines.get(key)
        if item is None:
            item = LineItem(colour, width, Qt.PenStyle.DashLine if dashed else None)
            self.lines[key] = item
            self.plot.addItem(item)
        return item


class ChartView(QWidget):
    history_wanted = Signal()  # the user scrolled to the oldest bar held
    order_dragged = Signal(int, float)  # order id, price the line was dropped at
    drawing_finished = Signal()  # a drawing is complete: the tool is put down
    drawing_selected = Signal(bool)  # a drawing is selected (True) or none is

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.series = BarSeries()
        self.chart_style = "candle"
        self.overlays: set[str] = set()
        self.params = IndicatorParams()
        self.panes_shown: list[str] = []
        self.decimals = 2
        self.symbol = ""
        self.interval = ""
        self._version = -1
        self._length = 0
        self._first_ts = 0
        self._cache: dict[str, Array] = {}
        self._ohlc: tuple[Array, Array, Array, Array] | None = None
        self._hover_index: int | None = None
        self._positioned = False  # the view has been placed on the latest bars
        self._fills: list[FillMark] = []
        self._order_lines: dict[int, OrderLine] = {}
        self.drawing_menu: QMenu | None = None  # the open right-click menu of a drawing

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(BACKGROUND)
        # The view fills itself with the background colour: no cached background pixmap to
        # blit (a solid fill is cheaper) and no widget background painted under it first.
        self.graphics.setCacheMode(QGraphicsView.CacheModeFlag.CacheNone)
        self.graphics.viewport().setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.graphics.ci.layout.setSpacing(0)
        self.graphics.ci.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)

        self.price = Pane(self.series, self.decimals)
        self.graphics.addItem(self.price.plot, row=0, col=0)
        self.volume = HistogramItem(_blend(UP, 0.35), _blend(DOWN, 0.35), overlay=True)
        self.candles = CandleItem(UP, DOWN)
        self.price.plot.addItem(self.volume)
        self.price.plot.addItem(self.candles)
        self.last_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(UP, style=Qt.PenStyle.DotLine))
        self.last_line.hide()
        self.price.plot.addItem(self.last_line, ignoreBounds=True)
        self.fill_markers = pg.ScatterPlotItem(pxMode=True, size=11)
        self.fill_markers.setZValue(30)
        self.price.plot.addItem(self.fill_markers, ignoreBounds=True)
        self.sub_panes: dict[str, Pane] = {}
        self.drawings = Drawings(
            self.price.plot,
            self.series,
            self.drawing_finished.emit,
            lambda index: self.drawing_selected.emit(index is not None),
        )

        self.readout = QLabel(self.graphics)
        self.readout.setTextFormat(Qt.TextFormat.RichText)
        self.readout.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.readout.setStyleSheet(f"color: {TEXT}; background: transparent; font-size: 9pt;")
        self.readout.move(8, 4)

        self.price.view.sigXRangeChanged.connect(self._x_range_changed)
        self.graphics.scene().sigMouseMoved.connect(self._mouse_moved)
        self.graphics.scene().sigMouseClicked.connect(self._mouse_clicked)

    # -- configuration ---------------------------------------------------------------------
    def set_instrument(self, symbol: str, interval: str, decimals: int, offset_ns: int) -> None:
        self.symbol, self.interval, self.decimals = symbol, interval, decimals
        for pane in (self.price, *self.sub_panes.values()):
            pane.time_axis.offset_ns = offset_ns
        self.price.price_axis.decimals = decimals
        self.drawings.decimals = decimals
        self._update_readout()

    def set_style(self, style: str) -> None:
        if style not in STYLES:
            raise ValueError(style)
        self.chart_style = style
        self.candles.set_style("line" if style == "line" else "candle")
        self._ohlc = None
        self._refresh(full=True)

    def set_overlays(self, overlays: set[str]) -> None:
        self.overlays = set(overlays) & set(OVERLAYS)
        self._refresh(full=True)

    def set_params(self, params: IndicatorParams) -> None:
        """New indicator periods: the lines shown are recomputed with them."""
        problems = params.problems()
        if problems:
            raise ValueError("; ".join(problems))
        if params == self.params:
            return
        self.params = params
        self._refresh(full=True)

    def set_panes(self, panes: list[str]) -> None:
        wanted = [pane for pane in PANES if pane in panes]
        if wanted == self.panes_shown:
            return
        for key, pane in list(self.sub_panes.items()):
            self.graphics.removeItem(pane.plot)
            if key not in wanted:
                del self.sub_panes[key]
        for row, key in enumerate(wanted, start=1):
            if key not in self.sub_panes:
                self.sub_panes[key] = self._make_sub_pane(key)
            self.graphics.addItem(self.sub_panes[key].plot, row=row, col=0)
        self.panes_shown = wanted
        self._size_panes()
        bottom = self.sub_panes[wanted[-1]] if wanted else self.price
        for pane in (self.price, *self.sub_panes.values()):
            pane.plot.showAxis("bottom", pane is bottom)
        self._refresh(full=True)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._size_panes()

    def _size_panes(self) -> None:
        """Indicator panes get a fixed share of the height each; the price pane the rest."""
        height = max(70, int(self.height() * 0.17))
        for pane in self.sub_panes.values():
            pane.plot.setMinimumHeight(height)
            pane.plot.setMaximumHeight(height)

    def _make_sub_pane(self, key: str) -> Pane:
        pane = Pane(self.series, 2)
        pane.time_axis.offset_ns = self.price.time_axis.offset_ns
        pane.view.setXLink(self.price.view)
        if key == "macd":
            pane.histogram = HistogramItem(_blend(UP, 0.6), _blend(DOWN, 0.6))
            pane.plot.addItem(pane.histogram)
        if key == "rsi":
            for level in (30, 70):
                pane.plot.addItem(
                    pg.InfiniteLine(level, angle=0, pen=pg.mkPen(GRID, style=Qt.PenStyle.DashLine))
                )
            pane.view.setYRange(0, 100, padding=0.05)
        return pane

    # -- data ------------------------------------------------------------------------------
    def reset(self) -> None:
        self._positioned = False
        self.series.clear()
        self._cache.clear()
        self._ohlc = None
        self._length = 0
        self._refresh(full=True)

    def data_changed(self) -> None:
        """The series changed (history prepended, live bars merged): redraw what depends on it."""
        if self.series.version == self._version:
            return
        length, first = len(self.series), int(self.series.ts[0]) if len(self.series) else 0
        grown_at_front = length and self._length and first != self._first_ts
        follow = self._length > 0 and self._at_live_edge()
        appended = length - self._length if not grown_at_front else 0
        full = not self._length or bool(grown_at_front) or appended < 0
        self._refresh(full=full)
        if follow and appended > 0:
            left, right = self.price.view.viewRange()[0]
            self.price.view.setXRange(left + appended, right + appended, padding=0)

    def _at_live_edge(self) -> bool:
        right = self.price.view.viewRange()[0][1]
        return right >= self.series.first_x + self._length - 1

    def show_last(self, bars: int) -> None:
        """The latest ``bars`` bars in view, the last one a small margin from the right edge."""
        last = self.series.last_x
        margin = max(RIGHT_MARGIN_MIN, round(bars * RIGHT_MARGIN_FRACTION))
        self.price.view.setXRange(last - bars + 1, last + margin, padding=0)

    def _refresh(self, full: bool) -> None:
        series = self.series
        # A live update changes bars from the last one held on: the items' min/max levels
        # are rebuilt from there only.
        since = None if full else max(0, self._length - 1)
        self._version = series.version
        self._length = len(series)
        self._first_ts = int(series.ts[0]) if len(series) else 0
        x0 = series.first_x
        o, h, lo, c, bars_since = self._bars(full, since)
        self.candles.set_data(x0, o, h, lo, c, since=bars_since)
        bounds = self.candles.dataBounds(1)
        rising = series.close >= series.open
        self.volume.set_data(x0, series.volume, rising, bounds, since=since)  # type: ignore[arg-type]
        indicators_since = self._compute_indicators(full, since)
        for pane in (self.price, *self.sub_panes.values()):
            for key, item in list(pane.lines.items()):
                values = self._cache.get(key)
                if values is None:
                    pane.plot.removeItem(item)
                    del pane.lines[key]
                else:
                    item.set_data(x0, values, since=indicators_since.get(key))
        macd = self.sub_panes.get("macd")
        if macd is not None and macd.histogram is not None and "macd_hist" in self._cache:
            hist = self._cache["macd_hist"]
            macd.histogram.set_data(
                x0, hist, np.nan_to_num(hist) >= 0, since=indicators_since.get("macd_hist")
            )
        # Room left of the oldest bar for a full opening view, so a new chart with few bars
        # still starts at the right edge rather than being pushed into the middle.
        limits = {"xMin": x0 - INITIAL_BARS, "xMax": series.last_x + 200, "minXRange": 10}
        for pane in (self.price, *self.sub_panes.values()):
            pane.view.setLimits(**limits)
        if not self._positioned and len(series):
            self._positioned = True
            self.show_last(INITIAL_BARS)
        self._update_last_price()
        self._place_fills()
        self.drawings.series_changed()
        self._fit_y()
        self._update_readout()

    def _bars(self, full: bool, since: int | None) -> tuple[Array, Array, Array, Array, int | None]:
        """The bars drawn (OHLC or Heikin-Ashi) and the index they changed from."""
        s = self.series
        if self.chart_style != "heikin_ashi":
            self._ohlc = None
            return s.open, s.high, s.low, s.close, since
        n = len(s)
        if full or self._ohlc is None or self._ohlc[0].size != n:
            self._ohlc = analytics.heikin_ashi(s.open, s.high, s.low, s.close)
            return (*self._ohlc, None)
        # HA forgets its start after ~60 bars (weights halve each bar)
        start = max(0, n - 200)
        tail = analytics.heikin_ashi(s.open[start:], s.high[start:], s.low[start:], s.close[start:])
        keep = max(0, n - 100) - start
        for target, values in zip(self._ohlc, tail, strict=True):
            target[start + keep :] = values[keep:]
        return (*self._ohlc, start + keep)

    def _compute_indicators(self, full: bool, since: int | None = None) -> dict[str, int | None]:
        """Recompute the indicators shown; returns, per line, the index its values changed
        from (None: all of them)."""
        s = self.series
        n = len(s)
        if n == 0:
            self._cache.clear()
            return {}
        # Live updates only touch the tail: recompute over the last TAIL bars and keep the
        # second half, where recursive indicators have long forgotten their seed.
        p = self.params
        start = 0 if full else max(0, n - TAIL)
        keep_from = 0 if start == 0 else n - TAIL // 2
        close = s.close[start:]
        results: dict[str, Array] = {}
        if "sma" in self.overlays:
            results["sma"] = analytics.sma(close, p.sma_length)
        if "ema" in self.overlays:
            results["ema"] = analytics.ema(close, p.ema_length)
        if "bollinger" in self.overlays:
            mid, upper, lower = analytics.bollinger_bands(close, p.bb_length, p.bb_width)
            results.update(bb_mid=mid, bb_upper=upper, bb_lower=lower)
        if "rsi" in self.panes_shown:
            results["rsi"] = analytics.rsi(close, p.rsi_length)
        if "macd" in self.panes_shown:
            line, signal, hist = analytics.macd(close, p.macd_fast, p.macd_slow, p.macd_signal)
            results.update(macd=line, macd_signal=signal, macd_hist=hist)
        cache: dict[str, Array] = {}
        changed: dict[str, int | None] = {}
        for key, values in results.items():
            previous = self._cache.get(key)
            if not start:
                cache[key] = values
                changed[key] = None
            elif previous is not None and previous.size >= keep_from:
                merged = np.empty(n)
                merged[:keep_from] = previous[:keep_from]
                merged[keep_from:] = values[keep_from - start :]
                cache[key] = merged
                changed[key] = keep_from
            else:  # more appended than the tail covers: start over
                return self._compute_indicators(full=True)
        if "vwap" in self.overlays:  # cumulative per session: always over everything
            cache["vwap"] = analytics.vwap(s.high, s.low, s.close, s.volume, self._sessions())
            changed["vwap"] = None if full or "vwap" not in self._cache else since
        self._cache = cache
        # Make sure an item exists for each line.
        for key, colour in OVERLAY_COLOURS.items():
            if key in cache and not key.startswith("macd") and key != "rsi":
                self.price.line(key, colour, 1.0 if key.startswith("bb") else 1.3)
        sma = self.price.lines.get("sma")
        if sma is not None:
            # With the Bollinger bands of the same length the middle band is this very line,
            # drawn over it: painting it too would cost a repaint and show nothing.
            sma.setVisible("bb_mid" not in cache or p.sma_length != p.bb_length)
        if "rsi" in self.sub_panes and "rsi" in cache:
            self.sub_panes["rsi"].line("rsi", OVERLAY_COLOURS["rsi"])
        if "macd" in self.sub_panes and "macd" in cache:
            self.sub_panes["macd"].line("macd", OVERLAY_COLOURS["macd"])
            self.sub_panes["macd"].line("macd_signal", OVERLAY_COLOURS["macd_signal"])
        return changed

    def _sessions(self) -> NDArray[np.int64] | None:
        """VWAP restarts each trading day on intraday charts and each month on daily ones (one
        anchor over years of history would be a meaningless long-run average)."""
        local = local_ns(self.series.ts, self.price.time_axis.offset_ns)
        if self.interval in ("1d", "1D"):  # a daily chart anchors it to each month
            return local.astype("datetime64[ns]").astype("datetime64[M]").astype(np.int64)
        return local // (86_400 * 10**9)

    # -- view -------------------------------------------------------------------------------
    def _x_range_changed(self, *args: Any) -> None:
        self._fit_y()
        left = self.price.view.viewRange()[0][0]
        if len(self.series) and left < self.series.first_x + 20:
            self.history_wanted.emit()

    def _fit_y(self) -> None:
        """Fit each pane's price axis to the bars in view (x is the user's; y follows)."""
        x_range = self.visible_x_range()
        ranges = [self.candles.visible_range(x_range)]
        ranges += [item.visible_range(x_range) for item in self.price.lines.values()]
        found = [r for r in ranges if r is not None and all(map(math.isfinite, r))]
        if found:
            low = min(r[0] for r in found)
            high = max(r[1] for r in found)
            span = max(high - low, abs(high) * 1e-4, 1e-9)
            # Room at the bottom for the volume bars, a little at the top.
            self.price.view.setYRange(low - span * 0.22, high + span * 0.06, padding=0)
        macd = self.sub_panes.get("macd")
        if macd is not None:
            parts = [item.visible_range(x_range) for item in macd.lines.values()]
            if macd.histogram is not None:
                parts.append(macd.histogram.visible_range(x_range))
            valid = [r for r in parts if r is not None]
            if valid:
                low = min(r[0] for r in valid)
                high = max(r[1] for r in valid)
                span = max(high - low, 1e-9)
                macd.view.setYRange(low - span * 0.08, high + span * 0.08, padding=0)

    def _update_last_price(self) -> None:
        s = self.series
        if not len(s):
            self.last_line.hide()
            self.price.price_axis.set_tag("last", None)
            return
        close, open_ = float(s.close[-1]), float(s.open[-1])
        colour = UP if close >= open_ else DOWN
        self.last_line.setPen(pg.mkPen(colour, style=Qt.PenStyle.DotLine))
        self.last_line.setValue(close)
        self.last_line.show()
        self.price.price_axis.set_tag("last", PriceTag(close, self._price(close), colour))

    def _price(self, value: float) -> str:
        return f"{value:,.{self.decimals}f}"

    # -- orders and fills -------------------------------------------------------------------
    def set_orders(self, marks: list[OrderMark]) -> None:
        wanted = {mark.order_id: mark for mark in marks}
        for order_id in list(self._order_lines):
            if order_id not in wanted:
                self.price.plot.removeItem(self._order_lines.pop(order_id))
        for order_id, mark in wanted.items():
            line = self._order_lines.get(order_id)
            if line is not None and line.mark == mark:
                continue
            if line is not None:
                self.price.plot.removeItem(line)
            line = OrderLine(mark)
            line.sigPositionChangeFinished.connect(self._order_line_dropped)
            self._order_lines[order_id] = line
            self.price.plot.addItem(line, ignoreBounds=True)

    def order_lines(self) -> dict[int, OrderLine]:
        return dict(self._order_lines)

    def restore_order_line(self, order_id: int) -> None:
        """Put a dragged line back at its order's price (move refused or not confirmed)."""
        line = self._order_lines.get(order_id)
        if line is not None:
            line.setValue(line.mark.price)

    def _order_line_dropped(self, line: OrderLine) -> None:
        if float(line.value()) != line.mark.price:
            self.order_dragged.emit(line.mark.order_id, float(line.value()))

    def set_fills(self, fills: list[FillMark]) -> None:
        self._fills = fills
        self._place_fills()

    def _place_fills(self) -> None:
        if not self._fills or not len(self.series):
            self.fill_markers.setData([])
            return
        ts = np.array([fill.ts for fill in self._fills], dtype=np.int64)
        keep = ts >= self.series.ts[0]
        x = self.series.x_of_time(ts)
        spots = []
        for fill, bar_x, shown in zip(self._fills, x, keep, strict=True):
            if not shown:
                continue
            buy = fill.side == "buy"
            spots.append(
                {
                    "pos": (float(bar_x), fill.price),
                    "symbol": "t1" if buy else "t",
                    "brush": pg.mkBrush(BUY if buy else SELL),
                    "pen": pg.mkPen("#ffffff", width=0.8),
                }
            )
        self.fill_markers.setData(spots)

    # -- crosshair and readout ----------------------------------------------------------------
    def _pane_at(self, scene_pos: QPointF) -> Pane | None:
        for pane in (self.price, *self.sub_panes.values()):
            if pane.view.sceneBoundingRect().contains(scene_pos):
                return pane
        return None

    def _mouse_moved(self, scene_pos: QPointF) -> None:
        pane = self._pane_at(scene_pos)
        panes = (self.price, *self.sub_panes.values())
        if pane is None or not len(self.series):
            for each in panes:
                each.vline.hide()
                each.hline.hide()
            self.price.price_axis.set_tag("cursor", None)
            self._hover_index = None
            self._update_readout()
            return
        point = pane.view.mapSceneToView(scene_pos)
        x = round(point.x())
        for each in panes:
            each.vline.setValue(x)
            each.vline.show()
            each.hline.setVisible(each is pane)
        pane.hline.setValue(point.y())
        if pane is self.price:
            self.price.price_axis.set_tag(
                "cursor", PriceTag(point.y(), self._price(point.y()), "#434651")
            )
        else:
            self.price.price_axis.set_tag("cursor", None)
        if pane is self.price:
            self.drawings.mouse_moved(point)
        self._hover_index = self.series.index_at(x)
        self._update_readout()

    def _mouse_clicked(self, event: Any) -> None:
        button = event.button()
        if button not in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton):
            return
        pane = self._pane_at(event.scenePos())
        if pane is not self.price:
            if button == Qt.MouseButton.LeftButton:
                self.drawings.select(None)
            return
        point = self.price.view.mapSceneToView(event.scenePos())
        if button == Qt.MouseButton.LeftButton and self.drawings.mode:
            self.drawings.click(point)
            event.accept()
            return
        index = self.drawings.hit(point, self.price.view.viewPixelSize())
        if button == Qt.MouseButton.LeftButton:
            self.drawings.select(index)
            if index is not None:
                self.graphics.setFocus(Qt.FocusReason.MouseFocusReason)  # for the Delete key
        elif index is not None:
            self.drawings.select(index)
            self._show_drawing_menu(event.screenPos().toPoint())
            event.accept()

    def _show_drawing_menu(self, at: QPoint) -> None:
        menu = QMenu(self)
        menu.setObjectName("drawingMenu")
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        delete = menu.addAction("Delete drawing")
        delete.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
        delete.triggered.connect(self.delete_selected_drawing)
        self.drawing_menu = menu
        menu.destroyed.connect(lambda *_: setattr(self, "drawing_menu", None))
        menu.popup(at)

    def delete_selected_drawing(self) -> bool:
        """Delete the drawing the user selected (the others stay); whether there was one."""
        return self.drawings.delete_selected()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            if self.delete_selected_drawing():
                event.accept()
                return
        elif event.key() == Qt.Key.Key_Escape:
            if self.drawings.mode is not None:
                self.drawings.set_mode(None)
                self.drawing_finished.emit()  # the tool is put down
            self.drawings.select(None)
            event.accept()
            return
        super().keyPressEvent(event)

    def _update_readout(self) -> None:
        s = self.series
        title = f"<b>{self.symbol}</b> <span style='color:{TEXT_DIM}'>· {self.interval}</span>"
        if not len(s):
            self.readout.setText(title)
            self.readout.adjustSize()
            return
        index = self._hover_index if self._hover_index is not None else len(s) - 1
        o, h, lo, c, v = (
            float(s.column(k)[index]) for k in ("open", "high", "low", "close", "volume")
        )
        previous = float(s.close[index - 1]) if index > 0 else o
        change = c - previous
        pct = change / previous * 100 if previous else 0.0
        colour = UP if c >= o else DOWN
        local = int(s.ts[index]) + self.price.time_axis.offset_ns
        when = (
            format_time(local, "day")
            + " "
            + str(np.datetime64(local, "ns").astype("datetime64[D]"))[:4]
        )
        if self.interval not in ("1d", "1D"):
            when += " " + format_time(local, "minute")

        def value(label: str, number: float) -> str:
            return (
                f"<span style='color:{TEXT_DIM}'>{label}</span>"
                f"<span style='color:{colour}'>{self._price(number)}</span>"
            )

        parts = [
            title,
            f"<span style='color:{TEXT_DIM}'>{when}</span>",
            value("O ", o),
            value("H ", h),
            value("L ", lo),
            value("C ", c),
            f"<span style='color:{colour}'>{change:+,.{self.decimals}f} ({pct:+.2f}%)</span>",
            f"<span style='color:{TEXT_DIM}'>Vol </span><span style='color:{colour}'>"
            f"{_compact(v)}</span>",
        ]
        lines = ["&nbsp;&nbsp;".join(parts)]
        indicators = []
        for key, label in (
            ("sma", self.params.label("sma")),
            ("ema", self.params.label("ema")),
            ("bb_mid", self.params.label("bollinger")),
            ("vwap", "VWAP"),
        ):
            values = self._cache.get(key)
            if values is not None and index < values.size and math.isfinite(values[index]):
                shown = self._price(values[index])
                indicators.append(
                    f"<span style='color:{OVERLAY_COLOURS[key]}'>{label} {shown}</span>"
                )
        for key, label in (("rsi", self.params.label("rsi")), ("macd", self.params.label("macd"))):
            values = self._cache.get(key)
            if values is not None and index < values.size and math.isfinite(values[index]):
                shown = f"{values[index]:,.2f}"
                indicators.append(
                    f"<span style='color:{OVERLAY_COLOURS[key]}'>{label} {shown}</span>"
                )
        if indicators:
            lines.append("&nbsp;&nbsp;".join(indicators))
        self.readout.setText("<br>".join(lines))
        self.readout.adjustSize()

    def readout_text(self) -> str:
        """The readout as plain text (what the user reads at the top left)."""
        text = self.readout.text().replace("&nbsp;", " ").replace("<br>", "\n")
        return re.sub(r"<[^>]+>", "", text)

    # -- state ----------------------------------------------------------------------------------
    def visible_x_range(self) -> tuple[float, float]:
        left, right = self.price.view.viewRange()[0]
        return float(left), float(right)

    def save_state(self) -> dict[str, Any]:
        return {"drawings": self.drawings.save()}

    def restore_state(self, state: dict[str, Any]) -> None:
        drawings = state.get("drawings")
        if isinstance(drawings, list):
            self.drawings.restore(drawings)


def _compact(value: float) -> str:
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if abs(value) >= limit:
            return f"{value / limit:.2f}{suffix}"
    return f"{value:,.0f}"


def _blend(colour: str, weight: float) -> str:
    """``colour`` at ``weight`` over the chart background, as a solid colour: blending with
    alpha on every paint costs far more than filling with an opaque one."""
    top, bottom = QColor(colour), QColor(BACKGROUND)
    mixed = QColor(
        round(top.red() * weight + bottom.red() * (1 - weight)),
        round(top.green() * weight + bottom.green() * (1 - weight)),
        round(top.blue() * weight + bottom.blue() * (1 - weight)),
    )
    return mixed.name()
