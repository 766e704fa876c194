"""Notifications: what happened, newest first, with a time stamp.

The session's notices (connection, refusals, errors) and the account's events: orders
placed, filled, cancelled, rejected or expired, and every fill. Events from before the panel
opened (the account's history arriving in the first snapshot) are not repeated here. Filter
by level; Clear empties the log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from exchange_server.protocol import Fill, OrderOut
from workstation.docks.base import PanelDock
from workstation.docks.table_format import DOWN, UP
from workstation.docks.table_model import Column, KeyedTableModel
from workstation.docks.table_view import panel_table
from workstation.docks.watchlist_format import price_text

try:
    from workstation.theme import WARNING
except ImportError:  # pragma: no cover
    WARNING = "#f5a524"

if TYPE_CHECKING:
    from workstation.session.links import LinkGroups
    from workstation.session.session import Session

MAX_ENTRIES = 2000
LEVELS = ("info", "warning", "error")
LEVEL_FILTERS = {"All levels": 0, "Warnings and errors": 1, "Errors only": 2}
# Announced once each: the states an order ends in (fills are announced one by one).
_FINAL = {
    "filled": "filled",
    "cancelled": "cancelled",
    "rejected": "rejected",
    "expired": "expired",
}
_GRACE_NS = 2_000_000_000  # clocks differ a little: events this much older still count


@dataclass(frozen=True, slots=True)
class Entry:
    at: datetime
    level: str
    source: str
    text: str
    tone: int = 0  # +1 a buy, -1 a sell: coloured like the side


def _qty(value: Decimal) -> str:
    """10 rather than 10.0000, 0.05 rather than 0.0500."""
    return f"{value.normalize():f}" if value else "0"


def describe_fill(fill: Fill, decimals: int = 2) -> str:
    verb = "Bought" if fill.side == "buy" else "Sold"
    return (
        f"{verb} {_qty(fill.quantity)} {fill.symbol} @ {price_text(fill.price, decimals)} "
        f"({fill.liquidity}, {'fee ' + _qty(fill.fee) if fill.fee else 'no fee'})"
    )


def describe_order(order: OrderOut, state: str, decimals: int = 2) -> str:
    what = f"{order.side} {_qty(order.quantity)} {order.symbol}"
    if order.order_type != "market" and order.price is not None:
        what += f" @ {price_text(order.price, decimals)}"
    text = f"Order #{order.order_id} {state}: {what} {order.order_type}"
    if state == "filled" and order.average_price is not None:
        text += f", average {price_text(order.average_price, decimals)}"
    if order.reason and state in ("rejected", "cancelled", "expired"):
        text += f" ({order.reason})"
    return text


def _level_colour(entry: Entry) -> str | None:
    return {"error": DOWN, "warning": WARNING}.get(entry.level)


def _message_colour(entry: Entry) -> str | None:
    """Errors and warnings in their colours; otherwise a buy or a sell in its side's."""
    if entry.tone and entry.level == "info":
        return UP if entry.tone > 0 else DOWN
    return _level_colour(entry)


COLUMNS: list[Column[Entry]] = [
    Column("Time", lambda e: e.at, lambda e: e.at.strftime("%H:%M:%S")),
    Column("Level", lambda e: e.level, lambda e: e.level.capitalize(), colour=_level_colour),
    Column("Source", lambda e: e.source),
    Column("Message", lambda e: e.text, colour=_message_colour),
]


def level_rank(level: str) -> int:
    """0 info, 1 warning, 2 error: the level filter shows a rank and above."""
    return LEVELS.index(level) if level in LEVELS else 0


class NotificationModel(KeyedTableModel[Entry]):
    """The log, newest first, at most MAX_ENTRIES."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(
            COLUMNS,
            key=id,  # entries can repeat word for word; each one held is its own object
            parent=parent,
            tooltip=lambda e: f"{e.at:%Y-%m-%d %H:%M:%S}\n{e.text}",
            fixed_numbers=False,
        )

    @property
    def entries(self) -> list[Entry]:
        return self.rows()

    def add(self, entry: Entry) -> None:
        self.prepend([entry], limit=MAX_ENTRIES)


class LevelFilter(QSortFilterProxyModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.minimum = 0

    def set_minimum(self, minimum: int) -> None:
        self.beginFilterChange()
        self.minimum = minimum
        self.endFilterChange()

    def filterAcceptsRow(
        self, source_row: int, source_parent: QModelIndex | QPersistentModelIndex
    ) -> bool:
        model = self.sourceModel()
        assert isinstance(model, NotificationModel)
        return level_rank(model.row_at(source_row).level) >= self.minimum


class NotificationsDock(PanelDock):
    dock_id = "notifications"
    title = "Notifications"
    linkable = False

    def __init__(self, session: Session, links: LinkGroups, parent: QWidget | None = None) -> None:
        super().__init__(session, links, parent)
        self.model = NotificationModel(self)
        self.proxy = LevelFilter(self)
        self.proxy.setSourceModel(self.model)
        # What the account had before the panel opened is history, not news.
        self._since_ns = session.server_time_ns - _GRACE_NS
        self._order_states: dict[int, str] = {
            order_id: order.status for order_id, order in session.orders.items()
        }
        self._seen_fills: set[tuple[int, int]] = {(f.trade_id, f.order_id) for f in session.fills}

        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        bar = QHBoxLayout()
        self.level_box = QComboBox(body)
        self.level_box.addItems(list(LEVEL_FILTERS))
        self.level_box.setToolTip("Show only this level and above")
        self.level_box.currentTextChanged.connect(self._on_level)
        bar.addWidget(self.level_box)
        bar.addStretch(1)
        self.count = QLabel(body)
        bar.addWidget(self.count)
        self.clear_button = QPushButton("Clear", body)
        self.clear_button.setToolTip("Empty the log")
        self.clear_button.clicked.connect(self.clear)
        bar.addWidget(self.clear_button)
        layout.addLayout(bar)
        self.view = panel_table(body, self.proxy, {0: 8, 1: 7, 2: 7}, "notificationsTable")
        layout.addWidget(self.view, 1)
        self.setWidget(body)

        session.notice.connect(self._on_notice)
        session.orders_changed.connect(self._on_orders)
        session.fills_added.connect(self._on_fills)
        self.proxy.rowsInserted.connect(self._update_count)
        self.proxy.rowsRemoved.connect(self._update_count)
        self.proxy.modelReset.connect(self._update_count)
        self.proxy.layoutChanged.connect(self._update_count)
        self._update_count()

    def add(self, level: str, source: str, text: str, tone: int = 0) -> None:
        level = level if level in LEVELS else "info"
        self.model.add(Entry(datetime.now(), level, source, text, tone))

    def clear(self) -> None:
        self.model.clear()

    def entries(self) -> list[Entry]:
        return self.model.entries

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        if not total:
            self.count.setText("Nothing yet")
        else:
            self.count.setText(f"{shown} of {total}" if shown != total else f"{total} entries")

    def _on_level(self, text: str) -> None:
        self.proxy.set_minimum(LEVEL_FILTERS.get(text, 0))
        self._update_count()

    def _decimals(self, symbol: str) -> int:
        instrument = self.session.instruments.get(symbol)
        return instrument.price_decimals if instrument is not None else 2

    def _on_notice(self, level: str, text: str) -> None:
        self.add(level, "System", text)

    def _on_orders(self) -> None:
        for order_id, order in self.session.orders.items():
            before = self._order_states.get(order_id)
            if before == order.status:
                continue
            self._order_states[order_id] = order.status
            if order.updated_at < self._since_ns:
                continue  # history from the first snapshot
            tone = 1 if order.side == "buy" else -1
            if before is None and order.status not in _FINAL:
                self.add(
                    "info",
                    "Order",
                    describe_order(order, "placed", self._decimals(order.symbol)),
                    tone,
                )
            elif order.status == "triggered":
                self.add(
                    "info",
                    "Order",
                    describe_order(order, "triggered", self._decimals(order.symbol)),
                    tone,
                )
            elif order.status in _FINAL:
                state = _FINAL[order.status]
                level = "warning" if state == "rejected" else "info"
                self.add(
                    level, "Order", describe_order(order, state, self._decimals(order.symbol)), tone
                )

    def _on_fills(self) -> None:
        for fill in self.session.fills:
            key = (fill.trade_id, fill.order_id)
            if key in self._seen_fills:
                continue
            self._seen_fills.add(key)
            if fill.ts >= self._since_ns:
                self.add(
                    "info",
                    "Fill",
                    describe_fill(fill, self._decimals(fill.symbol)),
                    1 if fill.side == "buy" else -1,
                )

    def save_state(self) -> dict[str, Any]:
        state = super().save_state()
        state["level"] = self.level_box.currentText()
        return state

    def restore_state(self, state: dict[str, Any]) -> None:
        super().restore_state(state)
        level = state.get("level")
        if isinstance(level, str) and level in LEVEL_FILTERS:
            self.level_box.setCurrentText(level)
