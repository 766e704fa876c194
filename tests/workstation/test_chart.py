"""The chart panel against a stand-in session: history, scroll-back, the live candle,
order lines that move orders, fill markers, crosshair readout, drawings, saved state."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest
from PySide6.QtCore import QObject, QPointF, Signal
from PySide6.QtWidgets import QMessageBox

from exchange_server.protocol import Candle, Fill, InstrumentOut, ModifyOrderRequest, OrderOut
from tests.workstation.conftest import WaitUntil
from workstation.charts.chart_dock import ChartDock, round_to_tick
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
    return InstrumentOut(
        symbol=symbol, name=symbol, asset_class="equity", exchange="NSE", currency="INR",
        sector="", isin="", tick_size=Decimal("0.05"), lot_size=Decimal(1), price_decimals=2,
        quantity_decimals=0, status="open", reference_price=Decimal(1000),
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
