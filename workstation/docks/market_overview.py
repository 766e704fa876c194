"""Market overview: the whole universe at a glance.

A strip with the index level and the market's breadth (advancing, declining, unchanged), the
top gainers and losers of the day, and a sector heat map (tiles sized by turnover, coloured
by change). Refreshed twice a second from the session's quotes: a glance panel does not need
every tick. Clicking a mover or a tile moves the linked panels to that symbol.

An index is never traded, so its quote has no last price: the exchange publishes the
index's level as its reference price (``previous_close`` on the wire, moved about once a
second while the market is open) and sends no previous close and no day change for it. The
strip therefore shows the level, marked as the reference level, with a change only when the
quote carries one.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QObject, Qt, QTimer
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
from workstation.docks.table_format import DOWN, UP, sign_colour
from workstation.docks.table_model import Column, KeyedTableModel
from workstation.docks.table_view import panel_table
from workstation.docks.watchlist_format import (
    compact_text,
    percent_text,
    price_text,
    signed_text,
)
from workstation.theme import NEUTRAL

if TYPE_CHECKING:
    from workstation.session.links import LinkGroups
    from workstation.session.session import Session

REFRESH_MS = 500
MOVERS = 10
INDEX_CLASS = "index"  # shown in the strip, not ranked with what can be traded


class MoversModel(KeyedTableModel[Quote]):
    """A short ranked list (top gainers or losers), in rank order each refresh."""

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        def price(quote: Quote) -> str:
            instrument = session.instruments.get(quote.symbol)
            return price_text(quote.last, instrument.price_decimals if instrument else 2)

        def tip(quote: Quote) -> str:
            instrument = session.instruments.get(quote.symbol)
            return f"{instrument.name}\n{instrument.sector}" if instrument else quote.symbol

        def direction(quote: Quote) -> str | None:
            return sign_colour(quote.change)

        columns: list[Column[Quote]] = [
            Column("Symbol", lambda q: q.symbol),
            Column("LTP", lambda q: q.last, price, numeric=True, colour=direction),
            Column(
                "Chg %",
                lambda q: q.change_percent,
                lambda q: percent_text(q.change_percent),
                numeric=True,
                colour=direction,
            ),
            Column("Volume", lambda q: q.volume, lambda q: compact_text(q.volume), numeric=True),
        ]
        super().__init__(
            columns, key=lambda q: q.symbol, parent=parent, tooltip=tip, fixed_numbers=False
        )

    @property
    def quotes(self) -> list[Quote]:
        return self.rows()

    def set_quotes(self, quotes: list[Quote]) -> None:
        self.set_rows(quotes, reorder=True)

    def symbols(self) -> list[str]:
        return [q.symbol for q in self.quotes]


def index_level(quote: Quote) -> Decimal | None:
    """An index's level: its last value if the exchange sends one, else its reference price,
    which is where the exchange publishes the level of an index (it is never traded)."""
    return quote.last if quote.last is not None else quote.previous_close


def index_strip(name: str, quote: Quote, decimals: int = 2) -> tuple[str, str]:
    """(rich text, tool tip) for one index in the strip: its level and, when the quote has
    one, its change against the previous close; otherwise the level marked "ref"."""
    level = index_level(quote)
    if level is None:
        return "", ""
    text = f"<b>{html.escape(name)}</b> {price_text(level, decimals)}"
    if quote.change is not None and quote.change_percent is not None:
        colour = sign_colour(quote.change) or NEUTRAL
        text += (
            f" <span style='color:{colour}'>{signed_text(quote.change, decimals)} "
            f"({percent_text(quote.change_percent)})</span>"
        )
        previous = price_text(quote.previous_close, decimals)
        return text, f"{name}: change against the previous close ({previous})"
    text += f" <span style='color:{NEUTRAL}'>ref</span>"
    return text, (
        f"{name}: the index level as the exchange publishes it (its reference price, "
        "updated while the market is open). The exchange sends no previous close for an "
        "index, so no day change is shown."
    )


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
        self.visibilityChanged.connect(self._refresh_if_dirty)
        session.quotes_changed.connect(self._on_quotes)
        session.connection_changed.connect(self._on_connection)
        self._watch_universe()
        self.refresh()

    def _movers_view(self, parent: QWidget, model: MoversModel) -> QTableView:
        view = panel_table(parent, model, {0: 11, 1: 10, 2: 7, 3: 7})
        view.setFrameShape(QFrame.Shape.NoFrame)
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

    def _refresh_if_dirty(self, *_: object) -> None:
        # Behind another tab the dock still counts as visible: ask whether any of it is on
        # screen (a hidden heat map re-laid out twice a second cost a tenth of a busy UI).
        # The first fill happens regardless, so the tab has data the moment it is raised.
        if self._dirty and (not self.visibleRegion().isEmpty() or not self.is_populated()):
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
        instruments = self.session.instruments
        parts = [
            index_strip(instruments[symbol].name, quote, instruments[symbol].price_decimals)
            for symbol, quote in sorted(self.session.quotes.items())
            if symbol in instruments and instruments[symbol].asset_class == INDEX_CLASS
        ]
        self.index_label.setText("&nbsp;&nbsp;&nbsp;".join(text for text, _ in parts if text))
        self.index_label.setToolTip("\n\n".join(tip for _, tip in parts if tip))
        up = sum(1 for q in quotes if (q.change or Decimal(0)) > 0)
        down = sum(1 for q in quotes if (q.change or Decimal(0)) < 0)
        flat = len(quotes) - up - down
        self.breadth_label.setText(
            f"<span style='color:{UP}'>▲ {up}</span>&nbsp;&nbsp;"
            f"<span style='color:{DOWN}'>▼ {down}</span>&nbsp;&nbsp;"
            f"● {flat}"
        )

    def is_populated(self) -> bool:
        return bool(self.heat_map.tiles()) and bool(self.gainers.quotes or self.losers.quotes)
