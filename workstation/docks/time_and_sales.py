"""Time & sales: the tape of one symbol, newest trade on top.

Each print shows its time, price, size and aggressor (who crossed the spread): green when a
buyer lifted the offer, red when a seller hit the bid. Prints much larger than usual (five
times the recent average size, or at least the "Big" size the user sets) stand out in bold
on a tinted row; a minimum size hides the small ones.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from exchange_server.protocol import PublicTrade
from workstation.docks.base import PanelDock
from workstation.docks.table_format import side_colour
from workstation.docks.table_model import CENTRE, Column, KeyedTableModel
from workstation.docks.table_view import panel_table
from workstation.docks.watchlist_format import (
    DOWN_COLOUR,
    UP_COLOUR,
    compact_text,
    price_text,
)
from workstation.symbol_search import SymbolSearch

if TYPE_CHECKING:
    from workstation.session.links import LinkGroups
    from workstation.session.session import Session

MAX_ROWS = 1000
BIG_MULTIPLE = 5  # a print this many times the recent average size is "big"
AVERAGE_OVER = 200  # prints


def _clock(ts_ns: int) -> str:
    moment = datetime.fromtimestamp(ts_ns / 1e9)
    return moment.strftime("%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def _tip(trade: PublicTrade) -> str:
    side = "buyer lifted the offer" if trade.aggressor == "buy" else "seller hit the bid"
    return f"Trade {trade.trade_id}: {trade.quantity} @ {trade.price}, {side}"


def _wash(colour: QColor) -> QColor:
    """A big print's row tint: the side's colour, faint enough to read the text over."""
    wash = QColor(colour)
    wash.setAlpha(55)
    return wash


class TapeModel(KeyedTableModel[PublicTrade]):
    """One symbol's prints, newest first, at most MAX_ROWS; new prints go on top."""

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        def side(trade: PublicTrade) -> str:
            return side_colour(trade.aggressor)

        def price(trade: PublicTrade) -> str:
            instrument = session.instruments.get(trade.symbol)
            return price_text(trade.price, instrument.price_decimals if instrument else 2)

        def size(trade: PublicTrade) -> str:
            instrument = session.instruments.get(trade.symbol)
            decimals = instrument.quantity_decimals if instrument is not None else 0
            return compact_text(trade.quantity, decimals)

        columns: list[Column[PublicTrade]] = [
            Column("Time", lambda t: t.ts, lambda t: _clock(t.ts), numeric=True),
            Column("Price", lambda t: t.price, price, numeric=True, colour=side),
            Column("Size", lambda t: t.quantity, size, numeric=True),
            Column(
                "Side",
                lambda t: t.aggressor,
                lambda t: "Buy" if t.aggressor == "buy" else "Sell",
                colour=side,
                align=CENTRE,
            ),
        ]
        super().__init__(
            columns,
            key=lambda t: t.trade_id,
            parent=parent,
            tooltip=_tip,
            highlight=self._big_wash,
            fixed_numbers=False,  # the view's font is fixed-pitch already
        )
        self.session = session
        self.symbol: str | None = None
        self._last_id = -1
        self.min_size = Decimal(0)
        self.big_size = Decimal(0)  # 0: automatic (BIG_MULTIPLE x the recent average)
        self._threshold = Decimal("Infinity")
        self._buy_wash = _wash(UP_COLOUR)
        self._sell_wash = _wash(DOWN_COLOUR)

    def set_symbol(self, symbol: str | None) -> None:
        self.clear()
        self.symbol = symbol
        self._last_id = -1
        self.take_new()

    def set_sizes(self, min_size: Decimal, big_size: Decimal) -> None:
        self.min_size = min_size
        self.big_size = big_size
        self.set_symbol(self.symbol)  # rebuild: the filter applies to the whole tape

    def take_new(self) -> None:
        """Insert the prints the session received since the last call."""
        tape = self.session.trades.get(self.symbol) if self.symbol else None
        if not tape:
            return
        fresh: list[PublicTrade] = []
        for trade in reversed(tape):  # newest last in the session: walk back to what we have
            if trade.trade_id <= self._last_id:
                break
            if trade.quantity >= self.min_size:
                fresh.append(trade)
        self._last_id = max(self._last_id, tape[-1].trade_id)
        if fresh:
            self.prepend(fresh, limit=MAX_ROWS)
            self._update_threshold()

    def _update_threshold(self) -> None:
        if self.big_size > 0:
            self._threshold = self.big_size
            return
        recent = [trade.quantity for trade in self._rows[:AVERAGE_OVER]]
        # Too few prints to know what usual is: highlight nothing rather than everything.
        if len(recent) < 10:
            self._threshold = Decimal("Infinity")
        else:
            self._threshold = sum(recent, Decimal(0)) / len(recent) * BIG_MULTIPLE

    def is_big(self, trade: PublicTrade) -> bool:
        return trade.quantity >= self._threshold

    def _big_wash(self, trade: PublicTrade) -> QColor | None:
        if not self.is_big(trade):
            return None
        return self._buy_wash if trade.aggressor == "buy" else self._sell_wash

    def trades(self) -> list[PublicTrade]:
        return self.rows()


class TimeAndSalesDock(PanelDock):
    dock_id = "time_and_sales"
    title = "Time and sales"  # an ampersand is a keyboard mnemonic in tabs and menus
    linkable = True

    def __init__(self, session: Session, links: LinkGroups, parent: QWidget | None = None) -> None:
        super().__init__(session, links, parent)
        self._unwatch: Callable[[], None] | None = None
        self.model = TapeModel(session, self)
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        bar = QHBoxLayout()
        bar.setSpacing(4)
        self.search = SymbolSearch(lambda: self.session.instruments, body, "Symbol…")
        self.search.symbol_chosen.connect(self.pick_symbol)
        self.search.setMinimumWidth(110)
        bar.addWidget(self.search, 1)
        bar.addWidget(QLabel("Min", body))
        self.min_box = self._size_box(body, "Hide prints smaller than this (0: show all)")
        bar.addWidget(self.min_box)
        bar.addWidget(QLabel("Big", body))
        self.big_box = self._size_box(
            body, f"Highlight prints at least this big (0: {BIG_MULTIPLE}x the recent average)"
        )
        bar.addWidget(self.big_box)
        layout.addLayout(bar)
        chars = {0: 12, 1: 10, 2: 8, 3: 4}
        self.view = panel_table(body, self.model, chars, "timeAndSalesTable")
        layout.addWidget(self.view, 1)
        self.setWidget(body)
        self.min_box.valueChanged.connect(self._on_sizes)
        self.big_box.valueChanged.connect(self._on_sizes)
        session.trades_added.connect(self._on_trades)

    @staticmethod
    def _size_box(parent: QWidget, tip: str) -> QDoubleSpinBox:
        box = QDoubleSpinBox(parent)
        box.setDecimals(0)
        box.setRange(0, 1e9)
        box.setAlignment(Qt.AlignmentFlag.AlignRight)
        box.setSpecialValueText("Auto")
        box.setToolTip(tip)
        box.setKeyboardTracking(False)
        box.setMaximumWidth(84)
        box.setButtonSymbols(QDoubleSpinBox.ButtonSymbols.NoButtons)
        return box

    def _on_sizes(self) -> None:
        self.model.set_sizes(
            Decimal(str(int(self.min_box.value()))), Decimal(str(int(self.big_box.value())))
        )

    def set_symbol(self, symbol: str) -> None:
        if symbol == self.symbol:
            return
        super().set_symbol(symbol)
        previous = self._unwatch
        self._unwatch = self.session.watch_trades(symbol)
        if previous is not None:
            previous()
        self.setWindowTitle(f"{self.title} — {symbol}")
        self.model.set_symbol(symbol)

    def _on_trades(self, symbol: str) -> None:
        if symbol == self.symbol:
            self.model.take_new()

    def is_populated(self) -> bool:
        return self.model.rowCount() > 0

    def save_state(self) -> dict[str, Any]:
        state = super().save_state()
        state.update(min_size=self.min_box.value(), big_size=self.big_box.value())
        return state

    def restore_state(self, state: dict[str, Any]) -> None:
        for box, key in ((self.min_box, "min_size"), (self.big_box, "big_size")):
            value = state.get(key)
            if isinstance(value, int | float):
                box.blockSignals(True)  # one rebuild below, not one per box
                box.setValue(float(value))
                box.blockSignals(False)
        self.model.min_size = Decimal(str(int(self.min_box.value())))
        self.model.big_size = Decimal(str(int(self.big_box.value())))
        super().restore_state(state)
