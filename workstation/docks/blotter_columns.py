"""The columns of the blotters: what each row of orders, fills, positions and balances
shows, with exact values for sorting and export."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from exchange_server.protocol import Balance, Fill, LedgerEntry, OrderOut, Position
from workstation.docks.table_format import (
    fmt_cash,
    fmt_datetime,
    fmt_decimal,
    fmt_money,
    fmt_quantity,
    fmt_time,
    side_colour,
    sign_colour,
)
from workstation.docks.table_model import Column

TYPE_NAMES = {"limit": "LMT", "market": "MKT", "stop_limit": "SL", "stop_market": "SL-M"}

# Price decimals by symbol, for showing prices as the instrument quotes them.
Decimals = Callable[[str], int | None]


def order_columns(decimals: Decimals, *, history: bool = False) -> list[Column[OrderOut]]:
    def price(value: Callable[[OrderOut], Decimal | None]) -> Callable[[OrderOut], str]:
        return lambda o: fmt_decimal(value(o), decimals(o.symbol))

    columns: list[Column[OrderOut]] = [
        Column(
            "Time",
            lambda o: o.created_at,
            (lambda o: fmt_datetime(o.created_at))
            if history
            else (lambda o: fmt_time(o.created_at)),
        ),
        Column("Symbol", lambda o: o.symbol),
        Column(
            "Side", lambda o: o.side, lambda o: o.side.upper(), colour=lambda o: side_colour(o.side)
        ),
        Column(
            "Type", lambda o: o.order_type, lambda o: TYPE_NAMES.get(o.order_type, o.order_type)
        ),
        Column("Qty", lambda o: o.quantity, lambda o: fmt_quantity(o.quantity), numeric=True),
        Column("Filled", lambda o: o.filled, lambda o: fmt_quantity(o.filled), numeric=True),
        Column("Price", lambda o: o.price, price(lambda o: o.price), numeric=True),
        Column(
            "Trigger", lambda o: o.trigger_price, price(lambda o: o.trigger_price), numeric=True
        ),
        Column(
            "Avg price", lambda o: o.average_price, price(lambda o: o.average_price), numeric=True
        ),
        Column("Status", lambda o: o.status, lambda o: o.status.replace("_", " ")),
        Column("TIF", lambda o: o.tif, lambda o: o.tif.upper()),
        Column("Order id", lambda o: o.order_id, numeric=True),
    ]
    if history:
        columns.insert(
            10, Column("Fees", lambda o: o.fees, lambda o: fmt_money(o.fees), numeric=True)
        )
        columns.append(Column("Reason", lambda o: o.reason))
    return columns


def fill_columns(decimals: Decimals) -> list[Column[Fill]]:
    return [
        Column("Time", lambda f: f.ts, lambda f: fmt_time(f.ts)),
        Column("Symbol", lambda f: f.symbol),
        Column(
            "Side", lambda f: f.side, lambda f: f.side.upper(), colour=lambda f: side_colour(f.side)
        ),
        Column("Qty", lambda f: f.quantity, lambda f: fmt_quantity(f.quantity), numeric=True),
        Column(
            "Price",
            lambda f: f.price,
            lambda f: fmt_decimal(f.price, decimals(f.symbol)),
            numeric=True,
        ),
        Column("Value", lambda f: f.notional, lambda f: fmt_money(f.notional), numeric=True),
        Column("Fee", lambda f: f.fee, lambda f: fmt_money(f.fee), numeric=True),
        Column("Liquidity", lambda f: f.liquidity),
        Column("Order id", lambda f: f.order_id, numeric=True),
        Column("Trade id", lambda f: f.trade_id, numeric=True),
    ]


@dataclass(frozen=True, slots=True)
class LivePosition:
    """A position marked to the latest trade the workstation has seen (the stream's quote
    moves more often than the position channel)."""

    position: Position
    mark: Decimal | None

    @property
    def symbol(self) -> str:
        return self.position.symbol

    @property
    def market_value(self) -> Decimal | None:
        return self.mark * self.position.quantity if self.mark is not None else None

    @property
    def unrealised(self) -> Decimal | None:
        value = self.market_value
        return value - self.position.cost if value is not None else None

    @property
    def total(self) -> Decimal:
        return self.position.realised_pnl + (self.unrealised or Decimal(0))


def position_columns(decimals: Decimals) -> list[Column[LivePosition]]:
    def price(value: Callable[[LivePosition], Decimal | None]) -> Callable[[LivePosition], str]:
        return lambda p: fmt_decimal(value(p), decimals(p.symbol))

    return [
        Column("Symbol", lambda p: p.symbol),
        Column(
            "Qty",
            lambda p: p.position.quantity,
            lambda p: fmt_quantity(p.position.quantity),
            numeric=True,
        ),
        Column(
            "Avg price",
            lambda p: p.position.average_price,
            price(lambda p: p.position.average_price),
            numeric=True,
        ),
        Column("LTP", lambda p: p.mark, price(lambda p: p.mark), numeric=True),
        Column(
            "Cost", lambda p: p.position.cost, lambda p: fmt_money(p.position.cost), numeric=True
        ),
        Column(
            "Value", lambda p: p.market_value, lambda p: fmt_money(p.market_value), numeric=True
        ),
        Column(
            "Unrealised",
            lambda p: p.unrealised,
            lambda p: fmt_money(p.unrealised, signed=True),
            numeric=True,
            colour=lambda p: sign_colour(p.unrealised),
        ),
        Column(
            "Realised",
            lambda p: p.position.realised_pnl,
            lambda p: fmt_money(p.position.realised_pnl, signed=True),
            numeric=True,
            colour=lambda p: sign_colour(p.position.realised_pnl),
        ),
        Column(
            "Total P&L",
            lambda p: p.total,
            lambda p: fmt_money(p.total, signed=True),
            numeric=True,
            colour=lambda p: sign_colour(p.total),
        ),
    ]


@dataclass(frozen=True, slots=True)
class Holding:
    balance: Balance
    mark: Decimal | None

    @property
    def value(self) -> Decimal | None:
        return self.mark * self.balance.balance if self.mark is not None else None


def holding_columns(decimals: Decimals) -> list[Column[Holding]]:
    return [
        Column("Symbol", lambda h: h.balance.asset),
        Column(
            "Quantity",
            lambda h: h.balance.balance,
            lambda h: fmt_quantity(h.balance.balance),
            numeric=True,
        ),
        Column(
            "In orders",
            lambda h: h.balance.reserved,
            lambda h: fmt_quantity(h.balance.reserved),
            numeric=True,
            tooltip="Held for working sell orders",
        ),
        Column(
            "Available",
            lambda h: h.balance.available,
            lambda h: fmt_quantity(h.balance.available),
            numeric=True,
        ),
        Column(
            "LTP",
            lambda h: h.mark,
            lambda h: fmt_decimal(h.mark, decimals(h.balance.asset)),
            numeric=True,
        ),
        Column("Value", lambda h: h.value, lambda h: fmt_money(h.value), numeric=True),
    ]


def cash_columns() -> list[Column[Balance]]:
    return [
        Column("Asset", lambda b: b.asset),
        Column("Balance", lambda b: b.balance, lambda b: fmt_money(b.balance), numeric=True),
        Column(
            "Reserved",
            lambda b: b.reserved,
            lambda b: fmt_money(b.reserved),
            numeric=True,
            tooltip="Held for working buy orders",
        ),
        Column("Available", lambda b: b.available, lambda b: fmt_money(b.available), numeric=True),
    ]


def ledger_columns(is_cash: Callable[[str], bool]) -> list[Column[LedgerEntry]]:
    """Cash moves to the paisa, holdings in shares (``is_cash`` tells which an asset is)."""

    def amount(
        value: Callable[[LedgerEntry], Decimal], signed: bool = False
    ) -> Callable[[LedgerEntry], str]:
        def text(entry: LedgerEntry) -> str:
            if is_cash(entry.asset):
                return fmt_cash(value(entry), signed=signed)
            shown = fmt_quantity(value(entry))
            return f"+{shown}" if signed and value(entry) > 0 else shown

        return text

    return [
        Column("Time", lambda e: e.ts, lambda e: fmt_datetime(e.ts)),
        Column("Asset", lambda e: e.asset),
        Column(
            "Change",
            lambda e: e.delta,
            amount(lambda e: e.delta, signed=True),
            numeric=True,
            colour=lambda e: sign_colour(e.delta),
        ),
        Column("Balance", lambda e: e.balance, amount(lambda e: e.balance), numeric=True),
        Column("Entry", lambda e: e.entry_id, numeric=True),
    ]
