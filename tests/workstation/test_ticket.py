"""The order ticket on a real exchange: every validation message is shown and stops the
send; a refusal only the exchange could make comes back with the exchange's reason; the
confirmation step; prefill for hotkeys and click-to-trade."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QEvent, QObject

from exchange_server.domain.commands import SetFees
from exchange_server.domain.rejections import MESSAGES, Reject
from tests.api.conftest import LiveServer, SignedInUser
from tests.workstation.conftest import Market, WaitUntil
from tests.workstation.test_blotters import cells
from tests.workstation.trading_shots import shot
from workstation.docks.blotters import OrderHistoryDock
from workstation.docks.order_ticket import OrderTicketDock
from workstation.docks.table_format import fmt_cash
from workstation.session.links import LinkGroups
from workstation.session.session import Session
from workstation.validation import MAX_GTD_DAYS

SYMBOL = "RELIANCE"


@pytest.fixture
def ticket(session: Session) -> Iterator[OrderTicketDock]:
    dock = OrderTicketDock(session, LinkGroups())
    dock.resize(320, 560)
    dock.show()
    yield dock
    dock.close()


async def ready(dock: OrderTicketDock, session: Session, wait_until: WaitUntil) -> None:
    await wait_until(lambda: SYMBOL in session.instruments and "INR" in session.balances)
    dock.set_symbol(SYMBOL)
    await wait_until(lambda: SYMBOL in session.quotes and session.quotes[SYMBOL].last is not None)


def fill(
    dock: OrderTicketDock,
    kind: str = "limit",
    side: str = "buy",
    quantity: str = "5",
    price: str = "",
    trigger: str = "",
    tif: str = "day",
) -> None:
    """Type into the ticket as a trader would (each edit re-checks the ticket)."""
    dock.set_side(side)
    dock.set_order_kind(kind)
    dock.form.tif.setCurrentIndex(dock.form.tif.findData(tif))
    for edit, text in (
        (dock.form.quantity, quantity),
        (dock.form.price, price),
        (dock.form.trigger, trigger),
    ):
        edit.setText(text)
        edit.textEdited.emit(text)


async def test_every_validation_message_is_shown_and_nothing_is_sent(
    ticket: OrderTicketDock, session: Session, market: Market, wait_until: WaitUntil
) -> None:
    await ready(ticket, session, wait_until)
    listed = session.instruments[SYMBOL]
    last = session.quotes[SYMBOL].last
    assert last is not None
    tick = listed.tick_size
    cash = session.balances["INR"].available
    on_tick = market.prices[SYMBOL]
    orders_before = set(session.orders)

    def refused(message: str) -> None:
        ticket.submit()
        assert message in ticket.problems_shown(), ticket.problems_shown()
        assert ticket.form.status.text().startswith("Not sent: ")

    fill(ticket, quantity="")
    refused("Enter a quantity")
    fill(ticket, quantity="0", price=str(on_tick))
    refused(MESSAGES[Reject.INVALID_QUANTITY] + " (unit 1)")
    fill(ticket, quantity="5", price="")
    refused("Enter a limit price")
    fill(ticket, quantity="5", price=str(on_tick + tick / 5))
    refused(MESSAGES[Reject.TICK_SIZE] + f" (tick size {tick})")
    fill(ticket, quantity="5", price=str(listed.band_high + tick))
    refused(MESSAGES[Reject.PRICE_OUTSIDE_BAND] + f" (band {listed.band_low}-{listed.band_high})")
    fill(ticket, kind="stop_limit", quantity="5", price=str(on_tick), trigger="")
    refused("Enter a trigger price")
    fill(ticket, kind="stop_market", quantity="5", trigger=str(last - tick))
    refused(MESSAGES[Reject.TRIGGER_ALREADY_CROSSED] + f" (last {last})")
    fill(ticket, kind="market", quantity="5", tif="gtc")
    refused(MESSAGES[Reject.INVALID_TIME_IN_FORCE] + " (market orders are DAY, IOC or FOK)")
    fill(ticket, kind="stop_limit", quantity="5", price=str(on_tick), trigger=str(last + tick),
         tif="fok")  # fmt: skip
    refused(MESSAGES[Reject.INVALID_TIME_IN_FORCE] + " (stop orders cannot be fill-or-kill)")
    huge = (cash / on_tick).to_integral_value() + 1
    fill(ticket, quantity=str(huge), price=str(on_tick))
    refused(MESSAGES[Reject.INSUFFICIENT_FUNDS] + f" (need {huge * on_tick}, have {cash})")
    fill(ticket, side="sell", quantity="5", price=str(on_tick))
    refused(MESSAGES[Reject.INSUFFICIENT_HOLDINGS] + " (selling 5, have 0)")

    # Lots: with a lot of 25, 30 is refused and 2 lots make 50.
    session.instruments[SYMBOL] = listed.model_copy(update={"lot_size": Decimal(25)})
    fill(ticket, quantity="30", price=str(on_tick))
    refused(MESSAGES[Reject.LOT_SIZE] + " (lot size 25)")
    ticket.form.lots.setText("2")
    ticket.form.lots.textEdited.emit("2")
    assert ticket.form.quantity.text() == "50"
    assert ticket.problems_shown() == []
    # Halted (as the instrument list says): refused before sending.
    session.instruments[SYMBOL] = listed.model_copy(update={"status": "halted"})
    fill(ticket, quantity="5", price=str(on_tick))
    refused(MESSAGES[Reject.INSTRUMENT_HALTED])
    session.instruments[SYMBOL] = listed

    # A symbol nobody lists.
    ticket.form.symbol_edit.setText("NOSUCH")
    ticket.form.symbol_edit.editingFinished.emit()
    refused(MESSAGES[Reject.UNKNOWN_INSTRUMENT] + " (NOSUCH)")
    shot(ticket, "ticket_refused")

    # While the trader types, an empty field is not nagged about; a wrong one is.
    ticket.set_symbol(SYMBOL)
    ticket.attempted = False
    fill(ticket, quantity="", price=str(on_tick + tick / 5))
    assert ticket.problems_shown() == [MESSAGES[Reject.TICK_SIZE] + f" (tick size {tick})"]
    assert set(session.orders) == orders_before  # nothing reached the exchange


async def test_a_refusal_by_the_exchange_is_shown_with_its_reason(
    ticket: OrderTicketDock,
    session: Session,
    market: Market,
    live_server: LiveServer,
    wait_until: WaitUntil,
) -> None:
    await ready(ticket, session, wait_until)
    admin = await live_server.user(role="admin")
    response = await admin.client.post(
        f"/api/v1/admin/instruments/{SYMBOL}/status", json={"status": "halted", "reason": "test"}
    )
    assert response.status_code == 200, response.text
    refusals: list[tuple[str, str]] = []
    ticket.order_rejected.connect(lambda code, message: refusals.append((code, message)))

    # The ticket's instrument list still says open: only the exchange knows of the halt.
    fill(ticket, quantity="5", price=str(market.prices[SYMBOL]))
    assert ticket.problems_shown() == []
    ticket.submit()
    await wait_until(lambda: refusals, message="the refusal never came back")
    assert refusals == [("instrument_halted", MESSAGES[Reject.INSTRUMENT_HALTED])]
    assert ticket.form.status.text() == "Rejected: " + MESSAGES[Reject.INSTRUMENT_HALTED]
    assert ticket.form.status.isVisible()
    assert ticket.form.submit.isEnabled()  # ready for the next try
    shot(ticket, "ticket_rejected")


async def test_confirmation_then_the_order_is_accepted(
    ticket: OrderTicketDock, session: Session, market: Market, wait_until: WaitUntil
) -> None:
    await ready(ticket, session, wait_until)
    price = market.prices[SYMBOL] - 2 * session.instruments[SYMBOL].tick_size
    ticket.form.confirm.setChecked(True)
    fill(ticket, quantity="5", price=str(price))
    assert ticket.form.value.text() == f"{5 * price:,.2f}"
    assert ticket.form.reserve.text() == f"{5 * price:,.2f}"
    assert ticket.form.buying_power.text() == f"{session.balances['INR'].available:,.2f}"
    before = set(session.orders)
    ticket.submit()
    assert ticket.form.confirm_box.isVisible()
    assert ticket.form.confirm_text.text() == f"Send BUY 5 {SYMBOL} LMT @ {price:,.2f} DAY?"
    shot(ticket, "ticket_confirm")
    assert set(session.orders) == before  # nothing sent before the trader confirms

    ticket.form.confirm_send.click()
    await wait_until(lambda: ticket.form.status.text().startswith("Order "))
    placed = [o for o in session.orders.values() if o.order_id not in before]
    assert len(placed) == 1
    order = placed[0]
    assert (order.side, order.quantity, order.price) == ("buy", Decimal(5), price)
    assert ticket.form.status.text() == f"Order {order.order_id} new"
    # Cash for the order is reserved: buying power drops by its value.
    await wait_until(lambda: session.balances["INR"].reserved == 5 * price)
    await wait_until(
        lambda: ticket.form.buying_power.text() == f"{session.balances['INR'].available:,.2f}"
    )
    await session.cancel_order(order.order_id)


async def test_prefill_and_click_to_trade(
    ticket: OrderTicketDock, session: Session, market: Market, wait_until: WaitUntil
) -> None:
    await ready(ticket, session, wait_until)
    tcs_price = market.prices["TCS"]
    ticket.prefill("sell", "TCS", price=tcs_price, quantity="3")
    assert ticket.symbol == "TCS"
    assert ticket.side == "sell"
    assert ticket.order_kind() == "limit"
    assert (ticket.form.price.text(), ticket.form.quantity.text()) == (str(tcs_price), "3")
    assert ticket.form.submit.text() == "Sell 3 TCS"

    # Click-to-trade from the ladder: a buy limit at the clicked price, ticket's quantity.
    below = tcs_price - 3 * session.instruments["TCS"].tick_size
    before = set(session.orders)
    ticket.place_at("buy", below)
    await wait_until(lambda: ticket.form.status.text().startswith("Order "))
    (order,) = [o for o in session.orders.values() if o.order_id not in before]
    assert (order.symbol, order.side, order.quantity, order.price) == ("TCS", "buy", 3, below)
    await session.cancel_order(order.order_id)


# -- GTD, post-only and fees ---------------------------------------------------------------------
def choose_tif(dock: OrderTicketDock, tif: str) -> None:
    dock.form.tif.setCurrentIndex(dock.form.tif.findData(tif))


async def test_gtd_shows_an_expiry_in_exchange_time_sends_it_and_the_order_expires(
    ticket: OrderTicketDock, session: Session, market: Market, wait_until: WaitUntil
) -> None:
    await ready(ticket, session, wait_until)
    form = ticket.form
    price = market.prices[SYMBOL] - 2 * session.instruments[SYMBOL].tick_size
    fill(ticket, quantity="3", price=str(price))
    assert not form.expiry.isVisibleTo(ticket)  # DAY: no expiry to enter
    choose_tif(ticket, "gtd")
    assert form.expiry.isVisibleTo(ticket)
    assert form.expiry_zone.text() == "IST"  # NSE keeps India's time
    now = datetime.fromtimestamp(session.server_time_ns // 10**9, UTC)
    assert ticket.expiry() > now  # a sensible default: the next close, or a day ahead
    assert ticket.problems_shown() == []

    # The editor shows the exchange's wall clock, whatever this machine's zone.
    ticket.set_expiry(datetime(2031, 1, 2, 9, 45, 0, tzinfo=UTC))
    assert form.expiry.dateTime().toString("yyyy-MM-dd HH:mm:ss") == "2031-01-02 15:15:00"
    assert ticket.expiry_ns() == int(datetime(2031, 1, 2, 9, 45, tzinfo=UTC).timestamp()) * 10**9

    orders_before = set(session.orders)
    ticket.set_expiry(now - timedelta(minutes=5))
    ticket.submit()
    assert ticket.problems_shown() == [MESSAGES[Reject.INVALID_EXPIRY]]
    ticket.set_expiry(now + timedelta(days=400))
    ticket.submit()
    assert ticket.problems_shown() == [f"Expiry must be within {MAX_GTD_DAYS} days"]
    shot(ticket, "ticket_gtd_refused")
    assert form.status.text() == f"Not sent: Expiry must be within {MAX_GTD_DAYS} days"
    assert set(session.orders) == orders_before

    # Other validities hide the expiry and send none.
    choose_tif(ticket, "gtc")
    assert not form.expiry.isVisibleTo(ticket) and ticket.ticket().expire_at is None
    choose_tif(ticket, "gtd")

    # A few seconds ahead: accepted with that expiry, then expired by the exchange.
    expires = datetime.fromtimestamp(session.server_time_ns // 10**9 + 3, UTC)
    ticket.set_expiry(expires)
    ticket.form.confirm.setChecked(True)
    ticket.submit()
    local = expires.astimezone(ZoneInfo("Asia/Kolkata"))
    assert form.confirm_text.text() == (
        f"Send BUY 3 {SYMBOL} LMT @ {price:,.2f} GTD until {local:%Y-%m-%d %H:%M:%S} IST?"
    )
    form.confirm_send.click()
    await wait_until(lambda: form.status.text().startswith("Order "))
    (order,) = [o for o in session.orders.values() if o.order_id not in orders_before]
    expire_ns = int(expires.timestamp()) * 10**9
    assert (order.tif, order.expire_at, order.status) == ("gtd", expire_ns, "new")
    stored = await session.client.order(order.order_id)  # as the exchange keeps it
    assert (stored.tif, stored.expire_at) == ("gtd", expire_ns)
    history = OrderHistoryDock(session, LinkGroups())
    history.show()
    try:
        await wait_until(lambda: time.time_ns() > expire_ns, timeout=10)
        # The engine expires GTD orders when it next runs a command (any trader's).
        await market.trade("TCS")
        await wait_until(lambda: session.orders[order.order_id].status == "expired")
        assert session.orders[order.order_id].reason == "good-till-date expiry"
        await wait_until(lambda: "expired" in cells(history.table, "Status"))
        row = cells(history.table, "Order id").index(str(order.order_id))
        assert cells(history.table, "Status")[row] == "expired"
        # Its cash is free again.
        await wait_until(lambda: session.balances["INR"].reserved == 0)
    finally:
        history.close()

    # A symbol of an exchange in another zone shows the same moment in that zone's time.
    listed = session.instruments["TCS"]
    session.instruments["TCS"] = listed.model_copy(update={"exchange": "CRYPTO"})
    ticket.set_expiry(datetime(2031, 1, 2, 9, 45, 0, tzinfo=UTC))
    ticket.set_symbol("TCS")
    assert form.expiry_zone.text() == "UTC"
    assert form.expiry.dateTime().toString("yyyy-MM-dd HH:mm:ss") == "2031-01-02 09:45:00"
    assert ticket.expiry() == datetime(2031, 1, 2, 9, 45, 0, tzinfo=UTC)
    session.instruments["TCS"] = listed


async def test_post_only_is_for_limits_and_a_crossing_one_shows_the_exchanges_refusal(
    ticket: OrderTicketDock, session: Session, market: Market, wait_until: WaitUntil
) -> None:
    await ready(ticket, session, wait_until)
    form = ticket.form
    tick = session.instruments[SYMBOL].tick_size
    ask = market.prices[SYMBOL] + tick  # the maker's best ask
    assert form.post_only.isEnabled()
    form.post_only.setChecked(True)
    for kind in ("market", "stop_limit", "stop_market"):
        ticket.set_order_kind(kind)
        assert not form.post_only.isEnabled() and not form.post_only.isChecked(), kind
        assert ticket.ticket().post_only is False
    ticket.set_order_kind("limit")
    assert form.post_only.isEnabled() and form.post_only.isChecked()  # the choice is kept

    fill(ticket, quantity="2", price=str(ask - 2 * tick), tif="ioc")
    ticket.submit()
    assert ticket.problems_shown() == [
        MESSAGES[Reject.INVALID_TIME_IN_FORCE] + " (post-only orders must be able to rest)"
    ]

    # At the ask it would trade on arrival: only the exchange's book can say so.
    refusals: list[tuple[str, str]] = []
    ticket.order_rejected.connect(lambda code, message: refusals.append((code, message)))
    orders_before = set(session.orders)
    fill(ticket, quantity="2", price=str(ask))
    assert ticket.problems_shown() == []
    ticket.submit()
    await wait_until(lambda: refusals, message="the refusal never came back")
    reason = MESSAGES[Reject.POST_ONLY_WOULD_CROSS]
    assert refusals == [("post_only_would_cross", reason)]
    assert form.status.text() == f"Rejected: {reason}"
    assert form.post_only_error.isVisible() and form.post_only_error.text() == reason
    assert set(session.orders) == orders_before
    shot(ticket, "ticket_post_only_refused")

    # Below the ask it rests, as a post-only order.
    fill(ticket, quantity="2", price=str(ask - tick))
    assert ticket.problems_shown() == []
    ticket.submit()
    await wait_until(lambda: form.status.text().startswith("Order "))
    (order,) = [o for o in session.orders.values() if o.order_id not in orders_before]
    assert (order.post_only, order.price, order.status) == (True, ask - tick, "new")
    await session.cancel_order(order.order_id)

    # The choice is part of the panel's saved state.
    state = ticket.save_state()
    assert state["post_only"] is True
    form.post_only.setChecked(False)
    ticket.restore_state(state)
    assert form.post_only.isChecked()


async def test_estimates_show_the_fee_and_the_funds_check_matches_the_exchange(
    ticket: OrderTicketDock,
    session: Session,
    market: Market,
    live_server: LiveServer,
    trader: SignedInUser,
    wait_until: WaitUntil,
) -> None:
    await live_server.context.submit(SetFees(200, 500))  # 0.02% maker, 0.05% taker
    await ready(ticket, session, wait_until)
    ticket.refresh_fees()
    await wait_until(lambda: ticket.fees is not None and ticket.fees.taker_fee_ppm == 500)
    form = ticket.form
    tick = session.instruments[SYMBOL].tick_size
    ask = market.prices[SYMBOL] + tick
    bid = market.prices[SYMBOL] - tick

    def fee(value: Decimal, ppm: int) -> Decimal:
        return (value * ppm / 1_000_000).quantize(Decimal("0.0001"), rounding=ROUND_FLOOR)

    def money(value: Decimal) -> str:
        return fmt_cash(value)

    # A limit buy below the ask rests: the maker's fee; the cash held has the highest fee.
    resting = ask - 2 * tick
    fill(ticket, quantity="10", price=str(resting))
    value = 10 * resting
    assert form.value.text() == money(value)
    assert form.fee_label.text() == "Est. fee (maker 0.02%)"
    assert form.fee.text() == money(fee(value, 200))
    assert (form.total_label.text(), form.total.text()) == (
        "Total cost",
        money(value + fee(value, 200)),
    )
    assert form.reserve.text() == money(value + fee(value, 500))
    shot(ticket, "ticket_fees")

    # At the ask it takes: the taker's fee.
    fill(ticket, quantity="10", price=str(ask))
    assert form.fee_label.text() == "Est. fee (taker 0.05%)"
    assert form.fee.text() == money(fee(10 * ask, 500))
    # A market buy is valued at the ask, at the taker's rate, and held at the band top.
    fill(ticket, kind="market", quantity="10")
    assert (form.value.text(), form.fee_label.text()) == (money(10 * ask), "Est. fee (taker 0.05%)")
    band_top = 10 * session.instruments[SYMBOL].band_high
    assert form.reserve.text() == money(band_top + fee(band_top, 500))
    # A sell shows what it brings in after the fee; it holds no cash.
    fill(ticket, side="sell", quantity="10", price=str(bid + 2 * tick))
    value = 10 * (bid + 2 * tick)
    assert form.fee_label.text() == "Est. fee (maker 0.02%)"
    assert (form.total_label.text(), form.total.text()) == (
        "Net proceeds",
        money(value - fee(value, 200)),
    )
    assert form.reserve.text() == "-"

    # Funds: a buy that the cash covers only without its fee is refused before sending...
    cash = session.balances["INR"].available
    quantity = (cash / resting).to_integral_value(rounding=ROUND_FLOOR)
    cost = quantity * resting
    need = cost + fee(cost, 500)
    assert cost <= cash < need
    orders_before = set(session.orders)
    fill(ticket, quantity=str(quantity), price=str(resting))
    ticket.submit()
    assert ticket.problems_shown() == [
        MESSAGES[Reject.INSUFFICIENT_FUNDS]
        + f" (need {need} incl. fees {fee(cost, 500)}, have {cash})"
    ]
    assert set(session.orders) == orders_before
    # ...and with exactly that much cash the ticket and the exchange both take it.
    await live_server.fund(trader.account_id, "INR", str(need - cash))
    await wait_until(lambda: session.balances["INR"].available == need)
    fill(ticket, quantity=str(quantity), price=str(resting))
    assert ticket.problems_shown() == []
    ticket.submit()
    await wait_until(lambda: form.status.text().startswith("Order "), message=form.status.text())
    await wait_until(lambda: session.balances["INR"].reserved == need)
    assert session.balances["INR"].available == 0
    assert form.buying_power.text() == money(Decimal(0))


class LayoutRequests(QObject):
    """Counts the layout requests a widget receives."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            self.count += 1
        return False


async def test_the_touch_follows_quotes_without_re_laying_out_the_ticket(
    ticket: OrderTicketDock, session: Session, market: Market, wait_until: WaitUntil
) -> None:
    await ready(ticket, session, wait_until)
    quote = session.quotes[SYMBOL]
    touch = ticket.form.touch
    assert touch.text() == f"{quote.bid:,.2f} / {quote.ask:,.2f}"
    assert touch.isVisibleTo(ticket)
    assert touch.width() >= touch.fontMetrics().horizontalAdvance(touch.text())  # all of it
    requests = LayoutRequests()
    ticket.form.installEventFilter(requests)
    # The maker's best ask goes: the touch moves, nothing else on the form changes.
    await market.trade(SYMBOL, quantity="10")
    await wait_until(lambda: session.quotes[SYMBOL].ask != quote.ask)
    moved = session.quotes[SYMBOL]
    await wait_until(lambda: ticket.form.touch.text() == f"{moved.bid:,.2f} / {moved.ask:,.2f}")
    assert requests.count == 0  # a QLabel here made the main window re-place every dock
