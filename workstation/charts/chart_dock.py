"""The chart panel: a ChartView fed by the session.

History comes over REST (the latest bars when a symbol or interval is chosen, older ones
as the user scrolls back); the forming candle and new ones come from the session's candle
channel. The trader's working orders on the symbol are drawn as lines that can be dragged
to a new price (confirmed first, then modified on the exchange), and fills as markers.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, ClassVar
from zoneinfo import ZoneInfo

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QMenu,
    QMessageBox,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from exchange_server.protocol import Candle, ModifyOrderRequest, OrderOut
from workstation.charts.chart_view import (
    OVERLAYS,
    PANES,
    ChartView,
    FillMark,
    OrderMark,
)
from workstation.charts.indicator_settings import IndicatorDialog, IndicatorParams
from workstation.charts.series import candle_arrays
from workstation.charts.toolbar import ICON_SIZE, TOOLBAR_STYLE, tool_icon
from workstation.docks.base import PanelDock
from workstation.session.links import LinkGroups
from workstation.session.session import is_open
from workstation.session.tasks import spawn

if TYPE_CHECKING:
    from workstation.session.session import Session

INTERVALS = {"1m": "1m", "5m": "5m", "15m": "15m", "1h": "1h", "1D": "1d"}  # label -> wire
INTERVAL_NAMES = {
    "1m": "One-minute",
    "5m": "Five-minute",
    "15m": "Fifteen-minute",
    "1h": "Hourly",
    "1d": "Daily",
}
STYLE_LABELS = {"candle": "Candles", "line": "Line", "heikin_ashi": "Heikin-Ashi"}
INDICATORS = ("sma", "ema", "bollinger", "vwap", "rsi", "macd")
HISTORY_PAGE = 1000  # bars per REST request (the server allows up to 5,000)


def exchange_offset_ns(asset_class: str) -> int:
    """Offset of the exchange's clock from UTC: time labels are in exchange time (NSE: IST;
    crypto trades in UTC). Neither zone has daylight saving, so one offset serves."""
    zone = ZoneInfo("UTC" if asset_class == "crypto" else "Asia/Kolkata")
    offset = zone.utcoffset(None)
    return int(offset.total_seconds()) * 10**9 if offset else 0


def round_to_tick(price: float, tick: Decimal) -> Decimal:
    if tick <= 0:
        return Decimal(str(price))
    steps = (Decimal(repr(price)) / tick).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(steps, Decimal(1)) * tick


class ChartDock(PanelDock):
    dock_id: ClassVar[str] = "chart"
    title: ClassVar[str] = "Chart"
    linkable: ClassVar[bool] = True

    def __init__(self, session: Session, links: LinkGroups, parent: QWidget | None = None) -> None:
        super().__init__(session, links, parent)
        self.interval = "1d"
        self._generation = 0  # bumped per symbol/interval: stale answers are dropped
        self._unwatch: Any = None
        self._loaded = False  # the first page of history is in
        self._loading_history = False
        self._history_exhausted = False
        self.confirm_box: QMessageBox | None = None  # the open "move order?" question

        body = QWidget(self)
        self.view = ChartView(body)
        self.toolbar = self._build_toolbar(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.view, 1)
        self.setWidget(body)

        self.view.history_wanted.connect(self._load_older)
        self.view.order_dragged.connect(self._order_dragged)
        self.view.drawing_finished.connect(lambda: self.set_drawing_mode(None))
        self.view.drawing_selected.connect(self.delete_drawing_action.setEnabled)
        session.candles_changed.connect(self._candles_changed)
        session.orders_changed.connect(self._show_orders)
        session.fills_added.connect(self._show_fills)

    # -- toolbar --------------------------------------------------------------------------
    def _build_toolbar(self, parent: QWidget) -> QToolBar:
        bar = QToolBar(parent)
        bar.setObjectName("chartToolbar")
        bar.setStyleSheet(TOOLBAR_STYLE)
        bar.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        # No symbol here: the readout on the chart and the panel's title name it already, and
        # a narrow panel needs the room for the tools.
        self.interval_actions: dict[str, QAction] = {}
        group = QActionGroup(bar)
        for label, wire in INTERVALS.items():
            action = bar.addAction(label)
            action.setCheckable(True)
            action.setChecked(wire == self.interval)
            action.setToolTip(f"{INTERVAL_NAMES[wire]} bars")
            action.triggered.connect(lambda _=False, w=wire: self.set_interval(w))
            group.addAction(action)
            self.interval_actions[wire] = action
        bar.addSeparator()
        self.style_box = QComboBox(bar)
        self.style_box.setObjectName("chartStyle")
        self.style_box.setToolTip("Bar style")
        for style, label in STYLE_LABELS.items():
            self.style_box.addItem(label, style)
        self.style_box.currentIndexChanged.connect(
            lambda _: self.view.set_style(str(self.style_box.currentData()))
        )
        bar.addWidget(self.style_box)
        menu = QMenu(bar)
        menu.setObjectName("chartIndicatorMenu")
        self.indicator_actions: dict[str, QAction] = {}
        for key in INDICATORS:
            action = menu.addAction(self.view.params.menu_label(key))
            action.setCheckable(True)
            action.toggled.connect(self._indicators_changed)
            self.indicator_actions[key] = action
        menu.addSeparator()
        self.settings_action = menu.addAction("Indicator settings…")
        self.settings_action.triggered.connect(self.open_indicator_settings)
        self.settings_dialog: IndicatorDialog | None = None
        button = QToolButton(bar)
        button.setObjectName("chartIndicators")
        button.setText("Indicators")
        button.setMenu(menu)
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        bar.addWidget(button)
        bar.addSeparator()
        self.draw_actions: dict[str, QAction] = {}
        for mode, label in (("trend", "Trend line"), ("hline", "Horizontal line")):
            action = bar.addAction(tool_icon(mode), label)
            action.setCheckable(True)
            action.setToolTip(f"{label}: click on the chart to place it")
            action.toggled.connect(lambda on, m=mode: self.set_drawing_mode(m if on else None))
            self.draw_actions[mode] = action
        self.delete_drawing_action = bar.addAction(tool_icon("delete"), "Delete drawing")
        self.delete_drawing_action.setToolTip("Delete the selected drawing (Delete)")
        self.delete_drawing_action.setEnabled(False)
        self.delete_drawing_action.triggered.connect(self.view.delete_selected_drawing)
        clear = bar.addAction(tool_icon("clear"), "Clear drawings")
        clear.setToolTip("Delete every drawing on this chart")
        clear.triggered.connect(self._clear_drawings)
        for action in (*self.draw_actions.values(), self.delete_drawing_action, clear):
            widget = bar.widgetForAction(action)
            if isinstance(widget, QToolButton):
                widget.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        return bar

    def set_drawing_mode(self, mode: str | None) -> None:
        self.view.drawings.set_mode(mode)
        for key, action in self.draw_actions.items():
            action.blockSignals(True)
            action.setChecked(key == mode)
            action.blockSignals(False)

    def _clear_drawings(self) -> None:
        self.view.drawings.clear()
        self.set_drawing_mode(None)

    def _indicators_changed(self) -> None:
        chosen = {key for key, action in self.indicator_actions.items() if action.isChecked()}
        self.view.set_overlays(chosen & set(OVERLAYS))
        self.view.set_panes([key for key in PANES if key in chosen])

    def set_indicators(self, keys: set[str]) -> None:
        for key, action in self.indicator_actions.items():
            action.blockSignals(True)
            action.setChecked(key in keys)
            action.blockSignals(False)
        self._indicators_changed()

    def set_indicator_params(self, params: IndicatorParams) -> None:
        """New indicator periods: the lines, the menu and the readout follow."""
        self.view.set_params(params)
        for key, action in self.indicator_actions.items():
            action.setText(params.menu_label(key))

    def open_indicator_settings(self) -> IndicatorDialog:
        """The indicator settings dialog (window-modal, not blocking: the chart keeps
        updating while it is open); accepted, its values apply to this chart."""
        dialog = IndicatorDialog(self.view.params, self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.settings_dialog = dialog

        def finished(result: int) -> None:
            self.settings_dialog = None
            if result == QDialog.DialogCode.Accepted:
                self.set_indicator_params(dialog.params())

        dialog.finished.connect(finished)
        dialog.open()
        return dialog

    def set_style(self, style: str) -> None:
        index = self.style_box.findData(style)
        if index >= 0:
            self.style_box.setCurrentIndex(index)

    # -- symbol and interval --------------------------------------------------------------
    def set_symbol(self, symbol: str) -> None:
        if symbol == self.symbol:
            return
        super().set_symbol(symbol)
        self.setWindowTitle(f"{self.title} — {symbol}")
        self._load()

    def set_interval(self, interval: str) -> None:
        if interval not in INTERVALS.values():
            raise ValueError(interval)
        action = self.interval_actions[interval]
        if not action.isChecked():
            action.setChecked(True)
        if interval == self.interval:
            return
        self.interval = interval
        self._load()

    def _load(self) -> None:
        """Start over on the current symbol and interval: watch live bars, fetch history."""
        self._generation += 1
        if self._unwatch is not None:
            self._unwatch()
            self._unwatch = None
        self._loaded = False
        self._loading_history = False
        self._history_exhausted = False
        self.view.reset()
        symbol = self.symbol
        if symbol is None:
            return
        instrument = self.session.instruments.get(symbol)
        decimals = instrument.price_decimals if instrument else 2
        offset = exchange_offset_ns(instrument.asset_class if instrument else "")
        label = next(k for k, v in INTERVALS.items() if v == self.interval)
        self.view.set_instrument(symbol, label, decimals, offset)
        self._unwatch = self.session.watch_candles(symbol, self.interval)
        self._merge_live()
        self._show_orders()
        self._show_fills()
        spawn(self._load_latest(self._generation), self._report, f"Chart history of {symbol}")

    async def _load_latest(self, generation: int) -> None:
        assert self.symbol is not None
        candles = await self.session.candles_history(self.symbol, self.interval, None, HISTORY_PAGE)
        if generation != self._generation:
            return
        if candles:
            ts, values = candle_arrays(candles)
            series = self.view.series
            series.prepend(ts, values)
            newer = ts > series.ts[-1] if len(series) else np.zeros(ts.size, dtype=bool)
            series.upsert(ts[newer], values[:, newer])
        self._history_exhausted = len(candles) < HISTORY_PAGE
        self._loaded = True
        self._merge_live()
        self.view.data_changed()

    def _load_older(self) -> None:
        series = self.view.series
        if not self._loaded or self._loading_history or self._history_exhausted or not len(series):
            return
        self._loading_history = True
        spawn(
            self._fetch_older(self._generation, int(series.ts[0])),
            self._report,
            "Chart history",
        )

    async def _fetch_older(self, generation: int, end_ns: int) -> None:
        assert self.symbol is not None
        try:
            candles = await self.session.candles_history(
                self.symbol, self.interval, end_ns, HISTORY_PAGE
            )
        finally:
            if generation == self._generation:
                self._loading_history = False
        if generation != self._generation:
            return
        if not candles:
            self._history_exhausted = True
            return
        ts, values = candle_arrays(candles)
        if self.view.series.prepend(ts, values) == 0:
            self._history_exhausted = True
        self.view.data_changed()

    def _candles_changed(self, symbol: str, interval: str) -> None:
        if symbol == self.symbol and interval == self.interval:
            self._merge_live()

    def _merge_live(self) -> None:
        """Fold the session's live tail in: the forming candle replaces the last bar, new
        candles are appended."""
        if self.symbol is None:
            return
        tail = self.session.candles.get((self.symbol, self.interval))
        if not tail:
            return
        series = self.view.series
        last = int(series.ts[-1]) if len(series) else None
        fresh: list[Candle] = []
        for candle in reversed(tail):
            if last is not None and candle.ts < last:
                break
            fresh.append(candle)
        if not fresh:
            return
        fresh.reverse()
        ts, values = candle_arrays(fresh)
        if series.upsert(ts, values):
            self.view.data_changed()

    # -- orders and fills -----------------------------------------------------------------
    def _show_orders(self) -> None:
        marks = []
        for order in self.session.orders.values():
            if order.symbol != self.symbol or order.price is None or not is_open(order):
                continue
            marks.append(
                OrderMark(order.order_id, str(order.side), float(order.price), _order_text(order))
            )
        self.view.set_orders(marks)

    def _show_fills(self) -> None:
        self.view.set_fills(
            [
                FillMark(fill.ts, str(fill.side), float(fill.price))
                for fill in self.session.fills
                if fill.symbol == self.symbol
            ]
        )

    def _order_dragged(self, order_id: int, price: float) -> None:
        order = self.session.orders.get(order_id)
        instrument = self.session.instruments.get(order.symbol) if order else None
        if order is None or instrument is None or order.price is None:
            self.view.restore_order_line(order_id)
            return
        new_price = round_to_tick(price, instrument.tick_size)
        if new_price == order.price:
            self.view.restore_order_line(order_id)
            return
        text = (
            f"Move {str(order.side).upper()} {_plain(order.remaining)} {order.symbol}"
            f" from {_plain(order.price)} to {_plain(new_price)}?"
        )
        # Window-modal and non-blocking: the market keeps moving while the user decides.
        box = QMessageBox(QMessageBox.Icon.Question, "Modify order", text, parent=self)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.confirm_box = box

        def answered(result: int) -> None:
            self.confirm_box = None
            if result == QMessageBox.StandardButton.Yes:
                spawn(self._modify(order_id, new_price), self._report, "Modify order")
            else:
                self.view.restore_order_line(order_id)

        box.finished.connect(answered)
        box.open()

    async def _modify(self, order_id: int, price: Decimal) -> None:
        try:
            await self.session.modify_order(order_id, ModifyOrderRequest(price=price))
        except Exception:
            self.view.restore_order_line(order_id)
            raise
        self._show_orders()

    def _report(self, level: str, text: str) -> None:
        self.session.notice.emit(level, text)

    # -- shell ----------------------------------------------------------------------------
    def is_populated(self) -> bool:
        return self._loaded and len(self.view.series) > 0

    def save_state(self) -> dict[str, Any]:
        state = super().save_state()
        chosen = [k for k, action in self.indicator_actions.items() if action.isChecked()]
        state.update(
            interval=self.interval,
            style=self.view.chart_style,
            indicators=chosen,
            indicator_params=self.view.params.to_state(),
            drawings=self.view.drawings.save(),
        )
        return state

    def restore_state(self, state: dict[str, Any]) -> None:
        interval = state.get("interval")
        if isinstance(interval, str) and interval in INTERVALS.values():
            if self.symbol is not None:
                self.set_interval(interval)
            else:
                self.interval = interval
                self.interval_actions[interval].setChecked(True)
        style = state.get("style")
        if isinstance(style, str):
            self.set_style(style)
        if "indicator_params" in state:
            self.set_indicator_params(IndicatorParams.from_state(state["indicator_params"]))
        indicators = state.get("indicators")
        if isinstance(indicators, list):
            self.set_indicators({str(key) for key in indicators})
        super().restore_state(state)
        drawings = state.get("drawings")
        if isinstance(drawings, list):
            self.view.drawings.restore(drawings)


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _order_text(order: OrderOut) -> str:
    return (
        f"{str(order.side).upper()} {_plain(order.remaining)} @ {_plain(order.price or Decimal(0))}"
    )
