"""Workspaces: named dock layouts (geometry plus each panel's own state).

A workspace is ``QMainWindow.saveState`` (where every dock is, floating or not, which are
open) plus each panel's ``save_state()`` (symbol, link colour, columns...). The defaults,
Trading and Charting, are built in code, so "reset" always has something to go back to.
"""

from __future__ import annotations

import itertools
import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, Qt

if TYPE_CHECKING:
    from workstation.docks.base import PanelDock
    from workstation.main_window import MainWindow

log = logging.getLogger(__name__)

STATE_VERSION = 1  # bump when dock ids change meaning: old saved states are then ignored
LEFT = Qt.DockWidgetArea.LeftDockWidgetArea
RIGHT = Qt.DockWidgetArea.RightDockWidgetArea
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea
H = Qt.Orientation.Horizontal
V = Qt.Orientation.Vertical
BOTTOM_TABS = (
    "open_orders",
    "positions",
    "fills",
    "order_history",
    "funds",
    "portfolio",
    "notifications",
)
LINKED_BY_DEFAULT = ("watchlist", "chart", "depth", "order_ticket", "time_and_sales")
DEFAULT_LINK = "red"


def capture(window: MainWindow) -> dict[str, Any]:
    docks: dict[str, Any] = {}
    for dock_id, dock in window.docks.items():
        try:
            docks[dock_id] = dock.save_state()
        except Exception:
            log.exception("panel %s could not save its state", dock_id)
    return {
        "version": STATE_VERSION,
        "state": bytes(window.saveState(STATE_VERSION).toBase64().data()).decode("ascii"),
        "docks": docks,
        "open": sorted(d for d, dock in window.docks.items() if not dock.isHidden()),
    }


def restore(window: MainWindow, workspace: dict[str, Any]) -> bool:
    """Apply a saved workspace; False (nothing changed) if it is unusable."""
    if workspace.get("version") != STATE_VERSION or not isinstance(workspace.get("state"), str):
        return False
    state = QByteArray.fromBase64(QByteArray(workspace["state"].encode("ascii")))
    for dock in window.docks.values():
        # Docks the saved state does not mention (new since) stay out of the way.
        dock.hide()
    if not window.restoreState(state, STATE_VERSION):
        return False
    panels = workspace.get("docks")
    if isinstance(panels, dict):
        for dock_id, saved in panels.items():
            panel = window.docks.get(dock_id)
            if panel is not None and isinstance(saved, dict):
                try:
                    panel.restore_state(saved)
                except Exception:
                    log.exception("panel %s could not restore its state", dock_id)
    _seed_links(window)
    return True


def _seed_links(window: MainWindow) -> None:
    """Each link group starts at the symbol its docks show."""
    for dock in window.docks.values():
        colour, symbol = dock.link_colour, dock.symbol
        if dock.linkable and colour and symbol and window.links.symbol(colour) is None:
            window.links.set_symbol(colour, symbol)


def _reset(window: MainWindow) -> dict[str, PanelDock]:
    docks = window.docks
    for dock in docks.values():
        if dock.isFloating():
            dock.setFloating(False)
        window.removeDockWidget(dock)
    return docks


def _park(window: MainWindow, placed: set[str]) -> None:
    # Closed panels still need a home for when the View menu opens them: tabbed at the bottom.
    for dock_id, dock in window.docks.items():
        if dock_id not in placed:
            window.addDockWidget(BOTTOM, dock)
            dock.hide()


def _link_defaults(window: MainWindow) -> None:
    symbol = window.default_symbol()
    for dock_id in LINKED_BY_DEFAULT:
        dock = window.docks.get(dock_id)
        if dock is not None:
            dock.set_link_colour(DEFAULT_LINK)
    if symbol:
        window.links.set_symbol(DEFAULT_LINK, symbol)
        for dock_id in LINKED_BY_DEFAULT:
            dock = window.docks.get(dock_id)
            if dock is not None and dock.symbol != symbol:
                dock.set_symbol(symbol)


def arrange_trading(window: MainWindow) -> None:
    """Watchlist left and chart centre over the blotters; depth over the order ticket in a
    full-height column on the right (the ladder needs rows, the ticket needs its form)."""
    docks = _reset(window)
    placed: set[str] = set()

    def place(dock_id: str) -> PanelDock | None:
        dock = docks.get(dock_id)
        if dock is not None:
            placed.add(dock_id)
            dock.show()
        return dock

    watchlist, chart, depth, ticket = (
        place(i) for i in ("watchlist", "chart", "depth", "order_ticket")
    )
    columns = [d for d in (watchlist, chart) if d is not None]
    if columns:
        window.addDockWidget(LEFT, columns[0])
        for before, after in itertools.pairwise(columns):
            window.splitDockWidget(before, after, H)
    right = [d for d in (depth, ticket) if d is not None]
    if right:
        window.addDockWidget(RIGHT, right[0])
        if len(right) == 2:
            window.splitDockWidget(right[0], right[1], V)
    time_and_sales = place("time_and_sales")
    if time_and_sales is not None:
        anchor = depth or ticket
        if anchor is not None:
            window.tabifyDockWidget(anchor, time_and_sales)
            anchor.raise_()
        else:
            window.addDockWidget(RIGHT, time_and_sales)
    overview = place("market_overview")
    if overview is not None:
        if watchlist is not None:
            window.tabifyDockWidget(watchlist, overview)
            watchlist.raise_()
        else:
            window.addDockWidget(LEFT, overview)
    bottom: list[PanelDock] = [docks[i] for i in BOTTOM_TABS if i in docks]
    for index, dock in enumerate(bottom):
        placed.add(dock.dock_id)
        dock.show()
        if index == 0:
            window.addDockWidget(BOTTOM, dock)
        else:
            window.tabifyDockWidget(bottom[0], dock)
    if bottom:
        bottom[0].raise_()
    _park(window, placed)
    width, height = max(window.width(), 1200), max(window.height(), 800)
    widths = {"watchlist": 0.25, "chart": 0.5, "depth": 0.25, "order_ticket": 0.25}
    across = [*columns, *right[:1]]
    window.resizeDocks(across, [int(width * widths[d.dock_id]) for d in across], H)
    if bottom and columns:
        window.resizeDocks([columns[0], bottom[0]], [int(height * 0.66), int(height * 0.3)], V)
    if len(right) == 2:
        window.resizeDocks(right, [int(height * 0.52), int(height * 0.44)], V)
    _link_defaults(window)


def arrange_charting(window: MainWindow) -> None:
    """A big chart with a narrow watchlist beside it."""
    docks = _reset(window)
    placed: set[str] = set()
    watchlist, chart = docks.get("watchlist"), docks.get("chart")
    shown = [d for d in (watchlist, chart) if d is not None]
    for dock in shown:
        placed.add(dock.dock_id)
        dock.show()
    if shown:
        window.addDockWidget(LEFT, shown[0])
    if watchlist is not None and chart is not None:
        window.splitDockWidget(watchlist, chart, H)
        width = max(window.width(), 1200)
        window.resizeDocks([watchlist, chart], [int(width * 0.2), int(width * 0.8)], H)
    _park(window, placed)
    _link_defaults(window)


DEFAULT_LAYOUTS = {"Trading": arrange_trading, "Charting": arrange_charting}
