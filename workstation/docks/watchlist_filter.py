"""Which rows of a watchlist show: by sector, asset class and day performance.

A plain value the watchlist model applies itself (see watchlist_model): no proxy model
between the model and the view, so a repaint asks the model directly and a batch of quotes
re-filters once, in Python, at the model's coalesced flush.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

ALL = ""
# name shown -> test on the day's change in per cent (None: no trade yet)
PERFORMANCE_FILTERS: dict[str, Callable[[Decimal | float | None], bool]] = {
    "Any performance": lambda pct: True,
    "Gainers": lambda pct: pct is not None and pct > 0,
    "Losers": lambda pct: pct is not None and pct < 0,
    "Up 2% or more": lambda pct: pct is not None and pct >= 2,
    "Down 2% or more": lambda pct: pct is not None and pct <= -2,
    "Unchanged": lambda pct: pct is None or pct == 0,
}
ANY_PERFORMANCE = "Any performance"


@dataclass(frozen=True, slots=True)
class WatchlistFilter:
    sector: str = ALL
    asset_class: str = ALL
    performance: str = ANY_PERFORMANCE

    def replace(
        self,
        sector: str | None = None,
        asset_class: str | None = None,
        performance: str | None = None,
    ) -> WatchlistFilter:
        """This filter with the given parts changed (an unknown performance keeps ours)."""
        if performance is None or performance not in PERFORMANCE_FILTERS:
            performance = self.performance
        return WatchlistFilter(
            self.sector if sector is None else sector,
            self.asset_class if asset_class is None else asset_class,
            performance,
        )

    def is_active(self) -> bool:
        return bool(self.sector or self.asset_class or self.performance != ANY_PERFORMANCE)

    def depends_on_quotes(self) -> bool:
        """True if a new quote can move a row in or out (the performance filter)."""
        return self.performance != ANY_PERFORMANCE

    def accepts(self, sector: str, asset_class: str, change_percent: Decimal | None) -> bool:
        if self.sector and sector != self.sector:
            return False
        if self.asset_class and asset_class != self.asset_class:
            return False
        if self.performance == ANY_PERFORMANCE:
            return True
        return PERFORMANCE_FILTERS[self.performance](change_percent)
