"""Sorting and filtering a watchlist without touching the list itself.

A proxy between the model and the view: sorting by any column (numbers as numbers, an empty
cell last when descending) and filters by sector, asset class and day performance. The
list's saved order is the model's; with no sort column the view shows that order, which is
the only time dragging rows to reorder makes sense.
"""

from __future__ import annotations

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
)

from workstation.docks.watchlist_model import (
    ASSET_CLASS_ROLE,
    SECTOR_ROLE,
    SORT_ROLE,
    Column,
)

ALL = ""
# name shown -> test on the day's change in per cent (None: no trade yet)
PERFORMANCE_FILTERS = {
    "Any performance": lambda pct: True,
    "Gainers": lambda pct: pct is not None and pct > 0,
    "Losers": lambda pct: pct is not None and pct < 0,
    "Up 2% or more": lambda pct: pct is not None and pct >= 2,
    "Down 2% or more": lambda pct: pct is not None and pct <= -2,
    "Unchanged": lambda pct: pct is None or pct == 0,
}
ANY_PERFORMANCE = "Any performance"


class WatchlistFilter(QSortFilterProxyModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sector = ALL
        self.asset_class = ALL
        self.performance = ANY_PERFORMANCE
        self.setSortRole(SORT_ROLE)
        # Not dynamic: a dynamic proxy re-sorts (a layout change, a full relayout of the
        # view) for every row that changes; at 2,000 quotes a second that is the whole
        # core. The model says when a batch landed and the rows re-sort once per batch.
        self.setDynamicSortFilter(False)

    def setSourceModel(self, model: QAbstractItemModel) -> None:
        super().setSourceModel(model)
        applied = getattr(model, "quotes_applied", None)
        if applied is not None:
            applied.connect(self.resort)
        model.rowsInserted.connect(self.resort)

    def resort(self) -> None:
        """Put rows back in order and re-apply a performance filter after values moved."""
        if self.performance != ANY_PERFORMANCE:
            self.invalidateRowsFilter()
        if self.sortColumn() >= 0:
            self.sort(self.sortColumn(), self.sortOrder())

    def set_filters(
        self,
        sector: str | None = None,
        asset_class: str | None = None,
        performance: str | None = None,
    ) -> None:
        self.beginFilterChange()
        if sector is not None:
            self.sector = sector
        if asset_class is not None:
            self.asset_class = asset_class
        if performance is not None and performance in PERFORMANCE_FILTERS:
            self.performance = performance
        self.endFilterChange()

    def is_filtered(self) -> bool:
        return bool(self.sector or self.asset_class or self.performance != ANY_PERFORMANCE)

    def filterAcceptsRow(
        self,
        source_row: int,
        source_parent: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        model = self.sourceModel()
        symbol_cell = model.index(source_row, Column.SYMBOL, source_parent)
        if self.sector and symbol_cell.data(SECTOR_ROLE) != self.sector:
            return False
        if self.asset_class and symbol_cell.data(ASSET_CLASS_ROLE) != self.asset_class:
            return False
        if self.performance == ANY_PERFORMANCE:
            return True
        percent = model.index(source_row, Column.CHANGE_PERCENT, source_parent).data(SORT_ROLE)
        value = None if percent is None or percent == float("-inf") else percent
        return bool(PERFORMANCE_FILTERS[self.performance](value))
