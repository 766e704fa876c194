"""The shell: docks, workspaces, link groups, hotkeys and the command palette, as a user
meets them in the main window on a real exchange server."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

from exchange_server.protocol import PlaceOrderRequest
from tests.workstation.conftest import Market, WaitUntil
from workstation.main_window import MainWindow
from workstation.session.session import Session
from workstation.settings import Settings


def visible(window: MainWindow) -> set[str]:
    return {dock_id for dock_id, dock in window.docks.items() if not dock.isHidden()}


def answer_yes(window: MainWindow) -> list[str]:
    asked: list[str] = []

    def confirm(title: str, text: str, then: Any) -> None:
        asked.append(text)
        then()

    window.confirm = confirm
    return asked


async def test_trading_workspace_puts_panels_where_traders_expect_them(
    main_window: MainWindow,
) -> None:
    docks = main_window.docks
    assert {"watchlist", "depth", "order_ticket", "open_orders"} <= visible(main_window)
    watchlist, depth, ticket, orders = (
        docks[i].geometry() for i in ("watchlist", "depth", "order_ticket", "open_orders")
    )
    assert watchlist.right() < depth.left()  # watchlist left, depth right
    assert depth.bottom() < ticket.top() + 5  # the ticket below the depth
    assert orders.top() > watchlist.bottom() - 5  # blotters along the bottom
    assert orders.right() < depth.left() + 5  # ...ending at the depth-and-ticket column
    # The column runs the window's height: the ladder gets rows and the ticket its whole
    # form (it was once squashed to a few rows under the ticket's minimum height).
    assert depth.height() > 0.4 * main_window.height(), depth
    assert ticket.height() >= docks["order_ticket"].minimumSizeHint().height()
    assert main_window.current_workspace == "Trading"


async def test_closed_panels_reopen_from_the_view_menu(main_window: MainWindow) -> None:
    depth = main_window.docks["depth"]
    depth.close()
    assert depth.isHidden()
    toggle = depth.toggleViewAction()
    assert toggle in main_window.view_menu.actions()
    toggle.trigger()
    assert not depth.isHidden()


async def test_the_last_layout_comes_back_on_the_next_start(
    main_window: MainWindow, session: Session, config_dir: Path
) -> None:
    main_window.docks["depth"].setFloating(True)
    main_window.docks["order_ticket"].close()
    main_window.switch_workspace("Trading", save_current=False)  # the default again...
    main_window.docks["depth"].setFloating(True)
    main_window.docks["order_ticket"].close()
    main_window.close()  # ...changed, and saved on close

    restarted = MainWindow(session, Settings.load(config_dir))
    restarted.show()
    try:
        assert restarted.current_workspace == "Trading"
        assert restarted.docks["depth"].isFloating()
        assert restarted.docks["order_ticket"].isHidden()
        assert not restarted.docks["watchlist"].isHidden()
    finally:
        restarted.close_without_saving()


async def test_workspaces_switch_save_rename_delete_and_reset(main_window: MainWindow) -> None:
    window = main_window
    assert window.workspace_names()[:2] == ["Trading", "Charting"]
    window.switch_workspace("Charting")
    assert visible(window) <= {"watchlist", "chart"}
    assert "watchlist" in visible(window)
    window.switch_workspace("Trading")
    assert "depth" in visible(window)

    window.docks["depth"].close()
    window.save_workspace_as("Scalping")
    assert window.current_workspace == "Scalping"
    window.switch_workspace("Trading")
    assert "depth" in visible(window)
    window.switch_workspace("Scalping")
    assert "depth" not in visible(window)

    assert window.rename_workspace("Scalping", "Scalp")
    assert "Scalp" in window.workspace_names() and "Scalping" not in window.workspace_names()
    assert not window.rename_workspace("Scalp", "Trading")  # names stay unique
    window.reset_workspace()
    assert "depth" in visible(window)  # a custom workspace resets to the Trading layout
    assert window.delete_workspace("Scalp")
    assert window.current_workspace == "Trading"
    assert "Scalp" not in window.workspace_names()
    assert "Scalp" not in Settings.load(window.settings.directory).workspaces


async def test_picking_a_symbol_drives_panels_of_the_same_link_colour(
    main_window: MainWindow, market: Market, wait_until: WaitUntil
) -> None:
    docks = main_window.docks
    watchlist, depth, ticket = docks["watchlist"], docks["depth"], docks["order_ticket"]
    watchlist.pick_symbol("TCS")
    assert depth.symbol == "TCS" and ticket.symbol == "TCS"
    await wait_until(lambda: depth.is_populated())

    depth.set_link_colour("blue")  # its own group now
    watchlist.pick_symbol("INFY")
    assert ticket.symbol == "INFY"
    assert depth.symbol == "TCS"

    # Link colours are part of the workspace.
    main_window.save_workspace()
    main_window.switch_workspace("Charting")
    main_window.switch_workspace("Trading")
    assert docks["depth"].link_colour == "blue"


async def test_buy_and_sell_hotkeys_open_the_ticket_for_the_linked_symbol(
    main_window: MainWindow,
) -> None:
    actions = main_window._actions
    assert actions["buy"].shortcut().toString() == "F1"
    assert actions["sell"].shortcut().toString() == "F2"
    assert actions["command_palette"].shortcut().toString() == "Ctrl+K"
    main_window.docks["watchlist"].pick_symbol("SBIN")
    ticket: Any = main_window.docks["order_ticket"]
    ticket.close()
    actions["sell"].trigger()
    assert not ticket.isHidden()
    assert ticket.symbol == "SBIN" and ticket.side == "sell"
    actions["buy"].trigger()
    assert ticket.side == "buy"


async def test_hotkeys_can_be_rebound(main_window: MainWindow) -> None:
    main_window.settings.hotkeys = {"buy": "Ctrl+B"}
    main_window.apply_hotkeys()
    assert main_window._actions["buy"].shortcut().toString() == "Ctrl+B"
    assert Settings.load(main_window.settings.directory).hotkeys == {}  # not saved yet


async def test_cancel_all_asks_first_then_cancels_every_open_order(
    main_window: MainWindow, session: Session, market: Market, wait_until: WaitUntil
) -> None:
    low = session.instruments["INFY"].band_low
    for _ in range(2):
        await session.place_order(
            PlaceOrderRequest(symbol="INFY", side="buy", quantity=Decimal(1), price=low)
        )
    await wait_until(lambda: len(session.open_orders()) == 2)
    asked = answer_yes(main_window)
    main_window._actions["cancel_all"].trigger()
    assert asked == ["Cancel all 2 open orders?"]
    await wait_until(lambda: not session.open_orders())


async def test_close_position_sells_the_held_quantity_at_market(
    main_window: MainWindow, session: Session, market: Market, wait_until: WaitUntil
) -> None:
    await session.place_order(
        PlaceOrderRequest(symbol="HDFCBANK", side="buy", quantity=Decimal(3), order_type="market")
    )
    await wait_until(lambda: "HDFCBANK" in session.positions)
    main_window.docks["watchlist"].pick_symbol("HDFCBANK")
    asked = answer_yes(main_window)
    main_window._actions["close_position"].trigger()
    assert asked == ["Close the HDFCBANK position: sell 3 at market?"]
    await wait_until(lambda: session.positions["HDFCBANK"].quantity == 0)


async def test_command_palette_jumps_to_symbols_and_runs_actions(
    main_window: MainWindow,
) -> None:
    palette = main_window.palette_popup
    palette.open()
    assert palette.isVisible()
    palette.search.setText("infy")
    first = palette.results.item(0).text()
    assert first.startswith("INFY")
    palette.run_selected()
    assert not palette.isVisible()
    assert main_window.docks["order_ticket"].symbol == "INFY"
    assert main_window.docks["depth"].symbol == "INFY"

    palette.open()
    palette.search.setText("workspace charting")
    palette.run_selected()
    assert main_window.current_workspace == "Charting"


async def test_status_bar_shows_connection_latency_market_and_account(
    main_window: MainWindow, wait_until: WaitUntil
) -> None:
    status = main_window.status
    # Until every channel's first snapshot is in, the banner rightly says data is loading.
    await wait_until(
        lambda: (
            "ms" in status.latency.text()
            and "\u2013" not in status.market.text()
            and not main_window.session.stale
        )
    )
    assert status.market.text().startswith("NSE ")
    assert status.connection.text().startswith("\u25cf Connected")
    assert status.stale.isHidden()
    assert status.account.text() == main_window.session.account_label
    assert status.clock.text().startswith("Server ")


async def test_light_theme_applies_and_is_remembered(main_window: MainWindow) -> None:
    main_window.set_theme("light")
    try:
        assert Settings.load(main_window.settings.directory).theme == "light"
        background = main_window.palette().color(main_window.backgroundRole())
        assert background.lightness() > 200
    finally:
        main_window.set_theme("dark")
    assert main_window.palette().color(main_window.backgroundRole()).lightness() < 60


async def test_the_overview_behind_a_tab_waits_and_catches_up_when_raised(
    main_window: MainWindow, market: Market, wait_until: WaitUntil
) -> None:
    overview, watchlist = main_window.docks["market_overview"], main_window.docks["watchlist"]
    await wait_until(overview.is_populated)  # the first fill happens even behind the tab
    watchlist.raise_()
    refreshes: list[int] = []
    original = overview.refresh
    overview.refresh = lambda: (refreshes.append(1), original())[1]  # type: ignore[method-assign]
    await market.trade("TCS")
    await asyncio.sleep(1.5)  # three refresh ticks
    assert refreshes == []  # nobody can see it: no heat map layouts
    overview.raise_()
    await wait_until(lambda: refreshes, message="the raised overview did not refresh")
