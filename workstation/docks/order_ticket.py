"""The order ticket: buy or sell one symbol, checked before it is sent.

Every field is checked as it is typed with the exchange's own rules (``workstation.
validation``): quantity and lot, tick, price band, trigger, validity and a GTD expiry,
post-only, cash (with fees) or holdings. The ticket refuses to send what the exchange would
refuse; what only the exchange can judge (a post-only order that would cross the live book)
comes back as a rejection and is shown with the exchange's reason next to the field it names.

Estimates use the exchange's fee schedule (``GET /account/fees``, fetched when needed and
refreshed each minute, on reconnect and after a refusal for funds): the fee at the taker
rate for orders that take liquidity, at the maker rate for limits that rest, and the cash a
buy holds, which includes the fee at the schedule's reserve rate exactly as the exchange
reserves it, so the ticket never passes an order the exchange would refuse for funds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, cast
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, QDateTime, QStringListModel, Qt, QTime, QTimeZone, Signal
from PySide6.QtWidgets import QCompleter, QLabel, QWidget

from exchange_server.marketdata.candles import exchange_timezone
from exchange_server.protocol import (
    FeeSchedule,
    InstrumentOut,
    OrderOut,
    PlaceOrderRequest,
    TimeInForce,
)
from workstation.client import ApiError, new_client_order_id
from workstation.docks.base import PanelDock
from workstation.docks.blotter_actions import describe, spawn
from workstation.docks.table_format import DOWN, UP, fmt_cash, fmt_decimal, fmt_quantity
from workstation.docks.ticket_form import TicketForm
from workstation.session.links import LinkGroups
from workstation.validation import (
    PRICED_KINDS,
    STOP_KINDS,
    Checked,
    OrderKind,
    TicketField,
    TicketInput,
    estimate,
    parse_decimal,
    validate_ticket,
)

if TYPE_CHECKING:
    from workstation.session.session import Session

log = logging.getLogger(__name__)

TYPE_LABELS = {"limit": "LMT", "market": "MKT", "stop_limit": "SL", "stop_market": "SL-M"}
FEE_BASIS_LABELS = {"maker": "maker", "taker": "taker", "worst": "worst case"}
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
FEES_MAX_AGE_SECONDS = 60.0  # the schedule changes rarely (an operator's command)


def fmt_ppm(ppm: int) -> str:
    """Parts per million as a percentage: 500 -> ``0.05%``."""
    return f"{Decimal(ppm).scaleb(-4).normalize():f}%"


class OrderTicketDock(PanelDock):
    dock_id: ClassVar[str] = "order_ticket"
    title: ClassVar[str] = "Order ticket"
    linkable: ClassVar[bool] = True

    order_placed = Signal(object)  # OrderOut the exchange accepted
    order_rejected = Signal(str, str)  # code, message

    def __init__(self, session: Session, links: LinkGroups, parent: QWidget | None = None) -> None:
        super().__init__(session, links, parent)
        self.form = form = TicketForm(self)
        self.setWidget(form)
        self.side = "buy"
        self.sending = False
        self.attempted = False  # after a send attempt, empty fields are reported too
        self.last_checked: Checked | None = None
        self._syncing = False
        self._unwatch: Any = None
        self.fees: FeeSchedule | None = None  # the exchange's schedule, when fetched
        self._fees_at = 0.0  # time.monotonic() of the last fetch attempt
        self._fees_loading = False
        self._fees_again = False
        self._post_only_choice = False  # the trader's, kept while a type disables it
        self._expiry_zone = ZoneInfo("UTC")  # the zone the expiry editor's fields are in

        self._completer = QCompleter(sorted(session.instruments), form.symbol_edit)
        self._completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        form.symbol_edit.setCompleter(self._completer)
        form.symbol_edit.textEdited.connect(self._refresh_completer)
        form.symbol_edit.editingFinished.connect(self._symbol_typed)
        form.buy_button.clicked.connect(lambda: self.set_side("buy"))
        form.sell_button.clicked.connect(lambda: self.set_side("sell"))
        form.order_type.currentIndexChanged.connect(self._type_changed)
        form.tif.currentIndexChanged.connect(self._tif_changed)
        form.expiry.dateTimeChanged.connect(self._changed)
        form.post_only.toggled.connect(self._post_only_toggled)
        form.quantity.textEdited.connect(self._quantity_edited)
        form.lots.textEdited.connect(self._lots_edited)
        form.price.textEdited.connect(self._changed)
        form.trigger.textEdited.connect(self._changed)
        for edit in (form.quantity, form.lots, form.price, form.trigger):
            edit.returnPressed.connect(self.submit)
        form.submit.clicked.connect(self.submit)
        form.confirm_send.clicked.connect(self._confirmed)
        form.confirm_back.clicked.connect(self._hide_confirmation)

        session.quotes_changed.connect(self._quotes_changed)
        session.balances_changed.connect(self._changed)
        session.connection_changed.connect(self._show_instrument)
        session.connection_changed.connect(self._connection_changed)
        self.set_side("buy")
        self._type_changed()
        self._tif_changed()

    # -- what is shown -------------------------------------------------------------------
    @property
    def instrument(self) -> InstrumentOut | None:
        return self.session.instruments.get(self.symbol) if self.symbol else None

    def set_symbol(self, symbol: str) -> None:
        if symbol == self.symbol:
            return
        super().set_symbol(symbol)
        self.form.symbol_edit.setText(symbol)
        if self._unwatch is not None:
            self._unwatch()
        self._unwatch = self.session.watch_quotes([symbol])
        self.form.price.clear()
        self.form.trigger.clear()
        self._show_instrument()

    def _show_instrument(self, *_: Any) -> None:
        """Name, tick and lot of the symbol (again after a reconnect: listings may change)."""
        instrument = self.instrument
        self.form.name.setText(instrument.name if instrument else "")
        tick = f" (tick {instrument.tick_size})" if instrument else ""
        self.form.price.setPlaceholderText(f"Limit price{tick}")
        self.form.trigger.setPlaceholderText(f"Trigger price{tick}")
        # Another exchange may keep another zone: the expiry keeps its moment, not its digits.
        self.set_expiry(self.expiry())
        self._sync_lots_from_quantity()
        self._show_touch()
        self._changed()

    def _refresh_completer(self) -> None:
        # Instruments arrive after connecting; the list is rebuilt when it has grown.
        model = self._completer.model()
        if model.rowCount() != len(self.session.instruments):
            self._completer.setModel(QStringListModel(sorted(self.session.instruments), self))

    def _symbol_typed(self) -> None:
        text = self.form.symbol_edit.text().strip().upper()
        if text and text != self.symbol:
            self.pick_symbol(text)

    def set_side(self, side: str) -> None:
        self.side = side
        (self.form.buy_button if side == "buy" else self.form.sell_button).setChecked(True)
        self.form.style_side(side)
        self._changed()

    def order_kind(self) -> OrderKind:
        kind = self.form.order_type.currentData()
        return cast(OrderKind, kind if kind in TYPE_LABELS else "limit")

    def set_order_kind(self, kind: str) -> None:
        self.form.order_type.setCurrentIndex(self.form.order_type.findData(kind))

    def _type_changed(self) -> None:
        kind = self.order_kind()
        priced, stop = kind in PRICED_KINDS, kind in STOP_KINDS
        for widget in (self.form.price, self.form.price_label):
            widget.setVisible(priced)
        for widget in (self.form.trigger, self.form.trigger_label):
            widget.setVisible(stop)
        # Post-only is for limit orders: unticked (not lost) while another type is chosen.
        box = self.form.post_only
        box.blockSignals(True)
        box.setEnabled(kind == "limit")
        box.setChecked(kind == "limit" and self._post_only_choice)
        box.blockSignals(False)
        self._changed()

    def _post_only_toggled(self, checked: bool) -> None:
        if self.form.post_only.isEnabled():
            self._post_only_choice = checked
        self._changed()

    def set_post_only(self, checked: bool) -> None:
        self._post_only_choice = checked
        self._type_changed()

    # -- GTD expiry, in the exchange's time zone -------------------------------------------
    def exchange_zone(self) -> ZoneInfo:
        """The time zone the instrument's exchange keeps (NSE: Asia/Kolkata), in which the
        expiry is entered and shown; the status bar's market zone before a symbol is set."""
        instrument = self.instrument
        status = self.session.market_status
        name = (
            exchange_timezone(instrument.exchange)
            if instrument is not None
            else (status.timezone if status is not None else "UTC")
        )
        try:
            return ZoneInfo(name)
        except Exception:  # an unknown zone name from a remote server
            return ZoneInfo("UTC")

    def expiry(self) -> datetime:
        """The expiry the editor shows, read as the exchange's wall clock (aware)."""
        shown = self.form.expiry.dateTime()
        day, clock = shown.date(), shown.time()
        return datetime(
            day.year(),
            day.month(),
            day.day(),
            clock.hour(),
            clock.minute(),
            clock.second(),
            tzinfo=self._expiry_zone,
        )

    def expiry_ns(self) -> int:
        """The expiry in epoch nanoseconds (integer arithmetic: no float on the way)."""
        since = self.expiry() - EPOCH
        return (since.days * 86_400 + since.seconds) * 1_000_000_000

    def set_expiry(self, moment: datetime) -> None:
        """Show ``moment`` (any aware datetime) in the exchange's time zone."""
        zone = self._expiry_zone = self.exchange_zone()
        local = moment.astimezone(zone)
        # Set before the editor signals a change: the check reads the fields in this zone.
        self.form.expiry_zone.setText(local.tzname() or str(zone))
        self.form.expiry_zone.setToolTip(f"Exchange time ({zone})")
        self.form.expiry.setDateTime(
            QDateTime(
                QDate(local.year, local.month, local.day),
                QTime(local.hour, local.minute, local.second),
                QTimeZone.utc(),
            )
        )

    def _server_now(self) -> datetime:
        seconds = self.session.server_time_ns // 1_000_000_000
        return datetime.fromtimestamp(seconds, UTC).astimezone(self.exchange_zone())

    def _default_expiry(self) -> datetime:
        """The exchange's next close (good till then), or a day from now when the market's
        hours are not known."""
        now = self._server_now()
        status = self.session.market_status
        close = status.next_close if status is not None else None
        if close is not None and close > now + timedelta(minutes=1):
            return close
        return now + timedelta(days=1)

    def _tif_changed(self) -> None:
        gtd = self.form.tif.currentData() == "gtd"
        for widget in (self.form.expiry_box, self.form.expiry_label):
            widget.setVisible(gtd)
        if gtd and self.expiry() <= self._server_now():
            self.set_expiry(self._default_expiry())
        self._changed()

    def _quotes_changed(self, symbols: Any) -> None:
        if self.symbol in symbols:
            self._show_touch()
            if self.order_kind() != "limit":  # market estimates follow the touch
                self._changed()

    def _show_touch(self) -> None:
        quote = self.session.quotes.get(self.symbol) if self.symbol else None
        instrument = self.instrument
        if quote is None or instrument is None:
            self.form.touch.setText("")
            return
        decimals = instrument.price_decimals
        bid = fmt_decimal(quote.bid, decimals) or "-"
        ask = fmt_decimal(quote.ask, decimals) or "-"
        self.form.touch.set_segments([(bid, UP), (" / ", None), (ask, DOWN)])

    # -- quantity in units and in lots -----------------------------------------------------
    def _quantity_edited(self) -> None:
        self._sync_lots_from_quantity()
        self._changed()

    def _lots_edited(self) -> None:
        instrument, lots = self.instrument, parse_decimal(self.form.lots.text())
        if instrument is not None and lots is not None:
            self.form.quantity.setText(fmt_quantity(lots * instrument.lot_size).replace(",", ""))
        self._changed()

    def _sync_lots_from_quantity(self) -> None:
        instrument, quantity = self.instrument, parse_decimal(self.form.quantity.text())
        if instrument is None:
            return
        self.form.lot_hint.setText(f"Lot size {fmt_quantity(instrument.lot_size)}")
        if quantity is not None and instrument.lot_size:
            lots = quantity / instrument.lot_size
            text = fmt_quantity(lots).replace(",", "") if lots == lots.to_integral_value() else ""
            self.form.lots.setText(text)

    # -- checking ------------------------------------------------------------------------------
    def ticket(self) -> TicketInput:
        form = self.form
        return TicketInput(
            symbol=self.symbol or "",
            side="buy" if self.side == "buy" else "sell",
            order_type=self.order_kind(),
            quantity=form.quantity.text(),
            price=form.price.text(),
            trigger_price=form.trigger.text(),
            tif=str(form.tif.currentData()),
            post_only=form.post_only.isEnabled() and form.post_only.isChecked(),
            expire_at=self.expiry_ns() if form.tif.currentData() == "gtd" else None,
        )

    def check(self) -> Checked:
        instrument = self.instrument
        ticket = self.ticket()
        quote = self.session.quotes.get(self.symbol or "")
        cash = holdings = None
        balances = self.session.balances
        if balances:  # not loaded yet: leave funds to the exchange
            currency = instrument.currency if instrument else "INR"
            cash = balances[currency].available if currency in balances else Decimal(0)
            held = balances.get(ticket.symbol)
            holdings = held.available if held is not None else Decimal(0)
        return validate_ticket(
            ticket,
            instrument,
            last_price=quote.last if quote else None,
            available_cash=cash,
            available_holdings=holdings,
            fees=self.fees,
            now_ns=self.session.server_time_ns,
        )

    # -- the fee schedule ------------------------------------------------------------------
    def _connection_changed(self, state: str) -> None:
        if state == "connected":
            self.refresh_fees()  # it may be another server, or the schedule changed

    def refresh_fees(self) -> None:
        """Fetch the fee schedule now (it is otherwise fetched at most once a minute)."""
        self._fees_at = 0.0
        self._fees_again = self._fees_loading  # a fetch in flight may predate the change
        self._load_fees()

    def _load_fees(self) -> None:
        """Fetch the schedule when it is due (from a running event loop only: the ticket is
        built before the loop runs, and a Qt event may arrive between its turns)."""
        if self._fees_loading or time.monotonic() - self._fees_at < FEES_MAX_AGE_SECONDS:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return
        self._fees_loading = True
        self._fees_at = time.monotonic()
        spawn(self.session.client.fees(), on_done=self._fees_loaded, on_error=self._fees_failed)

    def _fees_loaded(self, fees: FeeSchedule) -> None:
        self._fees_loading = False
        changed = fees != self.fees
        self.fees = fees
        with contextlib.suppress(RuntimeError):  # the panel was closed meanwhile
            if changed:
                self._changed()
            if self._fees_again:
                self.refresh_fees()

    def _fees_failed(self, error: BaseException) -> None:
        # An older server without the route, or a network hiccup: estimates go without fees
        # (shown as unknown) and the exchange remains the judge of funds.
        self._fees_loading = self._fees_again = False
        log.info("fee schedule not available: %s", describe(error))

    def _changed(self, *_: Any) -> None:
        self._load_fees()
        checked = self.last_checked = self.check()
        self._show_problems(checked)
        self._show_estimate()
        self._hide_confirmation()

    def _show_problems(self, checked: Checked) -> None:
        form = self.form
        labels: dict[TicketField, QLabel] = {
            "symbol": form.symbol_error,
            "quantity": form.quantity_error,
            "price": form.price_error,
            "trigger_price": form.trigger_error,
            "tif": form.tif_error,
            "expire_at": form.expiry_error,
            "post_only": form.post_only_error,
            "funds": form.funds_error,
        }
        for name, label in labels.items():
            problem = checked.first(name)
            # Empty fields are not nagged about until the trader tries to send.
            if problem is not None and (problem.code != "not_a_number" or self.attempted):
                label.setText(problem.message)
                label.show()
            else:
                label.clear()
                label.hide()
        ticket = self.ticket()
        verb = "Buy" if self.side == "buy" else "Sell"
        quantity = parse_decimal(ticket.quantity)
        summary = f"{verb} {fmt_quantity(quantity)} {self.symbol or ''}" if quantity else verb
        form.submit.setText(summary)
        form.submit.setEnabled(not self.sending)

    def _show_estimate(self) -> None:
        quote = self.session.quotes.get(self.symbol or "")
        ticket = self.ticket()
        result = estimate(
            ticket,
            self.instrument,
            best_bid=quote.bid if quote else None,
            best_ask=quote.ask if quote else None,
            last_price=quote.last if quote else None,
            fees=self.fees,
        )
        form = self.form
        # Exact to the cash unit: a fee's fraction of a paisa is shown, never rounded away.
        form.value.setText(fmt_cash(result.value) or "-")
        if result.fee_basis is not None and result.fee_ppm is not None:
            basis = FEE_BASIS_LABELS[result.fee_basis]
            form.fee_label.setText(f"Est. fee ({basis} {fmt_ppm(result.fee_ppm)})")
        else:
            form.fee_label.setText("Est. fee")
        form.fee.setText(fmt_cash(result.fee) or "-")
        form.fee.setToolTip(
            "Fee schedule not available: estimates exclude fees"
            if self.fees is None
            else f"Maker {fmt_ppm(self.fees.maker_fee_ppm)}, taker "
            f"{fmt_ppm(self.fees.taker_fee_ppm)}; a buy holds "
            f"{fmt_ppm(self.fees.reserve_fee_ppm)} on top of its cost until it fills"
        )
        form.total_label.setText("Total cost" if ticket.side == "buy" else "Net proceeds")
        form.total.setText(fmt_cash(result.total) or "-")
        form.reserve.setText(fmt_cash(result.reserve) or "-")
        currency = self.instrument.currency if self.instrument else "INR"
        balance = self.session.balances.get(currency)
        self.form.buying_power.setText(fmt_cash(balance.available) if balance else "-")

    def problems_shown(self) -> list[str]:
        """The validation messages a trader can see right now (for tests and tooltips)."""
        form = self.form
        labels = (
            form.symbol_error,
            form.quantity_error,
            form.price_error,
            form.trigger_error,
            form.tif_error,
            form.expiry_error,
            form.post_only_error,
            form.funds_error,
        )
        return [label.text() for label in labels if label.isVisibleTo(self) and label.text()]

    # -- sending ---------------------------------------------------------------------------
    def prefill(
        self,
        side: str,
        symbol: str | None = None,
        price: Decimal | str | None = None,
        quantity: Decimal | str | None = None,
    ) -> None:
        """Fill the ticket for a hotkey (F1 buy / F2 sell) or a click on the ladder."""
        if symbol and symbol != self.symbol:
            self.pick_symbol(symbol)
        if price is not None:
            if self.order_kind() not in PRICED_KINDS:
                self.set_order_kind("limit")
            self.form.price.setText(str(price))
        if quantity is not None:
            self.form.quantity.setText(str(quantity))
            self._sync_lots_from_quantity()
        self.set_side(side)
        self.show()
        self.raise_()
        self.form.quantity.setFocus()
        self.form.quantity.selectAll()

    def place_at(self, side: str, price: Any) -> None:
        """Click-to-trade: a limit order at ``price`` with the ticket's quantity (confirmed
        first when the trader asked for confirmations)."""
        self.prefill(side, self.symbol, price=price)
        self.submit()

    def submit(self) -> None:
        if self.sending:
            return
        self.attempted = True
        checked = self.last_checked = self.check()
        self._show_problems(checked)
        if not checked.ok:
            self.form.status.setText("Not sent: " + checked.problems[0].message)
            self._status_colour(DOWN)
            return
        if self.form.confirm.isChecked():
            self.form.confirm_text.setText(f"Send {self.describe_order(checked)}?")
            self.form.confirm_box.show()
            self.form.submit.hide()
            self.form.confirm_send.setFocus()
            return
        self._send(checked)

    def describe_order(self, checked: Checked) -> str:
        ticket, instrument = self.ticket(), self.instrument
        decimals = instrument.price_decimals if instrument else None
        text = (
            f"{ticket.side.upper()} {fmt_quantity(checked.quantity)} {ticket.symbol} "
            f"{TYPE_LABELS[ticket.order_type]}"
        )
        if checked.price is not None:
            text += f" @ {fmt_decimal(checked.price, decimals)}"
        if checked.trigger_price is not None:
            text += f" trigger {fmt_decimal(checked.trigger_price, decimals)}"
        if ticket.post_only:
            text += " post-only"
        text += f" {ticket.tif.upper()}"
        if ticket.expire_at is not None:
            expiry = self.expiry()
            text += f" until {expiry:%Y-%m-%d %H:%M:%S} {expiry.tzname()}"
        return text

    def _confirmed(self) -> None:
        self._hide_confirmation()
        checked = self.check()  # the market may have moved while the trader read
        if checked.ok:
            self._send(checked)
        else:
            self._show_problems(checked)

    def _hide_confirmation(self) -> None:
        if self.form.confirm_box.isVisibleTo(self):
            self.form.confirm_box.hide()
            self.form.submit.show()

    def _send(self, checked: Checked) -> None:
        ticket = self.ticket()
        assert checked.quantity is not None  # a checked ticket always has one
        request = PlaceOrderRequest(
            symbol=ticket.symbol,
            side=ticket.side,
            quantity=checked.quantity,
            order_type=ticket.order_type,
            price=checked.price,
            trigger_price=checked.trigger_price,
            tif=cast(TimeInForce, ticket.tif),
            post_only=ticket.post_only,
            expire_at=ticket.expire_at,
            # One id per send: a retry after a dropped connection cannot double the order.
            client_order_id=new_client_order_id(),
        )
        self.sending = True
        self.form.submit.setEnabled(False)
        self.form.status.setText(f"Sending {self.describe_order(checked)}…")
        self._status_colour(None)
        spawn(self.session.place_order(request), on_done=self._accepted, on_error=self._rejected)

    def _accepted(self, order: OrderOut) -> None:
        self.sending = False
        self.attempted = False
        self.form.submit.setEnabled(True)
        self.form.status.setText(f"Order {order.order_id} {order.status.replace('_', ' ')}")
        self._status_colour(UP)
        self.order_placed.emit(order)

    def _rejected(self, error: BaseException) -> None:
        self.sending = False
        self.form.submit.setEnabled(True)
        message = describe(error)
        code = error.code if isinstance(error, ApiError) else "error"
        self.form.status.setText(f"Rejected: {message}")
        self._status_colour(DOWN)
        field = error.field if isinstance(error, ApiError) else None
        label = {
            "quantity": self.form.quantity_error,
            "price": self.form.price_error,
            "trigger_price": self.form.trigger_error,
            "tif": self.form.tif_error,
            "expire_at": self.form.expiry_error,
            "post_only": self.form.post_only_error,
        }.get(field or "")
        # Refusals that name no field but belong next to one.
        label = label or {
            "post_only_would_cross": self.form.post_only_error,
            "insufficient_funds": self.form.funds_error,
        }.get(code)
        if code == "insufficient_funds":
            self.refresh_fees()  # the fees may have gone up
        if label is not None:
            label.setText(message)
            label.show()
        self.order_rejected.emit(code, message)

    def _status_colour(self, colour: str | None) -> None:
        self.form.status.setStyleSheet(f"color: {colour};" if colour else "")

    # -- for the shell ---------------------------------------------------------------------
    def is_populated(self) -> bool:
        return self.instrument is not None

    def save_state(self) -> dict[str, Any]:
        state = super().save_state()
        state.update(
            side=self.side,
            order_type=self.order_kind(),
            quantity=self.form.quantity.text(),
            tif=self.form.tif.currentData(),
            post_only=self._post_only_choice,
            confirm=self.form.confirm.isChecked(),
        )
        return state

    def restore_state(self, state: dict[str, Any]) -> None:
        super().restore_state(state)
        if state.get("order_type") in TYPE_LABELS:
            self.set_order_kind(str(state["order_type"]))
        if isinstance(state.get("tif"), str):
            index = self.form.tif.findData(state["tif"])
            if index >= 0:
                self.form.tif.setCurrentIndex(index)
        if isinstance(state.get("quantity"), str):
            self.form.quantity.setText(state["quantity"])
            self._sync_lots_from_quantity()
        self.set_post_only(state.get("post_only") is True)
        self.form.confirm.setChecked(bool(state.get("confirm", False)))
        self.set_side("sell" if state.get("side") == "sell" else "buy")
