"""The chart panel against a stand-in session: history, scroll-back, the live candle,
order lines that move orders, fill markers, crosshair readout, drawings, saved state."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtWidgets import QMessageBox

from exchange_server.protocol import Candle, Fill, InstrumentOut, ModifyOrderRequest, OrderOut
from tests.workstation.conftest import WaitUntil
from tests.workstation.factories import instrument as make_instrument
from workstation.charts.chart_dock import ChartDock, round_to_tick
from workstation.charts.levels import Levels, bin_size
from workstation.session.links import LinkGroups

DAY = 86_400 * 10**9
START = 1_500_000_000 * 10**9 // DAY * DAY
BARS = 3000


def history() -> list[Candle]:
    rng = np.random.default_rng(1)
    close = 1000 * np.exp(np.cumsum(rng.normal(0, 0.01, BARS)))
    candles = []
    for index, price in enumerate(close):
        open_ = close[index - 1] if index else price
        candles.append(
            Candle(
                ts=START + index * DAY,
                open=Decimal(f"{open_:.2f}"),
                high=Decimal(f"{max(open_, price) * 1.01:.2f}"),
                low=Decimal(f"{min(open_, price) * 0.99:.2f}"),
                close=Decimal(f"{price:.2f}"),
                volume=Decimal(1000 + index),
            )
        )
    return candles


def instrument(symbol: str) -> InstrumentOut:
    return make_instrument(
        symbol=symbol, name=symbol, sector="", isin="", reference_price=Decimal(1000),
        band_low=Decimal(1), band_high=Decimal(100000),
    )  # fmt: skip


def order(order_id: int, side: str, price: str, symbol: str = "RELIANCE") -> OrderOut:
    return OrderOut(
        order_id=order_id, client_order_id=str(order_id), symbol=symbol, side=side,  # type: ignore[arg-type]
        order_type="limit", tif="day", status="new", quantity=Decimal(10),
        price=Decimal(price), trigger_price=None, filled=Decimal(0), remaining=Decimal(10),
        average_price=None, fees=Decimal(0), post_only=False, expire_at=0, created_at=0,
        updated_at=0, reason="",
    )  # fmt: skip


class StandInSession(QObject):
    """The attributes, signals and calls of Session the chart uses, over fixed history."""

    candles_changed = Signal(str, str)
    orders_changed = Signal()
    fills_added = Signal()
    notice = Signal(str, str)

    def __init__(self) -> None:
        super().__init__()
        self.history = history()
        self.instruments = {"RELIANCE": instrument("RELIANCE"), "TCS": instrument("TCS")}
        self.candles: dict[tuple[str, str], list[Candle]] = {}
        self.orders: dict[int, OrderOut] = {}
        self.fills: list[Fill] = []
        self.watched: list[tuple[str, str]] = []
        self.history_requests: list[int | None] = []
        self.modified: list[tuple[int, ModifyOrderRequest]] = []

    def watch_candles(self, symbol: str, interval: str) -> Any:
        self.watched.append((symbol, interval))
        return lambda: self.watched.remove((symbol, interval))

    async def candles_history(
        self, symbol: str, interval: str, end_ns: int | None = None, limit: int = 500
    ) -> list[Candle]:
        self.history_requests.append(end_ns)
        older = [c for c in self.history if end_ns is None or c.ts < end_ns]
        return older[-limit:]

    async def modify_order(self, order_id: int, request: ModifyOrderRequest) -> OrderOut:
        self.modified.append((order_id, request))
        updated = self.orders[order_id].model_copy(update={"price": request.price})
        self.orders[order_id] = updated
        self.orders_changed.emit()
        return updated


@pytest.fixture
async def chart(qtbot: Any, wait_until: WaitUntil) -> tuple[ChartDock, StandInSession]:
    session = StandInSession()
    dock = ChartDock(session, LinkGroups())  # type: ignore[arg-type]
    qtbot.addWidget(dock)
    dock.resize(1200, 700)
    dock.show()
    dock.set_symbol("RELIANCE")
    await wait_until(dock.is_populated, message="the chart never drew")
    return dock, session


async def test_opens_on_the_latest_bars_with_a_readout_of_the_last_one(
    chart: tuple[ChartDock, StandInSession],
) -> None:
    dock, session = chart
    view = dock.view
    assert session.watched == [("RELIANCE", "1d")]
    assert len(view.series) == 1000  # one page of history
    left, right = view.visible_x_range()
    assert left < view.series.last_x < right and right - left < 200
    # The latest bar sits a small margin from the right edge, not a gap of many bars.
    assert 1 <= right - view.series.last_x <= 4
    last = session.history[-1]
    assert f"C {float(last.close):,.2f}" in view.readout_text()
    assert view.price.price_axis.tags["last"].price == float(last.close)


async def test_scrolling_back_loads_older_history_without_moving_the_view(
    chart: tuple[ChartDock, StandInSession], wait_until: WaitUntil
) -> None:
    dock, session = chart
    view = dock.view
    first_ts = int(view.series.ts[0])
    view.price.view.setXRange(view.series.first_x, view.series.first_x + 100, padding=0)
    left_before = view.visible_x_range()[0]
    await wait_until(lambda: len(view.series) == 2000, message="no older history")
    assert session.history_requests[-1] == first_ts  # asked for what comes before
    # The bar that was leftmost on screen is still there, at the same x.
    index = view.series.index_at(left_before)
    assert index is not None and int(view.series.ts[index]) == first_ts
    assert np.all(np.diff(view.series.ts) > 0)
    view.price.view.setXRange(view.series.first_x, view.series.first_x + 100, padding=0)
    await wait_until(lambda: len(view.series) == BARS)
    view.price.view.setXRange(view.series.first_x, view.series.first_x + 100, padding=0)
    await wait_until(lambda: dock._history_exhausted, message="the start of history unnoticed")


async def test_the_forming_candle_updates_live_and_a_new_one_is_followed(
    chart: tuple[ChartDock, StandInSession],
) -> None:
    dock, session = chart
    view = dock.view
    last = session.history[-1]
    forming = last.model_copy(update={"close": last.high, "volume": last.volume + 500})
    session.candles[("RELIANCE", "1d")] = [session.history[-2], forming]
    session.candles_changed.emit("RELIANCE", "1d")
    assert len(view.series) == 1000
    assert view.series.close[-1] == float(last.high)
    assert view.series.volume[-1] == float(last.volume + 500)
    assert view.price.price_axis.tags["last"].price == float(last.high)
    right_before = view.visible_x_range()[1]
    new = forming.model_copy(update={"ts": forming.ts + DAY})
    session.candles[("RELIANCE", "1d")].append(new)
    session.candles_changed.emit("RELIANCE", "1d")
    assert len(view.series) == 1001
    assert view.visible_x_range()[1] == pytest.approx(right_before + 1)  # it follows
    session.candles_changed.emit("TCS", "1d")  # another chart's bars change nothing here
    assert len(view.series) == 1001


async def test_dragging_an_order_line_modifies_the_order_after_confirmation(
    chart: tuple[ChartDock, StandInSession], wait_until: WaitUntil
) -> None:
    dock, session = chart
    session.orders = {7: order(7, "buy", "950.00"), 8: order(8, "sell", "990", "TCS")}
    session.orders_changed.emit()
    lines = dock.view.order_lines()
    assert set(lines) == {7}  # only this symbol's orders
    assert lines[7].mark.text == "BUY 10 @ 950"

    # Dropped, then declined: the line goes back, nothing is sent.
    lines[7].setValue(931.234)
    lines[7].sigPositionChangeFinished.emit(lines[7])
    assert dock.confirm_box is not None and "from 950 to 931.25" in dock.confirm_box.text()
    dock.confirm_box.done(QMessageBox.StandardButton.No)
    assert lines[7].value() == 950.0 and session.modified == []

    lines[7].setValue(931.234)
    lines[7].sigPositionChangeFinished.emit(lines[7])
    assert dock.confirm_box is not None
    dock.confirm_box.done(QMessageBox.StandardButton.Yes)
    await wait_until(lambda: session.modified, message="the order was not modified")
    assert session.modified == [(7, ModifyOrderRequest(price=Decimal("931.25")))]
    await wait_until(lambda: dock.view.order_lines()[7].value() == 931.25)

    session.orders[7] = session.orders[7].model_copy(update={"status": "filled"})
    session.orders_changed.emit()
    assert dock.view.order_lines() == {}


def test_prices_round_to_the_tick() -> None:
    assert round_to_tick(931.234, Decimal("0.05")) == Decimal("931.25")
    assert round_to_tick(931.22, Decimal("0.05")) == Decimal("931.20")
    assert round_to_tick(0.01, Decimal("0.05")) == Decimal("0.05")  # never zero


async def test_fills_are_marked_on_their_bars(chart: tuple[ChartDock, StandInSession]) -> None:
    dock, session = chart
    bar = session.history[-3]
    session.fills = [
        Fill(trade_id=1, order_id=7, symbol="RELIANCE", side="buy", price=bar.low,
             quantity=Decimal(1), notional=bar.low, fee=Decimal(0), liquidity="maker",
             ts=bar.ts + 3600 * 10**9),
        Fill(trade_id=2, order_id=9, symbol="TCS", side="sell", price=bar.low,
             quantity=Decimal(1), notional=bar.low, fee=Decimal(0), liquidity="taker",
             ts=bar.ts),
    ]  # fmt: skip
    session.fills_added.emit()
    points = dock.view.fill_markers.points()
    assert len(points) == 1
    assert points[0].pos().x() == dock.view.series.last_x - 2
    assert points[0].pos().y() == float(bar.low)


async def test_crosshair_reads_out_the_bar_under_the_mouse(
    chart: tuple[ChartDock, StandInSession],
) -> None:
    dock, session = chart
    view = dock.view
    bar = session.history[-10]
    x = view.series.last_x - 9
    scene = view.price.view.mapViewToScene(QPointF(x, float(bar.close)))
    view.graphics.scene().sigMouseMoved.emit(scene)
    text = view.readout_text()
    assert f"O {float(bar.open):,.2f}" in text and f"H {float(bar.high):,.2f}" in text
    assert f"L {float(bar.low):,.2f}" in text and f"C {float(bar.close):,.2f}" in text
    assert view.price.vline.value() == x and view.price.hline.isVisible()
    assert view.price.price_axis.tags["cursor"].price == pytest.approx(float(bar.close))


async def test_intervals_styles_and_indicators(
    chart: tuple[ChartDock, StandInSession], wait_until: WaitUntil
) -> None:
    dock, session = chart
    view = dock.view
    dock.interval_actions["5m"].trigger()
    assert session.watched == [("RELIANCE", "5m")]  # the daily bars are no longer watched
    await wait_until(dock.is_populated)
    dock.set_style("heikin_ashi")
    s = view.series
    assert view.candles.open[-1] == pytest.approx(
        (view.candles.open[-2] + view.candles.close[-2]) / 2
    )
    assert view.candles.close[-1] == pytest.approx(
        (s.open[-1] + s.high[-1] + s.low[-1] + s.close[-1]) / 4
    )
    dock.set_indicators({"sma", "bollinger", "rsi", "macd"})
    assert set(view.price.lines) == {"sma", "bb_mid", "bb_upper", "bb_lower"}
    assert view.panes_shown == ["rsi", "macd"]
    assert 0 <= view.sub_panes["rsi"].lines["rsi"].values[-1] <= 100
    assert "RSI 14" in view.readout_text() and "SMA 20" in view.readout_text()
    dock.set_indicators(set())
    assert view.price.lines == {} and view.panes_shown == []


async def test_drawing_tools_and_saved_state(
    chart: tuple[ChartDock, StandInSession], qtbot: Any
) -> None:
    dock, session = chart
    view = dock.view
    dock.draw_actions["hline"].trigger()
    view.drawings.click(QPointF(view.series.last_x, 1234.5))
    assert dock.view.drawings.mode is None and not dock.draw_actions["hline"].isChecked()
    dock.draw_actions["trend"].trigger()
    view.drawings.click(QPointF(view.series.last_x - 50, 1000.0))
    view.drawings.click(QPointF(view.series.last_x - 10, 1100.0))
    assert len(view.drawings) == 2
    dock.set_indicators({"ema", "macd"})
    state = dock.save_state()
    assert state["interval"] == "1d" and set(state["indicators"]) == {"ema", "macd"}
    assert state["drawings"][1]["points"] == [
        [session.history[-51].ts, 1000.0],
        [session.history[-11].ts, 1100.0],
    ]

    other = ChartDock(session, LinkGroups())  # type: ignore[arg-type]
    qtbot.addWidget(other)
    other.restore_state(state)
    assert other.symbol == "RELIANCE" and other.interval == "1d"
    assert other.view.panes_shown == ["macd"] and len(other.view.drawings) == 2
    dock._clear_drawings()
    assert len(view.drawings) == 0


def _closes(view: Any) -> np.ndarray:
    return np.asarray(view.series.close, dtype=np.float64)


async def test_indicator_periods_are_chosen_and_kept_with_the_workspace(
    chart: tuple[ChartDock, StandInSession], qtbot: Any, wait_until: WaitUntil
) -> None:
    dock, session = chart
    view = dock.view
    dock.set_indicators({"sma", "bollinger", "rsi", "macd"})
    sma_before = view.price.lines["sma"].values[-1]
    assert sma_before == pytest.approx(_closes(view)[-20:].mean())
    rsi_before = view.sub_panes["rsi"].lines["rsi"].values[-1]

    dialog = dock.open_indicator_settings()
    assert dock.settings_dialog is dialog
    dialog.spins["sma_length"].setValue(50)
    dialog.spins["bb_length"].setValue(30)
    dialog.spins["bb_width"].setValue(3.0)
    dialog.spins["rsi_length"].setValue(7)
    dialog.spins["macd_fast"].setValue(40)  # not shorter than slow: refused
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    assert not ok.isEnabled() and "MACD" in dialog.problem.text()
    dialog.spins["macd_fast"].setValue(5)
    dialog.spins["macd_slow"].setValue(35)
    assert ok.isEnabled()
    ok.click()
    assert dock.settings_dialog is None

    closes = _closes(view)
    sma = view.price.lines["sma"].values
    assert sma[-1] == pytest.approx(closes[-50:].mean()) and sma[-1] != sma_before
    assert np.isnan(sma[48]) and not np.isnan(sma[49])  # 50 bars before the first value
    mid, upper = view.price.lines["bb_mid"].values[-1], view.price.lines["bb_upper"].values[-1]
    assert mid == pytest.approx(closes[-30:].mean())
    assert upper - mid == pytest.approx(3.0 * closes[-30:].std())
    assert view.sub_panes["rsi"].lines["rsi"].values[-1] != rsi_before
    text = view.readout_text()
    assert "SMA 50" in text and "BB 30 3" in text and "RSI 7" in text and "MACD 5 35 9" in text
    assert dock.indicator_actions["sma"].text() == "SMA 50"

    state = dock.save_state()
    assert state["indicator_params"]["sma_length"] == 50
    other = ChartDock(session, LinkGroups())  # type: ignore[arg-type]
    qtbot.addWidget(other)
    other.restore_state(state)
    await wait_until(other.is_populated, message="the restored chart never drew")
    assert other.view.params == view.params
    assert other.view.price.lines["sma"].values[-1] == pytest.approx(closes[-50:].mean())
    assert other.indicator_actions["macd"].text() == "MACD 5, 35, 9"

    # A hand-edited workspace: what cannot be used falls back to the default.
    broken = dict(state, indicator_params={"sma_length": -3, "rsi_length": "x", "ema_length": 9})
    third = ChartDock(session, LinkGroups())  # type: ignore[arg-type]
    qtbot.addWidget(third)
    third.restore_state(broken)
    assert (third.view.params.sma_length, third.view.params.rsi_length) == (20, 14)
    assert third.view.params.ema_length == 9


def _viewport_point(view: Any, x: float, price: float) -> Any:
    scene = view.price.view.mapViewToScene(QPointF(x, price))
    return view.graphics.mapFromScene(scene)


async def test_one_drawing_is_selected_by_a_click_and_deleted_alone(
    chart: tuple[ChartDock, StandInSession], qtbot: Any
) -> None:
    dock, _session = chart
    view = dock.view
    low, high = view.price.view.viewRange()[1]
    level = low + (high - low) * 0.7
    last = view.series.last_x
    dock.draw_actions["hline"].trigger()
    view.drawings.click(QPointF(last - 60, level))
    dock.draw_actions["trend"].trigger()
    start, end = low + (high - low) * 0.3, low + (high - low) * 0.4
    view.drawings.click(QPointF(last - 80, start))
    view.drawings.click(QPointF(last - 20, end))
    assert view.drawings.kinds() == ["hline", "trend"]

    viewport = view.graphics.viewport()
    # A click next to the horizontal line (a few pixels off) selects it.
    near = _viewport_point(view, last - 40, level) + QPoint(0, 3)
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=near)
    assert view.drawings.selected == 0 and dock.delete_drawing_action.isEnabled()
    # A click in empty space selects nothing.
    empty = _viewport_point(view, last - 40, low + (high - low) * 0.9)
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=empty)
    assert view.drawings.selected is None and not dock.delete_drawing_action.isEnabled()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=near)
    assert view.drawings.selected == 0

    qtbot.keyClick(view.graphics, Qt.Key.Key_Delete)
    assert view.drawings.kinds() == ["trend"]  # the trend line is kept
    assert [entry["kind"] for entry in dock.save_state()["drawings"]] == ["trend"]

    # The trend line, by its context menu.
    middle = _viewport_point(view, last - 50, (start + end) / 2)
    qtbot.mouseClick(viewport, Qt.MouseButton.RightButton, pos=middle)
    assert view.drawings.selected == 0 and view.drawing_menu is not None
    (delete,) = [a for a in view.drawing_menu.actions() if a.text() == "Delete drawing"]
    delete.trigger()
    view.drawing_menu.close()
    assert len(view.drawings) == 0


def test_zoomed_out_every_spike_is_kept() -> None:
    """Folding many bars into each pixel column (read from precomputed per-block levels)
    keeps each column's true highest high and lowest low, also after live updates."""
    rng = np.random.default_rng(7)
    for trial in range(60):
        n = int(rng.integers(2, 5000))
        values = rng.normal(size=n)
        values[rng.random(n) < 0.05] = np.nan
        values[: int(rng.integers(0, 40))] = np.nan  # an indicator's warm-up
        levels = Levels()
        levels.set(values[: n // 2].copy())
        levels.set(values.copy(), since=max(0, n // 2 - 1))  # bars appended live
        values[-1] = 50.0  # the forming candle spikes
        levels.set(values, since=n - 1)
        for _ in range(10):
            start = int(rng.integers(0, n))
            stop = int(rng.integers(start + 1, n + 1))
            group = bin_size(float(rng.uniform(1, 400)))
            starts, low, high = levels.fold(start, stop, group)
            ends = np.r_[starts[1:], stop]
            for first, end, lowest, highest in zip(starts, ends, low, high, strict=True):
                chunk = values[first:end]
                if np.isnan(chunk).all():
                    assert np.isnan(lowest) and np.isnan(highest)
                else:
                    assert (lowest, highest) == (np.nanmin(chunk), np.nanmax(chunk)), trial
            chunk = values[start:stop]
            if not np.isnan(chunk).all():
                assert levels.range(start, stop) == (np.nanmin(chunk), np.nanmax(chunk))


async def test_a_live_spike_lifts_the_price_axis_when_zoomed_out(
    chart: tuple[ChartDock, StandInSession],
) -> None:
    dock, session = chart
    view = dock.view
    view.price.view.setXRange(view.series.first_x, view.series.last_x + 2, padding=0)
    top_before = view.price.view.viewRange()[1][1]
    last = session.history[-1]
    spike = last.model_copy(update={"high": Decimal(f"{top_before * 2:.2f}")})
    session.candles[("RELIANCE", "1d")] = [spike]
    session.candles_changed.emit("RELIANCE", "1d")
    shown = view.candles.visible_range()
    assert shown is not None and shown[1] == float(spike.high)
    assert view.price.view.viewRange()[1][1] > float(spike.high)
