"""Every check the order ticket makes before sending, with the exchange's own words."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from exchange_server.domain.rejections import MESSAGES, Reject
from exchange_server.protocol import FeeSchedule, InstrumentOut, OrderOut
from tests.workstation.factories import instrument
from workstation.validation import (
    MAX_GTD_DAYS,
    NS_PER_DAY,
    TicketInput,
    estimate,
    fee_of,
    parse_decimal,
    validate_modify,
    validate_ticket,
)

NOW = 1_750_000_000 * 10**9  # the exchange's clock in the GTD checks (epoch ns)
HOUR = 3600 * 10**9
FEES = FeeSchedule(maker_fee_ppm=200, taker_fee_ppm=500, reserve_fee_ppm=500, cash_decimals=4)


def ticket(**changes: Any) -> TicketInput:
    fields: dict[str, Any] = dict(
        symbol="RELIANCE", side="buy", order_type="limit", quantity="10", price="2500.05"
    )
    fields.update(changes)
    return TicketInput(**fields)


def problems(
    entered: TicketInput, listed: InstrumentOut | None = None, **context: Any
) -> list[tuple[str, str, str]]:
    checked = validate_ticket(entered, listed or instrument(), **context)
    return [(p.field, p.code, p.message) for p in checked.problems]


def test_a_good_limit_order_passes_and_is_parsed_exactly() -> None:
    checked = validate_ticket(
        ticket(quantity="1,000", price="2,500.05"),
        instrument(),
        available_cash=Decimal("2500050"),
    )
    assert checked.ok
    assert checked.quantity == Decimal(1000)
    assert checked.price == Decimal("2500.05")


@pytest.mark.parametrize(
    ("entered", "listed", "expected"),
    [
        # quantity
        (ticket(quantity=""), None, ("quantity", "not_a_number", "Enter a quantity")),
        (ticket(quantity="ten"), None, ("quantity", "not_a_number", "Enter a quantity")),
        (
            ticket(quantity="0"),
            None,
            ("quantity", "invalid_quantity", MESSAGES[Reject.INVALID_QUANTITY] + " (unit 1)"),
        ),
        (
            ticket(quantity="-5"),
            None,
            ("quantity", "invalid_quantity", MESSAGES[Reject.INVALID_QUANTITY] + " (unit 1)"),
        ),
        (
            ticket(quantity="1.5"),
            None,
            ("quantity", "invalid_quantity", MESSAGES[Reject.INVALID_QUANTITY] + " (unit 1)"),
        ),
        (
            ticket(quantity="30"),
            instrument(lot_size=Decimal(25)),
            ("quantity", "lot_size", MESSAGES[Reject.LOT_SIZE] + " (lot size 25)"),
        ),
        # price
        (ticket(price=""), None, ("price", "not_a_number", "Enter a limit price")),
        (ticket(price="0"), None, ("price", "invalid_price", MESSAGES[Reject.INVALID_PRICE])),
        (
            ticket(price="2500.03"),
            None,
            ("price", "tick_size", MESSAGES[Reject.TICK_SIZE] + " (tick size 0.05)"),
        ),
        (
            ticket(price="2800.00"),
            None,
            (
                "price",
                "price_outside_band",
                MESSAGES[Reject.PRICE_OUTSIDE_BAND] + " (band 2250.00-2750.00)",
            ),
        ),
        (
            ticket(order_type="market", price=""),
            instrument(band_low=Decimal(0), band_high=Decimal(0)),
            (
                "price",
                "price_outside_band",
                MESSAGES[Reject.PRICE_OUTSIDE_BAND] + " (no reference price yet)",
            ),
        ),
        # trigger
        (
            ticket(order_type="stop_limit", trigger_price=""),
            None,
            ("trigger_price", "not_a_number", "Enter a trigger price"),
        ),
        (
            ticket(order_type="stop_market", price="", trigger_price="2500.01"),
            None,
            (
                "trigger_price",
                "invalid_trigger",
                MESSAGES[Reject.INVALID_TRIGGER] + " (tick size 0.05)",
            ),
        ),
        # time in force
        (
            ticket(order_type="market", price="", tif="gtc"),
            None,
            (
                "tif",
                "invalid_time_in_force",
                MESSAGES[Reject.INVALID_TIME_IN_FORCE] + " (market orders are DAY, IOC or FOK)",
            ),
        ),
        (
            ticket(order_type="stop_limit", trigger_price="2600.00", tif="fok"),
            None,
            (
                "tif",
                "invalid_time_in_force",
                MESSAGES[Reject.INVALID_TIME_IN_FORCE] + " (stop orders cannot be fill-or-kill)",
            ),
        ),
        # the instrument
        (
            ticket(),
            instrument(status="halted"),
            ("symbol", "instrument_halted", MESSAGES[Reject.INSTRUMENT_HALTED]),
        ),
        (
            ticket(),
            instrument(status="cancel_only"),
            ("symbol", "instrument_cancel_only", MESSAGES[Reject.INSTRUMENT_CANCEL_ONLY]),
        ),
        (
            ticket(order_type="market", price=""),
            instrument(status="post_only"),
            ("symbol", "instrument_post_only", MESSAGES[Reject.INSTRUMENT_POST_ONLY]),
        ),
        (
            ticket(symbol="NIFTY50"),
            instrument(symbol="NIFTY50", asset_class="index"),
            ("symbol", "instrument_not_tradable", MESSAGES[Reject.INSTRUMENT_NOT_TRADABLE]),
        ),
    ],
)
def test_each_rule_has_its_message(
    entered: TicketInput, listed: InstrumentOut | None, expected: tuple[str, str, str]
) -> None:
    assert expected in problems(entered, listed)


def test_an_unknown_symbol_is_refused_by_name() -> None:
    checked = validate_ticket(ticket(symbol="NOPE"), None)
    assert [(p.field, p.code, p.message) for p in checked.problems] == [
        ("symbol", "unknown_instrument", MESSAGES[Reject.UNKNOWN_INSTRUMENT] + " (NOPE)")
    ]


def test_a_stop_whose_trigger_the_market_has_passed_is_refused() -> None:
    # A buy stop fires when the price rises to it: at or under the last trade it is crossed.
    buy = ticket(order_type="stop_market", price="", trigger_price="2490.00")
    sell = ticket(side="sell", order_type="stop_market", price="", trigger_price="2510.00")
    message = MESSAGES[Reject.TRIGGER_ALREADY_CROSSED] + " (last 2500.00)"
    last = Decimal("2500.00")
    assert ("trigger_price", "trigger_already_crossed", message) in problems(buy, last_price=last)
    assert ("trigger_price", "trigger_already_crossed", message) in problems(sell, last_price=last)
    fine = ticket(order_type="stop_market", price="", trigger_price="2510.00")
    assert problems(fine, last_price=last) == []


def test_funds_are_checked_at_the_worst_price_a_buy_can_pay() -> None:
    # A limit buy reserves its limit; a market buy reserves at the top of the band.
    limit = ticket(quantity="10", price="2500.00")
    assert problems(limit, available_cash=Decimal("25000")) == []
    short = MESSAGES[Reject.INSUFFICIENT_FUNDS] + " (need 25000.00, have 24999.99)"
    assert problems(limit, available_cash=Decimal("24999.99")) == [
        ("funds", "insufficient_funds", short)
    ]
    market = ticket(order_type="market", price="", quantity="10")
    expected = MESSAGES[Reject.INSUFFICIENT_FUNDS] + " (need 27500.00, have 26000)"
    assert problems(market, available_cash=Decimal("26000")) == [
        ("funds", "insufficient_funds", expected)
    ]


def test_a_sell_needs_the_holdings() -> None:
    sell = ticket(side="sell", quantity="10")
    assert problems(sell, available_holdings=Decimal(10)) == []
    expected = MESSAGES[Reject.INSUFFICIENT_HOLDINGS] + " (selling 10, have 4)"
    assert problems(sell, available_holdings=Decimal(4)) == [
        ("funds", "insufficient_holdings", expected)
    ]


def test_unknown_balances_leave_funds_to_the_exchange() -> None:
    assert problems(ticket(quantity="1000000")) == []


def test_crypto_quantities_in_fractional_lots() -> None:
    btc = instrument(
        symbol="BTC-INR",
        tick_size=Decimal(1),
        lot_size=Decimal("0.0001"),
        price_decimals=0,
        quantity_decimals=4,
        band_low=Decimal(5_000_000),
        band_high=Decimal(7_000_000),
    )
    good = ticket(symbol="BTC-INR", quantity="0.0025", price="6000000")
    assert validate_ticket(good, btc).ok
    too_fine = ticket(symbol="BTC-INR", quantity="0.00001", price="6000000")
    assert problems(too_fine, btc)[0][1] == "invalid_quantity"


def test_estimate_values_limit_and_market_orders() -> None:
    listed = instrument()
    limit = estimate(ticket(quantity="10", price="2500.00"), listed)
    assert (limit.value, limit.reserve) == (Decimal("25000.00"), Decimal("25000.00"))
    market = estimate(
        ticket(order_type="market", price="", quantity="10"),
        listed,
        best_bid=Decimal("2499.95"),
        best_ask=Decimal("2500.05"),
    )
    assert market.value == Decimal("25000.50")  # at the ask
    assert market.reserve == Decimal("27500.00")  # held at the band top until it fills
    sell = estimate(ticket(side="sell", order_type="market", price="", quantity="2"), listed,
                    best_bid=Decimal("2499.95"))  # fmt: skip
    assert (sell.value, sell.reserve) == (Decimal("4999.90"), None)
    assert estimate(ticket(quantity=""), listed).value is None


def test_parse_decimal_reads_what_people_type() -> None:
    assert parse_decimal(" 1,250.50 ") == Decimal("1250.50")
    assert parse_decimal("1e3") == Decimal(1000)
    assert parse_decimal("nan") is None
    assert parse_decimal("inf") is None
    assert parse_decimal("12abc") is None
    assert parse_decimal("") is None


def working_order(**changes: Any) -> OrderOut:
    fields: dict[str, Any] = dict(
        order_id=7,
        client_order_id="c7",
        symbol="RELIANCE",
        side="buy",
        order_type="limit",
        tif="day",
        status="partially_filled",
        quantity=Decimal(10),
        price=Decimal("2500.00"),
        trigger_price=None,
        filled=Decimal(4),
        remaining=Decimal(6),
        average_price=Decimal("2500.00"),
        fees=Decimal(0),
        post_only=False,
        expire_at=0,
        created_at=1,
        updated_at=2,
        reason="",
    )
    fields.update(changes)
    return OrderOut(**fields)


def test_modify_checks_the_new_quantity_and_price() -> None:
    order, listed = working_order(), instrument()
    changed = validate_modify(order, listed, quantity="12", price="2501.00")
    assert changed.ok and (changed.quantity, changed.price) == (Decimal(12), Decimal("2501.00"))
    only_price = validate_modify(order, listed, quantity="10", price="2501.00")
    assert only_price.quantity is None and only_price.price == Decimal("2501.00")

    def messages(**typed: str) -> list[str]:
        return [p.message for p in validate_modify(order, listed, **typed).problems]

    assert messages(quantity="4", price="2500.00") == [
        MESSAGES[Reject.MODIFY_BELOW_FILLED] + " (filled 4)"
    ]
    assert messages(quantity="10", price="2500.00") == [MESSAGES[Reject.MODIFY_NO_CHANGE]]
    assert messages(quantity="10", price="2500.02") == [
        MESSAGES[Reject.TICK_SIZE] + " (tick size 0.05)"
    ]


# -- GTD expiry -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("entered", "expected"),
    [
        (
            ticket(tif="gtd"),
            ("expire_at", "missing_field", "Enter an expiry date and time"),
        ),
        (
            ticket(tif="gtd", expire_at=NOW),
            ("expire_at", "invalid_expiry", MESSAGES[Reject.INVALID_EXPIRY]),
        ),
        (
            ticket(tif="gtd", expire_at=NOW - HOUR),
            ("expire_at", "invalid_expiry", MESSAGES[Reject.INVALID_EXPIRY]),
        ),
        (
            ticket(tif="gtd", expire_at=NOW + MAX_GTD_DAYS * NS_PER_DAY + 1),
            ("expire_at", "expiry_too_far", "Expiry must be within 365 days"),
        ),
        (
            ticket(tif="gtc", expire_at=NOW + HOUR),
            (
                "expire_at",
                "invalid_expiry",
                MESSAGES[Reject.INVALID_EXPIRY] + " (only GTD orders take an expiry time)",
            ),
        ),
        (
            ticket(order_type="market", price="", tif="gtd", expire_at=NOW + HOUR),
            (
                "tif",
                "invalid_time_in_force",
                MESSAGES[Reject.INVALID_TIME_IN_FORCE] + " (market orders are DAY, IOC or FOK)",
            ),
        ),
        (
            ticket(
                order_type="stop_market",
                price="",
                trigger_price="2600.00",
                tif="gtd",
                expire_at=NOW + HOUR,
            ),
            (
                "tif",
                "invalid_time_in_force",
                MESSAGES[Reject.INVALID_TIME_IN_FORCE] + " (market orders are DAY, IOC or FOK)",
            ),
        ),
    ],
)
def test_each_expiry_rule_has_its_message(
    entered: TicketInput, expected: tuple[str, str, str]
) -> None:
    assert expected in problems(entered, now_ns=NOW)


def test_a_gtd_limit_or_stop_limit_with_a_future_expiry_passes() -> None:
    for entered in (
        ticket(tif="gtd", expire_at=NOW + 1),
        ticket(tif="gtd", expire_at=NOW + MAX_GTD_DAYS * NS_PER_DAY),
        ticket(order_type="stop_limit", trigger_price="2600.00", tif="gtd", expire_at=NOW + HOUR),
    ):
        assert problems(entered, now_ns=NOW) == [], entered
    # Without the exchange's clock only the presence of an expiry is checked.
    assert problems(ticket(tif="gtd", expire_at=1)) == []


# -- post-only --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("entered", "expected"),
    [
        (
            ticket(order_type="market", price="", post_only=True),
            (
                "post_only",
                "invalid_time_in_force",
                MESSAGES[Reject.INVALID_TIME_IN_FORCE] + " (market orders cannot be post-only)",
            ),
        ),
        (
            ticket(order_type="stop_market", price="", trigger_price="2600.00", post_only=True),
            (
                "post_only",
                "invalid_time_in_force",
                MESSAGES[Reject.INVALID_TIME_IN_FORCE] + " (market orders cannot be post-only)",
            ),
        ),
        (
            ticket(post_only=True, tif="ioc"),
            (
                "tif",
                "invalid_time_in_force",
                MESSAGES[Reject.INVALID_TIME_IN_FORCE] + " (post-only orders must be able to rest)",
            ),
        ),
        (
            ticket(post_only=True, tif="fok"),
            (
                "tif",
                "invalid_time_in_force",
                MESSAGES[Reject.INVALID_TIME_IN_FORCE] + " (post-only orders must be able to rest)",
            ),
        ),
    ],
)
def test_each_post_only_rule_has_its_message(
    entered: TicketInput, expected: tuple[str, str, str]
) -> None:
    assert expected in problems(entered)


def test_post_only_limits_that_can_rest_pass_also_on_a_post_only_instrument() -> None:
    for tif, expire_at in (("day", None), ("gtc", None), ("gtd", NOW + HOUR)):
        resting = ticket(post_only=True, tif=tif, expire_at=expire_at)
        assert problems(resting, now_ns=NOW) == []
        assert problems(resting, instrument(status="post_only"), now_ns=NOW) == []
    # The instrument's own post-only state still refuses market orders, flag or not.
    market = ticket(order_type="market", price="")
    assert problems(market, instrument(status="post_only")) == [
        ("symbol", "instrument_post_only", MESSAGES[Reject.INSTRUMENT_POST_ONLY])
    ]


# -- fees -------------------------------------------------------------------------------------
def test_fees_round_down_to_the_cash_unit_as_the_exchange_charges() -> None:
    assert fee_of(Decimal("9100.35"), 500, FEES) == Decimal("4.5501")  # 4.550175
    assert fee_of(Decimal("9100.35"), 200, FEES) == Decimal("1.8200")  # 1.82007
    assert fee_of(Decimal("0.01"), 500, FEES) == Decimal("0.0000")  # 0.000005
    assert fee_of(Decimal("20000"), 500, FEES) == Decimal("10.0000")
    assert fee_of(Decimal("12345.6789"), 0, FEES) == 0


def test_funds_include_the_fee_the_exchange_reserves_on_a_buy() -> None:
    # 7 at 2500.05 costs 17500.35; the exchange holds 500 ppm more, rounded down: 8.7501.
    buy = ticket(quantity="7", price="2500.05")
    assert problems(buy, available_cash=Decimal("17509.1001"), fees=FEES) == []
    expected = (
        MESSAGES[Reject.INSUFFICIENT_FUNDS]
        + " (need 17509.1001 incl. fees 8.7501, have 17509.1000)"
    )
    assert problems(buy, available_cash=Decimal("17509.1000"), fees=FEES) == [
        ("funds", "insufficient_funds", expected)
    ]
    # Without the schedule the cost alone is checked (the exchange stays the judge).
    assert problems(buy, available_cash=Decimal("17500.35")) == []
    # A market buy is held at the band top plus the fee on that.
    market = ticket(order_type="market", price="", quantity="10")
    expected = (
        MESSAGES[Reject.INSUFFICIENT_FUNDS] + " (need 27513.7500 incl. fees 13.7500, have 27513.74)"
    )
    assert problems(market, available_cash=Decimal("27513.74"), fees=FEES) == [
        ("funds", "insufficient_funds", expected)
    ]
    # A sell's fee comes out of its proceeds: only the holdings are needed.
    sell = ticket(side="sell", quantity="7", price="2500.05")
    assert problems(sell, available_holdings=Decimal(7), available_cash=Decimal(0), fees=FEES) == []


def test_estimates_pick_the_maker_or_taker_rate() -> None:
    listed = instrument()
    touch = {"best_bid": Decimal("2499.95"), "best_ask": Decimal("2500.05")}

    resting = estimate(ticket(quantity="10", price="2499.00"), listed, fees=FEES, **touch)
    assert (resting.fee_basis, resting.fee_ppm) == ("maker", 200)
    assert resting.value == Decimal("24990.00")
    assert resting.fee == Decimal("4.9980")
    assert resting.total == Decimal("24994.9980")
    # The cash held is the cost plus the fee at the reserve (highest) rate, not the maker's.
    assert resting.reserve == Decimal("24990.00") + Decimal("12.4950")

    crossing = estimate(ticket(quantity="10", price="2500.05"), listed, fees=FEES, **touch)
    assert (crossing.fee_basis, crossing.fee_ppm, crossing.fee) == (
        "taker",
        500,
        Decimal("12.5002"),
    )

    post_only = ticket(quantity="10", price="2500.05", post_only=True)
    assert estimate(post_only, listed, fees=FEES, **touch).fee_basis == "maker"
    on_post_only_market = estimate(
        ticket(quantity="10", price="2500.05"), instrument(status="post_only"), fees=FEES, **touch
    )
    assert on_post_only_market.fee_basis == "maker"

    market = estimate(ticket(order_type="market", price=""), listed, fees=FEES, **touch)
    assert (market.fee_basis, market.value, market.fee) == (
        "taker",
        Decimal("25000.50"),
        Decimal("12.5002"),
    )
    assert market.reserve == Decimal("27500.00") + Decimal("13.7500")

    stop = ticket(order_type="stop_limit", trigger_price="2600.00", price="2600.00")
    stopped = estimate(stop, listed, fees=FEES, **touch)
    assert (stopped.fee_basis, stopped.fee_ppm) == ("worst", 500)  # the higher rate
    no_touch = estimate(ticket(quantity="10", price="2499.00"), listed, fees=FEES)
    assert no_touch.fee_basis == "worst"

    sell = estimate(ticket(side="sell", quantity="10", price="2501.00"), listed, fees=FEES, **touch)
    assert (sell.fee_basis, sell.value, sell.fee) == (
        "maker",
        Decimal("25010.00"),
        Decimal("5.0020"),
    )
    assert sell.total == Decimal("25004.9980")  # net proceeds
    assert sell.reserve is None  # a sell holds its shares, not cash

    unknown = estimate(ticket(quantity="10", price="2499.00"), listed, **touch)
    assert (unknown.fee, unknown.fee_basis, unknown.total) == (None, None, None)
    assert unknown.reserve == Decimal("24990.00")
