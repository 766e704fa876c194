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
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    QTimer,
)
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from workstation.docks.base import PanelDock
from workstation.docks.portfolio_charts import CASH_LABEL, AllocationChart, EquityCurve
from workstation.docks.portfolio_pnl import Holding, Summary, compute
from workstation.docks.watchlist_format import (
    DASH,
    compact_table,
    direction_colour,
    money_text,
    number_font,
    price_text,
    set_column_chars,
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
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter


class Col(IntEnum):
    SYMBOL = 0
    QUANTITY = 1
    AVERAGE = 2
    LAST = 3
    VALUE = 4
    DAY = 5
    UNREALISED = 6
    REALISED = 7
    WEIGHT = 8


HEADERS = ("Symbol", "Qty", "Avg cost", "LTP", "Value", "Day P&L", "Unrealised", "Realised", "Wt %")
HEADER_TIPS = {
    Col.AVERAGE: "Average cost of the lots still open (FIFO)",
    Col.DAY: "Change in value today, including today's trades and fees",
    Col.UNREALISED: "Open lots at the last price against what they cost (FIFO)",
    Col.REALISED: FIFO_TIP,
    Col.WEIGHT: "Share of the holdings' market value",
}
_PNL_COLUMNS = (Col.DAY, Col.UNREALISED, Col.REALISED)


def _day_start_ns() -> int:
    """Local midnight: 'today' as the user reads it on the clock."""
    midnight = datetime.now().astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    return int(midnight.timestamp()) * 1_000_000_000


class HoldingsModel(QAbstractTableModel):
    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.holdings: list[Holding] = []

    def set_holdings(self, holdings: list[Holding]) -> None:
        if [h.symbol for h in holdings] == [h.symbol for h in self.holdings]:
            self.holdings = holdings
            if holdings:
                self.dataChanged.emit(
                    self.index(0, Col.QUANTITY), self.index(len(holdings) - 1, Col.WEIGHT)
                )
            return
        self.beginResetModel()
        self.holdings = holdings
        self.endResetModel()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.holdings)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return HEADER_TIPS.get(Col(section))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return LEFT if section == Col.SYMBOL else RIGHT
        return None

    def _value(self, holding: Holding, column: int) -> Decimal | str | None:
        return (
            holding.symbol,
            holding.quantity,
            holding.average_cost,
            holding.last,
            holding.value,
            holding.day_pnl,
            holding.unrealised,
            holding.realised,
            holding.weight,
        )[column]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        holding = self.holdings[index.row()]
        column = index.column()
        value = self._value(holding, column)
        if role == Qt.ItemDataRole.DisplayRole:
            if column == Col.SYMBOL:
                return holding.symbol
            instrument = self.session.instruments.get(holding.symbol)
            if column == Col.QUANTITY:
                decimals = instrument.quantity_decimals if instrument else 0
                return f"{holding.quantity:,.{decimals}f}"
            if column in (Col.AVERAGE, Col.LAST):
                decimals = instrument.price_decimals if instrument else 2
                return price_text(value if isinstance(value, Decimal) else None, decimals)
            if column == Col.WEIGHT:
                return f"{holding.weight:.1f}"
            signed = column in _PNL_COLUMNS
            return money_text(value if isinstance(value, Decimal) else None, signed=signed)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return LEFT if column == Col.SYMBOL else RIGHT
        if role == Qt.ItemDataRole.ForegroundRole and column in _PNL_COLUMNS:
            return direction_colour(value if isinstance(value, Decimal) else None)
        if role == Qt.ItemDataRole.ToolTipRole:
            tip = f"{holding.symbol} · {holding.sector}"
            if column == Col.REALISED:
                tip = FIFO_TIP
            if holding.partial:
                tip += PARTIAL_TIP
            return tip
        if role == SORT_ROLE:
            if isinstance(value, Decimal):
                return float(value)
            return value if value is not None else float("-inf")
        return None


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
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self.view = QTableView(splitter)
        self.view.setObjectName("holdingsTable")
        self.view.setModel(self.proxy)
        compact_table(self.view)
        self.view.setSortingEnabled(True)
        self.view.sortByColumn(Col.VALUE, Qt.SortOrder.DescendingOrder)
        set_column_chars(self.view, {0: 11, 1: 8, 2: 10, 3: 10, 4: 12, 5: 11, 6: 11, 7: 11, 8: 5})
        self.view.horizontalHeader().setStretchLastSection(True)
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
        symbol = self.proxy.index(index.row(), Col.SYMBOL).data()
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
        self.model.set_holdings(holdings)
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
