"""Finding an instrument by what the user remembers of it: symbol, name or sector.

:func:`search_instruments` ranks matches (the exact symbol first, then symbols starting with
the text, then names with a word starting with it, then anything containing it), so "inf"
finds INFY before "Bharti Infratel". :class:`SymbolSearch` is a line edit with a popup of
those matches; the command palette can reuse :func:`search_instruments` or the model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import QCompleter, QLineEdit, QWidget

from exchange_server.protocol import InstrumentOut

SYMBOL_ROLE = Qt.ItemDataRole.UserRole + 1
DEFAULT_LIMIT = 20


def _rank(instrument: InstrumentOut, needle: str) -> int | None:
    symbol = instrument.symbol.lower()
    name = instrument.name.lower()
    if symbol == needle:
        return 0
    if symbol.startswith(needle):
        return 1
    if any(word.startswith(needle) for word in name.replace("-", " ").split()):
        return 2
    if needle in symbol:
        return 3
    if needle in name:
        return 4
    if needle in instrument.sector.lower() or needle == instrument.asset_class.lower():
        return 5
    return None


def search_instruments(
    instruments: Mapping[str, InstrumentOut] | Iterable[InstrumentOut],
    text: str,
    limit: int = DEFAULT_LIMIT,
) -> list[InstrumentOut]:
    """The instruments matching ``text``, best first (all of them, by symbol, for no text)."""
    pool = list(instruments.values()) if isinstance(instruments, Mapping) else list(instruments)
    needle = text.strip().lower()
    if not needle:
        return sorted(pool, key=lambda item: item.symbol)[:limit]
    ranked = []
    for instrument in pool:
        rank = _rank(instrument, needle)
        if rank is not None:
            ranked.append((rank, instrument.symbol, instrument))
    ranked.sort(key=lambda entry: (entry[0], entry[1]))
    return [instrument for _, _, instrument in ranked[:limit]]


class SymbolSearchModel(QAbstractListModel):
    """The current matches, shown as "SYMBOL  Name · Sector"; SYMBOL_ROLE gives the symbol."""

    def __init__(
        self,
        instruments: Callable[[], Mapping[str, InstrumentOut]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._instruments = instruments  # called each search: the universe can change
        self._matches: list[InstrumentOut] = []
        self.limit = DEFAULT_LIMIT

    def search(self, text: str) -> None:
        self.beginResetModel()
        self._matches = search_instruments(self._instruments(), text, self.limit)
        self.endResetModel()

    def matches(self) -> list[InstrumentOut]:
        return list(self._matches)

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._matches)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        if not index.isValid() or index.row() >= len(self._matches):
            return None
        instrument = self._matches[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{instrument.symbol:<11} {instrument.name} · {instrument.sector}"
        if role in (Qt.ItemDataRole.EditRole, SYMBOL_ROLE):
            return instrument.symbol
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{instrument.name}\n{instrument.sector} · {instrument.asset_class}"
        return None


class SymbolSearch(QLineEdit):
    """Type part of a symbol, name or sector; pick from the popup or press Enter for the best.

    ``symbol_chosen`` carries the chosen symbol; the field then clears for the next search.
    """

    symbol_chosen = Signal(str)

    def __init__(
        self,
        instruments: Callable[[], Mapping[str, InstrumentOut]],
        parent: QWidget | None = None,
        placeholder: str = "Add symbol…",
    ) -> None:
        super().__init__(parent)
        self.setPlaceholderText(placeholder)
        self.setClearButtonEnabled(True)
        self.results = SymbolSearchModel(instruments, self)
        self._completer = QCompleter(self.results, self)
        # The model is already filtered and ranked; the completer must show it as it is.
        self._completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self._completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self._completer.setMaxVisibleItems(12)
        self._completer.setWidget(self)
        popup = self._completer.popup()
        assert popup is not None
        self.popup = popup
        # activated is overloaded (text, index): the index one gives the symbol role.
        cast(Any, self._completer.activated)[QModelIndex].connect(self._on_activated)
        self.textEdited.connect(self._on_edited)
        self.returnPressed.connect(self._on_return)

    def _on_edited(self, text: str) -> None:
        self.results.search(text)
        if text.strip() and self.results.rowCount():
            self._completer.complete()
        else:
            self.popup.hide()

    def _on_activated(self, index: QModelIndex) -> None:
        symbol = index.data(SYMBOL_ROLE)
        if isinstance(symbol, str):
            self.choose(symbol)

    def _on_return(self) -> None:
        if self.popup.isVisible() and self.popup.currentIndex().isValid():
            return  # the popup activates the row the user moved to
        matches = self.results.matches() if self.text().strip() else []
        if matches:
            self.choose(matches[0].symbol)

    def choose(self, symbol: str) -> None:
        self.popup.hide()
        self.clear()
        self.symbol_chosen.emit(symbol)
