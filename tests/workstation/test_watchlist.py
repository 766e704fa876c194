"""Watchlists against a real exchange: lists on the server, live quotes, editing, sorting,
filtering, flashing and picking a symbol for the linked panels."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtTest import QTest

from tests.api.conftest import TEST_SYMBOLS
from tests.workstation.conftest import Market, WaitUntil
from workstation.docks.flash_cells import FLASH_ROLE
from workstation.docks.watchlist import WatchlistDock
from workstation.docks.watchlist_format import DASH
from workstation.docks.watchlist_model import SYMBOL_ROLE, Column
from workstation.docks.watchlist_store import SAVE_DELAY_MS
from workstation.session.links import LinkGroups
from workstation.session.session import Session


@pytest.fixture
async def dock(session: Session, wait_until: WaitUntil) -> AsyncIterator[WatchlistDock]:
    dock = WatchlistDock(session, LinkGroups())
    dock.resize(760, 320)
    dock.show()
    await wait_until(lambda: dock.store.loaded, message="the watchlists never loaded")
    yield dock
    dock.close()
    dock.deleteLater()


def shown_symbols(dock: WatchlistDock) -> list[str]:
    return [
        dock.proxy.index(row, Column.SYMBOL).data(SYMBOL_ROLE)
        for row in range(dock.proxy.rowCount())
    ]


def cell(dock: WatchlistDock, symbol: str, column: Column) -> QModelIndex:
    row = shown_symbols(dock).index(symbol)
    return dock.proxy.index(row, column)


async def server_lists(session: Session) -> dict[str, list[str]]:
    return {w.name: w.symbols for w in await session.client.watchlists()}


async def test_first_run_makes_a_default_list_of_the_equities_on_the_server(
    dock: WatchlistDock, session: Session
) -> None:
    # The test server lists five equities and no crypto or commodities: one list.
    assert await server_lists(session) == {"NIFTY 50": sorted(TEST_SYMBOLS)}
    assert dock.list_box.currentText() == "NIFTY 50"
    assert shown_symbols(dock) == sorted(TEST_SYMBOLS)


async def test_rows_show_live_quotes_and_flash_when_they_change(
    dock: WatchlistDock, session: Session, market: Market, wait_until: WaitUntil
) -> None:
    await wait_until(lambda: cell(dock, "TCS", Column.LAST).data() not in (None, DASH))
    assert cell(dock, "TCS", Column.BID).data() != DASH
    assert cell(dock, "TCS", Column.LAST).data(Qt.ItemDataRole.TextAlignmentRole) & (
        Qt.AlignmentFlag.AlignRight
    )
    before = cell(dock, "TCS", Column.VOLUME).data()
    await market.trade("TCS", quantity="7")
    await wait_until(lambda: cell(dock, "TCS", Column.VOLUME).data() != before)
    _changed_at, direction = cell(dock, "TCS", Column.VOLUME).data(FLASH_ROLE)
    assert direction == 1  # volume only grows: a green flash
    assert dock.model.is_fading()
    assert dock.is_populated()
    if directory := os.environ.get("WORKSTATION_SCREENSHOTS"):
        dock.grab().save(os.path.join(directory, "watchlist_test.png"))


async def test_add_remove_and_reorder_are_saved_on_the_server(
    dock: WatchlistDock, session: Session, wait_until: WaitUntil
) -> None:
    dock.model.remove_symbols(["INFY"])
    assert "INFY" not in shown_symbols(dock)
    QTest.keyClicks(dock.search, "infy")
    assert dock.search.results.matches()[0].symbol == "INFY"
    QTest.keyClick(dock.search.popup, Qt.Key.Key_Return)  # the best match
    assert shown_symbols(dock)[-1] == "INFY"
    dock.model.move_symbols(["SBIN"], 0)
    expected = ["SBIN", "HDFCBANK", "RELIANCE", "TCS", "INFY"]
    assert shown_symbols(dock) == expected
    # A burst of edits is one save, a moment later.
    await wait_until(lambda: not dock.store.has_unsaved(), timeout=SAVE_DELAY_MS / 1000 + 5)
    for _ in range(100):  # the PUT may still be in flight: poll the server
        if (await server_lists(session))["NIFTY 50"] == expected:
            break
        await asyncio.sleep(0.05)
    assert (await server_lists(session))["NIFTY 50"] == expected


async def test_dragging_rows_reorders_the_list(dock: WatchlistDock) -> None:
    # What the view does on a drop: mime data of the dragged rows, dropped before a row.
    dragged = [cell(dock, "TCS", Column.SYMBOL), cell(dock, "SBIN", Column.SYMBOL)]
    mime = dock.proxy.mimeData(dragged)
    assert dock.proxy.dropMimeData(mime, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
    assert shown_symbols(dock) == ["SBIN", "TCS", "HDFCBANK", "INFY", "RELIANCE"]
    # The view removes "moved" rows after a move-drop; the model has none to remove.
    assert not dock.proxy.removeRows(0, 2)
    assert len(shown_symbols(dock)) == 5


async def test_sorting_by_a_column_and_back_to_the_lists_order(
    dock: WatchlistDock, session: Session, market: Market, wait_until: WaitUntil
) -> None:
    await wait_until(lambda: all(cell(dock, s, Column.LAST).data() != DASH for s in TEST_SYMBOLS))
    dock.view.sortByColumn(Column.LAST, Qt.SortOrder.DescendingOrder)
    lasts = [session.quotes[s].last for s in shown_symbols(dock)]
    assert lasts == sorted(lasts, reverse=True)  # type: ignore[type-var]
    assert not dock.view.dragEnabled()  # reordering a sorted view would mean nothing
    dock.view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
    assert shown_symbols(dock) == sorted(TEST_SYMBOLS)
    assert dock.view.dragEnabled()


async def test_filters_by_sector_and_performance(
    dock: WatchlistDock, session: Session, market: Market, wait_until: WaitUntil
) -> None:
    it = [s for s in TEST_SYMBOLS if session.instruments[s].sector == "Information Technology"]
    dock.set_filters(sector="Information Technology")
    assert sorted(shown_symbols(dock)) == sorted(it)
    assert dock.footer.text() == f"{len(it)} of 5"
    dock.set_filters(performance="Losers")
    await wait_until(lambda: all(session.quotes.get(s) for s in TEST_SYMBOLS))
    losers = [s for s in TEST_SYMBOLS if (session.quotes[s].change_percent or 0) < 0]
    assert sorted(shown_symbols(dock)) == sorted(losers)
    dock.set_filters()
    assert len(shown_symbols(dock)) == 5


async def test_selecting_a_row_moves_the_linked_panels(dock: WatchlistDock) -> None:
    dock.set_link_colour("red")
    dock.view.setCurrentIndex(cell(dock, "HDFCBANK", Column.LAST))
    assert dock.links.symbol("red") == "HDFCBANK"
    # Another red panel picks a symbol: the watchlist highlights it without re-driving.
    dock.links.set_symbol("red", "TCS")
    assert dock.view.currentIndex().row() == shown_symbols(dock).index("TCS")
    assert dock.symbol == "TCS"


async def test_several_lists_switch_and_survive_a_workspace(
    dock: WatchlistDock, session: Session, wait_until: WaitUntil
) -> None:
    dock.new_list("Banks", ["HDFCBANK", "SBIN"])
    await wait_until(lambda: dock.list_box.currentText() == "Banks")
    assert shown_symbols(dock) == ["HDFCBANK", "SBIN"]
    assert set(await server_lists(session)) == {"NIFTY 50", "Banks"}
    dock.view.sortByColumn(Column.SYMBOL, Qt.SortOrder.DescendingOrder)
    state = dock.save_state()

    other = WatchlistDock(session, dock.links)
    other.restore_state(state)
    assert other.list_box.currentText() == "Banks"
    assert shown_symbols(other) == ["SBIN", "HDFCBANK"]
    other.show_list(dock.store.lists[0].watchlist_id)
    assert len(shown_symbols(other)) == 5
    other.deleteLater()

    dock.delete_list()
    await wait_until(lambda: dock.list_box.count() == 1)
    assert set(await server_lists(session)) == {"NIFTY 50"}
