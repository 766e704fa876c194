"""The rows of one watchlist: its symbols with their live quotes, for a QTableView.

Quotes arrive as ``session.quotes_changed(symbols)``. The model collects the symbols it
shows, and at most every ``COALESCE_MS`` compares each pending row with what it last showed:
changed cells get a flash timestamp (see flash_cells), and consecutive changed rows one
``dataChanged`` spanning their changed columns. Unchanged rows cost nothing, so 200 symbols
updating 2,000 times a second make at most 25 small updates a second per row.

Sorting and filtering happen here too, not in a QSortFilterProxyModel: a proxy costs three
Python calls (index checks and ``data()``) for every role of every painted cell, and its
sort asks ``data()`` for every comparison; here a re-sort is one ``list.sort`` per flush,
and only when the sorted column changed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont

from exchange_server.protocol import Quote
from workstation.docks.flash_cells import FLASH_ROLE, FLASH_SECONDS, NO_FLASH, flash_colour
from workstation.docks.watchlist_filter import WatchlistFilter
from workstation.docks.watchlist_format import (
    compact_text,
    direction_colour,
    percent_text,
    price_text,
    signed_text,
)

if TYPE_CHECKING:
    from workstation.session.session import Session

MIME_SYMBOLS = "application/x-workstation-symbols"
SORT_ROLE = Qt.ItemDataRole.UserRole + 41  # float, for sorting any column
SECTOR_ROLE = Qt.ItemDataRole.UserRole + 42
ASSET_CLASS_ROLE = Qt.ItemDataRole.UserRole + 43
SYMBOL_ROLE = Qt.ItemDataRole.UserRole + 44
COALESCE_MS = 40

RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class Column(IntEnum):
    SYMBOL = 0
    LAST = 1
    CHANGE = 2
    CHANGE_PERCENT = 3
    BID = 4
    ASK = 5
    VOLUME = 6
    HIGH = 7
    LOW = 8


HEADERS = ("Symbol", "LTP", "Chg", "Chg %", "Bid", "Ask", "Volume", "High", "Low")
HEADER_TIPS = (
    "Symbol (hover a row for the name and sector)",
    "Last traded price",
    "Change since the previous close",
    "Change since the previous close, per cent",
    "Best bid",
    "Best ask",
    "Quantity traded today",
    "Day's high",
    "Day's low",
)
VALUE_COLUMNS = len(HEADERS) - 1  # every column but the symbol holds a number
_NO_VALUE = float("-inf")
# Roles as plain ints: comparing Qt's enum members costs a Python call each.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole.value)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole.value)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole.value)
_FONT = int(Qt.ItemDataRole.FontRole.value)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole.value)
_ROLES = frozenset(
    {
        _DISPLAY,
        _BACKGROUND,
        _FOREGROUND,
        _ALIGNMENT,
        _FONT,
        _TOOLTIP,
        SORT_ROLE,
        SECTOR_ROLE,
        ASSET_CLASS_ROLE,
        SYMBOL_ROLE,
        FLASH_ROLE,
    }
)
_ROW_FLAGS = (
    Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemIsDragEnabled
)
_DAY_COLOURED = frozenset(int(c) for c in (Column.LAST, Column.CHANGE, Column.CHANGE_PERCENT))

Values = tuple[Decimal | None, ...]


def quote_values(quote: Quote | None) -> Values:
    """The numbers a row shows, in column order (without the symbol)."""
    if quote is None:
        return (None,) * VALUE_COLUMNS
    return (
        quote.last,
        quote.change,
        quote.change_percent,
        quote.bid,
        quote.ask,
        quote.volume,
        quote.high,
        quote.low,
    )


@dataclass(slots=True, eq=False)  # rows compare by identity: lists of them often
class _Row:
    symbol: str
    values: Values = (None,) * VALUE_COLUMNS
    changed_at: list[float] = field(default_factory=lambda: [0.0] * VALUE_COLUMNS)
    direction: list[int] = field(default_factory=lambda: [0] * VALUE_COLUMNS)
    # Formatted once per change, not once per paint: a view asks for every visible cell
    # on every repaint, and Python formatting Decimals there would cost a core.
    texts: list[str] = field(default_factory=list)
    sort_keys: list[float] = field(default_factory=list)
    colour: QColor | None = None  # the day's direction, for LTP and the changes
    sector: str = ""
    asset_class: str = ""
    tooltip: str = ""
    decimals: int = 2  # the instrument's price decimals


def _runs(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted ``numbers`` as (first, last) runs of consecutive values."""
    runs: list[tuple[int, int]] = []
    for number in sorted(numbers):
        if runs and runs[-1][1] == number - 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs


class WatchlistModel(QAbstractTableModel):
    """A watchlist's rows as the view shows them: filtered and sorted here, not in a proxy.

    Two orders: the list's own (``symbols()``, what is saved, what dragging edits) and the
    view's (``shown_symbols()``: the rows that pass the filter, sorted by the sort column,
    ties in the list's order). Row numbers in Qt calls are the view's. Quotes re-sort and
    re-filter only at the coalesced flush and only when the sort column or the performance
    filter saw a new value; otherwise a flush is ``dataChanged`` for the changed cells."""

    # The user changed the list itself (added, removed, reordered): time to save it.
    symbols_edited = Signal()
    # A coalesced batch of quotes changed some rows (after their dataChanged).
    quotes_applied = Signal()

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._rows: list[_Row] = []  # the list's order
        self._row_of: dict[str, int] = {}  # symbol -> position in the list
        self._shown: list[_Row] = []  # the view's rows, in the view's order
        self._shown_of: dict[str, int] = {}  # symbol -> view row
        self.filter = WatchlistFilter()
        self.sort_column = -1  # -1: the list's own order
        self.sort_order = Qt.SortOrder.AscendingOrder
        self._pending: set[str] = set()
        self._last_flush = 0.0
        self._last_change = -FLASH_SECONDS  # monotonic time of the newest flash
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)
        self._bold = QFont()
        self._bold.setBold(True)
        self.updates = 0  # rows changed by quotes (the benchmark reads it)
        self.relayouts = 0  # re-sorts or re-filters that moved rows (the tests read it)
        session.quotes_changed.connect(self.note_quotes)

    # -- the list -------------------------------------------------------------------------
    def symbols(self) -> list[str]:
        """The list's own order (what is saved)."""
        return [row.symbol for row in self._rows]

    def shown_symbols(self) -> list[str]:
        """The rows the view shows, top to bottom."""
        return [row.symbol for row in self._shown]

    def total_count(self) -> int:
        return len(self._rows)

    def row_at(self, view_row: int) -> _Row:
        """The row shown at ``view_row`` (for the delegate: no ``data()`` round trips)."""
        return self._shown[view_row]

    def view_row_of(self, symbol: str) -> int | None:
        return self._shown_of.get(symbol)

    def set_symbols(self, symbols: Iterable[str]) -> None:
        """Show another list (or the same one reloaded); no flashes for the first values."""
        self.beginResetModel()
        self._rows = [self._new_row(symbol) for symbol in dict.fromkeys(symbols)]
        self._reindex()
        self._shown = self._target()
        self._shown_of = {row.symbol: number for number, row in enumerate(self._shown)}
        self._pending.clear()
        self.endResetModel()

    def add_symbol(self, symbol: str, row: int | None = None) -> bool:
        """Add ``symbol`` at list position ``row`` (the end if None); False if the list has
        it already. It shows where the filter and sort put it."""
        if symbol in self._row_of:
            return False
        position = len(self._rows) if row is None else max(0, min(row, len(self._rows)))
        self._rows.insert(position, self._new_row(symbol))
        self._reindex()
        self._update_shown()
        self.symbols_edited.emit()
        return True

    def remove_symbols(self, symbols: Iterable[str]) -> None:
        gone = {s for s in symbols if s in self._row_of}
        if not gone:
            return
        self._rows = [row for row in self._rows if row.symbol not in gone]
        self._reindex()
        self._update_shown()
        self.symbols_edited.emit()

    def move_symbols(self, symbols: Sequence[str], before: int) -> None:
        """Move ``symbols`` (in the given order) to sit before list position ``before``."""
        moving = [s for s in dict.fromkeys(symbols) if s in self._row_of]
        if not moving:
            return
        target = max(0, min(before, len(self._rows)))
        target -= sum(1 for s in moving if self._row_of[s] < target)
        order = [row for row in self._rows if row.symbol not in moving]
        order[target:target] = [self._rows[self._row_of[s]] for s in moving]
        if order == self._rows:
            return
        self._rows = order
        self._reindex()
        self._update_shown()
        self.symbols_edited.emit()

    def _new_row(self, symbol: str) -> _Row:
        instrument = self.session.instruments.get(symbol)
        row = _Row(symbol, quote_values(self.session.quotes.get(symbol)))
        if instrument is not None:
            row.decimals = instrument.price_decimals
            row.sector = instrument.sector
            row.asset_class = instrument.asset_class
            row.tooltip = f"{instrument.name}\n{instrument.sector} · {instrument.asset_class}"
        return self._render(row)

    def _reindex(self) -> None:
        self._row_of = {row.symbol: number for number, row in enumerate(self._rows)}

    # -- sorting and filtering ------------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Qt's entry point (a header click): ``column`` -1 is the list's own order."""
        column = column if 0 <= column < len(HEADERS) else -1
        if column == self.sort_column and order == self.sort_order:
            return
        self.sort_column, self.sort_order = column, order
        self._update_shown()

    def set_filter(self, row_filter: WatchlistFilter) -> None:
        if row_filter != self.filter:
            self.filter = row_filter
            self._update_shown()

    def is_sorted(self) -> bool:
        return self.sort_column >= 0

    def _target(self) -> list[_Row]:
        """The rows the view should show, in order."""
        row_filter = self.filter
        if row_filter.is_active():
            column = Column.CHANGE_PERCENT - 1
            rows = [
                row
                for row in self._rows
                if row_filter.accepts(row.sector, row.asset_class, row.values[column])
            ]
        else:
            rows = list(self._rows)
        column = self.sort_column
        if column == Column.SYMBOL:
            rows.sort(key=_symbol_key, reverse=self.sort_order == Qt.SortOrder.DescendingOrder)
        elif column > 0:
            # Stable, so equal values keep the list's order either way (as Qt's sort does).
            index = column - 1
            rows.sort(
                key=lambda row: row.sort_keys[index],
                reverse=self.sort_order == Qt.SortOrder.DescendingOrder,
            )
        return rows

    def _update_shown(self) -> None:
        """Bring the view's rows to ``_target()`` with the smallest signals: removals,
        then one layout change if the remaining rows moved, then insertions. Selection and
        the current row follow their symbols."""
        target = self._target()
        if target == self._shown:  # identity per row: cheap when nothing moved
            return
        wanted = {row.symbol for row in target}
        root = QModelIndex()
        leaving = [n for n, row in enumerate(self._shown) if row.symbol not in wanted]
        for first, last in reversed(_runs(leaving)):
            self.beginRemoveRows(root, first, last)
            del self._shown[first : last + 1]
            self._shown_of = {row.symbol: n for n, row in enumerate(self._shown)}
            self.endRemoveRows()
        staying = set(self._shown_of)
        kept_order = [row for row in target if row.symbol in staying]
        if kept_order != self._shown:
            self.layoutAboutToBeChanged.emit()
            persistent = self.persistentIndexList()
            held = [(self._shown[index.row()].symbol, index.column()) for index in persistent]
            self._shown = kept_order
            self._shown_of = {row.symbol: n for n, row in enumerate(self._shown)}
            self.changePersistentIndexList(
                persistent, [self.index(self._shown_of[symbol], column) for symbol, column in held]
            )
            self.layoutChanged.emit()
            self.relayouts += 1
        arriving = [n for n, row in enumerate(target) if row.symbol not in staying]
        for first, last in _runs(arriving):
            self.beginInsertRows(root, first, last)
            self._shown[first:first] = target[first : last + 1]
            self._shown_of = {row.symbol: n for n, row in enumerate(self._shown)}
            self.endInsertRows()

    # -- live quotes ----------------------------------------------------------------------
    def note_quotes(self, symbols: Iterable[str]) -> None:
        shown = self._row_of
        self._pending.update(s for s in symbols if s in shown)
        if not self._pending or self._timer.isActive():
            return
        wait = COALESCE_MS / 1000 - (time.monotonic() - self._last_flush)
        self._timer.start(max(0, int(wait * 1000)))

    def flush(self) -> None:
        """Apply the pending quotes: re-sort or re-filter if the sort column or the
        performance filter saw a new value, then ``dataChanged`` for the changed cells of
        the shown rows (consecutive rows in one signal)."""
        now = time.monotonic()
        self._last_flush = now
        pending, self._pending = self._pending, set()
        quotes = self.session.quotes
        sort_index = self.sort_column - 1  # the sort column among the values (-1: none)
        filter_index = Column.CHANGE_PERCENT - 1 if self.filter.depends_on_quotes() else -1
        relayout = False
        changed: dict[str, tuple[int, int]] = {}  # symbol -> changed columns (first, last)
        columns = range(VALUE_COLUMNS)
        flashed = False
        # The hot loop of the panel (every row of 200 may change 25 times a second):
        # locals, plain comparisons, only the changed cells formatted again.
        for symbol in pending:
            number = self._row_of.get(symbol)
            if number is None:
                continue
            row = self._rows[number]
            new = quote_values(quotes.get(symbol))
            old = row.values
            if new == old:
                continue
            first = last = -1
            texts, keys, changed_at, directions = (
                row.texts,
                row.sort_keys,
                row.changed_at,
                row.direction,
            )
            for column in columns:
                before, after = old[column], new[column]
                if before == after:
                    continue
                if first < 0:
                    first = column
                last = column
                if column in (sort_index, filter_index):
                    relayout = True
                if after is None:
                    keys[column] = _NO_VALUE
                else:
                    keys[column] = float(after)
                    if before is not None:
                        changed_at[column] = now
                        directions[column] = 1 if after > before else -1
                        flashed = True
                texts[column + 1] = _FORMATS[column](after, row.decimals)
            row.values = new
            row.colour = direction_colour(new[_CHANGE])
            self.updates += 1
            changed[symbol] = (first, last)
        if flashed:
            self._last_change = now
        if not changed:
            return
        if relayout:
            self._update_shown()
        # Columns are shifted by one: the symbol column holds no value. createIndex, not
        # index(): no row and column count checks (two Python calls each) for our own rows.
        spans = {self._shown_of[s]: span for s, span in changed.items() if s in self._shown_of}
        for first_row, last_row in _runs(spans):
            run = [spans[n] for n in range(first_row, last_row + 1)]
            self.dataChanged.emit(
                self.createIndex(first_row, min(c[0] for c in run) + 1),
                self.createIndex(last_row, max(c[1] for c in run) + 1),
            )
        self.quotes_applied.emit()

    def is_fading(self) -> bool:
        return time.monotonic() - self._last_change < FLASH_SECONDS

    # -- Qt model -------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._shown)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return LEFT if section == Column.SYMBOL else RIGHT
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        # The view paints through WatchlistDelegate (row_at), so this serves tooltips,
        # accessibility, copying and tests; still cheap: cached values, int comparisons.
        if role not in _ROLES:
            return None
        row = self._shown[index.row()]
        column = index.column()
        if role == _DISPLAY:
            return row.texts[column]
        if role == _BACKGROUND:
            if column == 0:
                return None
            return flash_colour(row.changed_at[column - 1], row.direction[column - 1])
        if role == _FOREGROUND:
            return row.colour if column in _DAY_COLOURED else None
        if role == _ALIGNMENT:
            return LEFT if column == 0 else RIGHT
        if role == _FONT:
            return self._bold if column == 0 else None
        if role == SORT_ROLE:
            return row.symbol if column == 0 else row.sort_keys[column - 1]
        if role == SYMBOL_ROLE:
            return row.symbol
        if role == FLASH_ROLE:  # never None (see NO_FLASH)
            if column == 0 or not row.changed_at[column - 1]:
                return NO_FLASH
            return (row.changed_at[column - 1], row.direction[column - 1])
        if role == _TOOLTIP:
            return row.tooltip if column == 0 and row.tooltip else None
        if role == SECTOR_ROLE:
            return row.sector
        if role == ASSET_CLASS_ROLE:
            return row.asset_class
        return None

    @staticmethod
    def _render(row: _Row) -> _Row:
        row.texts = [row.symbol]
        row.texts.extend(
            _FORMATS[column](value, row.decimals) for column, value in enumerate(row.values)
        )
        row.sort_keys = [_NO_VALUE if v is None else float(v) for v in row.values]
        row.colour = direction_colour(row.values[_CHANGE])
        return row

    # -- drag to reorder ------------------------------------------------------------------
    def flags(self, index: QModelIndex | QPersistentModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.ItemIsDropEnabled  # between rows
        return _ROW_FLAGS

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def mimeTypes(self) -> list[str]:
        return [MIME_SYMBOLS]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData:
        rows = sorted({index.row() for index in indexes if index.isValid()})
        symbols = [self._shown[row].symbol for row in rows]
        mime = QMimeData()
        mime.setData(MIME_SYMBOLS, QByteArray(json.dumps(symbols).encode()))
        mime.setText("\n".join(symbols))
        return mime

    def dropMimeData(
        self,
        data: QMimeData,
        action: Qt.DropAction,
        row: int,
        column: int,
        parent: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        """Rows dragged within the list move; symbols from another watchlist are added.

        ``row`` is a view row: the drop lands before the symbol shown there (after the
        list's last symbol below the last row). While the rows are sorted the list's own
        order is not on screen, so a drop cannot say where in it to go: the list's own
        symbols stay where they are and new ones join at the end (showing in their sorted
        place). The model moves rows itself and has no ``removeRows``, so the view's
        "remove what was moved" step after a move-drop finds nothing to remove."""
        if action == Qt.DropAction.IgnoreAction:
            return True
        if not data.hasFormat(MIME_SYMBOLS):
            return False
        try:
            symbols = json.loads(bytes(data.data(MIME_SYMBOLS).data()).decode())
        except ValueError:
            return False
        if not isinstance(symbols, list):
            return False
        symbols = [s for s in symbols if isinstance(s, str)]
        if row < 0:
            row = parent.row() if parent.isValid() else len(self._shown)
        if self.is_sorted() or row >= len(self._shown):
            before = len(self._rows)
        else:
            before = self._row_of[self._shown[row].symbol]
        ours = [s for s in symbols if s in self._row_of]
        if ours and not self.is_sorted():
            self.move_symbols(ours, before)
            before = min(before, len(self._rows))
            # New symbols go right after the moved ones.
            before = max((self._row_of[s] + 1 for s in ours), default=before)
        added = 0
        for symbol in (s for s in symbols if s not in self._row_of):
            if symbol in self.session.instruments and self.add_symbol(symbol, before + added):
                added += 1
        return True

    def removeRows(
        self,
        row: int,
        count: int,
        parent: QModelIndex | QPersistentModelIndex = QModelIndex(),  # noqa: B008
    ) -> bool:
        return False


def _symbol_key(row: _Row) -> str:
    return row.symbol


def _percent(value: Decimal | None, decimals: int) -> str:
    return percent_text(value)


def _compact(value: Decimal | None, decimals: int) -> str:
    return compact_text(value)


_CHANGE = Column.CHANGE - 1  # index among a row's values
# How each value column is written, by index among a row's values (price decimals given).
_FORMATS = (
    price_text,
    signed_text,
    _percent,
    price_text,
    price_text,
    _compact,
    price_text,
    price_text,
)
assert len(_FORMATS) == VALUE_COLUMNS
