"""The DOM ladder: one row per price, asks above bids, the trader's own working orders at
each price beside the book's sizes. Clicking the bid side asks for a buy at that price,
the ask side a sell (``trade_requested``).

The rows arrive in price order (``ladder_rows``) and the model keeps that order, so the
view shows the model directly (no sorting proxy), and :class:`LadderDelegate` paints every
cell from its ``LadderRow``: on a depth update ~20 times a second, Qt's delegate asking a
proxy for seven roles per cell cost ~12 ms a paint."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPalette, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from exchange_server.protocol import Depth, OrderOut
from workstation.docks.table_format import DOWN, UP, fmt_decimal, fmt_quantity
from workstation.docks.table_model import Column, KeyedTableModel, fixed_font
from workstation.docks.watchlist_format import CellText

OPEN_STATUSES = frozenset({"new", "partially_filled", "triggered"})
ROW_HEIGHT = 18


@dataclass(frozen=True, slots=True)
class LadderRow:
    price: Decimal
    bid: Decimal | None
    ask: Decimal | None
    my_buy: Decimal | None
    my_sell: Decimal | None
    best: bool = False  # the best bid or the best ask: drawn bold


BUYS, BID, PRICE, ASK, SELLS = range(5)


def ladder_rows(depth: Depth | None, orders: Iterable[OrderOut], symbol: str) -> list[LadderRow]:
    """The rows of the ladder from a book and the account's orders (any order)."""
    bids = {level.price: level.quantity for level in depth.bids} if depth else {}
    asks = {level.price: level.quantity for level in depth.asks} if depth else {}
    my_buys: dict[Decimal, Decimal] = {}
    my_sells: dict[Decimal, Decimal] = {}
    for order in orders:
        # Resting limit orders only: a stop is not in the book until it triggers.
        if order.symbol != symbol or order.price is None or order.status not in OPEN_STATUSES:
            continue
        if order.order_type in ("stop_limit", "stop_market") and order.status == "new":
            continue
        mine = my_buys if order.side == "buy" else my_sells
        mine[order.price] = mine.get(order.price, Decimal(0)) + order.remaining
    best_bid = max(bids) if bids else None
    best_ask = min(asks) if asks else None
    prices = set(bids) | set(asks) | set(my_buys) | set(my_sells)
    return [
        LadderRow(
            price,
            bids.get(price),
            asks.get(price),
            my_buys.get(price),
            my_sells.get(price),
            price in (best_bid, best_ask),
        )
        for price in sorted(prices, reverse=True)
    ]


def ladder_model(decimals: list[int]) -> KeyedTableModel[LadderRow]:
    """``decimals`` is a one-element list the dock updates when the symbol changes."""

    def price_text(row: LadderRow) -> str:
        return fmt_decimal(row.price, decimals[0])

    def price_colour(row: LadderRow) -> str | None:
        if row.bid is not None:
            return UP
        if row.ask is not None:
            return DOWN
        return None

    columns: list[Column[LadderRow]] = [
        Column(
            "My buys",
            lambda r: r.my_buy,
            lambda r: fmt_quantity(r.my_buy),
            numeric=True,
            colour=lambda r: UP,
            tooltip="Your working buy orders at this price",
        ),
        Column(
            "Bid size",
            lambda r: r.bid,
            lambda r: fmt_quantity(r.bid),
            numeric=True,
            tooltip="Click to buy at this price with the ticket's quantity",
        ),
        Column("Price", lambda r: (r.price, r.best), price_text, numeric=True, colour=price_colour),
        Column(
            "Ask size",
            lambda r: r.ask,
            lambda r: fmt_quantity(r.ask),
            numeric=True,
            tooltip="Click to sell at this price with the ticket's quantity",
        ),
        Column(
            "My sells",
            lambda r: r.my_sell,
            lambda r: fmt_quantity(r.my_sell),
            numeric=True,
            colour=lambda r: DOWN,
            tooltip="Your working sell orders at this price",
        ),
    ]
    return KeyedTableModel(columns, key=lambda r: r.price)


class LadderDelegate(QStyledItemDelegate):
    """Paints a ladder cell from its row: behind a size a translucent bar proportional to
    the biggest level shown (the shape of the book at a glance; bid bars grow from the
    price outward), then the text in the column's colour, the best bid and ask bold."""

    def __init__(self, ladder: LadderView) -> None:
        super().__init__(ladder)
        self.ladder = ladder
        self._text = CellText(fixed_font())
        self._bars = {BID: _bar_colour(UP), ASK: _bar_colour(DOWN)}
        self._colours: dict[str, QColor] = {}
        self._plain: QColor | None = None  # the palette's text colour

    def forget_style(self) -> None:
        self._plain = None

    def _colour(self, name: str | None) -> QColor:
        if name is None:
            if self._plain is None:
                self._plain = self.ladder.palette().color(QPalette.ColorRole.Text)
            return self._plain
        colour = self._colours.get(name)
        if colour is None:
            colour = self._colours[name] = QColor(name)
        return colour

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        column = index.column()
        row = self.ladder.ladder_model.row_at(index.row())
        rect = option.rect
        if column == PRICE:
            colour = UP if row.bid is not None else DOWN if row.ask is not None else None
            painter.setPen(self._colour(colour))
            self._text.draw(painter, rect, self.ladder.price_text(row.price), row.best, True)
            return
        value = (row.my_buy, row.bid, None, row.ask, row.my_sell)[column]
        if value is None:
            return
        if column in (BID, ASK):
            biggest = self.ladder.biggest
            if biggest > 0:
                bar = QRect(rect)
                width = max(1, int(rect.width() * float(value / biggest)))
                if column == BID:
                    bar.setLeft(bar.right() - width)
                else:
                    bar.setWidth(width)
                painter.fillRect(bar.adjusted(0, 1, 0, -1), self._bars[column])
            painter.setPen(self._colour(None))
        else:
            painter.setPen(self._colour(UP if column == BUYS else DOWN))
        self._text.draw(painter, rect, fmt_quantity(value), False, True)


def _bar_colour(colour: str) -> QColor:
    bar = QColor(colour)
    bar.setAlpha(60)
    return bar


class LadderView(QTableView):
    trade_requested = Signal(str, object)  # side, price (Decimal)
    cancel_requested = Signal(str, object)  # side, price: the trader's own orders there

    def __init__(
        self,
        model: KeyedTableModel[LadderRow],
        parent: QWidget | None = None,
        decimals: list[int] | None = None,
    ) -> None:
        super().__init__(parent)
        self.ladder_model = model
        self.decimals = decimals if decimals is not None else [2]  # the dock's, shared
        self.biggest = Decimal(0)
        # The touch stays mid-view as the book moves, until the trader scrolls away to look
        # deeper (a new symbol centres again).
        self.auto_centre = True
        self.setModel(model)  # rows in price order, highest first: asks on top, bids below
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setMouseTracking(True)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        header.setSectionsClickable(False)
        self.delegate = LadderDelegate(self)
        self.setItemDelegate(self.delegate)
        self.clicked.connect(self._clicked)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._context_menu)

    def price_text(self, price: Decimal) -> str:
        return fmt_decimal(price, self.decimals[0])

    def set_rows(self, rows: list[LadderRow]) -> None:
        """``rows`` in price order, highest first (as ``ladder_rows`` makes them)."""
        sizes = [size for row in rows for size in (row.bid, row.ask) if size is not None]
        biggest = max(sizes, default=Decimal(0))
        if biggest != self.biggest:  # every bar's length changes
            self.biggest = biggest
            self.viewport().update()
        self.ladder_model.set_rows(rows, reorder=True)
        if self.auto_centre:
            self.centre_on_spread()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self.delegate.forget_style()
        super().changeEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.auto_centre = False
        super().wheelEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.auto_centre:
            self.centre_on_spread()

    def row_at_view(self, view_row: int) -> LadderRow:
        return self.ladder_model.row_at(view_row)

    def _clicked(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        row = self.row_at_view(index.row())
        if index.column() in (BUYS, BID):
            self.trade_requested.emit("buy", row.price)
        elif index.column() in (ASK, SELLS):
            self.trade_requested.emit("sell", row.price)

    def _context_menu(self, point: QPoint) -> None:
        """Right-click on one's own orders at a price offers to cancel them."""
        index = self.indexAt(point)
        if not index.isValid() or index.column() not in (BUYS, SELLS):
            return
        row = self.row_at_view(index.row())
        side = "buy" if index.column() == BUYS else "sell"
        if (row.my_buy if side == "buy" else row.my_sell) is None:
            return
        menu = QMenu(self)
        menu.addAction(
            f"Cancel my {side}s at {row.price}",
            lambda: self.cancel_requested.emit(side, row.price),
        )
        menu.popup(self.viewport().mapToGlobal(point))

    def centre_on_spread(self) -> None:
        """Scroll so the touch sits mid-view, where the trader's eyes are: between the best
        ask (the last ask row) and the best bid (the first bid row)."""
        for view_row, row in enumerate(self.ladder_model.rows()):
            if row.bid is not None:
                self.scrollTo(
                    self.ladder_model.index(view_row, PRICE),
                    QAbstractItemView.ScrollHint.PositionAtCenter,
                )
                return
