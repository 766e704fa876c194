"""The account's blotters: open orders (modify, cancel, cancel all), order history, fills,
positions and holdings with live P&L, funds and the ledger.

Each is a :class:`BlotterTable` over a :class:`KeyedTableModel`; session signals only mark a
blotter stale and a :class:`Coalescer` rebuilds its rows at most 25 times a second, so a
burst of fills costs one pass and repaints only the rows that changed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QSplitter, QTabWidget, QVBoxLayout, QWidget

from exchange_server.protocol import (
    Balance,
    CancelAllResult,
    Fill,
    LedgerEntry,
    ModifyOrderRequest,
    OrderOut,
)
from workstation.docks.base import PanelDock
from workstation.docks.blotter_actions import describe, spawn
from workstation.docks.blotter_columns import (
    Holding,
    LivePosition,
    cash_columns,
    fill_columns,
    holding_columns,
    ledger_columns,
    order_columns,
    position_columns,
)
from workstation.docks.blotter_modify import ModifyOrderDialog
from workstation.docks.depth_ladder import OPEN_STATUSES
from workstation.docks.table_format import DOWN, UP, fmt_money, sign_colour
from workstation.docks.table_model import Coalescer, KeyedTableModel, fixed_font
from workstation.docks.table_view import BlotterTable
from workstation.session.links import LinkGroups

if TYPE_CHECKING:
    from workstation.session.session import Session

LEDGER_LIMIT = 200


class BlotterDock(PanelDock):
    """A dock whose body is one table (or more) rebuilt from the session, coalesced."""

    def __init__(self, session: Session, links: LinkGroups, parent: QWidget | None = None) -> None:
        super().__init__(session, links, parent)
        self._refresh = Coalescer(self.refresh, parent=self)

    def decimals(self, symbol: str) -> int | None:
        instrument = self.session.instruments.get(symbol)
        return instrument.price_decimals if instrument else None

    def refresh(self) -> None:
        raise NotImplementedError

    def row_selected(self, table: BlotterTable) -> None:
        """Selecting a row of a symbol drives the docks linked to this one."""
        row = table.current_row()
        symbol = getattr(row, "symbol", None)
        if isinstance(symbol, str) and symbol:
            self.links.set_symbol(self.link_colour, symbol)


class OpenOrdersDock(BlotterDock):
    dock_id: ClassVar[str] = "open_orders"
    title: ClassVar[str] = "Open orders"

    def __init__(self, session: Session, links: LinkGroups, parent: QWidget | None = None) -> None:
        super().__init__(session, links, parent)
        self.model: KeyedTableModel[OrderOut] = KeyedTableModel(
            order_columns(self.decimals), key=lambda o: o.order_id, parent=self
        )
        self.table = BlotterTable(self.model, "open-orders", self)
        self.modify_button = self.table.add_button("Modify", self.modify_selected)
        self.cancel_button = self.table.add_button("Cancel", self.cancel_selected)
        self.cancel_all_button = self.table.add_button(
            "Cancel all", self.cancel_all, "Cancel every working order of the account"
        )
        self.table.menu_actions = [
            ("Modify…", self.modify_selected),
            ("Cancel", self.cancel_selected),
        ]
        self.table.view.doubleClicked.connect(lambda _index: self.modify_selected())
        self.table.view.clicked.connect(lambda _index: self.row_selected(self.table))
        self.table.set_column_widths(
            {0: 64, 1: 90, 2: 40, 3: 40, 4: 56, 5: 56, 9: 100, 10: 40, 11: 64}
        )
        self.table.sort_by(0, descending=True)  # newest first
        self.setWidget(self.table)
        self.dialog: ModifyOrderDialog | None = None
        session.orders_changed.connect(self._refresh.schedule)
        self.refresh()

    def open_orders(self) -> list[OrderOut]:
        orders = [o for o in self.session.orders.values() if o.status in OPEN_STATUSES]
        return sorted(orders, key=lambda o: o.created_at, reverse=True)

    def refresh(self) -> None:
        self.model.set_rows(self.open_orders())
        count = self.model.rowCount()
        self.table.count.setText(f"{count} working" if count else "No working orders")

    def modify_selected(self) -> None:
        order = self.table.current_row()
        if order is None:
            return
        quote = self.session.quotes.get(order.symbol)
        self.dialog = ModifyOrderDialog(
            order,
            self.session.instruments.get(order.symbol),
            quote.last if quote else None,
            self.modify,
            self,
        )
        self.dialog.open()

    def modify(self, order: OrderOut, request: ModifyOrderRequest) -> None:
        spawn(
            self.session.modify_order(order.order_id, request),
            on_done=lambda o: self._said(f"Order {o.order_id} modified"),
            on_error=lambda e: self._said(f"Modify {order.order_id} refused: {describe(e)}", DOWN),
        )

    def cancel_selected(self) -> None:
        for order in self.table.selected_rows() or filter(None, [self.table.current_row()]):
            self.cancel(order.order_id)

    def cancel(self, order_id: int) -> None:
        def refused(error: BaseException) -> None:
            self._said(f"Cancel {order_id} refused: {describe(error)}", DOWN)

        spawn(
            self.session.cancel_order(order_id),
            on_done=lambda o: self._said(f"Order {o.order_id} cancelled"),
            on_error=refused,
        )

    def cancel_all(self) -> None:
        def done(result: CancelAllResult) -> None:
            self._said(f"Cancelled {len(result.cancelled)} orders")

        spawn(
            self.session.cancel_all(None),
            on_done=done,
            on_error=lambda e: self._said(f"Cancel all refused: {describe(e)}", DOWN),
        )

    def _said(self, text: str, colour: str | None = None) -> None:
        self.table.status.setText(text)
        self.table.status.setStyleSheet(f"color: {colour};" if colour else "")
        if colour == DOWN:
            self.session.notice.emit("error", text)


class OrderHistoryDock(BlotterDock):
    dock_id: ClassVar[str] = "order_history"
    title: ClassVar[str] = "Order history"

    def __init__(self, session: Session, links: LinkGroups, parent: QWidget | None = None) -> None:
        super().__init__(session, links, parent)
        self.model: KeyedTableModel[OrderOut] = KeyedTableModel(
            order_columns(self.decimals, history=True), key=lambda o: o.order_id, parent=self
        )
        self.table = BlotterTable(self.model, "order-history", self)
        self.table.view.clicked.connect(lambda _index: self.row_selected(self.table))
        self.table.set_column_widths(
            {0: 130, 1: 90, 2: 40, 3: 40, 4: 56, 5: 56, 9: 90, 10: 64, 11: 40, 12: 64}
        )
        self.table.sort_by(0, descending=True)
        self.setWidget(self.table)
        # The session keeps the account's open and recent orders (history loaded at connect,
        # then the stream): this blotter shows all of them, newest first.
        session.orders_changed.connect(self._refresh.schedule)
        self.refresh()

    def refresh(self) -> None:
        orders = sorted(self.session.orders.values(), key=lambda o: o.created_at, reverse=True)
        self.model.set_rows(orders)
        self.table.count.setText(f"{len(orders)} orders")

    def is_populated(self) -> bool:
        return self.session.user is not None


class FillsDock(BlotterDock):
    dock_id: ClassVar[str] = "fills"
    title: ClassVar[str] = "Fills"

    def __init__(self, session: Session, links: LinkGroups, parent: QWidget | None = None) -> None:
        super().__init__(session, links, parent)
        self.model: KeyedTableModel[Fill] = KeyedTableModel(
            fill_columns(self.decimals), key=lambda f: (f.trade_id, f.order_id), parent=self
        )
        self.table = BlotterTable(self.model, "fills", self)
        self.table.view.clicked.connect(lambda _index: self.row_selected(self.table))
        self.table.set_column_widths({0: 64, 1: 90, 2: 40, 3: 56, 7: 70, 8: 64, 9: 64})
        self.table.sort_by(0, descending=True)
        self.setWidget(self.table)
        session.fills_added.connect(self._refresh.schedule)
        self.refresh()

    def refresh(self) -> None:
        self.model.set_rows(reversed(self.session.fills))  # newest first
        fills = self.session.fills
        bought = sum((f.notional for f in fills if f.side == "buy"), Decimal(0))
        sold = sum((f.notional for f in fills if f.side == "sell"), Decimal(0))
        noun = "fill" if len(fills) == 1 else "fills"
        self.table.count.setText(
            f"{len(fills)} {noun}  bought {fmt_money(bought)}  sold {fmt_money(sold)}"
        )


class PositionsDock(BlotterDock):
    """Positions marked to the last trade, live, and the holdings behind them."""

    dock_id: ClassVar[str] = "positions"
    title: ClassVar[str] = "Positions"

    pnl_changed = Signal(object)  # total P&L (Decimal), for a status bar

    def __init__(self, session: Session, links: LinkGroups, parent: QWidget | None = None) -> None:
        super().__init__(session, links, parent)
        self.positions: KeyedTableModel[LivePosition] = KeyedTableModel(
            position_columns(self.decimals), key=lambda p: p.symbol, parent=self
        )
        self.holdings: KeyedTableModel[Holding] = KeyedTableModel(
            holding_columns(self.decimals), key=lambda h: h.balance.asset, parent=self
        )
        self.positions_table = BlotterTable(self.positions, "positions", self)
        self.holdings_table = BlotterTable(self.holdings, "holdings", self)
        for table in (self.positions_table, self.holdings_table):
            table.view.clicked.connect(lambda _index, t=table: self.row_selected(t))
        self.totals = QLabel(self)
        self.totals.setFont(fixed_font())
        self.totals.setTextFormat(Qt.TextFormat.RichText)
        self.totals.setContentsMargins(4, 0, 4, 2)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.positions_table, "Positions")
        self.tabs.addTab(self.holdings_table, "Holdings")
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.totals)
        self.setWidget(body)
        self._watched: set[str] = set()
        self._unwatch: Any = None
        self.total_pnl = Decimal(0)
        session.positions_changed.connect(self._refresh.schedule)
        session.balances_changed.connect(self._refresh.schedule)
        session.quotes_changed.connect(self._quotes_changed)
        self.refresh()

    def mark(self, symbol: str, fallback: Decimal | None = None) -> Decimal | None:
        quote = self.session.quotes.get(symbol)
        if quote is not None and quote.last is not None:
            return quote.last
        return fallback

    def _quotes_changed(self, symbols: Any) -> None:
        if self._watched & set(symbols):
            self._refresh.schedule()

    def held_symbols(self) -> set[str]:
        instruments = self.session.instruments
        return {a for a in self.session.balances if a in instruments}

    def refresh(self) -> None:
        session = self.session
        live = [
            LivePosition(p, self.mark(p.symbol, p.last_price))
            for p in session.positions.values()
            if p.quantity or p.realised_pnl  # flat with no P&L: nothing to show
        ]
        self.positions.set_rows(sorted(live, key=lambda p: p.symbol))
        holdings = [
            Holding(balance, self.mark(asset))
            for asset, balance in session.balances.items()
            if asset in session.instruments and balance.balance
        ]
        self.holdings.set_rows(sorted(holdings, key=lambda h: h.balance.asset))
        self._watch({p.symbol for p in live} | {h.balance.asset for h in holdings})
        unrealised = sum((p.unrealised or Decimal(0) for p in live), Decimal(0))
        realised = sum((p.position.realised_pnl for p in live), Decimal(0))
        self.total_pnl = unrealised + realised
        self.totals.setText(
            " &nbsp; ".join(
                f"{label} <span style='color:{sign_colour(value) or 'palette(text)'}'>"
                f"{fmt_money(value, signed=True)}</span>"
                for label, value in (
                    ("Unrealised", unrealised),
                    ("Realised", realised),
                    ("Total P&amp;L", self.total_pnl),
                )
            )
        )
        self.pnl_changed.emit(self.total_pnl)

    def _watch(self, symbols: set[str]) -> None:
        """Quotes for the held symbols, so P&L moves with the market."""
        if symbols == self._watched:
            return
        previous = self._unwatch
        self._watched = symbols
        self._unwatch = self.session.watch_quotes(sorted(symbols)) if symbols else None
        if previous is not None:
            previous()  # after the new interest: shared symbols are never dropped between


class FundsDock(BlotterDock):
    """Cash by currency (balance, reserved for buys, available) and the ledger."""

    dock_id: ClassVar[str] = "funds"
    title: ClassVar[str] = "Funds"

    def __init__(self, session: Session, links: LinkGroups, parent: QWidget | None = None) -> None:
        super().__init__(session, links, parent)
        self.cash: KeyedTableModel[Balance] = KeyedTableModel(
            cash_columns(), key=lambda b: b.asset, parent=self
        )
        self.ledger: KeyedTableModel[LedgerEntry] = KeyedTableModel(
            ledger_columns(lambda asset: asset not in session.instruments),
            key=lambda e: e.entry_id,
            parent=self,
        )
        self.cash_table = BlotterTable(self.cash, "funds", self)
        self.cash_table.set_column_widths({1: 130, 2: 130, 3: 130})
        self.ledger_table = BlotterTable(self.ledger, "ledger", self)
        self.ledger_table.set_column_widths({0: 140, 1: 90, 2: 110, 3: 110})
        self.ledger_table.sort_by(4, descending=True)  # entry order: newest first
        self.headline = QLabel(self)
        self.headline.setFont(fixed_font())
        self.headline.setContentsMargins(4, 2, 4, 0)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.cash_table)
        splitter.addWidget(self.ledger_table)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([120, 360])  # a few currencies above, a long statement below
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.headline)
        layout.addWidget(splitter, 1)
        self.setWidget(body)
        self.ledger_loaded = False
        self._loading = False
        self._ledger_stale = False
        # The ledger has no stream: it is re-read after balances move, at most once a second.
        self._ledger_refresh = Coalescer(self.load_ledger, interval_ms=1000, parent=self)
        session.balances_changed.connect(self._balances_changed)
        session.connection_changed.connect(self._connection_changed)
        self.refresh()
        self.load_ledger()

    def _balances_changed(self) -> None:
        self._refresh.schedule()
        self._ledger_refresh.schedule()

    def _connection_changed(self, state: str) -> None:
        if state == "connected":
            self._ledger_refresh.schedule()

    def refresh(self) -> None:
        instruments = self.session.instruments
        cash = [b for a, b in self.session.balances.items() if a not in instruments]
        self.cash.set_rows(sorted(cash, key=lambda b: b.asset))
        inr = self.session.balances.get("INR")
        if inr is not None:
            self.headline.setText(
                f"Available {fmt_money(inr.available)} INR   Reserved {fmt_money(inr.reserved)}"
            )
            self.headline.setStyleSheet(f"color: {UP};" if inr.available > 0 else "")

    def load_ledger(self) -> None:
        if getattr(self.session, "user", None) is None:
            return
        if self._loading:  # one at a time; the latest balance change asks again after
            self._ledger_stale = True
            return
        self._loading = True

        async def fetch() -> list[LedgerEntry]:
            page = await self.session.client.ledger(limit=LEDGER_LIMIT)
            return page.items

        def done(entries: list[LedgerEntry]) -> None:
            self._loading = False
            self.ledger_loaded = True
            self.ledger.set_rows(sorted(entries, key=lambda e: e.entry_id, reverse=True))
            self.ledger_table.count.setText(f"Last {len(entries)} entries")
            if self._ledger_stale:
                self._ledger_stale = False
                self._ledger_refresh.schedule()

        def failed(error: BaseException) -> None:
            self._loading = False
            self.ledger_table.status.setText(f"Ledger: {describe(error)}")

        spawn(fetch(), on_done=done, on_error=failed)

    def is_populated(self) -> bool:
        return bool(self.session.balances)
