"""Market overview: the whole universe at a glance.

A strip with the index and the market's breadth (advancing, declining, unchanged), the top
gainers and losers of the day, and a sector heat map (tiles sized by turnover, coloured by
change). Refreshed twice a second from the session's quotes: a glance panel does not need
every tick. Clicking a mover or a tile moves the linked panels to that symbol.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from exchange_server.protocol import Quote
from workstation.docks.base import PanelDock
from workstation.docks.overview_heatmap import HeatMap, Tile
from workstation.docks.watchlist_format import (
    compact_table,
    compact_text,
    direction_colour,
    percent_text,
    price_text,
    set_column_chars,
)

if TYPE_CHECKING:
    from workstation.session.links import LinkGroups
    from workstation.session.session import Session

REFRESH_MS = 500
MOVERS = 10
INDEX_CLASS = "index"  # shown in the strip, not ranked with what can be traded
HEADERS = ("Symbol", "LTP", "Chg %", "Volume")
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class MoversModel(QAbstractTableModel):
    """A short ranked list (top gainers or losers); rows change as a whole each refresh."""

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.quotes: list[Quote] = []

    def set_quotes(self, quotes: list[Quote]) -> None:
        if [q.symbol for q in quotes] == [q.symbol for q in self.quotes]:
            self.quotes = quotes  # same rows: repaint the values, keep the selection
            if quotes:
                self.dataChanged.emit(self.index(0, 1), self.index(len(quotes) - 1, 3))
            return
        self.beginResetModel()
        self.quotes = quotes
        self.endResetModel()

    def symbols(self) -> list[str]:
        return [q.symbol for q in self.quotes]

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.quotes)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return LEFT if section == 0 else RIGHT
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        quote = self.quotes[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return quote.symbol
            if column == 1:
                instrument = self.session.instruments.get(quote.symbol)
                return price_text(quote.last, instrument.price_decimals if instrument else 2)
            if column == 2:
                return percent_text(quote.change_percent)
            return compact_text(quote.volume)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return LEFT if column == 0 else RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and column in (1, 2):
            return direction_colour(quote.change)
        if role == Qt.ItemDataRole.ToolTipRole:
            instrument = self.session.instruments.get(quote.symbol)
            return f"{instrument.name}\n{instrument.sector}" if instrument else quote.symbol
        if role == Qt.ItemDataRole.UserRole:
            return quote.symbol
        return None


def rank_movers(quotes: list[Quote], count: int = MOVERS) -> tuple[list[Quote], list[Quote]]:
    """(gainers, losers): the biggest rises and falls in per cent, only real moves."""
    moved = [q for q in quotes if q.change_percent is not None]
    gainers = sorted(
        (q for q in moved if q.change_percent is not None and q.change_percent > 0),
        key=lambda q: (-(q.change_percent or 0), q.symbol),
    )
    losers = sorted(
        (q for q in moved if q.change_percent is not None and q.change_percent < 0),
        key=lambda q: (q.change_percent or 0, q.symbol),
    )
    return gainers[:count], losers[:count]


class MarketOverviewDock(PanelDock):
    dock_id = "market_overview"
    title = "Market overview"
    linkable = False  # shows the whole market; picking a symbol here still drives links

    def __init__(self, session: Session, links: LinkGroups, parent: QWidget | None = None) -> None:
        super().__init__(session, links, parent)
        self._unwatch: Callable[[], None] | None = None
        self._watched: tuple[str, ...] = ()
        self._dirty = True

        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(3)
        strip = QHBoxLayout()
        strip.setSpacing(14)
        self.index_label = QLabel(body)
        self.index_label.setObjectName("overviewIndex")
        self.index_label.setTextFormat(Qt.TextFormat.RichText)
        self.breadth_label = QLabel(body)
        self.breadth_label.setObjectName("overviewBreadth")
        self.breadth_label.setTextFormat(Qt.TextFormat.RichText)
        self.breadth_label.setToolTip("Instruments up, down and unchanged on the day")
        strip.addWidget(self.index_label)
        strip.addWidget(self.breadth_label)
        strip.addStretch(1)
        layout.addLayout(strip)

        splitter = QSplitter(Qt.Orientation.Horizontal, body)
        tables = QWidget(splitter)
        tables_layout = QVBoxLayout(tables)
        tables_layout.setContentsMargins(0, 0, 0, 0)
        tables_layout.setSpacing(2)
        self.gainers = MoversModel(session, self)
        self.losers = MoversModel(session, self)
        self.gainers_view = self._movers_view(tables, self.gainers)
        self.losers_view = self._movers_view(tables, self.losers)
        for title, view in (("Top gainers", self.gainers_view), ("Top losers", self.losers_view)):
            heading = QLabel(title, tables)
            heading.setObjectName("overviewHeading")
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            tables_layout.addWidget(heading)
            tables_layout.addWidget(view, 1)
        self.heat_map = HeatMap(splitter)
        self.heat_map.symbol_clicked.connect(self.pick_symbol)
        splitter.addWidget(tables)
        splitter.addWidget(self.heat_map)
        splitter.setStretchFactor(0, 0)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([330, 600])
        layout.addWidget(splitter, 1)
        self.setWidget(body)

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._refresh_if_dirty)
        self._timer.start()
        session.quotes_changed.connect(self._on_quotes)
        session.connection_changed.connect(self._on_connection)
        self._watch_universe()
        self.refresh()

    def _movers_view(self, parent: QWidget, model: MoversModel) -> QTableView:
        view = QTableView(parent)
        view.setModel(model)
        compact_table(view)
        view.setFrameShape(QFrame.Shape.NoFrame)
        set_column_chars(view, {0: 11, 1: 10, 2: 7, 3: 7})
        view.horizontalHeader().setStretchLastSection(True)
        view.clicked.connect(lambda index: self._pick_from(model, index))
        view.activated.connect(lambda index: self._pick_from(model, index))
        return view

    def _pick_from(self, model: MoversModel, index: QModelIndex) -> None:
        symbol = model.index(index.row(), 0).data(Qt.ItemDataRole.UserRole)
        if isinstance(symbol, str):
            self.pick_symbol(symbol)

    def _on_connection(self, state: str) -> None:
        if state == "connected":
            self._watch_universe()

    def _watch_universe(self) -> None:
        symbols = tuple(sorted(self.session.instruments))
        if symbols == self._watched:
            return
        previous = self._unwatch
        self._unwatch = self.session.watch_quotes(symbols) if symbols else None
        self._watched = symbols
        if previous is not None:
            previous()

    def _on_quotes(self, symbols: object) -> None:
        self._dirty = True

    def _refresh_if_dirty(self) -> None:
        if self._dirty and self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        self._dirty = False
        instruments = self.session.instruments
        quotes = [
            q
            for symbol, q in self.session.quotes.items()
            if symbol in instruments and instruments[symbol].asset_class != INDEX_CLASS
        ]
        gainers, losers = rank_movers(quotes)
        self.gainers.set_quotes(gainers)
        self.losers.set_quotes(losers)
        self._update_strip(quotes)
        tiles = []
        for quote in quotes:
            instrument = instruments[quote.symbol]
            turnover = float(quote.turnover)
            percent = None if quote.change_percent is None else float(quote.change_percent)
            label = (
                f"{instrument.name}\n{price_text(quote.last, instrument.price_decimals)}"
                f"  turnover {compact_text(quote.turnover)} {instrument.currency}"
            )
            # Nothing traded yet: a small equal tile, so the symbol is still on the map.
            tiles.append(Tile(quote.symbol, instrument.sector, max(turnover, 1.0), percent, label))
        if all(t.weight <= 1.0 for t in tiles):
            tiles = [Tile(t.symbol, t.sector, 1.0, t.percent, t.label) for t in tiles]
        self.heat_map.set_tiles(tiles)

    def _update_strip(self, quotes: list[Quote]) -> None:
        index = next(
            (
                q
                for s, q in self.session.quotes.items()
                if s in self.session.instruments
                and self.session.instruments[s].asset_class == INDEX_CLASS
            ),
            None,
        )
        if index is not None and index.last is not None:
            colour = direction_colour(index.change)
            hex_colour = colour.name() if colour is not None else "palette(text)"
            name = self.session.instruments[index.symbol].name
            self.index_label.setText(
                f"<b>{name}</b> {price_text(index.last)} "
                f"<span style='color:{hex_colour}'>{percent_text(index.change_percent)}</span>"
            )
        else:
            self.index_label.setText("")
        up = sum(1 for q in quotes if (q.change or Decimal(0)) > 0)
        down = sum(1 for q in quotes if (q.change or Decimal(0)) < 0)
        flat = len(quotes) - up - down
        up_colour = direction_colour(1)
        down_colour = direction_colour(-1)
        assert up_colour is not None and down_colour is not None
        self.breadth_label.setText(
            f"<span style='color:{up_colour.name()}'>▲ {up}</span>&nbsp;&nbsp;"
            f"<span style='color:{down_colour.name()}'>▼ {down}</span>&nbsp;&nbsp;"
            f"● {flat}"
        )

    def is_populated(self) -> bool:
        return bool(self.heat_map.tiles()) and bool(self.gainers.quotes or self.losers.quotes)
