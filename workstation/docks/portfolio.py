"""Portfolio: what the account is worth and how it got there.

Account value (cash plus holdings at market), day P&L, and total P&L split into realised
(FIFO, from the fills, net of fees) and unrealised; a holdings table, allocation by sector
and an equity curve sampled through the session. The server keeps positions at average
cost; FIFO is computed here (see portfolio_pnl), and the tool tips say so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QObject, Qt, QTimer
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from workstation.docks.base import PanelDock
from workstation.docks.portfolio_charts import CASH_LABEL, AllocationChart, EquityCurve
from workstation.docks.portfolio_pnl import Holding, Summary, compute
from workstation.docks.table_format import sign_colour
from workstation.docks.table_model import Column, KeyedSortProxy, KeyedTableModel
from workstation.docks.table_view import panel_table
from workstation.docks.watchlist_format import (
    DASH,
    direction_colour,
    money_text,
    number_font,
    price_text,
)

if TYPE_CHECKING:
    from workstation.session.links import LinkGroups
    from workstation.session.session import Session

REFRESH_MS = 250  # quotes move values many times a second; four recomputes are plenty
FIFO_TIP = (
    "Realised P&L is computed here by FIFO from your fills (first bought, first sold), "
    "net of fees. The server's positions use average cost, so its figures can differ."
)
PARTIAL_TIP = (
    "\nSome holdings predate the fills loaded in this session: they are counted as one "
    "opening lot at the server's average cost."
)
SYMBOL_COLUMN = 0
VALUE_COLUMN = 4  # the table opens sorted by value, largest first


def _day_start_ns() -> int:
    """Local midnight: 'today' as the user reads it on the clock."""
    midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    return int(midnight.timestamp()) * 1_000_000_000


def _holding_tip(holding: Holding) -> str:
    return f"{holding.symbol} · {holding.sector}" + (PARTIAL_TIP if holding.partial else "")


def _realised_tip(holding: Holding) -> str:
    return FIFO_TIP + (PARTIAL_TIP if holding.partial else "")


def _pnl(title: str, value: Callable[[Holding], Decimal], **options: Any) -> Column[Holding]:
    """A signed money column in the gain and loss colours."""
    return Column(
        title,
        value,
        lambda h: money_text(value(h), signed=True),
        numeric=True,
        colour=lambda h: sign_colour(value(h)),
        **options,
    )


class HoldingsModel(KeyedTableModel[Holding]):
    """One row a symbol held (or traded today); values move with the quotes."""

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        def instrument_decimals(symbol: str, quantity: bool) -> int:
            instrument = session.instruments.get(symbol)
            if instrument is None:
                return 0 if quantity else 2
            return instrument.quantity_decimals if quantity else instrument.price_decimals

        def price(value: Callable[[Holding], Decimal | None]) -> Callable[[Holding], str]:
            return lambda h: price_text(value(h), instrument_decimals(h.symbol, False))

        columns: list[Column[Holding]] = [
            Column("Symbol", lambda h: h.symbol),
            Column(
                "Qty",
                lambda h: h.quantity,
                lambda h: f"{h.quantity:,.{instrument_decimals(h.symbol, True)}f}",
                numeric=True,
            ),
            Column(
                "Avg cost",
                lambda h: h.average_cost,
                price(lambda h: h.average_cost),
                numeric=True,
                tooltip="Average cost of the lots still open (FIFO)",
            ),
            Column("LTP", lambda h: h.last, price(lambda h: h.last), numeric=True),
            Column("Value", lambda h: h.value, lambda h: money_text(h.value), numeric=True),
            _pnl(
                "Day P&L",
                lambda h: h.day_pnl,
                tooltip="Change in value today, including today's trades and fees",
            ),
            _pnl(
                "Unrealised",
                lambda h: h.unrealised,
                tooltip="Open lots at the last price against what they cost (FIFO)",
            ),
            _pnl("Realised", lambda h: h.realised, tooltip=FIFO_TIP, tip=_realised_tip),
            Column(
                "Wt %",
                lambda h: h.weight,
                lambda h: f"{h.weight:.1f}",
                numeric=True,
                tooltip="Share of the holdings' market value",
            ),
        ]
        super().__init__(
            columns,
            key=lambda h: h.symbol,
            parent=parent,
            tooltip=_holding_tip,
            fixed_numbers=False,  # the view's font is fixed-pitch already
        )

    @property
    def holdings(self) -> list[Holding]:
        return self.rows()


class PortfolioDock(PanelDock):
    dock_id = "portfolio"
    title = "Portfolio"
    linkable = False  # account-wide; picking a holding still drives the linked panels

    def __init__(self, session: Session, links: LinkGroups, parent: QWidget | None = None) -> None:
        super().__init__(session, links, parent)
        self.summary: Summary | None = None
        self._unwatch: Callable[[], None] | None = None
        self._watched: frozenset[str] = frozenset()
        self._dirty = True
        self._build()
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._refresh_if_dirty)
        self._timer.start()
        for signal in (
            session.positions_changed,
            session.balances_changed,
            session.fills_added,
        ):
            signal.connect(self._mark_dirty)
        session.quotes_changed.connect(self._on_quotes)
        self.refresh()

    def _build(self) -> None:
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        grid = QGridLayout()
        grid.setHorizontalSpacing(18)
        grid.setVerticalSpacing(0)
        self.figures: dict[str, QLabel] = {}
        names = (
            ("account", "Account value", "Cash plus holdings at the last price"),
            ("cash", "Cash", "INR balance, including cash reserved for open orders"),
            ("holdings", "Holdings", "Market value of what you hold"),
            ("day", "Day P&L", "Change in value since local midnight, fees included"),
            ("unrealised", "Unrealised", "Open lots at the last price against their FIFO cost"),
            ("realised", "Realised (FIFO)", FIFO_TIP),
            ("total", "Total P&L", "Realised (FIFO, net of fees) plus unrealised"),
        )
        figure_font = number_font()
        figure_font.setPointSizeF(figure_font.pointSizeF() * 1.15)
        figure_font.setBold(True)
        for column, (key, caption, tip) in enumerate(names):
            title = QLabel(caption, body)
            title.setObjectName("portfolioCaption")
            title.setToolTip(tip)
            value = QLabel(DASH, body)
            value.setObjectName(f"portfolio_{key}")
            value.setFont(figure_font)
            value.setToolTip(tip)
            grid.addWidget(title, 0, column)
            grid.addWidget(value, 1, column)
            self.figures[key] = value
        grid.setColumnStretch(len(names), 1)
        layout.addLayout(grid)

        splitter = QSplitter(Qt.Orientation.Vertical, body)
        self.model = HoldingsModel(self.session, self)
        self.proxy = KeyedSortProxy(self)
        self.proxy.setSourceModel(self.model)
        chars = {0: 11, 1: 8, 2: 10, 3: 10, 4: 12, 5: 11, 6: 11, 7: 11, 8: 5}
        self.view = panel_table(splitter, self.proxy, chars, "holdingsTable")
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(VALUE_COLUMN, Qt.SortOrder.DescendingOrder)
        self.view.clicked.connect(self._on_clicked)
        charts = QSplitter(Qt.Orientation.Horizontal, splitter)
        self.allocation = AllocationChart(charts)
        self.equity = EquityCurve(charts)
        charts.addWidget(self.allocation)
        charts.addWidget(self.equity)
        charts.setSizes([380, 520])
        splitter.addWidget(self.view)
        splitter.addWidget(charts)
        splitter.setSizes([260, 220])
        layout.addWidget(splitter, 1)
        self.setWidget(body)

    def _on_clicked(self, index: QModelIndex) -> None:
        symbol = self.proxy.index(index.row(), SYMBOL_COLUMN).data()
        if isinstance(symbol, str):
            self.pick_symbol(symbol)

    def _mark_dirty(self) -> None:
        self._dirty = True

    def _on_quotes(self, symbols: Any) -> None:
        if self._watched.intersection(symbols):
            self._dirty = True

    def _refresh_if_dirty(self) -> None:
        if self._dirty:
            self.refresh()
        elif self.summary is not None:
            # A flat hour still belongs on the curve.
            self.equity.sample(float(self.summary.account_value))

    def refresh(self) -> None:
        self._dirty = False
        session = self.session
        summary, holdings = compute(
            session.instruments,
            session.positions,
            session.balances,
            session.fills,
            session.quotes,
            _day_start_ns(),
        )
        self._watch({h.symbol for h in holdings if h.quantity})
        self.model.set_rows(holdings)
        if not session.balances and not holdings:
            return  # nothing loaded yet: no figures, no curve point
        self.summary = summary
        self._show_summary(summary)
        by_sector: dict[str, float] = {}
        for holding in holdings:
            if holding.value > 0:
                sector = holding.sector or "Other"
                by_sector[sector] = by_sector.get(sector, 0.0) + float(holding.value)
        slices = [*by_sector.items(), (CASH_LABEL, float(max(summary.cash, Decimal(0))))]
        self.allocation.set_slices(slices)
        self.equity.sample(float(summary.account_value))

    def _show_summary(self, summary: Summary) -> None:
        values = {
            "account": (summary.account_value, False),
            "cash": (summary.cash, False),
            "holdings": (summary.holdings_value, False),
            "day": (summary.day_pnl, True),
            "unrealised": (summary.unrealised, True),
            "realised": (summary.realised, True),
            "total": (summary.total_pnl, True),
        }
        for key, (value, signed) in values.items():
            label = self.figures[key]
            label.setText(money_text(value, signed=signed))
            colour = direction_colour(value) if signed else None
            label.setStyleSheet(f"color: {colour.name()}" if colour is not None else "")
        tip = FIFO_TIP + (PARTIAL_TIP if summary.partial else "")
        tip += f"\nFees paid: {money_text(summary.fees)}"
        self.figures["realised"].setToolTip(tip)

    def _watch(self, symbols: set[str]) -> None:
        wanted = frozenset(symbols)
        if wanted == self._watched:
            return
        previous = self._unwatch
        self._unwatch = self.session.watch_quotes(sorted(wanted)) if wanted else None
        self._watched = wanted
        if previous is not None:
            previous()

    def is_populated(self) -> bool:
        return self.summary is not None
