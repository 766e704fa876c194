"""The table every blotter shows: a filter box, action buttons, a compact sortable view and
CSV export of what is shown; and the plainer table of the market panels (movers, holdings,
time and sales, notifications)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractItemModel, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workstation.docks.table_model import KeyedSortProxy, KeyedTableModel, export_csv
from workstation.docks.watchlist_format import compact_table, set_column_chars

ROW_HEIGHT = 20  # compact: a blotter should show many rows


def panel_table(
    parent: QWidget, model: QAbstractItemModel, chars: dict[int, int], name: str = ""
) -> QTableView:
    """A market panel's table: the watchlist's compact look, columns ``chars`` characters
    wide, the last column taking the spare width."""
    view = QTableView(parent)
    if name:
        view.setObjectName(name)
    view.setModel(model)
    compact_table(view)
    set_column_chars(view, chars)
    view.horizontalHeader().setStretchLastSection(True)
    return view


class BlotterTable(QWidget):
    exported = Signal(str, int)  # path, rows

    def __init__(self, model: KeyedTableModel[Any], name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.model = model
        self.name = name
        self.proxy = KeyedSortProxy(self)
        self.proxy.setSourceModel(model)

        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText("Filter")
        self.filter.setClearButtonEnabled(True)
        self.filter.setMaximumWidth(220)
        self.filter.textChanged.connect(self.proxy.setFilterFixedString)
        self.export_button = QPushButton("Export CSV", self)
        self.export_button.setToolTip("Save the rows shown (filtered and sorted) as CSV")
        self.export_button.clicked.connect(self.ask_export)
        self.count = QLabel(self)  # how many rows, and what they add up to
        self.count.setObjectName("tableCount")
        self.status = QLabel(self)  # the outcome of the last action (export, cancel...)
        self.status.setObjectName("tableStatus")

        self.bar = QHBoxLayout()
        self.bar.setContentsMargins(0, 0, 0, 0)
        self.bar.setSpacing(4)
        self.bar.addWidget(self.filter)
        self.bar.addWidget(self.count)
        self.bar.addStretch(1)
        self.bar.addWidget(self.status)
        self.bar.addWidget(self.export_button)

        self.view = QTableView(self)
        self.view.setModel(self.proxy)
        self.view.setSortingEnabled(True)
        self.view.setAlternatingRowColors(True)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        # Columns keep their widths; spare room stays blank at the right rather than
        # stretching the last column away from the others.
        header.setStretchLastSection(False)
        header.setDefaultSectionSize(84)
        header.setMinimumSectionSize(40)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.menu_actions: list[tuple[str, Any]] = []  # extra (label, slot) for the menu

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addLayout(self.bar)
        layout.addWidget(self.view)

    def add_button(self, text: str, slot: Any, tooltip: str = "") -> QPushButton:
        """An action button left of the export button (Modify, Cancel...)."""
        button = QPushButton(text, self)
        button.setToolTip(tooltip)
        button.clicked.connect(slot)
        self.bar.insertWidget(self.bar.count() - 2, button)
        return button

    def sort_by(self, column: int, descending: bool = False) -> None:
        order = Qt.SortOrder.DescendingOrder if descending else Qt.SortOrder.AscendingOrder
        self.view.sortByColumn(column, order)

    def set_column_widths(self, widths: dict[int, int]) -> None:
        for column, width in widths.items():
            self.view.setColumnWidth(column, width)

    def selected_rows(self) -> list[Any]:
        """The source rows selected in the view, in view order."""
        rows = sorted({index.row() for index in self.view.selectionModel().selectedRows()})
        return [
            self.model.row_at(self.proxy.mapToSource(self.proxy.index(r, 0)).row()) for r in rows
        ]

    def current_row(self) -> Any | None:
        index = self.view.currentIndex()
        if not index.isValid():
            return None
        return self.model.row_at(self.proxy.mapToSource(index).row())

    # -- export ------------------------------------------------------------------------------
    def ask_export(self) -> None:
        # open(), not exec(): a nested modal loop would stall the asyncio loop under qasync.
        dialog = QFileDialog(self, f"Export {self.name}", f"{self.name}.csv", "CSV files (*.csv)")
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setDefaultSuffix("csv")
        dialog.fileSelected.connect(self.export_to)
        dialog.open()

    def export_to(self, path: str) -> int:
        rows = export_csv(self.proxy, path)
        self.status.setText(f"Exported {rows} rows")
        self.exported.emit(path, rows)
        return rows

    def _context_menu(self, point: QPoint) -> None:
        menu = QMenu(self)
        for label, slot in self.menu_actions:
            menu.addAction(label, slot)
        if self.menu_actions:
            menu.addSeparator()
        menu.addAction("Export CSV…", self.ask_export)
        menu.popup(self.view.viewport().mapToGlobal(point))
