"""The rows of one watchlist: its symbols with their live quotes, for a QTableView.

Quotes arrive as ``session.quotes_changed(symbols)``. The model collects the symbols it
shows, and at most every ``COALESCE_MS`` compares each pending row with what it last showed:
changed cells get a flash timestamp (see flash_cells) and the row one ``dataChanged``
spanning its changed columns. Unchanged rows cost nothing, so 200 symbols updating 2,000
times a second make at most 25 small updates a second per row.
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


@dataclass(slots=True)
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


def _direction(old: Decimal | None, new: Decimal | None) -> int:
    if old is None or new is None or old == new:
        return 0
    return 1 if new > old else -1


class WatchlistModel(QAbstractTableModel):
    # The user changed the list itself (added, removed, reordered): time to save it.
    symbols_edited = Signal()
    # A coalesced batch of quotes changed some rows (after their dataChanged): the sort and
    # filter proxy re-sorts once per batch instead of once per row.
    quotes_applied = Signal()

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._rows: list[_Row] = []
        self._row_of: dict[str, int] = {}
        self._pending: set[str] = set()
        self._last_flush = 0.0
        self._last_change = -FLASH_SECONDS  # monotonic time of the newest flash
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)
        self._bold = QFont()
        self._bold.setBold(True)
        self.updates = 0  # dataChanged emitted for quotes (the benchmark reads it)
        session.quotes_changed.connect(self.note_quotes)

    # -- the list -------------------------------------------------------------------------
    def symbols(self) -> list[str]:
        return [row.symbol for row in self._rows]

    def set_symbols(self, symbols: Iterable[str]) -> None:
        """Show another list (or the same one reloaded); no flashes for the first values."""
        self.beginResetModel()
        self._rows = []
        for symbol in dict.fromkeys(symbols):
            values = quote_values(self.session.quotes.get(symbol))
            self._rows.append(self._render(_Row(symbol, values)))
        self._reindex()
        self._pending.clear()
        self.endResetModel()

    def add_symbol(self, symbol: str, row: int | None = None) -> bool:
        """Add ``symbol`` (at the end unless ``row``); False if the list has it already."""
        if symbol in self._row_of:
            return False
        position = len(self._rows) if row is None else max(0, min(row, len(self._rows)))
        self.beginInsertRows(QModelIndex(), position, position)
        values = quote_values(self.session.quotes.get(symbol))
        self._rows.insert(position, self._render(_Row(symbol, values)))
        self._reindex()
        self.endInsertRows()
        self.symbols_edited.emit()
        return True

    def remove_symbols(self, symbols: Iterable[str]) -> None:
        rows = sorted({self._row_of[s] for s in symbols if s in self._row_of}, reverse=True)
        for row in rows:  # bottom up, so that the rows above keep their numbers
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._rows[row]
            self._reindex()
            self.endRemoveRows()
        if rows:
            self.symbols_edited.emit()

    def move_symbols(self, symbols: Sequence[str], before_row: int) -> None:
        """Move ``symbols`` (in the given order) so they sit before today's row ``before_row``."""
        moving = [s for s in dict.fromkeys(symbols) if s in self._row_of]
        if not moving:
            return
        target = max(0, min(before_row, len(self._rows)))
        target -= sum(1 for s in moving if self._row_of[s] < target)
        order = [row for row in self._rows if row.symbol not in moving]
        order[target:target] = [self._rows[self._row_of[s]] for s in moving]
        if [row.symbol for row in order] == self.symbols():
            return
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        held = [(self._rows[index.row()].symbol, index.column()) for index in persistent]
        self._rows = order
        self._reindex()
        self.changePersistentIndexList(
            persistent, [self.index(self._row_of[symbol], column) for symbol, column in held]
        )
        self.layoutChanged.emit()
        self.symbols_edited.emit()

    def _reindex(self) -> None:
        self._row_of = {row.symbol: number for number, row in enumerate(self._rows)}

    # -- live quotes ----------------------------------------------------------------------
    def note_quotes(self, symbols: Iterable[str]) -> None:
        shown = self._row_of
        self._pending.update(s for s in symbols if s in shown)
        if not self._pending or self._timer.isActive():
            return
        wait = COALESCE_MS / 1000 - (time.monotonic() - self._last_flush)
        self._timer.start(max(0, int(wait * 1000)))

    def flush(self) -> None:
        """Apply the pending quotes: one dataChanged per row that really changed."""
        now = time.monotonic()
        self._last_flush = now
        pending, self._pending = self._pending, set()
        quotes = self.session.quotes
        updates = self.updates
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
            for column, (before, after) in enumerate(zip(old, new, strict=True)):
                if before == after:
                    continue
                if first < 0:
                    first = column
                last = column
                direction = _direction(before, after)
                if direction:
                    row.changed_at[column] = now
                    row.direction[column] = direction
                    self._last_change = now
            row.values = new
            self._render(row)
            self.updates += 1
            # Columns are shifted by one: the symbol column holds no value.
            self.dataChanged.emit(self.index(number, first + 1), self.index(number, last + 1))
        if self.updates != updates:
            self.quotes_applied.emit()

    def is_fading(self) -> bool:
        return time.monotonic() - self._last_change < FLASH_SECONDS

    # -- Qt model -------------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

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
        # The hot path of every repaint (a visible cell is asked for about nine roles):
        # plain int comparisons, cached values, the common roles first.
        if role not in _ROLES:
            return None
        row = self._rows[index.row()]
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
        instrument = self.session.instruments.get(row.symbol)
        if role == _TOOLTIP and column == 0 and instrument:
            return f"{instrument.name}\n{instrument.sector} · {instrument.asset_class}"
        if role == SECTOR_ROLE:
            return instrument.sector if instrument is not None else ""
        if role == ASSET_CLASS_ROLE:
            return instrument.asset_class if instrument is not None else ""
        return None

    def _render(self, row: _Row) -> _Row:
        instrument = self.session.instruments.get(row.symbol)
        decimals = instrument.price_decimals if instrument is not None else 2
        texts = [row.symbol]
        for column, value in enumerate(row.values, start=1):
            if column == Column.CHANGE_PERCENT:
                texts.append(percent_text(value))
            elif column == Column.VOLUME:
                texts.append(compact_text(value))
            elif column == Column.CHANGE:
                texts.append(signed_text(value, decimals))
            else:
                texts.append(price_text(value, decimals))
        row.texts = texts
        row.sort_keys = [_NO_VALUE if v is None else float(v) for v in row.values]
        row.colour = direction_colour(row.values[Column.CHANGE - 1])
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
        symbols = [self._rows[row].symbol for row in rows]
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

        The model moves the rows itself and has no ``removeRows``, so the view's "remove
        what was moved" step after a move-drop finds nothing to remove."""
        if action == Qt.DropAction.IgnoreAction:
            return True
        if not data.hasFormat(MIME_SYMBOLS):
            return False
        try:
            symbols = json.loads(bytes(data.data(MIME_SYMBOLS).data()).decode())
        except ValueError:
            return False
        symbols = [s for s in symbols if isinstance(s, str)]
        if row < 0:
            row = parent.row() if parent.isValid() else len(self._rows)
        ours = [s for s in symbols if s in self._row_of]
        if ours:
            self.move_symbols(ours, row)
        for offset, symbol in enumerate(s for s in symbols if s not in ours):
            if symbol in self.session.instruments:
                self.add_symbol(symbol, row + offset)
        return True
