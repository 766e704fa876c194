"""Accounts, deposits, withdrawals, adjustments and listing instruments."""

from __future__ import annotations

from typing import Any

import pytest

from exchange_server.domain.commands import (
    Adjust,
    Deposit,
    ListInstrument,
    OpenAccount,
    PlaceOrder,
    Withdraw,
)
from exchange_server.domain.enums import AssetClass, SelfTradePrevention
from exchange_server.domain.events import AccountUpdated, BalanceChanged, InstrumentListed
from exchange_server.domain.exchange import MAX_AMOUNT
from exchange_server.domain.ledger import EXTERNAL, FEES
from exchange_server.domain.rejections import Reject
from tests.domain.conftest import (
    ACCOUNTS,
    ALICE,
    BOB,
    BUY,
    CASH,
    CURRENCY,
    SELL,
    SHARES,
    SYMBOL,
    Market,
    of_type,
    trades,
)


def totals_are_zero(market: Market) -> bool:
    return all(v == 0 for v in market.exchange.ledger.totals().values())


def test_deposit_credits_the_account_against_the_outside_world(market: Market) -> None:
    external_before = market.exchange.ledger.balance(EXTERNAL, CURRENCY)

    events = market.accept(Deposit(ALICE, CURRENCY, 12_345, reference="bank-1"))

    assert market.cash(ALICE) == CASH + 12_345
    assert market.exchange.ledger.balance(EXTERNAL, CURRENCY) == external_before - 12_345
    assert BalanceChanged(ALICE, CURRENCY, CASH + 12_345, 0) in events
    assert totals_are_zero(market)
    assert market.exchange.ledger.totals()[CURRENCY] == 0


def test_withdrawal_takes_only_what_is_available(market: Market) -> None:
    market.accept(Withdraw(ALICE, CURRENCY, CASH - 1))
    assert market.cash(ALICE) == 1
    assert market.refuse(Withdraw(ALICE, CURRENCY, 2)) == Reject.INSUFFICIENT_FUNDS
    assert market.refuse(Withdraw(ALICE, SYMBOL, SHARES + 1)) == Reject.INSUFFICIENT_HOLDINGS
    market.accept(Withdraw(ALICE, SYMBOL, SHARES))
    assert market.shares(ALICE) == 0
    assert totals_are_zero(market)


def test_adjustments_go_both_ways_but_never_below_available(market: Market) -> None:
    market.accept(Adjust(ALICE, CURRENCY, 500, reference="goodwill"))
    assert market.cash(ALICE) == CASH + 500
    market.accept(Adjust(ALICE, CURRENCY, -(CASH + 400), reference="correction"))
    assert market.cash(ALICE) == 100
    assert market.refuse(Adjust(ALICE, CURRENCY, -101)) == Reject.INSUFFICIENT_FUNDS
    market.accept(Adjust(ALICE, SYMBOL, -SHARES))
    assert market.refuse(Adjust(ALICE, SYMBOL, -1)) == Reject.INSUFFICIENT_HOLDINGS
    assert market.refuse(Adjust(ALICE, SYMBOL, 0)) == Reject.INVALID_AMOUNT
    assert totals_are_zero(market)


def test_user_balances_stay_apart(market: Market) -> None:
    market.accept(Deposit(ALICE, CURRENCY, 1))
    for account in ACCOUNTS:
        expected = CASH + 1 if account == ALICE else CASH
        assert market.cash(account) == expected
    assert market.exchange.ledger.balance(FEES, CURRENCY) == 0


@pytest.mark.parametrize("amount", [0, -1, MAX_AMOUNT + 1, 1.5, "10", True])
def test_invalid_amounts_are_refused(market: Market, amount: Any) -> None:
    for command in (Deposit, Withdraw):
        assert market.refuse(command(ALICE, CURRENCY, amount)) == Reject.INVALID_AMOUNT
    if amount != -1:
        assert market.refuse(Adjust(ALICE, CURRENCY, amount)) == Reject.INVALID_AMOUNT


def test_largest_amount_is_accepted(market: Market) -> None:
    market.accept(Deposit(ALICE, CURRENCY, MAX_AMOUNT))
    market.accept(Adjust(ALICE, CURRENCY, -MAX_AMOUNT))
    assert market.cash(ALICE) == CASH


def test_money_commands_need_a_known_account_and_asset(market: Market) -> None:
    for account in (99, EXTERNAL, FEES):
        assert market.refuse(Deposit(account, CURRENCY, 1)) == Reject.UNKNOWN_ACCOUNT
    assert market.refuse(Deposit(ALICE, "USD", 1)) == Reject.UNKNOWN_ASSET
    assert market.refuse(Withdraw(ALICE, "USD", 1)) == Reject.UNKNOWN_ASSET


# -- accounts -------------------------------------------------------------------------------


def test_open_account(market: Market) -> None:
    events = market.accept(OpenAccount(42, SelfTradePrevention.CANCEL_BOTH))
    assert events == [AccountUpdated(42, SelfTradePrevention.CANCEL_BOTH)]
    assert market.cash(42) == 0
    assert market.refuse(PlaceOrder(42, SYMBOL, BUY, 1, price=9_900)) == Reject.INSUFFICIENT_FUNDS


@pytest.mark.parametrize(
    ("account", "reason"),
    [
        (ALICE, Reject.ACCOUNT_EXISTS),
        (EXTERNAL, Reject.UNKNOWN_ACCOUNT),
        (FEES, Reject.UNKNOWN_ACCOUNT),
        (-3, Reject.UNKNOWN_ACCOUNT),
        ("7", Reject.UNKNOWN_ACCOUNT),
    ],
)
def test_open_account_refusals(market: Market, account: Any, reason: Reject) -> None:
    assert market.refuse(OpenAccount(account)) == reason


# -- instruments ----------------------------------------------------------------------------


def listing(**change: Any) -> ListInstrument:
    fields: dict[str, Any] = {
        "symbol": "NEWCO",
        "name": "New Co",
        "asset_class": AssetClass.EQUITY,
        "exchange": "NSE",
        "currency": CURRENCY,
    }
    fields.update(change)
    return ListInstrument(**fields)


def test_listing_an_instrument(market: Market) -> None:
    events = market.accept(listing(reference_price=2_000, tick_size=10, lot_size=5))
    [listed] = of_type(events, InstrumentListed)
    assert listed.symbol == "NEWCO"
    instrument = market.exchange.instruments["NEWCO"]
    assert (instrument.band_low, instrument.band_high) == (1_800, 2_200)
    assert market.exchange.books["NEWCO"].depth() == ([], [])
    market.accept(Deposit(ALICE, "NEWCO", 10))
    assert market.refuse(PlaceOrder(ALICE, "NEWCO", BUY, 3, price=2_000)) == Reject.LOT_SIZE
    assert market.refuse(PlaceOrder(ALICE, "NEWCO", BUY, 5, price=2_005)) == Reject.TICK_SIZE


def test_crypto_with_fractional_quantities(market: Market) -> None:
    # 0.01 price units and 0.01 quantity units: 4 decimals together, exact in cash.
    market.accept(
        listing(
            symbol="BTC",
            asset_class=AssetClass.CRYPTO,
            quantity_decimals=2,
            tick_size=1,
            reference_price=5_000_000,
        )
    )
    market.accept(Deposit(ALICE, "BTC", 150))
    market.accept(PlaceOrder(ALICE, "BTC", SELL, 150, price=5_000_000))
    [trade] = trades(market.accept(PlaceOrder(BOB, "BTC", BUY, 25, price=5_000_000)))
    # 0.25 BTC at 50,000.00 is 12,500.0000 INR.
    assert trade.notional == 12_500 * 10_000
    assert market.cash(BOB) == CASH - 12_500 * 10_000
    assert market.shares(BOB, "BTC") == 25


@pytest.mark.parametrize(
    "change",
    [
        {"tick_size": 0},
        {"lot_size": 0},
        {"tick_size": -5},
        {"price_decimals": 3, "quantity_decimals": 2},
        {"price_decimals": -1},
        {"band_ppm": 0},
        {"band_ppm": 1_000_000},
        {"reference_price": 10_001},
        {"reference_price": -5},
        {"max_order_quantity": -1},
        {"max_order_notional": -1},
        {"symbol": ""},
        {"symbol": "X" * 33},
        {"symbol": "BAD\nSYM"},
        {"currency": ""},
        {"asset_class": "stock"},
        {"tick_size": 0.05},
        {"reference_price": 100.0},
        {"symbol": CURRENCY},
        {"currency": SYMBOL},
    ],
)
def test_invalid_instruments_are_refused(market: Market, change: dict[str, Any]) -> None:
    assert market.refuse(listing(**change)) == Reject.INVALID_INSTRUMENT


def test_listing_twice_is_refused(market: Market) -> None:
    assert market.refuse(listing(symbol=SYMBOL)) == Reject.INSTRUMENT_EXISTS
