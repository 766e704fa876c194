"""What every panel is: a dock the main window can float, close, reopen and save.

A panel shows one symbol (``linkable``) or account-wide data. Linkable panels carry a link
colour; choosing a symbol in one moves the others of that colour (``LinkGroups``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtWidgets import QDockWidget, QWidget

from workstation.session.links import NO_LINK, LinkGroups

if TYPE_CHECKING:
    from workstation.session.session import Session


class PanelDock(QDockWidget):
    dock_id: ClassVar[str] = ""  # stable: saved layouts refer to panels by it
    title: ClassVar[str] = ""
    linkable: ClassVar[bool] = False

    def __init__(self, session: Session, links: LinkGroups, parent: QWidget | None = None) -> None:
        super().__init__(self.title, parent)
        self.setObjectName(self.dock_id)
        self.session = session
        self.links = links
        self.link_colour = NO_LINK
        self.symbol: str | None = None
        links.symbol_changed.connect(self._on_link)

    # -- linking -------------------------------------------------------------------------
    def set_link_colour(self, colour: str) -> None:
        self.link_colour = colour
        symbol = self.links.symbol(colour)
        if symbol is not None and symbol != self.symbol:
            self.set_symbol(symbol)

    def _on_link(self, colour: str, symbol: str) -> None:
        if self.linkable and colour == self.link_colour and colour != NO_LINK:
            self.set_symbol(symbol)

    def pick_symbol(self, symbol: str) -> None:
        """The user chose ``symbol`` here: show it and drive the docks of the same colour."""
        self.set_symbol(symbol)
        self.links.set_symbol(self.link_colour, symbol)

    def set_symbol(self, symbol: str) -> None:
        """Show ``symbol`` (linkable panels override this and call it)."""
        self.symbol = symbol

    # -- for the shell -------------------------------------------------------------------
    def is_populated(self) -> bool:
        """Whether the panel shows live data yet (the smoke screenshot waits for it)."""
        return True

    def save_state(self) -> dict[str, Any]:
        """What to keep in a workspace besides geometry (symbol, columns, interval...)."""
        return {"symbol": self.symbol, "link": self.link_colour}

    def restore_state(self, state: dict[str, Any]) -> None:
        colour = state.get("link")
        if isinstance(colour, str):
            self.link_colour = colour
        symbol = state.get("symbol")
        if isinstance(symbol, str) and self.linkable:
            self.set_symbol(symbol)
