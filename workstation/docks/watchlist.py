"""Watchlists: named lists of symbols with live quotes.

Several lists per account, kept on the server; add from the symbol search, remove with
Delete or the context menu, drag rows to reorder (while unsorted), sort by any column (click
a header; a third click restores the list's own order), filter by sector, asset class and
performance. Cells flash green or red as they change. Selecting a row moves the linked
panels to that symbol.

The view shows the model directly (the model sorts and filters, see watchlist_model) and
paints through :class:`WatchlistDelegate`, which reads the model's rows instead of asking
``data()`` for seven roles per cell and laying text out twice as Qt's delegate does: at
2,000 quotes a second the fading flashes repaint every visible cell 25 times a second.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    Qt,
)
from PySide6.QtGui import (
    QAction,
    QColor,
    QKeySequence,
    QPainter,
    QPalette,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from workstation.docks.base import PanelDock
from workstation.docks.flash_cells import FlashPump, flash_wash
from workstation.docks.watchlist_filter import ALL, ANY_PERFORMANCE, PERFORMANCE_FILTERS
from workstation.docks.watchlist_format import CellText, compact_table
from workstation.docks.watchlist_model import SYMBOL_ROLE, Column, WatchlistModel
from workstation.docks.watchlist_store import WatchlistStore
from workstation.session.tasks import spawn
from workstation.symbol_search import SymbolSearch

if TYPE_CHECKING:
    from collections.abc import Callable

    from workstation.session.links import LinkGroups
    from workstation.session.session import Session

# Column widths in characters of the fixed-pitch font.
_WIDTHS = {
    Column.SYMBOL: 11,
    Column.LAST: 10,
    Column.CHANGE: 9,
    Column.CHANGE_PERCENT: 8,
    Column.BID: 10,
    Column.ASK: 10,
    Column.VOLUME: 8,
    Column.HIGH: 10,
    Column.LOW: 10,
}


class WatchlistView(QTableView):
    """A compact quote table: row selection, drag to reorder, Delete removes."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("watchlistTable")
        compact_table(self)  # the market panels' look; what follows is the watchlist's own
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setDragDropOverwriteMode(False)  # drop between rows, not onto one
        self.setDropIndicatorShown(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setSortIndicatorClearable(True)  # third click: back to the list's order
        self.setSortingEnabled(True)
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.PaletteChange):
            delegate = self.itemDelegate()
            if isinstance(delegate, WatchlistDelegate):
                delegate.forget_style()
        super().changeEvent(event)


_SELECTED = QStyle.StateFlag.State_Selected.value  # an int: Flag arithmetic costs µs
_DAY_COLOURED = frozenset(int(c) for c in (Column.LAST, Column.CHANGE, Column.CHANGE_PERCENT))


class WatchlistDelegate(QStyledItemDelegate):
    """Paints a watchlist cell from the model's row: selection or flash wash, then the text
    (the symbol bold, LTP and changes in the day's colour), laid out once per value
    (CellText) rather than twice per paint as Qt's delegate does."""

    def __init__(self, model: WatchlistModel, view: QTableView) -> None:
        super().__init__(view)
        self._model = model
        self._view = view
        self._text = CellText(view.font())
        self._text_colour: QColor | None = None

    def forget_style(self) -> None:
        """The view's font or palette changed: lay out and colour afresh."""
        self._text.forget(self._view.font())
        self._text_colour = None

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        row = self._model.row_at(index.row())
        column = index.column()
        rect = option.rect
        if option.state.value & _SELECTED:
            palette = option.palette
            painter.fillRect(rect, palette.highlight())
            pen = palette.highlightedText().color()
        else:
            if column:
                wash = flash_wash(
                    row.changed_at[column - 1], row.direction[column - 1], time.monotonic()
                )
                if wash is not None:
                    painter.fillRect(rect, wash)
            colour = row.colour if column in _DAY_COLOURED else None
            if colour is None:
                colour = self._text_colour
                if colour is None:
                    colour = self._view.palette().color(QPalette.ColorRole.Text)
                    self._text_colour = colour
            pen = colour
        painter.setPen(pen)
        self._text.draw(painter, rect, row.texts[column], column == 0, column != 0)


class WatchlistDock(PanelDock):
    dock_id = "watchlist"
    title = "Watchlist"
    linkable = True

    def __init__(self, session: Session, links: LinkGroups, parent: QWidget | None = None) -> None:
        super().__init__(session, links, parent)
        self.store = WatchlistStore.for_session(session)
        self.watchlist_id: int | None = None
        self._wanted_list: int | str | None = None  # from a saved workspace, until loaded
        self._unwatch: Callable[[], None] | None = None
        self._selecting = False  # a row selected by the program, not by the user

        self.model = WatchlistModel(session, self)
        self._build()
        self.pump = FlashPump(self.view, self.model.is_fading)
        self.model.quotes_applied.connect(self.pump.kick)  # once per flush

        self.model.symbols_edited.connect(self._on_symbols_edited)
        self.model.modelReset.connect(self._update_footer)
        self.model.rowsInserted.connect(self._update_footer)
        self.model.rowsRemoved.connect(self._update_footer)
        self.store.lists_changed.connect(self._on_lists_changed)
        self.store.symbols_changed.connect(self._on_store_symbols)
        session.connection_changed.connect(self._on_connection)
        if self.store.loaded:
            self._on_lists_changed()
        else:
            self.store.ensure_loaded()

    # -- building -------------------------------------------------------------------------
    def _build(self) -> None:
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)

        top = QHBoxLayout()
        top.setSpacing(4)
        self.list_box = QComboBox(body)
        self.list_box.setObjectName("watchlistPicker")
        self.list_box.setToolTip("Watchlist")
        self.list_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.list_box.activated.connect(self._on_list_picked)
        top.addWidget(self.list_box)
        self.menu_button = QToolButton(body)
        self.menu_button.setText("☰")
        self.menu_button.setToolTip("New, rename or delete a watchlist")
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.menu_button)
        menu.addAction("New watchlist…", self._ask_new_list)
        menu.addAction("Rename watchlist…", self._ask_rename_list)
        self.delete_action = menu.addAction("Delete watchlist…", self._ask_delete_list)
        self.menu_button.setMenu(menu)
        top.addWidget(self.menu_button)
        self.search = SymbolSearch(lambda: self.session.instruments, body)
        self.search.symbol_chosen.connect(self.add_symbol)
        top.addWidget(self.search, 1)
        layout.addLayout(top)

        filters = QHBoxLayout()
        filters.setSpacing(4)
        self.sector_box = QComboBox(body)
        self.sector_box.setToolTip("Show one sector")
        self.class_box = QComboBox(body)
        self.class_box.setToolTip("Show one asset class")
        self.performance_box = QComboBox(body)
        self.performance_box.setToolTip("Show by today's change")
        self.performance_box.addItems(list(PERFORMANCE_FILTERS))
        for box in (self.sector_box, self.class_box, self.performance_box):
            box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            box.activated.connect(self._on_filter_picked)
            filters.addWidget(box)
        filters.addStretch(1)
        self.footer = QLabel(body)
        self.footer.setObjectName("watchlistCount")
        filters.addWidget(self.footer)
        layout.addLayout(filters)
        self._fill_filter_boxes()

        self.view = WatchlistView(body)
        self.view.setModel(self.model)
        self.view.setItemDelegate(WatchlistDelegate(self.model, self.view))
        metrics = self.view.fontMetrics()
        for column, chars in _WIDTHS.items():
            self.view.setColumnWidth(column, metrics.horizontalAdvance("0" * chars) + 12)
        self.view.horizontalHeader().sortIndicatorChanged.connect(self._on_sort_changed)
        self.view.selectionModel().currentRowChanged.connect(self._on_current_row)
        self.view.customContextMenuRequested.connect(self._context_menu)
        remove = QAction("Remove from watchlist", self.view)
        remove.setShortcut(QKeySequence.StandardKey.Delete)
        remove.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        remove.triggered.connect(self.remove_selected)
        self.view.addAction(remove)
        self.remove_action = remove
        layout.addWidget(self.view, 1)
        self.setWidget(body)

    def _fill_filter_boxes(self) -> None:
        instruments = self.session.instruments.values()
        for box, label, values in (
            (self.sector_box, "All sectors", sorted({i.sector for i in instruments})),
            (self.class_box, "All classes", sorted({i.asset_class for i in instruments})),
        ):
            current = box.currentData()
            box.clear()
            box.addItem(label, ALL)
            for value in values:
                box.addItem(value.capitalize() if box is self.class_box else value, value)
            found = box.findData(current)
            box.setCurrentIndex(max(0, found))

    # -- lists ----------------------------------------------------------------------------
    def _on_connection(self, state: str) -> None:
        if state == "connected":
            self._fill_filter_boxes()
            self.store.ensure_loaded()

    def _on_lists_changed(self) -> None:
        self.list_box.clear()
        for watchlist in self.store.lists:
            self.list_box.addItem(watchlist.name, watchlist.watchlist_id)
        self.delete_action.setEnabled(len(self.store.lists) > 1)
        wanted = self._wanted_list if self._wanted_list is not None else self.watchlist_id
        target = next(
            (
                w
                for w in self.store.lists
                if wanted is not None and wanted in (w.watchlist_id, w.name)
            ),
            self.store.lists[0] if self.store.lists else None,
        )
        self._wanted_list = None
        if target is None:
            self.show_list(None)
        else:
            self.show_list(target.watchlist_id)
        if not self.sector_box.count() > 1:
            self._fill_filter_boxes()

    def show_list(self, watchlist_id: int | None) -> None:
        watchlist = self.store.get(watchlist_id) if watchlist_id is not None else None
        self.watchlist_id = watchlist.watchlist_id if watchlist is not None else None
        symbols = watchlist.symbols if watchlist is not None else []
        index = self.list_box.findData(self.watchlist_id)
        if index >= 0:
            self.list_box.setCurrentIndex(index)
        self.model.set_symbols(symbols)
        self._watch(symbols)
        self.setWindowTitle(f"{self.title} — {watchlist.name}" if watchlist else self.title)
        self._update_footer()

    def _on_list_picked(self, index: int) -> None:
        watchlist_id = self.list_box.itemData(index)
        if isinstance(watchlist_id, int) and watchlist_id != self.watchlist_id:
            self.show_list(watchlist_id)

    def _watch(self, symbols: list[str]) -> None:
        # Watch the new set before releasing the old, so symbols in both stay subscribed.
        previous = self._unwatch
        self._unwatch = self.session.watch_quotes(symbols) if symbols else None
        if previous is not None:
            previous()

    def _on_symbols_edited(self) -> None:
        if self.watchlist_id is None:
            return
        symbols = self.model.symbols()
        self._watch(symbols)
        self.store.set_symbols(self.watchlist_id, symbols)

    def _on_store_symbols(self, watchlist_id: int) -> None:
        """Another panel edited the list shown here: follow it."""
        watchlist = self.store.get(watchlist_id)
        if (
            watchlist_id == self.watchlist_id
            and watchlist is not None
            and watchlist.symbols != self.model.symbols()
        ):
            self.model.set_symbols(watchlist.symbols)
            self._watch(watchlist.symbols)

    def new_list(self, name: str, symbols: list[str] | None = None) -> None:
        async def create() -> None:
            watchlist = await self.store.create(name, symbols or [])
            self.show_list(watchlist.watchlist_id)

        spawn(create(), self.session.notice.emit, f"Creating watchlist {name}")

    def rename_list(self, name: str) -> None:
        if self.watchlist_id is not None:
            spawn(
                self.store.rename(self.watchlist_id, name),
                self.session.notice.emit,
                "Renaming the watchlist",
            )

    def delete_list(self) -> None:
        if self.watchlist_id is not None and len(self.store.lists) > 1:
            spawn(
                self.store.delete(self.watchlist_id),
                self.session.notice.emit,
                "Deleting the watchlist",
            )

    def _ask_new_list(self) -> None:
        name, ok = QInputDialog.getText(self, "New watchlist", "Name:")
        if ok and name.strip():
            self.new_list(name.strip())

    def _ask_rename_list(self) -> None:
        current = self.store.get(self.watchlist_id) if self.watchlist_id is not None else None
        if current is None:
            return
        name, ok = QInputDialog.getText(self, "Rename watchlist", "Name:", text=current.name)
        if ok and name.strip() and name.strip() != current.name:
            self.rename_list(name.strip())

    def _ask_delete_list(self) -> None:
        current = self.store.get(self.watchlist_id) if self.watchlist_id is not None else None
        if current is None:
            return
        answer = QMessageBox.question(
            self, "Delete watchlist", f"Delete the watchlist “{current.name}”?"
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_list()

    # -- symbols --------------------------------------------------------------------------
    def add_symbol(self, symbol: str) -> None:
        if self.watchlist_id is None:
            return
        if symbol not in self.session.instruments:
            self.session.notice.emit("warning", f"{symbol} is not listed")
            return
        if not self.model.add_symbol(symbol):
            self.session.notice.emit("info", f"{symbol} is already in this watchlist")
        self._select(symbol)

    def remove_selected(self) -> None:
        self.model.remove_symbols(self.selected_symbols())

    def selected_symbols(self) -> list[str]:
        rows = self.view.selectionModel().selectedRows(Column.SYMBOL)
        return [str(index.data(SYMBOL_ROLE)) for index in rows]

    def _context_menu(self, position: QPoint) -> None:
        if not self.selected_symbols():
            return
        menu = QMenu(self)
        menu.addAction(self.remove_action)
        menu.exec(self.view.viewport().mapToGlobal(position))

    # -- picking and linking --------------------------------------------------------------
    def _on_current_row(self, current: QModelIndex, previous: QModelIndex) -> None:
        if self._selecting or not current.isValid():
            return
        symbol = self.model.row_at(current.row()).symbol
        if symbol != self.symbol:
            self.pick_symbol(symbol)

    def set_symbol(self, symbol: str) -> None:
        super().set_symbol(symbol)
        self._select(symbol)

    def _select(self, symbol: str) -> None:
        """Highlight ``symbol``'s row if this list shows it (no pick: the program chose)."""
        row = self.model.view_row_of(symbol)
        if row is None:
            return
        index = self.model.index(row, Column.SYMBOL)
        self._selecting = True
        try:
            self.view.selectionModel().setCurrentIndex(
                index,
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows,
            )
            self.view.scrollTo(index)
        finally:
            self._selecting = False

    # -- sorting and filtering ------------------------------------------------------------
    def _on_sort_changed(self, section: int, order: Qt.SortOrder) -> None:
        # Reordering by hand only means something when the rows show the list's own order.
        self.view.setDragEnabled(section < 0)

    def _on_filter_picked(self) -> None:
        self.model.set_filter(
            self.model.filter.replace(
                sector=self.sector_box.currentData() or ALL,
                asset_class=self.class_box.currentData() or ALL,
                performance=self.performance_box.currentText(),
            )
        )
        self._update_footer()

    def set_filters(
        self, sector: str = ALL, asset_class: str = ALL, performance: str = ANY_PERFORMANCE
    ) -> None:
        for box, value in ((self.sector_box, sector), (self.class_box, asset_class)):
            if box.findData(value) < 0:
                box.addItem(value, value)
            box.setCurrentIndex(box.findData(value))
        self.performance_box.setCurrentText(performance)
        self._on_filter_picked()

    def _update_footer(self) -> None:
        total = self.model.total_count()
        shown = self.model.rowCount()
        text = f"{shown} of {total}" if shown != total else f"{total} symbols"
        if self.footer.text() != text:
            self.footer.setText(text)

    # -- for the shell --------------------------------------------------------------------
    def is_populated(self) -> bool:
        return self.store.loaded and any(
            self.session.quotes.get(s) is not None for s in self.model.symbols()
        )

    def save_state(self) -> dict[str, Any]:
        state = super().save_state()
        header = self.view.horizontalHeader()
        current = self.store.get(self.watchlist_id) if self.watchlist_id is not None else None
        state.update(
            watchlist=current.name if current is not None else None,
            sort_column=header.sortIndicatorSection(),
            sort_descending=header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder,
            sector=self.model.filter.sector,
            asset_class=self.model.filter.asset_class,
            performance=self.model.filter.performance,
            header=bytes(header.saveState().toHex().data()).decode(),
        )
        return state

    def restore_state(self, state: dict[str, Any]) -> None:
        super().restore_state(state)
        header_state = state.get("header")
        if isinstance(header_state, str):
            from PySide6.QtCore import QByteArray

            self.view.horizontalHeader().restoreState(
                QByteArray.fromHex(QByteArray(header_state.encode()))
            )
        column = state.get("sort_column")
        if isinstance(column, int):
            descending = bool(state.get("sort_descending"))
            order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
            self.view.horizontalHeader().setSortIndicator(column, order)
        self.set_filters(
            str(state.get("sector") or ALL),
            str(state.get("asset_class") or ALL),
            str(state.get("performance") or ANY_PERFORMANCE),
        )
        name = state.get("watchlist")
        if isinstance(name, str):
            if self.store.loaded:
                match = next((w for w in self.store.lists if w.name == name), None)
                if match is not None:
                    self.show_list(match.watchlist_id)
            else:
                self._wanted_list = name

    def closeEvent(self, event: Any) -> None:
        self.store.save_pending()
        super().closeEvent(event)
