"""Watchlists against a real exchange: lists on the server, live quotes, editing, sorting,
filtering, flashing and picking a symbol for the linked panels; and the model's own sorting
and filtering under a stream of quotes (a stand-in session that sets quotes by hand)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from PySide6.QtCore import (
    QByteArray,
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    QObject,
    QRect,
    Qt,
    Signal,
)
from PySide6.QtGui import QImage, QPainter
from PySide6.QtTest import QTest

from exchange_server.protocol import Quote
from tests.api.conftest import TEST_SYMBOLS
from tests.workstation.conftest import Market, WaitUntil
from tests.workstation.factories import instrument as make_instrument
from workstation.docks.flash_cells import (
    FLASH_ROLE,
    FLASH_SECONDS,
    FRAME_MS,
    NO_FLASH,
    QUIET_MS,
    FlashPump,
    flash_wash,
)
from workstation.docks.watchlist import WatchlistDelegate, WatchlistDock, WatchlistView
from workstation.docks.watchlist_filter import WatchlistFilter
from workstation.docks.watchlist_format import DASH, TEXT_GENERATION, CellText, number_font
from workstation.docks.watchlist_model import (
    MIME_SYMBOLS,
    SYMBOL_ROLE,
    Column,
    WatchlistModel,
)
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
    """What the view shows, top to bottom, as the view reads it (through the model)."""
    return [
        dock.model.index(row, Column.SYMBOL).data(SYMBOL_ROLE)
        for row in range(dock.model.rowCount())
    ]


def cell(dock: WatchlistDock, symbol: str, column: Column) -> QModelIndex:
    row = shown_symbols(dock).index(symbol)
    return dock.model.index(row, column)


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
    mime = dock.model.mimeData(dragged)
    assert dock.model.dropMimeData(mime, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
    assert shown_symbols(dock) == ["SBIN", "TCS", "HDFCBANK", "INFY", "RELIANCE"]
    # The view removes "moved" rows after a move-drop; the model has none to remove.
    assert not dock.model.removeRows(0, 2)
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


# -- the model's own sorting and filtering, quote by quote -------------------------------
class QuoteFeed(QObject):
    """What the watchlist model reads from a session, with quotes set by hand."""

    quotes_changed = Signal(object)

    def __init__(self, sectors: dict[str, str]) -> None:
        super().__init__()
        self.instruments = {
            symbol: make_instrument(
                symbol=symbol,
                name=f"{symbol} Ltd",
                asset_class="crypto" if sector == "Crypto" else "equity",
                sector=sector,
                reference_price=Decimal(100),
                band_low=Decimal(50),
                band_high=Decimal(150),
            )
            for symbol, sector in sectors.items()
        }
        self.quotes: dict[str, Quote] = {}

    def tick(self, **lasts: float) -> None:
        """New last prices (previous close 100, so the change follows), then a flush."""
        for symbol, last in lasts.items():
            price = Decimal(str(last))
            self.quotes[symbol] = Quote(
                symbol=symbol,
                status="open",
                last=price,
                previous_close=Decimal(100),
                change=price - 100,
                change_percent=price - 100,
                volume=Decimal(10),
            )
        self.quotes_changed.emit(set(lasts))


@pytest.fixture
def feed() -> QuoteFeed:
    return QuoteFeed({"AAA": "Banks", "BBB": "IT", "CCC": "Banks", "DDD": "IT", "EEE": "Crypto"})


@pytest.fixture
def model(feed: QuoteFeed, qapp: object) -> WatchlistModel:
    model = WatchlistModel(feed)  # type: ignore[arg-type]
    feed.tick(AAA=101, BBB=99, CCC=105, DDD=100, EEE=97)
    model.set_symbols(["AAA", "BBB", "CCC", "DDD", "EEE"])
    return model


def apply(feed: QuoteFeed, model: WatchlistModel, **lasts: float) -> None:
    feed.tick(**lasts)
    model.flush()  # what the coalescing timer does a moment later


def test_sorted_rows_stay_sorted_as_quotes_arrive(feed: QuoteFeed, model: WatchlistModel) -> None:
    model.sort(Column.LAST, Qt.SortOrder.DescendingOrder)
    assert model.shown_symbols() == ["CCC", "AAA", "DDD", "BBB", "EEE"]
    apply(feed, model, EEE=110, CCC=96)
    assert model.shown_symbols() == ["EEE", "AAA", "DDD", "BBB", "CCC"]
    model.sort(Column.LAST, Qt.SortOrder.AscendingOrder)
    assert model.shown_symbols() == ["CCC", "BBB", "DDD", "AAA", "EEE"]
    model.sort(-1)  # the header's third click: the list's own order again
    assert model.shown_symbols() == ["AAA", "BBB", "CCC", "DDD", "EEE"]
    assert model.symbols() == ["AAA", "BBB", "CCC", "DDD", "EEE"]  # sorting never edits it


def test_a_quote_that_leaves_the_order_alone_moves_no_rows(
    feed: QuoteFeed, model: WatchlistModel
) -> None:
    model.sort(Column.LAST, Qt.SortOrder.DescendingOrder)
    moved, changed = [], []
    model.layoutChanged.connect(lambda *_: moved.append(1))
    model.dataChanged.connect(lambda top, bottom, *_: changed.append((top.row(), bottom.row())))
    apply(feed, model, AAA=101.5)  # still between CCC and DDD
    assert not moved
    assert changed == [(1, 1)]  # the one row that changed, where it is shown
    # Sorted by symbol, prices never move rows.
    model.sort(Column.SYMBOL, Qt.SortOrder.AscendingOrder)
    relayouts = model.relayouts
    apply(feed, model, AAA=150, EEE=50)
    assert model.relayouts == relayouts
    assert model.shown_symbols() == ["AAA", "BBB", "CCC", "DDD", "EEE"]


def test_selection_follows_its_symbol_when_a_quote_resorts_the_rows(
    feed: QuoteFeed, model: WatchlistModel
) -> None:
    model.sort(Column.LAST, Qt.SortOrder.DescendingOrder)
    selection = QItemSelectionModel(model)
    selection.setCurrentIndex(
        model.index(model.shown_symbols().index("DDD"), Column.SYMBOL),
        QItemSelectionModel.SelectionFlag.ClearAndSelect,
    )
    apply(feed, model, DDD=120)
    assert model.shown_symbols()[0] == "DDD"
    assert selection.currentIndex().row() == 0
    assert [i.data(SYMBOL_ROLE) for i in selection.selectedIndexes()] == ["DDD"]


def test_filter_and_sort_together_follow_the_quotes(feed: QuoteFeed, model: WatchlistModel) -> None:
    model.sort(Column.CHANGE_PERCENT, Qt.SortOrder.DescendingOrder)
    model.set_filter(WatchlistFilter(performance="Gainers"))
    assert model.shown_symbols() == ["CCC", "AAA"]
    model.set_filter(WatchlistFilter(sector="Banks", performance="Gainers"))
    assert model.shown_symbols() == ["CCC", "AAA"]
    inserted, removed = [], []
    model.rowsInserted.connect(lambda _parent, first, last: inserted.append((first, last)))
    model.rowsRemoved.connect(lambda _parent, first, last: removed.append((first, last)))
    apply(feed, model, CCC=99, DDD=130)  # CCC turns a loser; DDD is IT, filtered out anyway
    assert model.shown_symbols() == ["AAA"]
    assert removed == [(0, 0)] and not inserted
    model.set_filter(WatchlistFilter(performance="Gainers"))
    assert model.shown_symbols() == ["DDD", "AAA"]
    apply(feed, model, EEE=140, AAA=100.5)
    assert model.shown_symbols() == ["EEE", "DDD", "AAA"]
    assert model.rowCount() == 3 and model.total_count() == 5
    model.set_filter(WatchlistFilter())
    assert model.shown_symbols() == ["EEE", "DDD", "AAA", "BBB", "CCC"]


def test_dragging_with_a_filter_drops_before_the_row_shown_there(
    feed: QuoteFeed, model: WatchlistModel
) -> None:
    model.set_filter(WatchlistFilter(sector="IT"))
    assert model.shown_symbols() == ["BBB", "DDD"]
    mime = model.mimeData([model.index(1, Column.SYMBOL)])  # DDD
    assert model.dropMimeData(mime, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
    assert model.shown_symbols() == ["DDD", "BBB"]
    assert model.symbols() == ["AAA", "DDD", "BBB", "CCC", "EEE"]


def test_a_drop_while_sorted_keeps_the_lists_order_and_adds_new_symbols(
    feed: QuoteFeed, model: WatchlistModel
) -> None:
    model.sort(Column.LAST, Qt.SortOrder.DescendingOrder)
    edits = []
    model.symbols_edited.connect(lambda: edits.append(1))
    mime = model.mimeData([model.index(4, Column.SYMBOL)])  # EEE, the lowest
    assert model.dropMimeData(mime, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
    assert model.symbols() == ["AAA", "BBB", "CCC", "DDD", "EEE"]
    assert model.shown_symbols() == ["CCC", "AAA", "DDD", "BBB", "EEE"]
    assert not edits
    # A symbol dragged in from another watchlist joins the list and shows in its place.
    feed.instruments["FFF"] = feed.instruments["AAA"].model_copy(update={"symbol": "FFF"})
    feed.tick(FFF=102)
    other = QMimeData()
    other.setData(MIME_SYMBOLS, QByteArray(b'["FFF"]'))
    assert model.dropMimeData(other, Qt.DropAction.CopyAction, 0, 0, QModelIndex())
    assert model.symbols()[-1] == "FFF"
    assert model.shown_symbols() == ["CCC", "FFF", "AAA", "DDD", "BBB", "EEE"]
    model.sort(-1)
    assert model.shown_symbols() == ["AAA", "BBB", "CCC", "DDD", "EEE", "FFF"]


def test_cells_flash_in_the_direction_of_the_change(feed: QuoteFeed, model: WatchlistModel) -> None:
    apply(feed, model, AAA=100.5)
    row = model.shown_symbols().index("AAA")
    changed_at, direction = model.index(row, Column.LAST).data(FLASH_ROLE)
    assert direction == -1 and changed_at > 0
    assert model.index(row, Column.LAST).data(Qt.ItemDataRole.BackgroundRole) is not None
    assert model.index(row, Column.VOLUME).data(FLASH_ROLE) == NO_FLASH  # unchanged
    assert flash_wash(changed_at, 1, changed_at + FLASH_SECONDS) is None  # faded out
    assert model.is_fading()


def test_the_delegate_paints_flashes_and_elides_narrow_columns(
    feed: QuoteFeed, model: WatchlistModel
) -> None:
    view = WatchlistView()
    view.setModel(model)
    view.setItemDelegate(WatchlistDelegate(model, view))
    view.resize(700, 200)
    apply(feed, model, AAA=102)
    row = model.shown_symbols().index("AAA")
    rect = view.visualRect(model.index(row, Column.LAST))
    image = view.viewport().grab().toImage()
    flashed = image.pixelColor(rect.left() + 2, rect.center().y())
    rect = view.visualRect(model.index(row, Column.HIGH))  # unchanged: no wash
    plain = image.pixelColor(rect.left() + 2, rect.center().y())
    assert flashed.green() > flashed.red() and flashed != plain
    view.setColumnWidth(Column.LAST, 12)  # too narrow for "102.00": elided, no overflow
    view.viewport().grab()
    view.deleteLater()


def test_the_fade_is_animated_after_the_changes_and_stops_when_gone(
    feed: QuoteFeed, model: WatchlistModel
) -> None:
    # The timer is driven by hand: a nested Qt loop here would upset the qasync tests.
    view = WatchlistView()
    view.setModel(model)
    fading = [True]
    pump = FlashPump(view, lambda: fading[0])
    model.quotes_applied.connect(pump.kick)
    apply(feed, model, AAA=102)
    timer = pump._timer
    assert timer.isActive() and timer.interval() == QUIET_MS  # frames wait for quiet
    apply(feed, model, AAA=103)
    assert timer.isActive() and timer.interval() == QUIET_MS and pump.frames == 0
    timer.timeout.emit()  # quiet: the fade animates on its own
    assert pump.frames == 1 and timer.isActive() and timer.interval() == FRAME_MS
    fading[0] = False
    timer.timeout.emit()
    assert pump.frames == 2 and not timer.isActive()  # faded out: no more repaints
    view.deleteLater()


def test_laid_out_texts_are_bounded_and_the_ones_on_screen_stay(qapp: object) -> None:
    text = CellText(number_font())
    image = QImage(200, 20, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    cell = QRect(0, 0, 200, 20)
    for number in range(5 * TEXT_GENERATION):
        text.draw(painter, cell, f"{number:,.2f}", False, True)
        text.draw(painter, cell, "on screen", True, False)  # drawn every frame
        assert len(text) <= 2 * TEXT_GENERATION
    assert ("on screen", True) in text._texts
    painter.end()
