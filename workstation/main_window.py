"""The main window: every panel a dock, named workspaces, menus, hotkeys, command palette."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable, Coroutine, Iterator
from decimal import Decimal
from functools import partial
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QInputDialog,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from exchange_server.protocol import PlaceOrderRequest, Side
from workstation import workspaces
from workstation.command_palette import Command, CommandPalette
from workstation.docks.base import PanelDock
from workstation.docks.registry import available
from workstation.hotkeys import HOTKEYS, HotkeyDialog, resolve
from workstation.session.links import LINK_COLOURS, NO_LINK, LinkGroups
from workstation.session.session import Session
from workstation.settings import DEFAULT_WORKSPACES, WORKSPACES_PREFERENCE, Settings
from workstation.status_bar import StatusBar
from workstation.theme import THEMES, apply_theme, current_theme

log = logging.getLogger(__name__)

Confirm = Callable[[str, str, Callable[[], None]], None]
# Once the panels have built themselves and loaded their first data (history, snapshots).
HEAP_FREEZE_DELAY_MS = 10_000


class MainWindow(QMainWindow):
    workspace_changed = Signal(str)
    connect_requested = Signal()  # File > Connect...: the app closes this session first
    closed = Signal()

    def __init__(
        self,
        session: Session,
        settings: Settings,
        parent: QWidget | None = None,
        credentials_note: str = "",
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.settings = settings
        self.credentials_note = credentials_note
        self.links = LinkGroups(self)
        self.docks: dict[str, PanelDock] = {}
        self._save_on_close = True
        self.last_mirroring: asyncio.Task[Any] | None = None  # the last workspace upload
        self.setObjectName("mainWindow")
        self.setWindowTitle(f"Trading Workstation \u2014 {session.profile or session.server_url}")
        self.setDockNestingEnabled(True)
        self.setDockOptions(
            QMainWindow.DockOption.AnimatedDocks
            | QMainWindow.DockOption.AllowNestedDocks
            | QMainWindow.DockOption.AllowTabbedDocks
            | QMainWindow.DockOption.GroupedDragging
        )
        # The right dock area runs the full height (the blotters end at it): a column
        # there (depth over the ticket) gets room for both.
        self.setCorner(Qt.Corner.TopRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resize(1600, 960)
        self._create_docks()
        self.status = StatusBar(session, self)
        self.setStatusBar(self.status)
        self.palette_popup = CommandPalette(self, self.commands)
        # Confirmations are asked through this hook so tests can answer them.
        self.confirm: Confirm = self._confirm_with_dialog
        self._actions: dict[str, QAction] = {}
        self.current_workspace = ""
        self._build_menus()
        self.apply_hotkeys()
        self.switch_workspace(settings.current_workspace or "Trading", save_current=False)
        QTimer.singleShot(HEAP_FREEZE_DELAY_MS, _freeze_startup_heap)

    # -- panels ---------------------------------------------------------------------------
    def _create_docks(self) -> None:
        for spec, cls in available():
            try:
                dock = cls(self.session, self.links, self)
            except Exception:
                log.exception("panel %s failed to start; skipped", spec.dock_id)
                continue
            dock.setObjectName(spec.dock_id)  # saveState refers to docks by object name
            dock.setFeatures(
                PanelDock.DockWidgetFeature.DockWidgetClosable
                | PanelDock.DockWidgetFeature.DockWidgetMovable
                | PanelDock.DockWidgetFeature.DockWidgetFloatable
            )
            self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
            dock.hide()
            self.docks[spec.dock_id] = dock
        self._connect_click_to_trade()

    def _connect_click_to_trade(self) -> None:
        """A click on the depth ladder places a limit order there through the ticket (which
        asks first when "confirm before sending" is ticked)."""
        depth, ticket = self.docks.get("depth"), self.docks.get("order_ticket")
        trade_requested = getattr(depth, "trade_requested", None)
        place_at = getattr(ticket, "place_at", None)
        if trade_requested is not None and place_at is not None:
            trade_requested.connect(place_at)

    def dock(self, dock_id: str) -> PanelDock | None:
        return self.docks.get(dock_id)

    def show_dock(self, dock_id: str) -> None:
        dock = self.docks.get(dock_id)
        if dock is not None:
            dock.show()
            dock.raise_()

    def default_symbol(self) -> str | None:
        instruments = self.session.instruments
        for preferred in ("RELIANCE", "BTC-INR"):
            if preferred in instruments:
                return preferred
        return next(iter(sorted(instruments)), None)

    def linked_symbol(self) -> str | None:
        """The symbol hotkeys act on: the order ticket's, its link group's, or the default."""
        ticket = self.docks.get("order_ticket")
        if ticket is not None and ticket.symbol:
            return ticket.symbol
        for dock_id in ("watchlist", "chart", "depth"):
            dock = self.docks.get(dock_id)
            if dock is not None and dock.symbol:
                return dock.symbol
        return self.default_symbol()

    def jump_to(self, symbol: str) -> None:
        """Show ``symbol`` in the linked panels (the order ticket's link group)."""
        ticket = self.docks.get("order_ticket")
        colour = ticket.link_colour if ticket is not None else workspaces.DEFAULT_LINK
        if colour == NO_LINK:
            colour = workspaces.DEFAULT_LINK
        if self.links.symbol(colour) == symbol:
            return
        self.links.set_symbol(colour, symbol)

    # -- workspaces -----------------------------------------------------------------------
    def workspace_names(self) -> list[str]:
        names = list(DEFAULT_WORKSPACES)
        names += sorted(n for n in self.settings.workspaces if n not in DEFAULT_WORKSPACES)
        return names

    def save_workspace(self, name: str | None = None) -> None:
        name = name or self.current_workspace
        self.settings.workspaces[name] = workspaces.capture(self)
        self.settings.current_workspace = self.current_workspace or name
        self.mirror_workspaces()
        self.settings.save()

    def switch_workspace(self, name: str, save_current: bool = True) -> None:
        if save_current and self.current_workspace:
            self.settings.workspaces[self.current_workspace] = workspaces.capture(self)
        saved = self.settings.workspaces.get(name)
        if saved is None or not workspaces.restore(self, saved):
            if name not in workspaces.DEFAULT_LAYOUTS and saved is None:
                name = "Trading"
            workspaces.DEFAULT_LAYOUTS.get(name, workspaces.arrange_trading)(self)
        self.current_workspace = name
        self.settings.current_workspace = name
        self.settings.save()
        self._refresh_workspace_menu()
        self.workspace_changed.emit(name)

    def save_workspace_as(self, name: str) -> None:
        name = name.strip()
        if not name:
            return
        self.settings.workspaces[name] = workspaces.capture(self)
        self.current_workspace = name
        self.save_workspace(name)
        self._refresh_workspace_menu()
        self.workspace_changed.emit(name)

    def rename_workspace(self, old: str, new: str) -> bool:
        new = new.strip()
        if not new or new == old or new in self.workspace_names():
            return False
        layout = self.settings.workspaces.pop(old, None)
        if layout is None and old == self.current_workspace:
            layout = workspaces.capture(self)
        if layout is None:
            return False
        self.settings.workspaces[new] = layout
        if self.current_workspace == old:
            self.current_workspace = new
        self.save_workspace(self.current_workspace)
        self._refresh_workspace_menu()
        self.workspace_changed.emit(self.current_workspace)
        return True

    def delete_workspace(self, name: str) -> bool:
        """Custom workspaces go; a default one is only reset (it always exists)."""
        if name in DEFAULT_WORKSPACES:
            self.settings.workspaces.pop(name, None)
            if name == self.current_workspace:
                self.reset_workspace()
            self.settings.save()
            return True
        if name not in self.settings.workspaces:
            return False
        del self.settings.workspaces[name]
        if name == self.current_workspace:
            self.current_workspace = ""
            self.switch_workspace("Trading", save_current=False)
        self.mirror_workspaces()
        self.settings.save()
        self._refresh_workspace_menu()
        return True

    def reset_workspace(self) -> None:
        """Back to the built-in layout (Trading's for custom workspaces)."""
        arrange = workspaces.DEFAULT_LAYOUTS.get(self.current_workspace, workspaces.arrange_trading)
        arrange(self)
        self.save_workspace()

    def mirror_workspaces(self) -> None:
        """Copy the workspaces to the server's preferences, so another machine has them."""
        if self.session.user is None or self.session.connection_state == "offline":
            return
        self.last_mirroring = self.session.run(
            self.session.client.set_preference(
                WORKSPACES_PREFERENCE, self.settings.mirrored_workspaces()
            ),
            "Saving workspaces to the server",
        )

    # -- trading actions ------------------------------------------------------------------
    def open_ticket(self, side: str) -> None:
        symbol = self.linked_symbol()
        ticket = self.docks.get("order_ticket")
        if ticket is None:
            self.session.notice.emit("warning", "The order ticket is not available")
            return
        ticket.show()
        ticket.raise_()
        prefill = getattr(ticket, "prefill", None)
        if callable(prefill):
            prefill(side, symbol)
        elif symbol:
            ticket.pick_symbol(symbol)

    def cancel_all(self) -> None:
        count = len(self.session.open_orders())
        if count == 0:
            self.session.notice.emit("info", "No open orders to cancel")
            return
        plural = "order" if count == 1 else "orders"
        self.confirm(
            "Cancel all orders",
            f"Cancel all {count} open {plural}?",
            lambda: self._run(self._cancel_all(), "Cancel all"),
        )

    def _run(self, coroutine: Coroutine[Any, Any, Any], what: str) -> None:
        self.session.run(coroutine, what)

    async def _cancel_all(self) -> None:
        result = await self.session.cancel_all()
        self.session.notice.emit("info", f"Cancelled {len(result.cancelled)} orders")

    def close_position(self, symbol: str | None = None) -> None:
        symbol = symbol or self.linked_symbol()
        position = self.session.positions.get(symbol or "")
        if symbol is None or position is None or position.quantity == 0:
            self.session.notice.emit("info", f"No position in {symbol or 'this symbol'} to close")
            return
        quantity = abs(position.quantity)
        side: Side = "sell" if position.quantity > 0 else "buy"
        request = PlaceOrderRequest(
            symbol=symbol, side=side, quantity=quantity, order_type="market"
        )
        self.confirm(
            "Close position",
            f"Close the {symbol} position: {side} {_plain(quantity)} at market?",
            lambda: self._run(self._close(request), f"Closing {symbol}"),
        )

    async def _close(self, request: PlaceOrderRequest) -> None:
        order = await self.session.place_order(request)
        self.session.notice.emit(
            "info", f"Close order {order.order_id} for {order.symbol}: {order.status}"
        )

    def _confirm_with_dialog(self, title: str, text: str, then: Callable[[], None]) -> None:
        # Window-modal and non-blocking: the event loop (and the market) keeps running.
        box = QMessageBox(QMessageBox.Icon.Question, title, text, parent=self)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(button: Any) -> None:
            if box.standardButton(button) == QMessageBox.StandardButton.Yes:
                then()

        box.buttonClicked.connect(answered)
        box.open()

    # -- menus, hotkeys, palette ----------------------------------------------------------
    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        connect = file_menu.addAction("&Connect...")
        connect.triggered.connect(self.connect_requested.emit)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("&Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)

        self.view_menu = bar.addMenu("&View")
        for dock in self.docks.values():
            self.view_menu.addAction(dock.toggleViewAction())
        self.view_menu.addSeparator()
        self.link_menu = self.view_menu.addMenu("Link colours")
        self.link_menu.aboutToShow.connect(self._fill_link_menu)
        theme_menu = self.view_menu.addMenu("Theme")
        group = QActionGroup(self)
        for name in THEMES:
            action = theme_menu.addAction(name.capitalize())
            action.setCheckable(True)
            action.setChecked(name == current_theme())
            action.triggered.connect(lambda _=False, n=name: self.set_theme(n))
            group.addAction(action)
        self.view_menu.addSeparator()
        palette = self.view_menu.addAction("Command palette...")
        palette.triggered.connect(self.palette_popup.open)
        self._actions["command_palette"] = palette

        self.workspace_menu = bar.addMenu("&Workspaces")
        self._refresh_workspace_menu()

        trade = bar.addMenu("&Trade")
        for action_id, text, slot in (
            ("buy", "Buy...", lambda: self.open_ticket("buy")),
            ("sell", "Sell...", lambda: self.open_ticket("sell")),
            ("cancel_all", "Cancel all orders...", self.cancel_all),
            ("close_position", "Close position...", lambda: self.close_position()),
        ):
            action = trade.addAction(text)
            action.triggered.connect(slot)
            self._actions[action_id] = action
        trade.addSeparator()
        shortcuts = trade.addAction("Keyboard shortcuts...")
        shortcuts.triggered.connect(self.edit_hotkeys)
        following = QAction("Next workspace", self)
        following.triggered.connect(self.next_workspace)
        self.addAction(following)
        self._actions["next_workspace"] = following

    def _refresh_workspace_menu(self) -> None:
        menu = getattr(self, "workspace_menu", None)
        if menu is None:
            return
        menu.clear()
        group = QActionGroup(menu)
        for name in self.workspace_names():
            action = menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(name == self.current_workspace)
            action.triggered.connect(lambda _=False, n=name: self.switch_workspace(n))
            group.addAction(action)
        menu.addSeparator()
        menu.addAction("Save").triggered.connect(lambda: self.save_workspace())
        menu.addAction("Save as...").triggered.connect(self._ask_save_as)
        menu.addAction("Rename...").triggered.connect(self._ask_rename)
        menu.addAction("Delete").triggered.connect(
            lambda: self.delete_workspace(self.current_workspace)
        )
        menu.addAction("Reset to default").triggered.connect(self.reset_workspace)

    def _ask_save_as(self) -> None:
        name, ok = QInputDialog.getText(self, "Save workspace", "Name:")
        if ok:
            self.save_workspace_as(name)

    def _ask_rename(self) -> None:
        name, ok = QInputDialog.getText(
            self, "Rename workspace", "New name:", text=self.current_workspace
        )
        if ok and not self.rename_workspace(self.current_workspace, name):
            self.session.notice.emit("warning", f"Cannot rename to {name!r}")

    def next_workspace(self) -> None:
        names = self.workspace_names()
        index = names.index(self.current_workspace) if self.current_workspace in names else -1
        self.switch_workspace(names[(index + 1) % len(names)])

    def _fill_link_menu(self) -> None:
        self.link_menu.clear()
        for dock in self.docks.values():
            if not dock.linkable:
                continue
            sub = self.link_menu.addMenu(dock.windowTitle())
            group = QActionGroup(sub)
            for colour in (NO_LINK, *LINK_COLOURS):
                action = sub.addAction(colour.capitalize() if colour else "Not linked")
                action.setCheckable(True)
                action.setChecked(dock.link_colour == colour)
                action.triggered.connect(lambda _=False, d=dock, c=colour: d.set_link_colour(c))
                group.addAction(action)

    def apply_hotkeys(self) -> None:
        for action_id, key in resolve(self.settings.hotkeys).items():
            action = self._actions.get(action_id)
            if action is not None:
                action.setShortcut(QKeySequence(key))
                action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
        palette = self._actions["command_palette"]
        # The palette's shortcut must work with focus anywhere in the window.
        if palette not in self.actions():
            self.addAction(palette)

    def edit_hotkeys(self) -> None:
        dialog = HotkeyDialog(resolve(self.settings.hotkeys), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def accepted() -> None:
            keys = dialog.keys()
            defaults = {h.action_id: h.default for h in HOTKEYS}
            self.settings.hotkeys = {a: k for a, k in keys.items() if defaults.get(a) != k}
            self.settings.save()
            self.apply_hotkeys()

        dialog.accepted.connect(accepted)
        dialog.open()

    def set_theme(self, name: str) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            self.settings.theme = apply_theme(app, name)
            self.settings.save()

    def commands(self) -> Iterator[Command]:
        """What the command palette offers: every symbol, then every action."""
        for symbol, instrument in sorted(self.session.instruments.items()):
            yield Command(symbol, partial(self.jump_to, symbol), "symbol", instrument.name)
        for action_id, action in self._actions.items():
            if action_id != "command_palette":
                yield Command(action.text().rstrip("."), action.trigger)
        for dock_id, dock in self.docks.items():
            yield Command(f"Show {dock.windowTitle()}", partial(self.show_dock, dock_id))
        for name in self.workspace_names():
            yield Command(f"Workspace: {name}", partial(self.switch_workspace, name))
        yield Command("Reset workspace", self.reset_workspace)
        for name in THEMES:
            yield Command(f"Theme: {name}", partial(self.set_theme, name))
        yield Command("Keyboard shortcuts", self.edit_hotkeys)
        yield Command("Connect to a server", self.connect_requested.emit)

    # -- closing --------------------------------------------------------------------------
    def close_without_saving(self) -> None:
        self._save_on_close = False
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._save_on_close and self.current_workspace:
            try:
                self.save_workspace()
            except Exception:
                log.exception("could not save the workspace")
        super().closeEvent(event)
        self.closed.emit()


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _freeze_startup_heap() -> None:
    """Move what start-up built (Qt wrappers, plots, history arrays: long-lived, hundreds
    of thousands of objects) out of the collector's reach, so its full passes, which
    would walk all of it, stop costing the event loop tens of milliseconds each."""
    gc.collect()
    gc.freeze()
