"""The order ticket on a real exchange: every validation message is shown and stops the
send; a refusal only the exchange could make comes back with the exchange's reason; the
confirmation step; prefill for hotkeys and click-to-trade."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from exchange_server.domain.rejections import MESSAGES, Reject
from tests.api.conftest import LiveServer
from tests.workstation.conftest import Market, WaitUntil
from tests.workstation.trading_shots import shot
from workstation.docks.order_ticket import OrderTicketDock
from workstation.session.links import LinkGroups
from workstation.session.session import Session

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
