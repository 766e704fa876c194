"""Linked symbol groups: docks sharing a link colour follow the same symbol.

Picking a symbol in a red-linked watchlist moves the red chart, depth and order ticket to it.
A dock with no colour follows nobody and drives nobody.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

LINK_COLOURS: dict[str, str] = {  # name -> display colour
    "red": "#e5484d",
    "green": "#30a46c",
    "blue": "#3e63dd",
    "yellow": "#f5d90a",
}
NO_LINK = ""


class LinkGroups(QObject):
    symbol_changed = Signal(str, str)  # colour, symbol

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._symbols: dict[str, str] = {}

    def symbol(self, colour: str) -> str | None:
        return self._symbols.get(colour)

    def set_symbol(self, colour: str, symbol: str) -> None:
        """Move every dock of ``colour`` to ``symbol`` (nothing for an unlinked dock)."""
        if colour == NO_LINK or self._symbols.get(colour) == symbol:
            return
        self._symbols[colour] = symbol
        self.symbol_changed.emit(colour, symbol)
