"""Builders for the domain tests: a small listed market with funded accounts.

``ACME`` is an equity in INR with two price decimals and a 0.05 tick, its band centred on
100.00 (+/-10%: 90.00..110.00). Cash has four decimals, so one share at 100.00 costs
1,000,000 cash units. Alice, Bob and Carol each hold 100,000.00 INR and 1,000 ACME and BETA.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

import pytest

from exchange_server.domain import snapshot
from exchange_server.domain.commands import (
    Command,
    Deposit,
    ListInstrument,
    ModifyOrder,
    OpenAccount,
    PlaceOrder,
)
from exchange_server.domain.enums import (
    AssetClass,
    OrderStatus,
    OrderType,
    SelfTradePrevention,
    Side,
    TimeInForce,
)
from exchange_server.domain.events import (
    BalanceChanged,
    CommandRejected,
    Event,
    OrderUpdated,
    TradeExecuted,
)
from exchange_server.domain.exchange import Exchange
from exchange_server.domain.orders import Order

SYMBOL = "ACME"
OTHER = "BETA"
INDEX = "NIFTY"
CURRENCY = "INR"
REFERENCE = 10_000  # 100.00
BAND_LOW, BAND_HIGH = 9_000, 11_000
ALICE, BOB, CAROL = 10, 11, 12
ACCOUNTS = (ALICE, BOB, CAROL)
CASH = 100_000 * 10_000  # 100,000.00 INR in cash units
SHARES = 1_000
START = 1_700_000_000_000_000_000  # epoch ns
SECOND = 1_000_000_000

BUY, SELL = Side.BUY, Side.SELL

E = TypeVar("E", bound=Event)


def of_type(events: Iterable[Event], cls: type[E]) -> list[E]:
    return [event for event in events if isinstance(event, cls)]


def updates(events: Iterable[Event], order_id: int) -> list[OrderUpdated]:
    return [e for e in of_type(events, OrderUpdated) if e.order_id == order_id]


def last_update(events: Iterable[Event], order_id: int) -> OrderUpdated:
    found = updates(events, order_id)
    assert found, f"no OrderUpdated for order {order_id}"
    return found[-1]


def trades(events: Iterable[Event]) -> list[TradeExecuted]:
    return of_type(events, TradeExecuted)


def rejection(events: list[Event]) -> CommandRejected | None:
    found = of_type(events, CommandRejected)
    return found[0] if found else None


def cost(price: int, quantity: int) -> int:
    """Cash units for ``quantity`` ACME at ``price`` (2 price decimals, 0 quantity decimals)."""
    return price * quantity * 100


class Market:
    """An exchange plus a clock that only moves when a test says so."""

    def __init__(
        self,
        maker_ppm: int = 0,
        taker_ppm: int = 0,
        stp: SelfTradePrevention = SelfTradePrevention.CANCEL_NEWEST,
        reference_price: int = REFERENCE,
        **instrument: Any,
    ) -> None:
        self.exchange = Exchange(maker_ppm, taker_ppm)
        self.now = START
        self.accept(
            ListInstrument(
                SYMBOL,
                "Acme Ltd",
                AssetClass.EQUITY,
                "NSE",
                CURRENCY,
                reference_price=reference_price,
                **instrument,
            )
        )
        self.accept(
            ListInstrument(
                OTHER, "Beta Ltd", AssetClass.EQUITY, "NSE", CURRENCY, reference_price=5_000
            )
        )
        self.accept(ListInstrument(INDEX, "Nifty 50", AssetClass.INDEX, "NSE", CURRENCY))
        for account in ACCOUNTS:
            self.accept(OpenAccount(account, stp))
            self.accept(Deposit(account, CURRENCY, CASH))
            self.accept(Deposit(account, SYMBOL, SHARES))
            self.accept(Deposit(account, OTHER, SHARES))

    # -- applying commands --------------------------------------------------------------
    def apply(self, command: Command) -> list[Event]:
        return self.exchange.apply(command, self.now)

    def advance(self, nanoseconds: int) -> None:
        self.now += nanoseconds

    def accept(self, command: Command) -> list[Event]:
        events = self.apply(command)
        refused = rejection(events)
        assert refused is None, f"{command} was refused: {refused}"
        return events

    def refuse(self, command: Command) -> str:
        """Apply a command that must be refused; check it changed nothing. The reason."""
        before = snapshot.state_hash(self.exchange)
        events = self.apply(command)
        assert len(events) == 1, events
        event = events[0]
        assert isinstance(event, CommandRejected), events
        assert event.message
        assert snapshot.state_hash(self.exchange) == before, f"{command} changed state"
        return event.reason

    def place(
        self,
        account: int,
        side: Side,
        quantity: int,
        price: int = 0,
        order_type: OrderType | None = None,
        tif: TimeInForce = TimeInForce.GTC,
        symbol: str = SYMBOL,
        **extra: Any,
    ) -> Placed:
        if order_type is None:
            order_type = OrderType.LIMIT if price else OrderType.MARKET
            if order_type == OrderType.MARKET and tif == TimeInForce.GTC:
                tif = TimeInForce.IOC
        order_id = self.exchange.next_order_id
        events = self.accept(
            PlaceOrder(account, symbol, side, quantity, order_type, price, tif=tif, **extra)
        )
        return Placed(order_id, events)

    def modify(self, account: int, order_id: int, **change: int) -> list[Event]:
        return self.accept(ModifyOrder(account, order_id, **change))

    # -- reading state ------------------------------------------------------------------
    def live(self, order_id: int) -> Order | None:
        return self.exchange.orders.get(order_id)

    def cash(self, account: int) -> int:
        return self.exchange.ledger.balance(account, CURRENCY)

    def held_cash(self, account: int) -> int:
        return self.exchange.ledger.held(account, CURRENCY)

    def shares(self, account: int, symbol: str = SYMBOL) -> int:
        return self.exchange.ledger.balance(account, symbol)

    def held_shares(self, account: int, symbol: str = SYMBOL) -> int:
        return self.exchange.ledger.held(account, symbol)

    def depth(self, symbol: str = SYMBOL) -> tuple[list[tuple[int, int, int]], ...]:
        return self.exchange.books[symbol].depth()

    def queue(self, side: Side, price: int) -> list[int]:
        return [o.order_id for o in self.exchange.books[SYMBOL].orders_at(side, price)]

    def last_price(self) -> int:
        return self.exchange.last_price.get(SYMBOL, 0)

    def assert_balanced(self) -> None:
        """Assets conserved and every reservation explained by the live orders."""
        ledger = self.exchange.ledger
        assert all(total == 0 for total in ledger.totals().values()), ledger.totals()
        expected: dict[tuple[int, str], int] = {}
        for order in self.exchange.orders.values():
            asset = CURRENCY if order.side == Side.BUY else order.symbol
            key = (order.account, asset)
            expected[key] = expected.get(key, 0) + order.reserved
        for account, assets in ledger.reserved.items():
            for asset, amount in assets.items():
                assert amount == expected.get((account, asset), 0), (account, asset)


class Placed:
    def __init__(self, order_id: int, events: list[Event]) -> None:
        self.order_id = order_id
        self.events = events

    @property
    def final(self) -> OrderUpdated:
        return last_update(self.events, self.order_id)

    @property
    def status(self) -> OrderStatus:
        return OrderStatus(self.final.status)

    @property
    def trades(self) -> list[TradeExecuted]:
        return trades(self.events)


def balance_events(events: Iterable[Event], account: int) -> dict[str, BalanceChanged]:
    return {e.asset: e for e in of_type(events, BalanceChanged) if e.account == account}


@pytest.fixture
def market() -> Market:
    return Market()
