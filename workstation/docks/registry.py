"""Every kind of panel the main window can show, imported lazily by name.

Panels live in their own modules and are written in parallel; a module that is missing or
broken is skipped with a logged warning, so the application still starts with the rest.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass

from workstation.docks.base import PanelDock

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DockSpec:
    dock_id: str
    title: str
    module: str
    class_name: str


DOCKS: tuple[DockSpec, ...] = (
    DockSpec("watchlist", "Watchlist", "workstation.docks.watchlist", "WatchlistDock"),
    DockSpec("chart", "Chart", "workstation.charts.chart_dock", "ChartDock"),
    DockSpec("depth", "Market depth", "workstation.docks.depth", "DepthDock"),
    DockSpec("order_ticket", "Order ticket", "workstation.docks.order_ticket", "OrderTicketDock"),
    DockSpec("open_orders", "Open orders", "workstation.docks.blotters", "OpenOrdersDock"),
    DockSpec("order_history", "Order history", "workstation.docks.blotters", "OrderHistoryDock"),
    DockSpec("fills", "Fills", "workstation.docks.blotters", "FillsDock"),
    DockSpec("positions", "Positions", "workstation.docks.blotters", "PositionsDock"),
    DockSpec("funds", "Funds", "workstation.docks.blotters", "FundsDock"),
    DockSpec("portfolio", "Portfolio", "workstation.docks.portfolio", "PortfolioDock"),
    DockSpec(
        "time_and_sales", "Time and sales", "workstation.docks.time_and_sales", "TimeAndSalesDock"
    ),
    DockSpec(
        "market_overview",
        "Market overview",
        "workstation.docks.market_overview",
        "MarketOverviewDock",
    ),
    DockSpec(
        "notifications", "Notifications", "workstation.docks.notifications", "NotificationsDock"
    ),
)
BY_ID = {spec.dock_id: spec for spec in DOCKS}

_loaded: dict[str, type[PanelDock] | None] = {}


def dock_class(dock_id: str) -> type[PanelDock] | None:
    """The panel class for ``dock_id``, or None (logged once) if it cannot be imported."""
    if dock_id in _loaded:
        return _loaded[dock_id]
    spec = BY_ID.get(dock_id)
    found: type[PanelDock] | None = None
    if spec is None:
        log.warning("no panel is registered as %r", dock_id)
    else:
        try:
            module = importlib.import_module(spec.module)
            candidate = getattr(module, spec.class_name)
            if isinstance(candidate, type) and issubclass(candidate, PanelDock):
                found = candidate
            else:
                log.warning("%s.%s is not a PanelDock; skipped", spec.module, spec.class_name)
        except ModuleNotFoundError as error:
            if error.name is not None and spec.module.startswith(error.name):
                log.warning("panel %r is not available yet (%s is missing)", dock_id, spec.module)
            else:
                log.exception("panel %r failed to import", dock_id)
        except Exception:
            log.exception("panel %r failed to import", dock_id)
    _loaded[dock_id] = found
    return found


def available() -> list[tuple[DockSpec, type[PanelDock]]]:
    """The registered panels that import, in menu order."""
    result = []
    for spec in DOCKS:
        cls = dock_class(spec.dock_id)
        if cls is not None:
            result.append((spec, cls))
    return result
