"""A table model over keyed rows (orders by id, positions by symbol) for every table panel:
the blotters, the depth ladder, market movers, holdings, time and sales, notifications.

Rows are replaced as a whole (``set_rows``): the model works out which rows came, went or
changed and tells views only that: inserted and removed ranges, and ``dataChanged`` over the
changed cells of a changed row. A stream of quote ticks therefore repaints the P&L cells
of one row, not the table. A ranked list (``set_rows(..., reorder=True)``) also moves rows
to the given order, keeping the selection on its rows. A log or a tape adds its newest rows
on top (``prepend``), holding at most a bounded number. Sorting compares the exact values
(Decimal, int, str), never the displayed text, in :class:`KeyedSortProxy`.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)
from PySide6.QtGui import QColor, QFont, QFontDatabase

RowT = TypeVar("RowT")
Index = QModelIndex | QPersistentModelIndex
_NO_PARENT = QModelIndex()

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
CENTRE = Qt.AlignmentFlag.AlignCenter

# A colour by name ("#30a46c", "#3730a46c" with alpha) or as a QColor.
Colour = str | QColor


@dataclass(frozen=True, slots=True)
class Column(Generic[RowT]):
    """One column: ``value`` is the exact value (sorted on, exported); ``text`` is what a
    person reads (default: ``str`` of the value); ``colour`` a semantic foreground;
    ``tooltip`` explains the column (on its header), ``tip`` one cell."""

    title: str
    value: Callable[[RowT], Any]
    text: Callable[[RowT], str] | None = None
    numeric: bool = False  # right-aligned, fixed-width digits
    colour: Callable[[RowT], Colour | None] | None = None
    tooltip: str = ""
    tip: Callable[[RowT], str] | None = None  # default: the model's row tool tip
    align: Qt.AlignmentFlag | None = None  # default: right if numeric, else left

    def display(self, row: RowT) -> str:
        if self.text is not None:
            return self.text(row)
        value = self.value(row)
        return "" if value is None else str(value)

    @property
    def alignment(self) -> Qt.AlignmentFlag:
        if self.align is not None:
            return self.align
        return RIGHT if self.numeric else LEFT


def fixed_font() -> QFont:
    """The system's fixed-width font: digits line up down a column."""
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    # Some platforms (offscreen, minimal desktops) name no family: ask for any monospace.
    font.setStyleHint(QFont.StyleHint.Monospace)
    font.setFixedPitch(True)
    return font


class KeyedTableModel(QAbstractTableModel, Generic[RowT]):
    """``tooltip`` gives a row's tool tip (a column's ``tip`` overrides it); ``highlight``
    picks out rows that matter more (a big print): a tint behind the row, in bold.
    ``fixed_numbers`` sets numeric cells in the fixed-pitch font; a view whose own font is
    fixed-pitch already turns it off."""

    def __init__(
        self,
        columns: Sequence[Column[RowT]],
        key: Callable[[RowT], Hashable],
        parent: QObject | None = None,
        *,
        tooltip: Callable[[RowT], str] | None = None,
        highlight: Callable[[RowT], Colour | None] | None = None,
        fixed_numbers: bool = True,
    ) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._key = key
        self._tooltip = tooltip
        self._highlight = highlight
        self._rows: list[RowT] = []
        self._keys: list[Hashable] = []
        self._font = fixed_font()
        self._number_font: QFont | None = self._font if fixed_numbers else None
        self._bold = QFont(self._font)
        self._bold.setBold(True)
        self._colours: dict[str, QColor] = {}

    # -- reading ---------------------------------------------------------------------------
    def rowCount(self, parent: Index = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = _NO_PARENT) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def row_at(self, row: int) -> RowT:
        return self._rows[row]

    def rows(self) -> list[RowT]:
        return list(self._rows)

    def row_of(self, key: Hashable) -> int:
        try:
            return self._keys.index(key)
        except ValueError:
            return -1

    def sort_value(self, row: int, column: int) -> Any:
        return self.columns[column].value(self._rows[row])

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        column = self.columns[index.column()]
        row = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.display(row)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return column.alignment
        if role == Qt.ItemDataRole.FontRole:
            if self._highlight is not None and self._highlight(row):
                return self._bold
            return self._number_font if column.numeric else None
        if role == Qt.ItemDataRole.ForegroundRole and column.colour is not None:
            return self._colour(column.colour(row))
        if role == Qt.ItemDataRole.BackgroundRole and self._highlight is not None:
            return self._colour(self._highlight(row))
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = column.tip or self._tooltip
            return tip(row) if tip is not None else None
        if role == Qt.ItemDataRole.UserRole:
            return column.value(row)
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return column.alignment
        if role == Qt.ItemDataRole.ToolTipRole and column.tooltip:
            return column.tooltip
        return None

    def _colour(self, colour: Colour | None) -> QColor | None:
        if not colour:
            return None
        if isinstance(colour, QColor):
            return colour
        cached = self._colours.get(colour)
        if cached is None:
            cached = self._colours[colour] = QColor(colour)
        return cached

    # -- writing ---------------------------------------------------------------------------
    def set_rows(self, rows: Iterable[RowT], *, reorder: bool = False) -> None:
        """Make the table hold exactly ``rows``, telling views only what changed. Rows
        already held keep their place and new ones go below them, unless ``reorder``: then
        the table ends in the order of ``rows`` (a ranked list)."""
        new = {self._key(row): row for row in rows}
        order = list(new) if reorder else None
        # Removals, from the bottom so earlier indexes stay valid, as contiguous runs.
        gone = [i for i, key in enumerate(self._keys) if key not in new]
        for first, last in reversed(_runs(gone)):
            self.beginRemoveRows(_NO_PARENT, first, last)
            del self._rows[first : last + 1]
            del self._keys[first : last + 1]
            self.endRemoveRows()
        for i, key in enumerate(self._keys):
            old, fresh = self._rows[i], new.pop(key)
            if old is fresh or old == fresh:
                continue
            self._rows[i] = fresh
            changed = [c for c, column in enumerate(self.columns) if _differs(column, old, fresh)]
            if changed:
                self.dataChanged.emit(self.index(i, changed[0]), self.index(i, changed[-1]))
        if new:
            start = len(self._rows)
            self.beginInsertRows(_NO_PARENT, start, start + len(new) - 1)
            self._keys.extend(new.keys())
            self._rows.extend(new.values())
            self.endInsertRows()
        if order is not None and order != self._keys:
            self._reorder(order)

    def _reorder(self, order: list[Hashable]) -> None:
        """Put the rows in ``order`` (the keys held, rearranged); selections and other
        persistent indexes follow their rows."""
        self.layoutAboutToBeChanged.emit()
        position = {key: i for i, key in enumerate(order)}
        by_key = dict(zip(self._keys, self._rows, strict=True))
        persistent = self.persistentIndexList()
        moved = [
            self.index(position[self._keys[index.row()]], index.column()) for index in persistent
        ]
        self._keys = list(order)
        self._rows = [by_key[key] for key in order]
        self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    def prepend(self, rows: Sequence[RowT], limit: int | None = None) -> None:
        """Add ``rows`` (newest first) above the others, as a log or a tape does; with
        ``limit`` the oldest rows beyond it are dropped."""
        if limit is not None:
            rows = rows[:limit]
        if not rows:
            return
        self.beginInsertRows(_NO_PARENT, 0, len(rows) - 1)
        self._rows[0:0] = rows
        self._keys[0:0] = [self._key(row) for row in rows]
        self.endInsertRows()
        if limit is not None and len(self._rows) > limit:
            self.beginRemoveRows(_NO_PARENT, limit, len(self._rows) - 1)
            del self._rows[limit:]
            del self._keys[limit:]
            self.endRemoveRows()

    def clear(self) -> None:
        self.beginResetModel()
        self._rows = []
        self._keys = []
        self.endResetModel()

    def refresh_columns(self, columns: Iterable[int]) -> None:
        """Values computed outside the rows (live P&L from quotes) changed in ``columns``."""
        wanted = sorted(columns)
        if self._rows and wanted:
            last = len(self._rows) - 1
            self.dataChanged.emit(self.index(0, wanted[0]), self.index(last, wanted[-1]))


def _differs(column: Column[RowT], old: RowT, fresh: RowT) -> bool:
    """A cell needs repainting when its value or its colour changed (a mover's price
    keeps its value but turns grey when the day's reference moves to it)."""
    if column.value(old) != column.value(fresh):
        return True
    return column.colour is not None and column.colour(old) != column.colour(fresh)


def _runs(indexes: list[int]) -> list[tuple[int, int]]:
    runs: list[tuple[int, int]] = []
    for i in indexes:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


class KeyedSortProxy(QSortFilterProxyModel):
    """Sorts on exact values; filters on the displayed text of every column."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setFilterKeyColumn(-1)
        self.setDynamicSortFilter(True)

    def lessThan(self, left: Index, right: Index) -> bool:
        model = self.sourceModel()
        if not isinstance(model, KeyedTableModel):
            return super().lessThan(left, right)
        a = model.sort_value(left.row(), left.column())
        b = model.sort_value(right.row(), right.column())
        if a is None or b is None:  # blanks sort first ascending
            return a is None and b is not None
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)


def export_csv(proxy: QSortFilterProxyModel, path: str | Path) -> int:
    """Write the rows as shown (filtered, sorted) with exact values; returns rows written."""
    model = proxy.sourceModel()
    assert isinstance(model, KeyedTableModel)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(column.title for column in model.columns)
        for r in range(proxy.rowCount()):
            source = proxy.mapToSource(proxy.index(r, 0)).row()
            row = model.row_at(source)
            writer.writerow(_csv_value(column.value(row)) for column in model.columns)
    return proxy.rowCount()


def _csv_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")  # never "1E+3": spreadsheets read plain digits
    return str(value)


class Coalescer(QObject):
    """Runs ``callback`` at most once per ``interval_ms`` however often ``schedule`` is
    called: bursts of stream updates become one repaint."""

    def __init__(
        self, callback: Callable[[], None], interval_ms: int = 40, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(callback)

    def schedule(self) -> None:
        if not self._timer.isActive():
            self._timer.start()
