"""Market depth of one symbol: the DOM ladder above a cumulative depth chart.

The ladder shows 20 levels a side with the trader's own working orders at each price;
clicking the bid side asks for a buy limit at that price, the ask side a sell
(``trade_requested``; the shell connects it to the order ticket's ``place_at``).
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from workstation.docks.base import PanelDock
from workstation.docks.blotter_actions import spawn
from workstation.docks.depth_chart import DepthChart
from workstation.docks.depth_ladder import LadderView, ladder_model, ladder_rows
from workstation.docks.live_text import LiveText
from workstation.docks.table_format import fmt_decimal, fmt_quantity
from workstation.docks.table_model import Coalescer, fixed_font
from workstation.session.links import LinkGroups

if TYPE_CHECKING:
    from workstation.session.session import Session

LEVELS = 20


class DepthDock(PanelDock):
    dock_id: ClassVar[str] = "depth"
    title: ClassVar[str] = "Market depth"
    linkable: ClassVar[bool] = True

    trade_requested = Signal(str, object)  # side ("buy" | "sell"), price (Decimal)

    def __init__(self, session: Session, links: LinkGroups, parent: QWidget | None = None) -> None:
        super().__init__(session, links, parent)
        self._decimals = [2]
        self._unwatch: Any = None
        self._shown: str | None = None  # the symbol whose book the ladder shows
        body = QWidget(self)
        self.summary = LiveText(body)  # spread, mid, sizes at the touch
        self.summary.setFont(fixed_font())
        self.summary.setObjectName("depthSummary")
        self.summary.setContentsMargins(4, 0, 4, 0)
        self.ladder = LadderView(ladder_model(self._decimals), body, self._decimals)
        self.ladder.trade_requested.connect(self.trade_requested)
        self.ladder.cancel_requested.connect(self.cancel_at)
        self.chart = DepthChart(body)
        splitter = QSplitter(Qt.Orientation.Vertical, body)
        splitter.addWidget(self.ladder)
        splitter.addWidget(self.chart)
        splitter.setStretchFactor(0, 7)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([700, 300])  # a ratio: the splitter scales it to its height
        layout = QVBoxLayout(body)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)
        self.setWidget(body)

        self._refresh = Coalescer(self.refresh, parent=self)
        session.depth_changed.connect(self._depth_changed)
        session.orders_changed.connect(self._refresh.schedule)

    def set_symbol(self, symbol: str) -> None:
        if symbol == self.symbol:
            return
        super().set_symbol(symbol)
        if self._unwatch is not None:
            self._unwatch()
        self._unwatch = self.session.watch_depth(symbol, LEVELS)
        instrument = self.session.instruments.get(symbol)
        self._decimals[0] = instrument.price_decimals if instrument else 2
        self.ladder.auto_centre = True
        self.setWindowTitle(f"{self.title} — {symbol}")
        self.ladder.set_rows([])
        self.refresh()

    def cancel_at(self, side: str, price: Decimal) -> None:
        """Cancel the trader's working orders on ``side`` at ``price`` (right-click)."""
        for order in self.session.open_orders(self.symbol):
            if order.side == side and order.price == price:
                spawn(
                    self.session.cancel_order(order.order_id),
                    session=self.session,
                    what=f"Cancel order {order.order_id}",
                )

    def _depth_changed(self, symbol: str) -> None:
        if symbol == self.symbol:
            self._refresh.schedule()

    def refresh(self) -> None:
        if self.symbol is None:
            return
        depth = self.session.depth.get(self.symbol)
        self.ladder.set_rows(ladder_rows(depth, self.session.orders.values(), self.symbol))
        self._shown = self.symbol if depth is not None and (depth.bids or depth.asks) else None
        self.chart.show_depth(depth)
        self._show_summary()

    def _show_summary(self) -> None:
        depth = self.session.depth.get(self.symbol or "")
        if depth is None or not depth.bids or not depth.asks:
            self.summary.setText(f"{self.symbol}  no two-sided market")
            return
        bid, ask = depth.bids[0], depth.asks[0]
        decimals = self._decimals[0]
        spread = ask.price - bid.price
        mid = (ask.price + bid.price) / 2
        # Mid between two ticks needs one more decimal; on a tick it does not.
        mid_decimals = (
            decimals if mid == mid.quantize(Decimal(1).scaleb(-decimals)) else decimals + 1
        )
        bid_total = sum((level.quantity for level in depth.bids), Decimal(0))
        ask_total = sum((level.quantity for level in depth.asks), Decimal(0))
        self.summary.setText(
            f"Spread {fmt_decimal(spread, decimals)}   Mid {fmt_decimal(mid, mid_decimals)}   "
            f"Bids {fmt_quantity(bid_total)}   Asks {fmt_quantity(ask_total)}"
        )

    def is_populated(self) -> bool:
        return self.symbol is not None and self._shown == self.symbol
